"""A connection as JSON (the `connections` items of the pcap and probe documents)."""

from __future__ import annotations

import math
from json.encoder import encode_basestring as _string  # json.dumps's, with ensure_ascii=False

from cryptography import x509

from inspector.findings import Finding
from inspector.java.key_managers import Selection
from inspector.pki import certs as C
from inspector.render.json_out import JsonObject, compact
from inspector.render.selection import selection_dict
from inspector.render.summary import outcome, requested, sent
from inspector.system.times import utc_from_timestamp
from parsers import model
from parsers.constants import scheme_name, version_name
from parsers.message_memo import MessageMemo
from parsers.model import (
    Alert,
    ApplicationData,
    Certificate,
    CertificateRequest,
    CertificateVerify,
    ChangeCipherSpec,
    ClientHello,
    Direction,
    EncryptedRecords,
    HandshakeEvent,
    Message,
    ServerHello,
    ServerKeyExchange,
    SimpleMessage,
    Transcript,
)

SIGNATURE_WORDS = {True: "valid", False: "invalid", None: "unchecked"}


def _summary(cert: x509.Certificate) -> dict[str, str]:
    return {
        "subject": C.dn(cert.subject),
        "issuer": C.dn(cert.issuer),
        "not_after": cert.not_valid_after_utc.isoformat(),
        "sha256": C.fingerprint(cert),
    }


#: the decoder shares one certificate object across every connection that sent the same bytes,
#: and a large capture sends the same few chains thousands of times
cert_summary: MessageMemo[x509.Certificate, dict[str, str]] = MessageMemo(_summary)


def event_dict(event: HandshakeEvent) -> JsonObject:
    item: JsonObject = {
        "direction": event.direction.value,
        "time": round(event.time, 6),
        "frame": event.frame,
        "message": model.event_label(event),
        "encrypted": event.encrypted,
    }
    item.update(_message_members(event.message))
    return item


def _message_members(m: Message) -> JsonObject:
    """What an event's message adds to the event's object."""
    item: JsonObject = {}
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
    return {
        **_connection_head(t),
        "events": [event_dict(e) for e in t.events],
        **_tail(t, findings, selection),
    }


def _connection_head(t: Transcript) -> JsonObject:
    """The members before the events."""
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
    """The members after the events."""
    item: JsonObject = {
        "problems": [{"kind": p.kind, "detail": p.detail, "frame": p.frame} for p in t.problems],
        "finding_codes": [f.code for f in findings],
    }
    if selection is not None:
        item["selection"] = selection_dict(selection)
    return item


# -- the same, written as compact JSON text directly ----------------------------------------
# A dense capture's JSON report is 36 MB of connections whose events repeat the same few
# certificate chains and CA lists: their members' text is made once per decoded message (the
# decoder shares one message object across the connections that sent the same bytes), and the
# rest of each event is a few formatted scalars. The text is what json_out.compact makes of
# connection_dict, character for character (tests/test_connection_json_text.py).

#: the kinds of message whose events add no member (most events: hellos, Finished, CCS...)
_BARE = (ClientHello, ServerHello, SimpleMessage, ChangeCipherSpec, EncryptedRecords, ApplicationData)


def _message_text(event: HandshakeEvent) -> tuple[str, str]:
    """`"label"` and what the message adds, `,"key":value...`, as event_dict writes them; made once
    for the messages decoded once and shared (certificates, certificate requests)."""
    m = event.message
    kind = type(m)
    if kind in _BARE:  # exactly these classes (ServerKeyExchange, a SimpleMessage, adds members)
        return _string(model.message_label(m)), ""
    if kind is Certificate or kind is CertificateRequest:  # their label is the message's alone
        return _shared_text(m)
    return _text(m, model.event_label(event))


def _text(m: Message, label: str) -> tuple[str, str]:
    members = _message_members(m)
    return _string(label), "," + compact(members)[1:-1] if members else ""


_shared_text: MessageMemo[Message, tuple[str, str]] = MessageMemo(lambda m: _text(m, model.message_label(m)))


def _scalar(value: object) -> str:
    """A JSON scalar as json.dumps writes it (floats and anything else: by json itself)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    kind = type(value)
    if kind is int:
        return int.__repr__(value)  # type: ignore[arg-type]
    if kind is str:
        return _string(value)  # type: ignore[arg-type]
    if kind is float and math.isfinite(value):  # type: ignore[arg-type]
        return float.__repr__(value)  # type: ignore[arg-type]
    return compact(value)  # type: ignore[arg-type]


_OPENING = {d: f'{{"direction":{_string(d.value)},"time":' for d in Direction}


def event_text(event: HandshakeEvent) -> str:
    """compact(event_dict(event)), made without the dictionary."""
    time, frame = round(event.time, 6), event.frame
    label, members = _message_text(event)
    return "".join(
        (
            _OPENING[event.direction],
            float.__repr__(time) if type(time) is float and math.isfinite(time) else _scalar(time),
            ',"frame":',
            int.__repr__(frame) if type(frame) is int else _scalar(frame),
            ',"message":',
            label,
            ',"encrypted":true' if event.encrypted else ',"encrypted":false',
            members,
            "}",
        )
    )


def connection_text(t: Transcript, findings: list[Finding], selection: Selection | None) -> str:
    """compact(connection_dict(...)): the pcap report's connection, made as text."""
    head, tail = compact(_connection_head(t)), compact(_tail(t, findings, selection))
    events = ",".join([event_text(e) for e in t.events])
    return f'{head[:-1]},"events":[{events}],{tail[1:]}'
