"""Work stays bounded whatever the capture holds: one huge Certificate message, a connection of
millions of tiny records, more connections open at once than anyone needs."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from parsers import flows, framing, messages
from parsers.capture import read_capture
from parsers.events import MAX_EVENTS
from parsers.keylog import KeyLog
from parsers.model import MAX_PROBLEMS, Certificate, ChangeCipherSpec, Direction, Endpoint, Transcript
from parsers.pcapfile import PcapWriter
from parsers.tls import TlsConnection
from tests import pki as P
from tests.helpers import tls_bytes as TB


def _certificate_message(der: bytes, count: int) -> bytes:
    entries = b"".join(len(der).to_bytes(3, "big") + der for _ in range(count))
    body = len(entries).to_bytes(3, "big") + entries
    return b"\x0b" + len(body).to_bytes(3, "big") + body


def test_a_megabyte_certificate_message_of_1151_certificates_is_read_linearly(monkeypatch):  # type: ignore[no-untyped-def]
    """scapy's Certificate reader took ~100 s on this message; the hand reader is linear. The
    scapy classes are made to fail here, to show which reader a capture's Certificate takes."""
    from scapy.layers.tls import handshake

    def refuse(*_: object) -> None:
        raise AssertionError("scapy's Certificate reader was used")

    monkeypatch.setattr(handshake, "TLSCertificate", refuse)
    monkeypatch.setattr(handshake, "TLS13Certificate", refuse)
    der = P.make_pki(days=30).leaf.cert.public_bytes(Encoding.DER)
    raw = _certificate_message(der, 1151)
    assert len(raw) > 900_000
    cert = messages.decode(11, raw, tls13=False)
    assert isinstance(cert, Certificate)
    assert len(cert.chain) == 1151 and cert.undecodable == 0
    assert cert.chain[1150].subject == cert.chain[0].subject


def _connection() -> TlsConnection:
    t = Transcript(1, Endpoint("127.0.0.1", 5000), Endpoint("127.0.0.1", 443), 0.0)
    conn = TlsConnection(t, KeyLog())
    conn.segment(Direction.CLIENT, 99, 0x02, b"", 1, 0.0)
    conn.segment(Direction.SERVER, 499, 0x12, b"", 2, 0.0)
    return conn


def test_millions_of_tiny_records_keep_a_bounded_transcript() -> None:
    conn = _connection()
    ccs = TB.record(TB.CHANGE_CIPHER_SPEC, b"\x01")
    tiny = ccs * (MAX_EVENTS + 500)  # ChangeCipherSpec after ChangeCipherSpec
    conn.segment(Direction.CLIENT, 100, 0x18, tiny, 3, 0.1)
    t = conn.finish()
    assert len(t.events) == MAX_EVENTS
    assert all(isinstance(e.message, ChangeCipherSpec) for e in t.events)
    assert [(p.kind, p.detail) for p in t.problems] == [
        ("limit", f"more than {MAX_EVENTS} messages: 500 more not kept")
    ]


def test_problems_are_counted_past_a_hundred() -> None:
    conn = _connection()
    malformed = TB.record(TB.HANDSHAKE, TB.handshake(TB.CLIENT_HELLO, b"")) * (MAX_PROBLEMS + 50)
    conn.segment(Direction.CLIENT, 100, 0x18, malformed, 3, 0.1)
    t = conn.finish()
    assert len(t.problems) == MAX_PROBLEMS + 1
    assert t.problems[-1].detail == "50 more problems in this connection, not listed"


def _half_open(path: Path, count: int) -> None:
    with path.open("wb") as handle:
        writer = PcapWriter(handle)
        for i in range(count):
            client = f"10.0.{i // 250}.{i % 250 + 1}"
            writer.write(i * 1e-4, framing.tcp_packet(client, "10.1.0.1", 40000, 443, i, 0, framing.SYN))
            hello = TB.record(TB.HANDSHAKE, TB.handshake(TB.CLIENT_HELLO, b""), TB.TLS10)  # empty
            writer.write(
                i * 1e-4, framing.tcp_packet(client, "10.1.0.1", 40000, 443, i + 1, 0, framing.ACK, hello)
            )


def test_connections_open_at_once_are_capped_the_oldest_closed_first(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(flows, "MAX_OPEN_CONNECTIONS", 50)
    path = tmp_path / "half-open.pcap"
    _half_open(path, 120)
    seen: list[Transcript] = []
    result = read_capture(path, on_transcript=seen.append)
    assert result.tls_connections == result.tcp_connections == 120
    # the first 70 were closed early (in the order they opened), the last 50 by the capture's end
    assert [t.index for t in seen] == list(range(1, 121))
    limited = [t.index for t in seen if any(p.kind == "limit" for p in t.problems)]
    assert limited == list(range(1, 71))


@pytest.mark.parametrize("serial", [True, False])
def test_the_cap_applies_alike_to_both_readers(tmp_path, monkeypatch, serial):  # type: ignore[no-untyped-def]
    from parsers.parallel import read_capture_parallel

    monkeypatch.setattr(flows, "MAX_OPEN_CONNECTIONS", 10)
    path = tmp_path / "half-open.pcap"
    _half_open(path, 30)
    seen: list[Transcript] = []
    read_capture_parallel(path, None, None, seen.append, min_bytes=1 << 40 if serial else 0)
    assert sum(any(p.kind == "limit" for p in t.problems) for t in seen) == 20
