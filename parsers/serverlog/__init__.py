"""A server's own log lines about a client's certificate: nginx's error log and the access
log's `$ssl_client_verify`, Apache httpd's mod_ssl, HAProxy, Go's net/http (and Caddy's JSON log
of it), Node's `authorizationError` / `tlsClientError`, Envoy's transport failure reasons.

`read_server_log(text)` gives one typed `ServerEvent` per line that says something of a
client's handshake: the stack, the verdict, the problem, OpenSSL's verify code when the line
has it (or the stack's words imply it), the client's address and the time as logged. Pure and
bounded; the diagnosis is inspector/rules/serverlog_rules.py's.
"""

from __future__ import annotations

from parsers.printable import escape_text
from parsers.serverlog.model import Problem, ServerEvent, ServerLogReading, Stack, Verdict
from parsers.serverlog.stacks import MATCHERS, TRIGGERS

__all__ = ["Problem", "ServerEvent", "ServerLogReading", "Stack", "Verdict", "read_server_log"]

MAX_EVENTS = 10_000  # a whole day's log: the rest are counted in `lines` only
MAX_LINE = 8192
EXCERPT = 300


def read_server_log(text: str) -> ServerLogReading:
    events: list[ServerEvent] = []
    count = 0
    for count, raw in enumerate(text.splitlines(), 1):
        if len(events) >= MAX_EVENTS:
            continue
        line = raw[:MAX_LINE]
        low = line.lower()
        if not any(word in low for word in TRIGGERS):
            continue
        for matcher in MATCHERS:
            found = matcher(line)
            if found is not None:
                said = escape_text(found.stack_says.strip())[:EXCERPT]
                events.append(
                    ServerEvent(
                        count,
                        found.stack,
                        found.verdict,
                        found.problem,
                        said,
                        found.code,
                        escape_text(found.reason_text) if found.reason_text else None,
                        found.alert,
                        escape_text(found.client) if found.client else None,
                        escape_text(found.time) if found.time else None,
                    )
                )
                break
    return ServerLogReading(count, tuple(events))
