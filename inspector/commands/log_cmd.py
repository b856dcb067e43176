"""`mtls-inspect log FILE|-`: the Java client's own javax.net.debug log, explained.

Every handshake in the log becomes the transcript the pcap decoder produces, so the wire rules
and the pcap renderers (table, ladder, CertificateRequest, chains, selection) are reused as they
are; log_rules adds what only Java's log says. Evidence names log lines, not frames.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import gzip
import itertools
import zlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from inspector.commands.help_examples import examples
from inspector.commands.html_args import add_html_options, check_html_args, document_of, write_page
from inspector.commands.password_args import add_keystore_password_options
from inspector.findings import Evidence, Finding, Location, Severity, has_errors, sort_findings
from inspector.render import json_out, text
from inspector.render.spool import Spool
from inspector.rules.wire_rules import WireContext
from inspector.system.errors import ExitStatus, InputError
from inspector.system.times import utc_from_timestamp

PRETTY_JSON_MAX = 50  # handshakes; beyond, compact JSON (pipe through jq to read it)

if TYPE_CHECKING:
    from inspector.java.trust import Truststore
    from inspector.keystore.model import Keystore
    from parsers.javalog import LoggedHandshake, LogSummary
    from parsers.javalog.model import JavaException
    from parsers.model import HandshakeEvent, Transcript


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "log",
        help="explain a Java client's javax.net.debug log (JDK 8 to 25), or a pasted Java exception",
        description="Read the Java client's own debug log (-Djavax.net.debug=ssl:handshake:verbose, "
        "all or ssl; also .gz, or - for stdin), rebuild every handshake in it and explain the failed ones.",
        **examples(
            "mtls-inspect log captures/java-nocert12.log",
            "STOREPASS=changeit mtls-inspect log captures/java-nocert12.log --keystore "
            "captures/letstestcba.jks --storepass-env STOREPASS",
            "java -Djavax.net.debug=ssl:handshake:verbose -jar app.jar 2>&1 | mtls-inspect log -",
        ),
    )
    p.add_argument(
        "file", help="the log file (its stderr on JDK 11+, stdout on JDK 8); .gz works; - reads stdin"
    )
    p.add_argument(
        "--keystore", metavar="F", help="the client's keystore: which key entry Java would have chosen"
    )
    add_keystore_password_options(p)
    add_truststore_options(p)
    p.add_argument(
        "--jdk-cacerts",
        action="store_true",
        help="also judge the server's chain with this machine's JDK cacerts (never the log's own "
        "truststore: at most an info)",
    )
    p.add_argument("--connection", "-c", type=int, metavar="N", help="show handshake N in full")
    p.add_argument("--all", action="store_true", help="show ladders of successful handshakes too")
    p.add_argument(
        "--at", metavar="YYYY-MM-DD", help="judge validity at this date (default: each handshake's time)"
    )
    p.add_argument("--json", action="store_true", help="machine-readable output (schema v1)")
    add_html_options(p)
    p.set_defaults(run=run)


def add_truststore_options(p: argparse.ArgumentParser) -> None:
    """--truststore F and its password, keytool-style; --host for endpoint identification."""
    from inspector.commands.trust_args import add_truststore_arguments

    add_truststore_arguments(p)
    p.add_argument(
        "--host", metavar="H", help="the host name the client connected to (default: the SNI in the log)"
    )


def load_trust(args: argparse.Namespace) -> Truststore | None:
    """The truststore given; this machine's JDK cacerts only when asked (--jdk-cacerts): a log
    usually comes from another machine, whose truststore this one does not hold."""
    from inspector.commands.trust_args import truststore_from_args
    from inspector.java.trust import default_truststore

    given = truststore_from_args(args)
    if given is not None:
        return given
    if not getattr(args, "jdk_cacerts", False):
        return None
    try:
        return default_truststore()
    except InputError:
        return None


@dataclasses.dataclass(frozen=True)
class LogWireContext(WireContext):
    """The wire rules' context with evidence naming log lines instead of capture frames."""

    role: str = "client"  # the side that wrote the log

    def ev(self, event: HandshakeEvent | None, fact: str) -> Evidence:
        if event is None:
            return Evidence(f"handshake #{self.t.index}", fact)
        who = "client" if event.direction.value == "client" else "server"
        verb = "sent by" if who == self.role else "received from"
        where = f"log line {event.frame}" if event.frame is not None else "log"
        from inspector.events import event_label

        return Evidence(f"{event_label(event)} {verb} the {who} ({where})", fact)


