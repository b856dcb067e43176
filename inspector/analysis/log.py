"""`log`: a Java javax.net.debug log (or a pasted Java exception) read and judged, handshake by
handshake as it is read (memory stays flat whatever the log's size).

Every handshake in the log becomes the transcript the pcap decoder produces, so the wire rules
run on it as they are; the log rules add what only Java's log says, with evidence naming log
lines. Input that holds no javax.net.debug output and no Java exception goes, in this order, to
the server-log reader (analysis/server_log.py), then to the client error-text reader
(analysis/error_text.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import gzip
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from inspector.analysis.connection import selection_for
from inspector.findings import Evidence, Finding, Severity, has_errors, sort_findings
from inspector.java.key_managers import Selection
from inspector.keystore.model import Keystore
from inspector.rules.log_context import LogWireContext
from inspector.rules.log_file_rules import completed_by_application, explain_exceptions, unreadable_parts
from inspector.rules.log_rules import check_handshake
from inspector.rules.wire_rules import RULES as WIRE_RULES
from inspector.system.errors import InputError
from parsers.javalog import LoggedHandshake, LogSummary
from parsers.javalog.model import Said, Statement
from parsers.model import Certificate, CertificateRequest, Direction, Transcript

if TYPE_CHECKING:
    from typing import TypeAlias

    from cryptography import x509

    # imported when the input is not a Java log: their rules cost every Java log start-up time
    from inspector.analysis.error_text import ErrorTextResult
    from inspector.analysis.server_chains import ServerChains
    from inspector.analysis.server_log import ServerLogResult
    from inspector.analysis.trust import TruststoreSource
    from inspector.java.trust import Truststore
    from inspector.server_stacks import Stack
    from parsers.errortext import KeptHead

    LogOutcome: TypeAlias = "LogScan | ServerLogResult | ErrorTextResult"


@dataclass(frozen=True)
class LogRequest:
    """What `log` was asked: the input and what to judge it with."""

    file: str  # a path, or "-" for stdin
    store: Keystore | None = None
    #: the keystore as the user named it (the error-text reader's advice names it)
    store_label: str | None = None
    at: dt.datetime | None = None
    #: the client's truststore (--truststore), read before the log
    truststore: TruststoreSource | None = None
    #: without one, judge with this machine's JDK cacerts (--jdk-cacerts): at most an info
    jdk_cacerts: bool = False
    #: --host: the host name for endpoint identification (default: the SNI in the log)
    host: str | None = None
    #: --connection N: judge handshake N only
    connection: int | None = None
    #: --server-ca: the partner's server's client-CA material (and its label, --server-stack)
    server_trust: tuple[x509.Certificate, ...] | None = None
    server_source: str = ""
    server_stack: Stack | None = None

    @property
    def shown(self) -> str:
        return "stdin" if self.file == "-" else self.file


@dataclass(frozen=True)
class HandshakeResult:
    """One logged handshake judged: the transcript's findings (wire, log and trust rules) and,
    with a keystore, Java's choice; as probe's ProbeResult and pcap's ConnectionResult."""

    logged: LoggedHandshake
    findings: list[Finding]
    selection: Selection | None
    #: the first handshake that failed with the same errors (its own number when none did)
    first_failure: int

    @property
    def transcript(self) -> Transcript:
        return self.logged.transcript

    @property
    def repeats_earlier(self) -> bool:
        return self.first_failure != self.transcript.index


@dataclass(frozen=True)
class LogScan:
    """A Java log judged: what the reader saw, the file-level findings, and the tallies the
    report's header needs (each handshake went to `on_handshake` as it was judged)."""

    request: LogRequest
    summary: LogSummary
    #: what the server chains were judged with (None: not judged)
    trust: Truststore | None = None
    file_findings: list[Finding] = field(default_factory=list)
    #: role → handshakes of that role; "assumed" counts those the log could not tell
    roles: dict[str, int] = field(default_factory=dict)
    errors: bool = False
    #: --server-ca: the server stacks' verdicts on each client chain the log printed
    server: ServerChains | None = None


