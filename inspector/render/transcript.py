"""A connection as text: its table row, its block (ladder, details, selection, findings)."""

from __future__ import annotations

from inspector.findings import Finding
from inspector.java.key_managers import Selection
from inspector.pki import certs as C
from inspector.render import text
from inspector.render.ladder import ladder
from inspector.render.selection import selection_text
from inspector.render.summary import outcome, requested, sent
from parsers import model
from parsers.constants import CERTIFICATE_TYPES, scheme_name, version_name
from parsers.model import (
    Certificate,
    CertificateRequest,
    CertificateVerify,
    Direction,
    ServerKeyExchange,
    Transcript,
)

_VERDICTS = {True: "✓ verifies with the certificate's key", False: "✗ does NOT verify", None: "not checked"}

CONNECTION_HEADERS = [
    "#",
    "time",
    "client → server",
    "SNI",
    "version",
    "cert requested",
    "client cert sent",
    "outcome",
]


def connection_row(t: Transcript) -> list[str]:
    """A table row; the time column holds the absolute start until the table is made."""
    return [
        str(t.index),
        repr(t.start_time),
        f"{t.client} → {t.server}",
        t.server_name or "-",
        version_name(t.version),
        requested(t),
        sent(t),
        outcome(t),
    ]


def connection_block(t: Transcript, findings: list[Finding], selection: Selection | None, full: bool) -> str:
    parts = [
        f"\n── connection #{t.index}: {t.client} → {t.server}"
        f"{' (' + t.server_name + ')' if t.server_name else ''} ──",
        ladder(t),
    ]
    if full:
        parts.append(details(t))
    if selection is not None:
        parts.append(selection_text(selection))
    parts.append("")
    parts.append(text.findings_block(findings))
    return "\n".join(parts)


def details(t: Transcript) -> str:
    """The CertificateRequest in full and both chains (--connection N, and the probe)."""
    lines = []
    seen = model.first(t, CertificateRequest)
    if seen is not None:
        req = seen.message
        lines.append(f"\nCertificateRequest ({'TLS 1.3' if req.tls13 else 'TLS 1.2'}) at {seen.time:.4f} s:")
        lines.append(f"  CA names the server accepts ({len(req.ca_names)}):")
        lines += [f"    - {n.text}" for n in req.ca_names] or ["    (none: any certificate)"]
        if req.certificate_types:
            lines.append(
                "  certificate types: "
                + ", ".join(CERTIFICATE_TYPES.get(x, str(x)) for x in req.certificate_types)
            )
        if req.signature_algorithms:
            lines.append(
                "  signature algorithms: " + ", ".join(scheme_name(s) for s in req.signature_algorithms)
            )
        if req.signature_algorithms_cert:
            lines.append(
                "  signature algorithms (cert): "
                + ", ".join(scheme_name(s) for s in req.signature_algorithms_cert)
            )
    for direction in (Direction.SERVER, Direction.CLIENT):
        chain = model.first(t, Certificate, direction)
        if chain is None:
            continue
        lines.append(f"\n{direction.value.capitalize()} chain sent at {chain.time:.4f} s:")
        if chain.message.empty:
            lines.append("  (empty)")
        for i, cert in enumerate(chain.message.chain):
            lines.append(
                f"  [{i}] {C.dn(cert.subject)}  (issuer {C.dn(cert.issuer)}, "
                f"{cert.not_valid_before_utc.date()} .. {cert.not_valid_after_utc.date()})"
            )
    lines += signatures(t)
    return "\n".join(lines)


def signatures(t: Transcript) -> list[str]:
    """Each signature of the handshake and its verdict (parsers.signatures checked it)."""
    lines = []
    for event in t.events:
        m = event.message
        if not isinstance(m, (CertificateVerify, ServerKeyExchange)):
            continue
        scheme = scheme_name(m.algorithm) if m.algorithm else "TLS 1.0/1.1 signature"
        offered = {True: "", False: " (a scheme the peer did not offer)", None: ""}[m.scheme_offered]
        why = f": {m.unchecked}" if m.unchecked else ""
        lines.append(
            f"  {event.direction.value} {event.label} at {event.time:.4f} s, {scheme}{offered}: "
            f"{_VERDICTS[m.verified]}{why}"
        )
    return ["\nSignatures:", *lines] if lines else []