def run(args: argparse.Namespace) -> int:
    from parsers.errortext import KeptHead, no_java_exception
    from parsers.javalog import open_log, read_log

    name = args.file
    if name != "-":
        from inspector.system.input_files import check_input

        check_input(Path(name), "give the log file the JVM's stderr was written to", pipes=True)
    store = None
    if args.keystore:
        from inspector.commands.options import load_from_args

        store = load_from_args(args, Path(args.keystore))
    at = None
    if args.at:
        from inspector.commands.options import parse_date

        at = parse_date(args.at)
    shown = "stdin" if name == "-" else name
    check_html_args(args)
    report = LogReport(args, shown, store, at)
    report.trust = load_trust(args)
    # --html renders the JSON document: a second report keeps it when stdout gets the text
    page = report
    if args.html and not args.json:
        page = LogReport(argparse.Namespace(**{**vars(args), "json": True}), shown, store, at)
        page.trust = report.trust
    reports = (report,) if page is report else (report, page)
    try:
        reader = read_log(kept := KeptHead(open_log(name)))  # kept: for the error-text reader
        for logged in reader.handshakes():
            for each in reports:
                each.add(logged, reader.summary)
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise InputError(
            f"{shown}: cannot read ({exc})", "give the uncompressed log, or a whole .gz file"
        ) from None
    summary = reader.summary
    java = summary.handshakes or summary.fmt != "none"  # javax.net.debug output: the Java reader's
    if not java and no_java_exception(c for e in summary.exceptions for c, _ in e.chain):
        from inspector.render.server_log import explain_server_log  # a server's own log lines

        status = explain_server_log(kept.text(), shown, store, at, json=args.json)
        if status is not None:
            return status
        from inspector.render.error_text import explain_pasted  # any client's error text

        status = explain_pasted(kept.text(), shown, args.keystore, json=args.json)
        if status is not None:
            return status
    if summary.binary and not summary.handshakes and not summary.exceptions:
        raise InputError(
            f"{shown}: binary data, not a text log ({summary.bytes} bytes)",
            "give the file the JVM's stderr was written to "
            "(java -Djavax.net.debug=ssl:handshake:verbose ... 2> client.log)",
        )
    file_findings = report.file_findings(summary)
    if not summary.handshakes and not file_findings:
        file_findings = completed_by_application(summary, shown)
    if not summary.handshakes and not file_findings:
        raise InputError(
            f"{shown}: no javax.net.debug output and no Java exception in its {summary.lines} lines",
            "run the client with -Djavax.net.debug=ssl:handshake:verbose and give its stderr",
        )
    if args.connection is not None and args.connection not in report.rows:
        raise InputError(
            f"{shown}: no handshake #{args.connection}", f"handshakes here: 1..{summary.handshakes}"
        )
    for each in reports:
        each.count(file_findings)
    from inspector.render.emit import emit

    status = ExitStatus.ERROR_FINDINGS if report.errors else ExitStatus.OK
    # through the shared writer: a reader gone early (| head -1) leaves the findings' status
    if args.json:
        emit(lambda out: report.write_json(out, summary, file_findings), status)
    else:
        emit(lambda out: report.write_text(out, summary, file_findings), status)
    if args.html:  # after the report: the terminal ends with where the page is
        write_page(args, document_of(lambda out: page.write_json(out, summary, file_findings)))
    return status