def analyse_log(request: LogRequest, on_handshake: Callable[[HandshakeResult], None]) -> LogOutcome:
    """Read the input once: a Java log's handshakes are judged and handed on as they end; input
    that is not a Java log goes to the server-log reader, then the error-text reader."""
    from parsers.errortext import KeptHead, no_java_exception
    from parsers.javalog import open_log, read_log, read_log_file

    trust = None
    if request.truststore is not None or request.jdk_cacerts:
        from inspector.analysis.trust import load_for_log

        trust = load_for_log(request.truststore, request.jdk_cacerts)
    tally = _Tally(request, trust)
    try:
        kept = None  # the head of the input, for the other readers
        reader = read_log_file(request.file)  # a large file: scanned by a second core
        if reader is None:
            reader = read_log(kept := KeptHead(open_log(request.file)))
        for logged in reader.handshakes():
            judged = tally.add(logged, reader.summary)
            if judged is not None:
                on_handshake(judged)
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise InputError(
            f"{request.shown}: cannot read ({exc})", "give the uncompressed log, or a whole .gz file"
        ) from None
    summary = reader.summary
    java = summary.handshakes or summary.fmt != "none"  # javax.net.debug output: the Java reader's
    if not java and no_java_exception(c for e in summary.exceptions for c, _ in e.chain):
        other = _other_reader(_head(kept, request.file), request)
        if other is not None:
            return other
    return tally.finish(summary)


def _head(kept: KeptHead | None, name: str) -> str:
    """The input's head, as the other readers read it (a file scanned by the worker: read again)."""
    from parsers.errortext import KeptHead
    from parsers.javalog import open_log

    if kept is None:
        kept = KeptHead(open_log(name))
        while len(kept.kept) < kept.limit and kept.read(1 << 16):
            pass
    return kept.text()


def _other_reader(text: str, request: LogRequest) -> ServerLogResult | ErrorTextResult | None:
    """Not a Java log: a server's own log lines first, then any client's error text."""
    from inspector.analysis import error_text, server_log

    found = server_log.analyse(text, request.shown, request.store, request.at)
    if found is not None:
        return found
    return error_text.analyse(text, request.shown, request.store_label)


