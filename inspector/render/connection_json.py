"""A connection as JSON (the `connections` items of the pcap and probe documents)."""

from __future__ import annotations

import math
from typing import cast

from cryptography import x509

from inspector import certs as C
from inspector.findings import Finding
from inspector.render.json_out import JsonObject, JsonValue, compact
from inspector.render.selection import selection_dict
from inspector.render.summary import outcome, requested, sent
from inspector.selection import Selection
from inspector.times import utc_from_timestamp
from parsers.model import (
    Alert,
    Certificate,
    CertificateRequest,
    CertificateVerify,
    HandshakeEvent,
    Message,
    ServerKeyExchange,
    Transcript,
    scheme_name,
    version_name,
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
    item: JsonObject = {
        "direction": event.direction.value,
        "time": round(event.time, 6),
        "frame": event.frame,
        "message": event.label,
        "encrypted": event.encrypted,
    }
    return item | _message_members(event.message)


def _message_members(m: Message) -> JsonObject:
    """What an event says of its message beyond its name."""
    item: JsonObject = {}
    if isinstance(m, Alert):
        item["alert"] = {
            "level": m.level,
            "description": m.description,
            "name": None if m.encrypted else m.name,
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
    return _head(t) | {"events": [event_dict(e) for e in t.events]} | _tail(t, findings, selection)


def _head(t: Transcript) -> JsonObject:
    return {
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
    }


def _tail(t: Transcript, findings: list[Finding], selection: Selection | None) -> JsonObject:
    item: JsonObject = {
        "problems": [{"kind": p.kind, "detail": p.detail, "frame": p.frame} for p in t.problems],
        "finding_codes": [f.code for f in findings],
    }
    if selection is not None:
        item["selection"] = selection_dict(selection)
    return item


# -- the same object as compact JSON text, made faster ------------------------------------------
# A capture's report encodes ~10 events per connection, and the costly parts of an event (a
# certificate chain, a request's CA names) come from decoded messages the decoder shares across
# every connection that sent the same bytes: those parts are encoded once per message. Equal to
# compact(connection_dict(...)), character for character (tests/test_connection_json.py).


def connection_json(t: Transcript, findings: list[Finding], selection: Selection | None) -> str:
    """compact(connection_dict(t, findings, selection)), without encoding shared parts again."""
    events = ",".join([event_json(e) for e in t.events])
    return f'{compact(_head(t))[:-1]},"events":[{events}],{compact(_tail(t, findings, selection))[1:]}'


#: encoded message parts, by the message object (kept, so its id is not reused); bounded
_MESSAGE_JSON: dict[int, tuple[Message, str]] = {}
#: encoded short strings that repeat (directions, message labels)
_STRING_JSON: dict[str, str] = {}
_BOOL_JSON = {True: "true", False: "false"}


def event_json(event: HandshakeEvent) -> str:
    """compact(event_dict(event))."""
    m = event.message
    direction, label = event.direction.value, event.label
    time = round(event.time, 6)
    text = (
        f'{{"direction":{_string_json(direction)},"time":{_number_json(time)},'
        f'"frame":{_number_json(event.frame)},"message":{_string_json(label)},'
        f'"encrypted":{_BOOL_JSON[event.encrypted]}'
    )
    if isinstance(m, Alert | Certificate | CertificateRequest | CertificateVerify | ServerKeyExchange):
        text += _message_json(m)
    return text + "}"


def _message_json(m: Message) -> str:
    """The members event_dict adds for message `m`, encoded, as `,"name":value…`."""
    shared = isinstance(m, Certificate | CertificateRequest)  # not changed once decoded
    if shared:
        hit = _MESSAGE_JSON.get(id(m))
        if hit is not None and hit[0] is m:
            return hit[1]
    members = _message_members(m)
    text = "," + compact(members)[1:-1] if members else ""
    if shared:
        if len(_MESSAGE_JSON) >= SUMMARY_MEMO:
            _MESSAGE_JSON.clear()
        _MESSAGE_JSON[id(m)] = (m, text)
    return text


def _string_json(value: str | None) -> str:
    if value is None:
        return "null"
    text = _STRING_JSON.get(value)
    if text is None:
        text = compact(value)
        if len(_STRING_JSON) < SUMMARY_MEMO:
            _STRING_JSON[value] = text
    return text


def _number_json(value: object) -> str:
    kind = type(value)
    if kind is int:
        return int.__repr__(cast(int, value))
    if kind is float and math.isfinite(cast(float, value)):
        return float.__repr__(cast(float, value))
    return compact(cast(JsonValue, value))
