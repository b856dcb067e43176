"""A Java log judged (inspector/analysis/log.py), as text or JSON: the header, a row per
handshake, the failed handshakes' blocks (pcap's, with log lines for frames), the findings.

`LogReport` keeps each handshake's rendered output only (as render/pcap.PcapReport does), parked
on disk past a few MB, so memory stays flat whatever the log's size.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

from inspector.analysis.log import HandshakeResult, LogScan
from inspector.findings import Finding, Severity, has_errors
from inspector.render import json_out, text
from inspector.render.connection_json import connection_dict
from inspector.render.spool import Spool
from inspector.render.summary import outcome, requested, sent
from inspector.render.transcript import connection_block
from parsers.constants import version_name
from parsers.javalog import LoggedHandshake, LogSummary
from parsers.javalog.certtext import facts_of
from parsers.javalog.model import Said
from parsers.model import Certificate, Direction, Transcript

if TYPE_CHECKING:  # imported when the input is not a Java log (start-up time otherwise)
    from inspector.analysis.error_text import ErrorTextResult
    from inspector.analysis.server_log import ServerLogResult

PRETTY_JSON_MAX = 50  # handshakes; beyond, compact JSON (pipe through jq to read it)
COLUMNS = ["#", "lines", "thread", "server (SNI)", "version", "cert requested", "client cert sent", "outcome"]


@dataclass(frozen=True)
class LogView:
    """How the report shows the handshakes: JSON, one in full (--connection), or all (--all)."""

    json: bool = False
    connection: int | None = None
    show_all: bool = False


def emit_other_reader(result: ServerLogResult | ErrorTextResult, *, json: bool) -> int:
    """Input that was not a Java log, as its own reader's report (through the shared writer)."""
    from inspector.analysis.server_log import ServerLogResult

    if isinstance(result, ServerLogResult):
        from inspector.render.server_log import emit_server_log

        return emit_server_log(result, json=json)
    from inspector.render.error_text import emit_error_text

    return emit_error_text(result, json=json)


