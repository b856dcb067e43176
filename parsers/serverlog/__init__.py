"""A server's own log lines about a client's certificate: nginx's error log and the access
log's `$ssl_client_verify`, Apache httpd's mod_ssl, HAProxy, Go's net/http (and Caddy's JSON log
of it), Node's `authorizationError` / `tlsClientError`, Envoy's transport failure reasons.

`read_server_log(text)` gives one typed `ServerEvent` per line that says something of a
client's handshake: the stack, the verdict, the problem, OpenSSL's verify code when the line
has it (or the stack's words imply it), the client's address and the time as logged. Pure and
bounded; the diagnosis is inspector/rules/serverlog_rules.py's.
"""

from __future__ import annotations

import re
from dataclasses import replace

from parsers.printable import escape_text
from parsers.serverlog.model import Problem, ServerEvent, ServerLogReading, Stack, Verdict
from parsers.serverlog.stacks import MATCHERS, TRIGGERS, Found

__all__ = ["Problem", "ServerEvent", "ServerLogReading", "Stack", "Verdict", "read_server_log"]

#: what only openssl s_client prints: its lines are a client's, not s_server's
_S_CLIENT = re.compile(r"^CONNECTED\(|^Verify return code: |^SSL handshake has read ", re.MULTILINE)
MAX_EVENTS = 10_000  # a whole day's log: the rest are counted in `lines` only
MAX_LINE = 8192
EXCERPT = 300


#: when several lines of one connection speak (Apache: the verify error, then "SSL library error
#: in handshake", then OpenSSL's queue), the most telling one is the event
_TELLING = {
    Problem.VERIFY_FAILED: 3,
    Problem.NO_CERTIFICATE: 3,
    Problem.CLIENT_ALERT: 3,
    Problem.HANDSHAKE_FAILED: 1,
    Problem.NONE: 0,
}


def _score(found: Found) -> int:
    return _TELLING[found.problem] + (1 if found.code is not None else 0)


def read_server_log(text: str) -> ServerLogReading:
    kept: list[tuple[int, Found]] = []
    open_at: dict[str, int] = {}  # a connection's key → its event's place in `kept`
    count = 0
    for count, raw in enumerate(text.splitlines(), 1):
        if len(kept) >= MAX_EVENTS:
            continue
        line = raw[:MAX_LINE]
        low = line.lower()
        if not any(word in low for word in TRIGGERS):
            continue
        found = next((f for f in (match(line) for match in MATCHERS) if f is not None), None)
        if found is None:
            continue
        key = f"{found.stack.value} {found.connection}" if found.connection else None
        if key is not None and key in open_at:  # another line of the same connection
            place = open_at[key]
            number, before = kept[place]
            if _score(found) > _score(before):
                number, best = count, found
            else:
                best = before
            kept[place] = (number, _filled(best, before, found))
            if found.client and before.client and found.client != before.client:
                open_at[key] = len(kept)  # a thread serving the next client: a new connection
                kept.append((count, found))
            continue
        if key is not None:
            open_at[key] = len(kept)
        kept.append((count, found))
    if _S_CLIENT.search(text):  # s_client prints the same "verify error:num=" about the *server*
        kept = [(n, f) for n, f in kept if f.stack is not Stack.OPENSSL]
    return ServerLogReading(count, tuple(_event(number, found) for number, found in kept))


def _filled(best: Found, *others: Found) -> Found:
    """The most telling line, with the client and time another line of the connection had."""
    client = best.client or next((o.client for o in others if o.client), None)
    when = best.time or next((o.time for o in others if o.time), None)
    return replace(best, client=client, time=when)


def _event(number: int, found: Found) -> ServerEvent:
    return ServerEvent(
        number,
        found.stack,
        found.verdict,
        found.problem,
        escape_text(found.stack_says.strip())[:EXCERPT],
        found.code,
        escape_text(found.reason_text) if found.reason_text else None,
        found.alert,
        escape_text(found.client) if found.client else None,
        escape_text(found.time) if found.time else None,
    )