def _augment(findings: list[Finding], logged: LoggedHandshake) -> list[Finding]:
    """Java's own sentences become evidence of the wire finding they confirm."""
    from parsers.javalog.model import Said, Statement

    said = logged.said(Said.EMPTY_CERT_INSTEAD) + logged.said(Said.NO_AUTH_SCHEME)
    said += logged.said(Said.NO_CLIENT_AUTH_SCHEME) + logged.said(Said.NO_SUITABLE_JDK8)
    rejected: dict[str, Statement] = {}
    for s in logged.said(Said.KEY_REJECTED):  # once per reason, its first line
        rejected.setdefault(s.text, s)
    out = []
    for f in findings:
        if f.code == "client-cert-not-sent" and (said or rejected):
            extra = tuple(
                Evidence(f"log line {s.line}", f"Java says: {s.text}")
                for s in said[:3] + list(rejected.values())[:3]
            )
            f = dataclasses.replace(f, evidence=f.evidence + extra + _entries_against_request(logged))
        out.append(f)
    return out


def _empty_rejected(f: Finding) -> Finding:
    """The server's alert after an EMPTY Certificate says it requires one, not that a chain is broken."""
    if "empty Certificate" not in f.summary:
        return f
    alert = f.summary.split("fatal ", 1)[1].split(" ", 1)[0] if "fatal " in f.summary else "fatal"
    if alert in ("handshake_failure", "certificate_required"):  # their meaning already says it
        return f
    return dataclasses.replace(
        f,
        summary=f"the server answered the empty Certificate with a fatal {alert} alert: it requires a "
        "client certificate, and none was sent",
        fix="make the client send one: see client-cert-not-sent",
    )


def _entries_against_request(logged: LoggedHandshake) -> tuple[Evidence, ...]:
    """With key-manager debug the log names the key entries: say which issuer matched none."""
    from parsers.javalog.names import parse_dn
    from parsers.model import CertificateRequest

    event = logged.transcript.first(CertificateRequest)
    if event is None or not isinstance(event.message, CertificateRequest) or not event.message.ca_names:
        return ()
    wanted = {n.text.lower().replace(" ", "") for n in event.message.ca_names}
    out = []
    for entry in logged.key_entries[:4]:
        issuers = [parse_dn(i) for i in dict.fromkeys(entry.issuers)]
        texts = [n.rfc4514_string() for n in issuers if n is not None]
        hit = [t for t in texts if t.lower().replace(" ", "") in wanted]
        out.append(
            Evidence(
                f"log line {entry.line}",
                f"key entry '{entry.alias}' ({entry.chain_length} certificate(s)): "
                + (
                    f"issued by {hit[0]}, a named CA"
                    if hit
                    else f"its chain's issuers ({'; '.join(texts) or '?'}) are none of the CA names"
                ),
            )
        )
    return tuple(out)


def check(
    logged: LoggedHandshake, summary: LogSummary, store: Keystore | None, file: str, at: dt.datetime | None
) -> list[Finding]:
    from inspector.rules.log_rules import check_handshake
    from inspector.rules.wire_rules import RULES
    from parsers.javalog.model import Said

    t = logged.transcript
    when = at if at is not None or t.start_time else dt.datetime.now(dt.timezone.utc)
    wire = [
        f
        for f in RULES.run(LogWireContext(t, store, file, when, "log", logged.role.value))
        if f.code != "capture-incomplete"
    ]
    if logged.request_types_unknown:  # not printed is not none: the key-type rule has nothing to go on
        wire = [f for f in wire if f.code != "no-acceptable-key-type"]
    if logged.said(Said.INVALID_CA_EXTENSION):  # Java aborted on the list: it chose nothing
        # Java's own words (java-empty-certificate-authorities) say it; the wire rules' guesses go
        wire = [f for f in wire if f.code not in ("ca-list-empty", "java-rejects-request")]
    if t.client_hello is None:  # no handshake messages printed: message order is unknown
        wire = [f for f in wire if f.code not in ("negotiation-failed", "client-rejected-server-cert")]
    wire = _augment(wire, logged)
    if any(f.code == "client-cert-not-sent" for f in wire):
        wire = [_empty_rejected(f) if f.code == "server-rejected-client-cert" else f for f in wire]
    codes = {f.code for f in wire}
    own = [
        f
        for f in check_handshake(logged, summary, file)
        if not (f.code == "java-no-suitable-certificate" and "client-cert-not-sent" in codes)
    ]
    found = wire + own
    if has_errors([f for f in found if f.code != "java-handshake-failed"]):
        found = [f for f in found if f.code != "java-handshake-failed"]
    return sort_findings(found)


