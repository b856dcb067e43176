"""The `probe` report: text (steps, ladder, details, Java's choice, findings) and JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING

from inspector.pki import certs as C
from inspector.render import json_out, text
from inspector.render.connection_json import connection_dict
from inspector.render.json_out import JsonObject
from inspector.render.ladder import ladder
from inspector.render.selection import selection_text
from inspector.render.summary import outcome
from inspector.render.transcript import details

if TYPE_CHECKING:
    from inspector.analysis.probe import ProbeResult
    from inspector.live.attempt import Attempt


def probe_text(result: ProbeResult) -> str:
    target, attempt, t = result.request.target, result.attempt, result.transcript
    head = f"Probe {target.host}:{target.port}"
    if target.servername:
        head += f" (SNI {target.servername})"
    head += f": {attempt.version or 'no TLS version agreed'}"
    if attempt.cipher:
        head += f", {attempt.cipher}"
    http = f"; HTTP: {attempt.http_status}" if attempt.http_status else ""
    parts = [head, f"outcome: {outcome(t)}{http}"]
    parts += [f"  - {step}" for step in result.steps]
    if attempt.error:
        parts.append(f"  OpenSSL said: {attempt.error}")
    parts += ["", ladder(t), details(t)]
    if result.connection.selection is not None:
        parts.append(selection_text(result.connection.selection))
    findings = result.connection.findings
    parts += ["", text.findings_block(findings), "", text.summary_line(findings)]
    return "\n".join(parts)


def probe_document(result: ProbeResult) -> JsonObject:
    """The `mtls-inspector/probe` JSON document."""
    conn = result.connection
    return json_out.envelope(
        "probe",
        conn.findings,
        probe=probe_dict(result),
        connections=[connection_dict(conn.transcript, conn.findings, conn.selection)],
    )


def probe_dict(result: ProbeResult) -> JsonObject:
    target = result.request.target
    return {
        "target": f"{target.host}:{target.port}",
        "servername": target.servername,
        "key_manager": result.request.key_manager,
        "proxy": (f"{target.proxy[0]}:{target.proxy[1]}" if target.proxy else None),
        "tls_version": target.tls_version,
        "steps": result.steps,
        "attempts": [attempt_dict(result.attempt)],  # one handshake; a list in schema v1
    }


def attempt_dict(a: Attempt) -> JsonObject:
    return {
        "alias": a.alias,
        "certificate_request_seen": a.request_seen,
        "proxy_status": a.proxy_status,
        "completed": a.completed,
        "error": a.error,
        "http_status": a.http_status,
        "version": a.version,
        "cipher": a.cipher,
        "timed_out": a.timed_out,
        "server_verify_errors": [
            {"depth": p.depth, "error": p.message, "subject": p.subject} for p in a.verify_problems
        ],
        "server_chain": [C.dn(c.subject) for c in a.server_chain],
    }
