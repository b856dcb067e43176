"""The one-phrase summaries (table columns, JSON fields) and typed event access, on real captures."""

from __future__ import annotations

from pathlib import Path

from inspector.render.ladder import ladder
from inspector.render.summary import outcome, requested, sent
from inspector.render.transcript import connection_row
from parsers import model
from parsers.capture import read_capture
from parsers.keylog import KeyLog
from parsers.model import Alert, Certificate, CertificateRequest, Direction

CAPTURES = Path(__file__).resolve().parent.parent / "captures"


def test_summaries_of_the_sample_capture() -> None:
    transcripts = read_capture(CAPTURES / "several.pcap").transcripts
    assert [(requested(t), sent(t), outcome(t)) for t in transcripts] == [
        ("yes", "CN=letstestcba", "completed"),
        ("yes", "empty", "handshake_failure from server"),
        ("? (encrypted)", "? (encrypted)", "closed after a 19-byte record (alert?)"),
        ("yes", "CN=stranger", "unknown_ca from server"),
    ]
    row = connection_row(transcripts[1])
    assert row[2:] == [
        "127.0.0.1:59010 → 127.0.0.1:44302",
        "localhost",
        "TLS 1.2",
        "yes",
        "empty",
        "handshake_failure from server",
    ]


def test_tls13_with_its_key_log_is_read_in_full() -> None:
    keylog = KeyLog()
    keylog.add_text((CAPTURES / "tls13-unknown-ca.keys").read_text(encoding="utf-8"))
    (t,) = read_capture(CAPTURES / "tls13-unknown-ca.pcap", keylog).transcripts
    assert (requested(t), outcome(t)) == ("yes", "unknown_ca from server")
    assert sent(t).startswith("CN=")


def test_typed_access_narrows_and_filters() -> None:
    t = read_capture(CAPTURES / "several.pcap").transcripts[1]
    request = model.first(t, CertificateRequest)
    assert request is not None and request.direction is Direction.SERVER
    assert [n.text for n in request.message.ca_names] == ["CN=Acme Root CA,O=Acme"]
    client = model.first(t, Certificate, Direction.CLIENT)
    assert client is not None and client.message.empty
    assert model.first(t, Certificate, Direction.SERVER) is not None
    assert model.message_as(request.event, Certificate) is None
    assert model.any_of(t.events, Alert, Direction.SERVER) and not model.any_of(
        t.events, Alert, Direction.CLIENT
    )
    fatal = model.fatal_alert(t)
    assert fatal is not None and fatal.message.name == "handshake_failure"
    assert [(s.direction, s.event.label) for s in model.every(t.events, Certificate)] == [
        (Direction.SERVER, "Certificate (1)"),
        (Direction.CLIENT, "Certificate (empty)"),
    ]
    marked = [line for line in ladder(t).splitlines() if "✗" in line]
    assert len(marked) == 1 and "Alert handshake_failure  ✗ fails here" in marked[0]