class LogReport:
    """Keeps each handshake's rendered output only (as pcap's Report does), so memory stays bounded."""

    def __init__(
        self, args: argparse.Namespace, file: str, store: Keystore | None, at: dt.datetime | None
    ) -> None:
        self.args, self.file, self.store, self.at = args, file, store, at
        self.rows: dict[int, list[str]] = {}
        self.blocks = Spool()  # parked on disk past a few MB: flat memory whatever the log's size
        self.json_handshakes = Spool()
        self.json_findings = Spool()
        self.severities: dict[str, int] = {s.value: 0 for s in Severity}
        self.errors = False
        self.hosts: list[str] = []
        self.trust: Truststore | None = None
        self.sent_aliases: dict[str, int] = {}  # keystore alias → first handshake that sent it
        self.roles: dict[str, int] = {}  # role → handshakes of that role
        #: the errors of a failed handshake → the first handshake that failed so; its repeats
        self.failures: dict[tuple[tuple[str, str], ...], int] = {}
        self.repeats: dict[int, list[int]] = {}

    def count(self, findings: list[Finding]) -> None:
        for f in findings:
            self.severities[f.severity.value] += 1
        self.errors = self.errors or has_errors(findings)

    def add(self, logged: LoggedHandshake, summary: LogSummary) -> None:
        from inspector.render.connection_json import connection_dict
        from inspector.render.summary import outcome
        from inspector.render.transcript import connection_block
        from inspector.rules.wire_rules import WireContext, selection_for

        t = logged.transcript
        self.roles[logged.role.value] = self.roles.get(logged.role.value, 0) + 1
        if logged.role_evidence is None:
            self.roles["assumed"] = self.roles.get("assumed", 0) + 1
        if t.server_name:
            self.hosts.append(t.server_name)
        self._note_sent_entry(t)
        if self.args.connection not in (None, t.index):
            return
        findings = check(logged, summary, self.store, self.file, self.at)
        selection = (
            selection_for(WireContext(t, self.store, self.file, self.at)) if self.store is not None else None
        )
        findings += self.trust_findings(logged)
        failure = tuple(sorted((f.code, f.summary) for f in findings if f.severity is not Severity.INFO))
        first = self.failures.setdefault(failure, t.index) if has_errors(findings) else t.index
        repeat = first != t.index and not self.args.json and self.args.connection is None
        if repeat:  # the same failure again (a retry loop): said once, with a count
            self.repeats.setdefault(first, []).append(t.index)
            self.rows[t.index] = row(logged)
            self.errors = True
            return
        self.count(findings)
        self.rows[t.index] = row(logged)
        if self.args.json:
            item = dict(connection_dict(t, findings, selection))
            item.update(log_dict(logged))
            _unmark_rebuilt(item, t)
            item["outcome"] = self.rows[t.index][7]  # as the table says it (who sent the alert)
            item["client_cert"] = self.rows[t.index][6]  # a chain named but not printed: not "unreadable"
            self.json_handshakes.add(t.index, json_out.compact(item))
            for f in findings:
                self.json_findings.add(t.index, json_out.compact(json_out.finding_dict(f)))
            return
        full = self.args.connection is not None
        notable = (
            has_errors(findings)
            or outcome(t) != "completed"
            or any(f.severity is Severity.WARNING for f in findings)
        )
        if full or self.args.all or notable:
            block = connection_block(t, findings, selection, full)
            self.blocks.add(t.index, _relabel(block, logged))

    def _note_sent_entry(self, t: Transcript) -> None:
        """The keystore entry whose certificate the client sent (subject and serial as logged)."""
        from parsers.model import Certificate, Direction

        if self.store is None:
            return
        event = t.first(Certificate, Direction.CLIENT)
        if event is None or not isinstance(event.message, Certificate) or not event.message.chain:
            return
        leaf = event.message.chain[0]
        for entry in self.store.key_entries:
            if entry.chain and (entry.chain[0].subject, entry.chain[0].serial_number) == (
                leaf.subject,
                leaf.serial_number,
            ):
                self.sent_aliases.setdefault(entry.alias, t.index)

    def keystore_findings(self) -> list[Finding]:
        """The keystore's own problems, for the entries the log shows being sent (once each)."""
        from inspector.rules.keystore_rules import check_keystore

        if self.store is None or not self.sent_aliases:
            return []
        when = self.at or dt.datetime.now(dt.timezone.utc)
        out: list[Finding] = []
        for alias, index in sorted(self.sent_aliases.items(), key=lambda kv: kv[1]):
            for f in check_keystore(self.store, when, alias):
                if f.severity is not Severity.INFO and (f.location.alias in (None, alias)):
                    note = Evidence(f"handshake #{index}", f"the client sent the certificate of '{alias}'")
                    out.append(dataclasses.replace(f, evidence=(*f.evidence, note)))
        return out

    def trust_findings(self, logged: LoggedHandshake) -> list[Finding]:
        from inspector.java.trust import judge
        from inspector.rules.log_rules import trust_finding
        from parsers.javalog.certtext import facts_of
        from parsers.model import Certificate, Direction

        if self.trust is None or logged.role.value != "client":
            return []  # a server's log: its trust manager judged the client, not this chain
        event = logged.transcript.first(Certificate, Direction.SERVER)
        if event is None or not isinstance(event.message, Certificate):
            return []
        chain = event.message.chain
        host = self.args.host or logged.transcript.server_name
        t = logged.transcript
        when = self.at or (
            utc_from_timestamp(t.start_time) if t.start_time else dt.datetime.now(dt.timezone.utc)
        )
        rebuilt = any(facts_of(c) is not None for c in chain)
        verdict = judge(chain, self.trust, host, when, check_signatures=not rebuilt)
        found = trust_finding(verdict, logged, self.file, host, explicit=bool(self.args.truststore))
        if found is not None and not self.args.truststore and found.severity is not Severity.INFO:
            # this machine's cacerts, not the client's truststore: a hint, never an error
            found = dataclasses.replace(found, severity=Severity.INFO)
        return [found] if found else []

    def file_findings(self, summary: LogSummary) -> list[Finding]:
        from inspector.rules.log_rules import relevant

        host = self.hosts[0] if len(set(self.hosts)) == 1 else None
        out = explained([e for e in summary.exceptions if relevant(e)], self.file, host, summary.app_lines)
        out += self.keystore_findings()
        if summary.problems:
            from inspector.findings import make
            from inspector.rules.log_rules import LOG_INCOMPLETE

            out.append(
                make(
                    LOG_INCOMPLETE,
                    f"{self.file}: {summary.problems[0]}"
                    + (f" (+{len(summary.problems) - 1} more)" if len(summary.problems) > 1 else ""),
                    location=Location(file=self.file),
                    evidence=[Evidence(self.file, p) for p in summary.problems[:6]],
                    fix="keep the JVM's whole stderr, unedited (java ... 2> client.log)",
                )
            )
        if summary.unknown_zones:
            from inspector.findings import make
            from inspector.rules.log_rules import NOT_SHOWN

            out.append(
                make(
                    NOT_SHOWN,
                    f"time zone {', '.join(sorted(summary.unknown_zones))} is unknown here: "
                    "its times were read as UTC",
                    location=Location(file=self.file),
                    fix="give --at YYYY-MM-DD to judge validity at a date of your choice",
                )
            )
        return out

    def role_line(self) -> str | None:
        if not self.roles:
            return None
        if self.roles.get("assumed") == sum(n for r, n in self.roles.items() if r != "assumed"):
            return "role: client (assumed: the log prints no message that tells the sides apart)"
        if set(self.roles) - {"assumed"} == {"client"}:
            return "role: client (the log of the side that sent the ClientHello)"
        if set(self.roles) - {"assumed"} == {"server"}:
            return "role: server (the log of the side that received the client's Certificate)"
        return (
            f"role: both ({self.roles.get('server', 0)} handshake(s) as server, "
            f"{self.roles.get('client', 0)} as client: a gateway; each handshake is read in its own role)"
        )

    def write_text(self, out: TextIO, summary: LogSummary, file_findings: list[Finding]) -> None:
        out.write(header(self.file, summary) + "\n")
        role = self.role_line()
        if role:
            out.write(f"  {role}\n")
        if self.trust is not None:
            out.write(f"  Java's trust judged with {self.trust.label}\n")
        elif self.args.jdk_cacerts:
            out.write("  Java's trust not judged: no JDK found (JAVA_HOME, java on PATH)\n")
        else:
            out.write(
                "  Java's trust not judged: no --truststore given (--jdk-cacerts judges with this "
                "machine's JDK cacerts, not the log's)\n"
            )
        if self.rows:
            out.write(
                text.table(
                    [r for _, r in sorted(self.rows.items())],
                    [
                        "#",
                        "lines",
                        "thread",
                        "server (SNI)",
                        "version",
                        "cert requested",
                        "client cert sent",
                        "outcome",
                    ],
                )
                + "\n"
            )
        for f in file_findings:
            out.write("\n" + text.finding(f) + "\n")
        for block in self.blocks.texts():
            out.write(block + "\n")
        for first, again in sorted(self.repeats.items()):
            shown = ", ".join(f"#{n}" for n in again[:20]) + (" ..." if len(again) > 20 else "")
            out.write(
                f"\nhandshake #{first}'s failure repeats in handshake(s) {shown} "
                f"(×{len(again) + 1} in all): the same findings, shown and counted once\n"
            )
        c = self.severities

        def plural(n: int, word: str) -> str:
            return f"{n} {word}{'' if n == 1 else 's'}"

        out.write(f"\n{plural(c['error'], 'error')}, {plural(c['warning'], 'warning')}, {c['info']} info\n")

    def write_json(self, out: TextIO, summary: LogSummary, file_findings: list[Finding]) -> None:
        file_level = [json_out.compact(json_out.finding_dict(f)) for f in file_findings]
        json_out.write_assembled(
            out,
            "log",
            {
                "log": {**summary_dict(self.file, summary), "role": self.role_line()},
                "truststore": self.trust.label if self.trust is not None else None,
            },
            {
                "handshakes": self.json_handshakes.texts(),
                "findings": itertools.chain(file_level, self.json_findings.texts()),
            },
            self.severities,
            pretty=len(self.json_handshakes) <= PRETTY_JSON_MAX,
        )


