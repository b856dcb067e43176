"""A connection as JSON (the `connections` items of the pcap and probe documents)."""

from __future__ import annotations

from cryptography import x509

from inspector.findings import Finding
from inspector.java.key_managers import Selection
from inspector.pki import certs as C
from inspector.render.json_out import JsonObject
from inspector.render.selection import selection_dict
from inspector.render.summary import outcome, requested, sent
from inspector.system.times import utc_from_timestamp
from parsers import model
from parsers.constants import scheme_name, version_name
from parsers.model import (
    Alert,
    Certificate,
    CertificateRequest,
    CertificateVerify,
    HandshakeEvent,
    ServerKeyExchange,
    Transcript,
)

SIGNATURE_WORDS = {True: "valid", False: "invalid", None: "unchecked"}

#: Certificates summarised and remembered; past this the memo starts afresh (bounded memory).
SUMMARY_MEMO = 4096
_SUMMARIES: dict[int, tuple[x509.Certificate, dict[str, str]]] = {}


def cert_summary(cert: x509.Certificate) -> dict[str, str]:
    """Memoised: the decoder shares one certificate object across every connection that sent
    the same bytes, and a large capture sends the same few chains thousands of times."""
    hit = _SUMMARIES.get(id(cert))
    if hit is not None and hit[0] is cert:
        return hit[1]
    summary = {
        "subject": C.dn(cert.subject),
        "issuer": C.dn(cert.issuer),
        "not_after": cert.not_valid_after_utc.isoformat(),
        "sha256": C.fingerprint(cert),
    }
    if len(_SUMMARIES) >= SUMMARY_MEMO:
        _SUMMARIES.clear()
    _SUMMARIES[id(cert)] = (cert, summary)
    return summary


def event_dict(event: HandshakeEvent) -> JsonObject:
    m = event.message
    item: JsonObject = {
        "direction": event.direction.value,
        "time": round(event.time, 6),
        "frame": event.frame,
        "message": model.event_label(event),
        "encrypted": event.encrypted,
    }
    if isinstance(m, Alert):
        # an alert that could not be read has no level or description: null, never 0
        # (close_notify's number)
        item["alert"] = {
            "level": None if m.encrypted else m.level,
            "description": None if m.encrypted or not m.described else m.description,
            "name": None if m.encrypted else model.alert_name(m),
            "readable": not m.encrypted,
        }
    if isinstance(m, Certificate):
        item["chain"] = [cert_summary(c) for c in m.chain]
    if isinstance(m, CertificateRequest):
        item["ca_names"] = [n.text for n in m.ca_names]
        item["certificate_types"] = list(m.certificate_types)
        item["signature_algorithms"] = list(m.signature_algorithms)
    if isinstance(m, (CertificateVerify, ServerKeyExchange)):
        item["signature"] = SIGNATURE_WORDS[m.verified]
        item["signature_scheme"] = scheme_name(m.algorithm) if m.algorithm else None
        item["signature_detail"] = m.unchecked or None
        item["scheme_offered"] = m.scheme_offered
    return item


def connection_dict(t: Transcript, findings: list[Finding], selection: Selection | None) -> JsonObject:
    item: JsonObject = {
        "index": t.index,
        "client": str(t.client),
        "server": str(t.server),
        "server_name": t.server_name,
        "version": version_name(t.version) if t.version else None,
        "start_time": utc_from_timestamp(t.start_time).isoformat(),
        "decrypted": t.decrypted,
        "cert_requested": requested(t),
        "client_cert": sent(t),
        "outcome": outcome(t),
        "events": [event_dict(e) for e in t.events],
        "problems": [{"kind": p.kind, "detail": p.detail, "frame": p.frame} for p in t.problems],
        "finding_codes": [f.code for f in findings],
    }
    if selection is not None:
        item["selection"] = selection_dict(selection)
    return item
