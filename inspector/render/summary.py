"""One-phrase summaries of a connection (the table's columns, the JSON's fields)."""

from __future__ import annotations

from inspector.pki import certs as C
from parsers import model
from parsers.model import Certificate, CertificateRequest, Direction, EncryptedRecords, Outcome, Transcript

#: What `outcome` says of a handshake that went through (seen, or inferred from record order).
COMPLETED = ("completed", "completed? (encrypted)")


def requested(t: Transcript) -> str:
    if model.first(t, CertificateRequest) is not None:
        return "yes"
    if t.resumed:
        return "no (resumed)"
    if t.tls13 and not t.decrypted:
        return "? (encrypted)"
    return "no" if t.server_hello is not None else "-"


def sent(t: Transcript) -> str:
    seen = model.first(t, Certificate, Direction.CLIENT)
    if seen is None:
        return "? (encrypted)" if t.tls13 and not t.decrypted and not t.resumed else "-"
    if seen.message.empty:
        return "empty"
    if not seen.message.chain:  # certificates were sent, none of them readable
        return f"{seen.message.undecodable} unreadable certificate(s)"
    return C.short_dn(seen.message.chain[0].subject)


def outcome(t: Transcript) -> str:
    state = t.outcome
    if state is Outcome.ALERT:
        alert = model.fatal_alert(t)
        assert alert is not None  # Outcome.ALERT means there is one
        return f"{model.alert_name(alert.message)} from {alert.direction.value}"
    if state is Outcome.RESET and t.reset_by is not None:
        return f"reset by {t.reset_by.value}"
    if state is Outcome.COMPLETED and t.done_inferred:
        last = t.events[-1]
        records = model.message_as(last, EncryptedRecords)
        if last.direction is Direction.SERVER and records is not None and records.sizes == (19,) and t.fin_by:
            return "closed after a 19-byte record (alert?)"
        return "completed? (encrypted)"
    return str(state.value)