def explained(
    exceptions: list[JavaException], file: str, host: str | None, clues: list[tuple[int, str]]
) -> list[Finding]:
    """One finding per distinct failure (a count for repeats); both sides of one failure as one."""
    import re

    from inspector.rules.log_rules import explain_exception, explain_pair

    empty = re.compile(r"Empty server certificate chain|null cert chain")
    alert = re.compile(r"Received fatal alert: (bad_certificate|certificate_required|handshake_failure)")
    servers = [e for e in exceptions if empty.search(e.text)]
    clients = [e for e in exceptions if alert.search(e.text) and not empty.search(e.text)]
    out: list[Finding] = []
    if servers and clients:  # the server's and the client's side of one failure, pasted together
        out.append(explain_pair(servers[0], clients[0], file, host))
        exceptions = [e for e in exceptions if e not in (servers[0], clients[0])]
    groups: dict[tuple[str, str], list[Finding]] = {}
    for e in exceptions:
        f = explain_exception(e, file, host, clues)
        groups.setdefault((f.code, f.summary), []).append(f)
    for found in groups.values():
        first = found[0]
        if len(found) > 1:
            lines = [ev for f in found[1:] for ev in f.evidence[:1]]
            first = dataclasses.replace(
                first,
                summary=f"{first.summary} (×{len(found)}: the same failure repeated)",
                evidence=first.evidence + tuple(lines[:5]),
            )
        out.append(first)
    return out