class _Tally:
    """What the log's handshakes add up to, as they are read."""

    def __init__(self, request: LogRequest, trust: Truststore | None) -> None:
        self.request, self.trust = request, trust
        self.hosts: list[str] = []
        self.roles: dict[str, int] = {}
        self.sent_aliases: dict[str, int] = {}  # keystore alias → first handshake that sent it
        #: the errors of a failed handshake → the first handshake that failed so
        self.failures: dict[tuple[tuple[str, str], ...], int] = {}
        self.judged: set[int] = set()
        self.errors = False
        self.server: ServerChains | None = None
        if request.server_trust is not None:
            from inspector.analysis.server_chains import ServerChains

            self.server = ServerChains(
                request.server_trust, request.server_source, request.server_stack, request.at
            )

    def add(self, logged: LoggedHandshake, summary: LogSummary) -> HandshakeResult | None:
        """Count the handshake; judge it unless --connection names another."""
        request, t = self.request, logged.transcript
        self.roles[logged.role.value] = self.roles.get(logged.role.value, 0) + 1
        if logged.role_evidence is None:
            self.roles["assumed"] = self.roles.get("assumed", 0) + 1
        if t.server_name:
            self.hosts.append(t.server_name)
        self._note_sent_entry(t)
        if request.connection not in (None, t.index):
            return None
        findings = judge_handshake(logged, summary, request.store, request.shown, request.at)
        selection = selection_for(t, request.store, request.at)
        if self.trust is not None:
            from inspector.analysis.trust import judge_logged

            host = request.host or t.server_name
            explicit = request.truststore is not None  # the client's own, not this machine's cacerts
            findings += judge_logged(logged, self.trust, request.shown, host, request.at, explicit)
        if self.server is not None:
            findings += self._server_verdicts(logged)
        failure = tuple(sorted((f.code, f.summary) for f in findings if f.severity is not Severity.INFO))
        first = self.failures.setdefault(failure, t.index) if has_errors(findings) else t.index
        self.judged.add(t.index)
        self.errors = self.errors or has_errors(findings)
        return HandshakeResult(logged, findings, selection, first)

    def _server_verdicts(self, logged: LoggedHandshake) -> list[Finding]:
        """--server-ca: the client chain the log printed, judged by the partner's server stacks."""
        assert self.server is not None
        t = logged.transcript
        event = t.first(Certificate, Direction.CLIENT)
        unprinted = event is not None and (event.frame or 0) in logged.unprinted_chains
        found = self.server.judge(t, t.index, unprinted)
        shown = self.request.shown
        return [
            dataclasses.replace(f, location=dataclasses.replace(f.location, file=shown, connection=t.index))
            for f in found
        ]

    def _note_sent_entry(self, t: Transcript) -> None:
        """The keystore entry whose certificate the client sent (subject and serial as logged)."""
        store = self.request.store
        if store is None:
            return
        event = t.first(Certificate, Direction.CLIENT)
        if event is None or not isinstance(event.message, Certificate) or not event.message.chain:
            return
        leaf = event.message.chain[0]
        for entry in store.key_entries:
            if entry.chain and (entry.chain[0].subject, entry.chain[0].serial_number) == (
                leaf.subject,
                leaf.serial_number,
            ):
                self.sent_aliases.setdefault(entry.alias, t.index)

    def keystore_findings(self) -> list[Finding]:
        """The keystore's own problems, for the entries the log shows being sent (once each)."""
        from inspector.rules.keystore_rules import check_keystore

        store = self.request.store
        if store is None or not self.sent_aliases:
            return []
        when = self.request.at or dt.datetime.now(dt.timezone.utc)
        out: list[Finding] = []
        for alias, index in sorted(self.sent_aliases.items(), key=lambda kv: kv[1]):
            for f in check_keystore(store, when, alias):
                if f.severity is not Severity.INFO and (f.location.alias in (None, alias)):
                    note = Evidence(f"handshake #{index}", f"the client sent the certificate of '{alias}'")
                    out.append(dataclasses.replace(f, evidence=(*f.evidence, note)))
        return out

    def finish(self, summary: LogSummary) -> LogScan:
        """The file-level findings; InputError when the input holds nothing to judge."""
        from inspector.rules.java_exceptions import relevant

        request, shown = self.request, self.request.shown
        if summary.binary and not summary.handshakes and not summary.exceptions:
            raise InputError(
                f"{shown}: binary data, not a text log ({summary.bytes} bytes)",
                "give the file the JVM's stderr was written to "
                "(java -Djavax.net.debug=ssl:handshake:verbose ... 2> client.log)",
            )
        host = self.hosts[0] if len(set(self.hosts)) == 1 else None
        relevant_exceptions = [e for e in summary.exceptions if relevant(e)]
        found = explain_exceptions(relevant_exceptions, shown, host, summary.app_lines)
        found += self.keystore_findings()
        found += unreadable_parts(summary, shown)
        if not summary.handshakes and not found:
            found = completed_by_application(summary, shown)
        if not summary.handshakes and not found:
            raise InputError(
                f"{shown}: no javax.net.debug output and no Java exception in its {summary.lines} lines",
                "run the client with -Djavax.net.debug=ssl:handshake:verbose and give its stderr",
            )
        if request.connection is not None and request.connection not in self.judged:
            raise InputError(
                f"{shown}: no handshake #{request.connection}", f"handshakes here: 1..{summary.handshakes}"
            )
        errors = self.errors or has_errors(found)
        return LogScan(request, summary, self.trust, found, self.roles, errors, self.server)


# --- one handshake: the wire rules on its transcript, merged with what Java's log says ----------


def judge_handshake(
    logged: LoggedHandshake, summary: LogSummary, store: Keystore | None, file: str, at: dt.datetime | None
) -> list[Finding]:
    """The wire rules' findings (those the log can support) and the log rules', as one list."""
    t = logged.transcript
    when = at if at is not None or t.start_time else dt.datetime.now(dt.timezone.utc)
    context = LogWireContext(t, store, file, when, "log", logged.role.value)
    wire = [f for f in WIRE_RULES.run(context) if f.code != "capture-incomplete"]
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


def _augment(findings: list[Finding], logged: LoggedHandshake) -> list[Finding]:
    """Java's own sentences become evidence of the wire finding they confirm."""
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
