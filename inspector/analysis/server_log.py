"""A server's own log (nginx, Apache httpd, HAProxy, Go, Caddy, Node, Envoy) read and judged:
the typed result `log` renders when the text holds such lines and no javax.net.debug output."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from inspector.findings import Finding, has_errors
from inspector.keystore.model import Keystore
from inspector.rules.serverlog_rules import ServerLogContext, check_server_log, code_of
from parsers.serverlog import ServerEvent, ServerLogReading, read_server_log


@dataclass(frozen=True)
class ServerLogResult:
    source: str  # the file name as given, or "stdin"
    reading: ServerLogReading
    findings: tuple[Finding, ...]

    @property
    def failed(self) -> bool:
        return has_errors(self.findings)


def reason_of(event: ServerEvent) -> str:
    """The event's reason in our words (the JSON's `reason`)."""
    from inspector.pki.openssl_verify import VERIFY_ERRORS

    code = code_of(event)
    if event.problem.value == "no-certificate":
        return "the client sent no certificate"
    if event.problem.value == "client-alert":
        return f"the client aborted with alert {event.alert}"
    if code is not None and code in VERIFY_ERRORS:
        return VERIFY_ERRORS[code].cause
    if event.reason_text:
        return event.reason_text
    return "accepted" if event.verdict.value == "accept" else "the handshake failed (no reason logged)"


def analyse(
    text: str, source: str, store: Keystore | None = None, at: dt.datetime | None = None
) -> ServerLogResult | None:
    """The judged server log; None when no line of it is a server's TLS line."""
    reading = read_server_log(text)
    if not reading.events:
        return None
    findings = check_server_log(ServerLogContext(reading, source, store, at))
    return ServerLogResult(source, reading, tuple(findings))