def completed_by_application(summary: LogSummary, file: str) -> list[Finding]:
    """No debug output, no exception, but the application's log says the handshake completed
    (Apache HttpClient's 'Secure session established', the JDK's JFR TLSHandshake event)."""
    from inspector.findings import make
    from inspector.rules.log_rules import NOT_SHOWN

    done = [
        (n, t) for n, t in summary.app_lines if "Secure session established" in t or "TLSHandshake: " in t
    ]
    if not done:
        return []
    return [
        make(
            NOT_SHOWN,
            "no javax.net.debug output and no exception: the application's own log says the TLS "
            f"handshake completed (line {done[0][0]}); nothing failed here",
            location=Location(file=file),
            evidence=[Evidence(f"log line {n}", t[:200]) for n, t in done[:3]],
            fix="if the call still fails, it failed after the handshake (the HTTP answer); rerun with "
            "-Djavax.net.debug=ssl:handshake:verbose to see the handshake itself",
        )
    ]


def header(file: str, s: LogSummary) -> str:
    parts = [f"Java log {file}: {s.fmt} format, {s.lines} lines, {s.handshakes} handshake(s)"]
    if s.fmt != "none":
        parts.append(f"javax.net.debug looks like {s.debug_option}")
    lines = [", ".join(parts)]
    if s.key_manager:
        lines.append(f"  key manager: {s.key_manager}")
    for e in s.key_entries[:6]:
        lines.append(
            f"  key entry '{e.alias}' (line {e.line}): {e.chain_length} certificate(s), issuers "
            + "; ".join(dict.fromkeys(e.issuers))
        )
    return "\n".join(lines)