class LogReport:
    """Each handshake's rendered output, kept as it is judged; the whole report written at the end."""

    def __init__(self, view: LogView) -> None:
        self.view = view
        self.rows: dict[int, list[str]] = {}
        self.blocks = Spool()  # parked on disk past a few MB: flat memory whatever the log's size
        self.json_handshakes = Spool()
        self.json_findings = Spool()
        self.severities: dict[str, int] = {s.value: 0 for s in Severity}
        self.repeats: dict[int, list[int]] = {}  # the first handshake that failed so → its repeats

    def count(self, findings: list[Finding]) -> None:
        for f in findings:
            self.severities[f.severity.value] += 1

    def add(self, judged: HandshakeResult) -> None:
        logged, findings, t = judged.logged, judged.findings, judged.transcript
        view = self.view
        self.rows[t.index] = row(logged)
        if judged.repeats_earlier and not view.json and view.connection is None:
            # the same failure again (a retry loop): said once, with a count
            self.repeats.setdefault(judged.first_failure, []).append(t.index)
            return
        self.count(findings)
        if view.json:
            item = dict(connection_dict(t, findings, judged.selection))
            item.update(log_dict(logged))
            _unmark_rebuilt(item, t)
            item["outcome"] = self.rows[t.index][7]  # as the table says it (who sent the alert)
            item["client_cert"] = self.rows[t.index][6]  # a chain named but not printed: not "unreadable"
            self.json_handshakes.add(t.index, json_out.compact(item))
            for f in findings:
                self.json_findings.add(t.index, json_out.compact(json_out.finding_dict(f)))
            return
        full = view.connection is not None
        notable = (
            has_errors(findings)
            or outcome(t) != "completed"
            or any(f.severity is Severity.WARNING for f in findings)
        )
        if full or view.show_all or notable:
            block = connection_block(t, findings, judged.selection, full)
            self.blocks.add(t.index, _relabel(block, logged))

    def write(self, out: TextIO, scan: LogScan) -> None:
        self.count(scan.file_findings)
        if self.view.json:
            self._write_json(out, scan)
        else:
            self._write_text(out, scan)

    def _write_text(self, out: TextIO, scan: LogScan) -> None:
        out.write(header(scan.request.shown, scan.summary) + "\n")
        role = role_line(scan.roles)
        if role:
            out.write(f"  {role}\n")
        out.write(f"  {trust_line(scan)}\n")
        if self.rows:
            out.write(text.table([r for _, r in sorted(self.rows.items())], COLUMNS) + "\n")
        for f in scan.file_findings:
            out.write("\n" + text.finding(f) + "\n")
        for block in self.blocks.texts():
            out.write(block + "\n")
        if scan.server is not None:
            from inspector.render.server_verdicts import chains_text

            out.write(chains_text(scan.server, "handshake") + "\n")
        for first, again in sorted(self.repeats.items()):
            shown = ", ".join(f"#{n}" for n in again[:20]) + (" ..." if len(again) > 20 else "")
            out.write(
                f"\nhandshake #{first}'s failure repeats in handshake(s) {shown} "
                f"(×{len(again) + 1} in all): the same findings, shown and counted once\n"
            )
        c = self.severities
        out.write(f"\n{_plural(c['error'], 'error')}, {_plural(c['warning'], 'warning')}, {c['info']} info\n")

    def _write_json(self, out: TextIO, scan: LogScan) -> None:
        file_level = [json_out.compact(json_out.finding_dict(f)) for f in scan.file_findings]
        trust = scan.trust
        head: dict[str, Any] = {
            "log": {**summary_dict(scan.request.shown, scan.summary), "role": role_line(scan.roles)},
            "truststore": trust.label if trust is not None else None,
        }
        if scan.server is not None:
            from inspector.render.server_verdicts import chains_json, no_chain_line

            head["server_verdicts"] = chains_json(scan.server, "handshake")
            if not scan.server.groups:
                head["server_verdicts_note"] = no_chain_line(scan.server, "handshake")
        json_out.write_assembled(
            out,
            "log",
            head,
            {
                "handshakes": self.json_handshakes.texts(),
                "findings": itertools.chain(file_level, self.json_findings.texts()),
            },
            self.severities,
            pretty=len(self.json_handshakes) <= PRETTY_JSON_MAX,
        )


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def trust_line(scan: LogScan) -> str:
    """Which truststore judged the server chains, or why none did."""
    if scan.trust is not None:
        return f"Java's trust judged with {scan.trust.label}"
    if scan.request.jdk_cacerts:
        return "Java's trust not judged: no JDK found (JAVA_HOME, java on PATH)"
    return (
        "Java's trust not judged: no --truststore given (--jdk-cacerts judges with this "
        "machine's JDK cacerts, not the log's)"
    )


def role_line(roles: dict[str, int]) -> str | None:
    """Whose log this is: the client's, the server's, or both (a gateway)."""
    if not roles:
        return None
    if roles.get("assumed") == sum(n for r, n in roles.items() if r != "assumed"):
        return "role: client (assumed: the log prints no message that tells the sides apart)"
    if set(roles) - {"assumed"} == {"client"}:
        return "role: client (the log of the side that sent the ClientHello)"
    if set(roles) - {"assumed"} == {"server"}:
        return "role: server (the log of the side that received the client's Certificate)"
    return (
        f"role: both ({roles.get('server', 0)} handshake(s) as server, "
        f"{roles.get('client', 0)} as client: a gateway; each handshake is read in its own role)"
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
    for event, out in zip(t.events, item["events"], strict=True):
        chain = getattr(event.message, "chain", ())
        if chain and "chain" in out:  # copies: the summaries are shared (memoised per certificate)
            out["chain"] = [
                {**summary, "sha256": None, "from_log_text": True} if facts_of(cert) is not None else summary
                for cert, summary in zip(chain, out["chain"], strict=True)
            ]


def log_dict(logged: LoggedHandshake) -> dict[str, Any]:
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
