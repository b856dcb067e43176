"""A server's log, judged (inspector/analysis/server_log.py), as text or JSON (`server_events`).

Everything quoted from the input was escaped when it was read (parsers/serverlog)."""

from __future__ import annotations

from typing import Any

from inspector.analysis.server_log import ServerLogResult, reason_of
from inspector.render import json_out, text
from inspector.render.emit import emit
from inspector.system.errors import ExitStatus
from parsers.printable import escape_text


def emit_server_log(result: ServerLogResult, *, json: bool = False) -> int:
    """`log` on a server's log: the report on stdout through the shared writer, and the exit
    status (1: a client was refused)."""
    status = ExitStatus.ERROR_FINDINGS if result.failed else ExitStatus.OK
    body = json_out.dumps(document(result)) + "\n" if json else render_text(result)
    return emit(lambda out: out.write(body), status)


def event_dict(result: ServerLogResult, index: int) -> dict[str, Any]:
    e = result.reading.events[index]
    return {
        "stack": e.stack.value,
        "client": e.client,
        "time": e.time,
        "verdict": e.verdict.value,
        "reason": reason_of(e),
        "stack_says": e.stack_says,
        "line": e.line,
        "verify_code": e.code,
    }


def document(result: ServerLogResult) -> dict[str, Any]:
    r = result.reading
    return json_out.envelope(
        "log",
        result.findings,
        log={"path": result.source, "format": "server log", "lines": r.lines, "handshakes": 0},
        server_events=[event_dict(result, i) for i in range(len(r.events))],
        handshakes=[],
    )


def render_text(result: ServerLogResult) -> str:
    r = result.reading
    stacks = ", ".join(s.value for s in r.stacks)
    head = (
        f"Server log {escape_text(result.source)}: {r.lines} line{'' if r.lines == 1 else 's'}, "
        f"written by {stacks}; {len(r.events)} about a client's TLS handshake"
    )
    rows = [head, ""]
    for e in r.events[:50]:
        who = e.client or "client ?"
        rows.append(f"  line {e.line:>5}  {e.stack.value:<7} {who:<22} {e.verdict.value:<6}  {reason_of(e)}")
    if len(r.events) > 50:
        rows.append(f"  ... and {len(r.events) - 50} more (all in --json)")
    parts = ["\n".join(rows)]
    parts.append(text.findings_block(result.findings))
    parts.append(text.summary_line(result.findings))
    return "\n\n".join(parts) + "\n"