def row(logged: LoggedHandshake) -> list[str]:
    from inspector.render.summary import outcome, requested, sent
    from parsers.model import version_name

    t = logged.transcript
    state = outcome(t)
    if logged.fatal is not None and not logged.fatal.received and state.endswith(f"from {logged.role.value}"):
        state = f"{logged.fatal.alert} sent by Java" + (
            " (the server)" if logged.role.value == "server" else ""
        )
    if logged.http_status is not None:
        state += f", HTTP {logged.http_status[0]}"
    return [
        str(t.index),
        f"{logged.first_line}-{logged.last_line}",
        logged.thread,
        t.server_name or "-",
        version_name(t.version) if t.version else "-",
        _requested_cell(logged, requested(t)),
        _sent_cell(logged, sent(t)),
        state,
    ]


def _requested_cell(logged: LoggedHandshake, cell: str) -> str:
    """Java's answer to a CertificateRequest proves there was one, printed or not."""
    from parsers.javalog.model import Said
    from parsers.model import Certificate, Direction

    if cell == "yes":
        return cell
    answered = (
        logged.said(Said.EMPTY_CERT_INSTEAD)
        + logged.said(Said.NO_SUITABLE_JDK8)
        + logged.said(Said.NO_CLIENT_AUTH_SCHEME)
        + logged.said(Said.MATCHING_ALIAS)
    )
    # a client Certificate message is only sent when one was requested
    sent_one = logged.transcript.first(Certificate, Direction.CLIENT) is not None
    if answered and logged.role.value == "client":
        return f"yes (line {answered[0].line}: Java answered one)"
    if sent_one:
        return "yes (a client Certificate was sent)"
    return cell


