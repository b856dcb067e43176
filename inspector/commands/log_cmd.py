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
import sys
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
    """The truststore given, else the JDK's cacerts (None when no JDK is found)."""
    from inspector.commands.trust_args import truststore_from_args
    from inspector.java.trust import default_truststore

    given = truststore_from_args(args)
    if given is not None:
        return given
    try:
        return default_truststore()
    except InputError:
        return None


@dataclasses.dataclass(frozen=True)
class LogWireContext(WireContext):
    """The wire rules' context with evidence naming log lines instead of capture frames."""

    def ev(self, event: HandshakeEvent | None, fact: str) -> Evidence:
        if event is None:
            return Evidence(f"handshake #{self.t.index}", fact)
        who = "client" if event.direction.value == "client" else "server"
        verb = "sent by" if who == "client" else "received from"
        where = f"log line {event.frame}" if event.frame is not None else "log"
        return Evidence(f"{event.label} {verb} the {who} ({where})", fact)


def run(args: argparse.Namespace) -> int:
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
        reader = read_log(open_log(name))
        for logged in reader.handshakes():
            for each in reports:
                each.add(logged, reader.summary)
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise InputError(
            f"{shown}: cannot read ({exc})", "give the uncompressed log, or a whole .gz file"
        ) from None
    summary = reader.summary
    if summary.binary and not summary.handshakes and not summary.exceptions:
        raise InputError(
            f"{shown}: binary data, not a text log ({summary.bytes} bytes)",
            "give the file the JVM's stderr was written to "
            "(java -Djavax.net.debug=ssl:handshake:verbose ... 2> client.log)",
        )
    file_findings = report.file_findings(summary)
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
    if args.json:
        report.write_json(sys.stdout, summary, file_findings)
    else:
        report.write_text(sys.stdout, summary, file_findings)
    if args.html:  # after the report: the terminal ends with where the page is
        sys.stdout.flush()
        write_page(args, document_of(lambda out: page.write_json(out, summary, file_findings)))
    return ExitStatus.ERROR_FINDINGS if report.errors else ExitStatus.OK


def _augment(findings: list[Finding], logged: LoggedHandshake) -> list[Finding]:
    """Java's own sentences become evidence of the wire finding they confirm."""
    from parsers.javalog.model import Said

    said = logged.said(Said.EMPTY_CERT_INSTEAD) + logged.said(Said.NO_AUTH_SCHEME)
    said += logged.said(Said.NO_CLIENT_AUTH_SCHEME) + logged.said(Said.NO_SUITABLE_JDK8)
    out = []
    for f in findings:
        if f.code == "client-cert-not-sent" and said:
            extra = tuple(Evidence(f"log line {s.line}", f"Java says: {s.text}") for s in said[:3])
            f = dataclasses.replace(f, evidence=f.evidence + extra + _entries_against_request(logged))
        out.append(f)
    return out


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
        f for f in RULES.run(LogWireContext(t, store, file, when, "log")) if f.code != "capture-incomplete"
    ]
    if logged.said(Said.INVALID_CA_EXTENSION):  # Java aborted on the list: it chose nothing
        # Java's own words (java-empty-certificate-authorities) say it; the wire rules' guesses go
        wire = [f for f in wire if f.code not in ("ca-list-empty", "java-rejects-request")]
    if t.client_hello is None:  # no handshake messages printed: message order is unknown
        wire = [f for f in wire if f.code not in ("negotiation-failed", "client-rejected-server-cert")]
    wire = _augment(wire, logged)
    codes = {f.code for f in wire}
    own = [
        f
        for f in check_handshake(logged, summary, file)
        if not (f.code == "java-no-suitable-certificate" and "client-cert-not-sent" in codes)
    ]
    return sort_findings(wire + own)


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
        self.count(findings)
        self.rows[t.index] = row(logged)
        if self.args.json:
            item = dict(connection_dict(t, findings, selection))
            item.update(log_dict(logged))
            _unmark_rebuilt(item, t)
            item["outcome"] = self.rows[t.index][7]  # as the table says it (who sent the alert)
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

        if self.trust is None:
            return []
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
        return [found] if found else []

    def file_findings(self, summary: LogSummary) -> list[Finding]:
        from inspector.rules.log_rules import explain_exception, relevant

        host = self.hosts[0] if len(set(self.hosts)) == 1 else None
        out = [explain_exception(e, self.file, host) for e in summary.exceptions if relevant(e)]
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

    def write_text(self, out: TextIO, summary: LogSummary, file_findings: list[Finding]) -> None:
        out.write(header(self.file, summary) + "\n")
        out.write(
            f"  Java's trust judged with {self.trust.label}\n"
            if self.trust is not None
            else "  Java's trust not judged: no --truststore and no JDK found (JAVA_HOME, java on PATH)\n"
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
                "log": summary_dict(self.file, summary),
                "truststore": self.trust.label if self.trust is not None else None,
            },
            {
                "handshakes": self.json_handshakes.texts(),
                "findings": itertools.chain(file_level, self.json_findings.texts()),
            },
            self.severities,
            pretty=len(self.json_handshakes) <= PRETTY_JSON_MAX,
        )


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
    if logged.fatal is not None and not logged.fatal.received and state.endswith("from client"):
        state = f"{logged.fatal.alert} sent by Java"
    if logged.http_status is not None:
        state += f", HTTP {logged.http_status[0]}"
    return [
        str(t.index),
        f"{logged.first_line}-{logged.last_line}",
        logged.thread,
        t.server_name or "-",
        version_name(t.version) if t.version else "-",
        requested(t),
        sent(t),
        state,
    ]


def _relabel(block: str, logged: LoggedHandshake) -> str:
    """The pcap block, with the frame column titled as what it holds here: log lines."""
    t = logged.transcript
    head = (
        f"── handshake #{t.index}: thread {logged.thread}, lines {logged.first_line}-{logged.last_line}"
        + (f" ({t.server_name})" if t.server_name else "")
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
