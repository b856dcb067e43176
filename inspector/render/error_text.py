"""A client's error text, diagnosed (inspector/analysis/error_text.py), as text or JSON.

Everything quoted from the input was escaped when it was read (parsers/errortext): nothing of it
reaches a terminal raw."""

from __future__ import annotations

from typing import Any

from inspector.analysis.error_text import ErrorTextResult
from inspector.render import json_out, text
from inspector.rules.errortext_rules import CLIENT_NAMES, Diagnosis
from inspector.system.errors import ExitStatus
from parsers.printable import escape_text


def emit_error_text(result: ErrorTextResult, *, json: bool = False) -> int:
    """`log`'s reader of a client's error text: the diagnosis on stdout through the shared writer
    (`| head -1` keeps the status), and the exit status (1: the text shows a failure, 0: only
    success)."""
    from inspector.render.emit import emit

    status = ExitStatus.ERROR_FINDINGS if result.failed else ExitStatus.OK
    body = json_out.dumps(document(result)) + "\n" if json else render_text(result)

    return emit(lambda stream: stream.write(body), status)


def header(result: ErrorTextResult) -> list[str]:
    r = result.reading
    clients = ", ".join(dict.fromkeys(CLIENT_NAMES[f] for f in r.families)) or "?"
    lines = [
        f"Client error text {escape_text(result.source)}: {r.lines} line{'' if r.lines == 1 else 's'}, "
        f"written by {clients}"
    ]
    t = r.target
    lines.append(
        f"  server: {t.address} (line {t.line}: {t.how})" if t else "  server: not named in the text"
    )
    c = r.clues
    if c.tls_version:
        lines.append(f"  TLS version: {c.tls_version}")
    if c.cert_file:
        lines.append(f"  client certificate given on the command line: {c.cert_file}")
    return lines


def diagnosis_block(d: Diagnosis) -> str:
    f = d.finding
    head = (f"alert {d.alert}: " if d.alert else "") + d.meaning
    if len(d.lines) > 1:
        head += f" ({len(d.lines)} lines)"
    lines = [f"{f.severity.value}[{f.code}]: {head}"]
    where = f.location.describe()
    if where:
        lines.append(f"  --> {where}")
    for ev in f.evidence:
        lines.append(f"   = evidence: {ev.source}: {ev.fact}")
    lines.append(f"   = said by: {d.said_by}")
    if d.causes:
        lines.append("   = likely causes, most likely first:")
        for i, c in enumerate(d.causes, 1):
            lines.append(f"       {i}. {'(inference) ' if c.inference else '(fact) '}{c.text}")
    for i, cmd in enumerate(d.commands):
        lines.append(f"   = {'next' if i == 0 else 'then'}: {cmd}")
    return "\n".join(lines)


def render_text(result: ErrorTextResult) -> str:
    parts = ["\n".join(header(result))]
    parts += [diagnosis_block(d) for d in result.diagnoses]
    counts = {
        s: sum(1 for f in result.findings if f.severity.value == s) for s in ("error", "warning", "info")
    }
    parts.append(text.counts_line(counts))
    return "\n\n".join(parts) + "\n"


def diagnosis_dict(d: Diagnosis) -> dict[str, Any]:
    return {
        "code": d.finding.code,
        "kind": d.kind.value,
        "alert": d.alert,
        "client": d.family.value,
        "said_by": d.said_by,
        "meaning": d.meaning,
        "causes": [{"rank": i, "cause": c.text, "inference": c.inference} for i, c in enumerate(d.causes, 1)],
        "next": list(d.commands),
        "lines": list(d.lines),
    }


def document(result: ErrorTextResult) -> dict[str, Any]:
    r = result.reading
    t = r.target
    doc = json_out.envelope(
        "log",
        result.findings,
        log={"path": result.source, "format": "client error text", "lines": r.lines, "handshakes": 0},
        error_text={
            "clients": [f.value for f in r.families],
            "server": {"host": t.host, "port": t.port, "address": t.address, "line": t.line, "how": t.how}
            if t
            else None,
            "tls_version": r.clues.tls_version,
            "certificate_requested_line": r.clues.cert_requested,
            "client_certificate_sent_line": r.clues.client_cert_verify_sent,
            "diagnoses": [diagnosis_dict(d) for d in result.diagnoses],
            "sightings": [
                {
                    "line": s.line,
                    "client": s.family.value,
                    "kind": s.kind.value,
                    "said_by": s.speaker.value,
                    "alert": s.alert,
                    "detail": s.detail,
                    "form": s.sign,
                    "text": s.text,
                }
                for s in r.sightings
            ],
        },
        handshakes=[],
    )
    return doc