def _sent_cell(logged: LoggedHandshake, cell: str) -> str:
    """A certificate named but not printed: its subject, said to be all the log shows."""
    from parsers.model import Certificate, Direction

    event = logged.transcript.first(Certificate, Direction.CLIENT)
    subjects = logged.unprinted_chains.get(event.frame or 0) if event is not None else None
    if subjects is None:
        return cell
    return f"{subjects[0]} (not printed)" if subjects else "sent (not printed)"


def _relabel(block: str, logged: LoggedHandshake) -> str:
    """The pcap block, with the frame column titled as what it holds here: log lines."""
    t = logged.transcript
    head = (
        f"── handshake #{t.index}: thread {logged.thread}, lines {logged.first_line}-{logged.last_line}"
        + (f" ({t.server_name})" if t.server_name else "")
        + f", role: {logged.role.value}"
        + (f" (line {logged.role_evidence[0]}: {logged.role_evidence[1]})" if logged.role_evidence else "")
    )
    lines = block.split("\n")
    for i, line in enumerate(lines):
        if line.startswith("── connection #"):
            lines[i] = head + " ──"
        if line.lstrip().startswith("time (s)") and " frame " in line:
            lines[i] = line.replace(" frame ", "  line ", 1)
            break
    if logged.exception is not None:
        lines.append(f"\nJava's exception (line {logged.exception.line}): {logged.exception.text[:300]}")
    return "\n".join(lines)


def _unmark_rebuilt(item: dict[str, Any], t: Transcript) -> None:
    """Certificates rebuilt from the log's text have no real fingerprint: say null, not a guess."""
    from parsers.javalog.certtext import facts_of

    for event, out in zip(t.events, item["events"], strict=True):
        chain = getattr(event.message, "chain", ())
        if chain and "chain" in out:  # copies: the summaries are shared (memoised per certificate)
            out["chain"] = [
                {**summary, "sha256": None, "from_log_text": True} if facts_of(cert) is not None else summary
                for cert, summary in zip(chain, out["chain"], strict=True)
            ]


def log_dict(logged: LoggedHandshake) -> dict[str, Any]:
    from parsers.javalog.certtext import facts_of

    return {
        "client": f"thread {logged.thread}",  # a log names the thread, not the socket
        "server": logged.transcript.server_name,
        "thread": logged.thread,
        "role": logged.role.value,
        "role_evidence": {"line": logged.role_evidence[0], "why": logged.role_evidence[1]}
        if logged.role_evidence
        else None,
        "lines": [logged.first_line, logged.last_line],
        "format": logged.fmt,
        "java_says": [
            {"line": s.line, "kind": s.said.name.lower(), "text": s.text} for s in logged.statements
        ],
        "fatal": dataclasses.asdict(logged.fatal) if logged.fatal else None,
        "exception": {"line": logged.exception.line, "chain": [list(c) for c in logged.exception.chain]}
        if logged.exception
        else None,
        "matching_aliases": logged.matching_aliases,
        "key_manager": logged.key_manager,
        "certificates_from_text": logged.certs_from_text,
        "http_status": list(logged.http_status) if logged.http_status else None,
        "not_shown": logged.not_shown,
        "rebuilt_certificates": sum(
            1 for e in logged.transcript.events for c in getattr(e.message, "chain", ()) if facts_of(c)
        ),
    }


def summary_dict(file: str, s: LogSummary) -> dict[str, Any]:
    return {
        "path": file,
        "format": s.fmt,
        "lines": s.lines,
        "bytes": s.bytes,
        "handshakes": s.handshakes,
        "debug_option_inferred": s.debug_option,
        "key_manager": s.key_manager,
        "key_entries": [
            {"alias": e.alias, "line": e.line, "chain_length": e.chain_length, "issuers": list(e.issuers)}
            for e in s.key_entries
        ],
        "exceptions": [{"line": e.line, "chain": [list(c) for c in e.chain]} for e in s.exceptions],
        "problems": s.problems,
    }
