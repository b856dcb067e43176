"""The handshake ladder: client | server columns, one line per message, failing step marked."""

from __future__ import annotations

from inspector.pki import certs as C
from parsers import model
from parsers.constants import version_name
from parsers.model import (
    Alert,
    Certificate,
    CertificateRequest,
    CertificateVerify,
    ClientHello,
    Direction,
    HandshakeEvent,
    ServerHello,
    ServerKeyExchange,
    Transcript,
)

#: a signature checked against the sender's certificate key: verified, or not
SIGNATURE_MARKS = {True: " ✓", False: " ✗", None: ""}

WIDTH = 44


def _detail(event: HandshakeEvent) -> str:
    m = event.message
    if isinstance(m, ClientHello) and m.server_name:
        return f"{event.label} (SNI {m.server_name})"
    if isinstance(m, ServerHello):
        return f"{event.label} {version_name(m.version)}"
    if isinstance(m, Certificate) and m.chain:
        return f"{event.label} {C.short_dn(m.chain[0].subject)}"
    if isinstance(m, CertificateRequest):
        return f"{event.label} [{len(m.ca_names)} CA]"
    if isinstance(m, (CertificateVerify, ServerKeyExchange)):
        return event.label + SIGNATURE_MARKS[m.verified]
    return model.event_label(event)


def ladder(t: Transcript) -> str:
    fatal = model.fatal_alert(t)
    fail = fatal.event if fatal is not None else None
    lines = [f"{'time (s)':>9}  {'frame':>5}  {'client':<{WIDTH}}      server"]
    for event in t.events:
        unread_alert = isinstance(event.message, Alert) and event.message.encrypted  # says so already
        text = _detail(event) + (" [enc]" if event.encrypted and not unread_alert else "")
        frame = str(event.frame) if event.frame is not None else "-"
        if event.direction is Direction.CLIENT:
            body = f"{text[:WIDTH]:<{WIDTH}} ───►"
        else:
            body = f"{'':<{WIDTH}} ◄───  {text}"
        mark = "  ✗ fails here" if event is fail else ""
        lines.append(f"{event.time:9.4f}  {frame:>5}  {body}{mark}")
    end = []
    if t.reset_by is not None:
        end.append(f"RST from the {t.reset_by.value}")
    if t.fin_by:
        end.append("FIN from " + " and ".join(d.value for d in t.fin_by))
    if end:
        lines.append(f"{'':9}  {'':5}  [{'; '.join(end)}]")
    return "\n".join(lines)
