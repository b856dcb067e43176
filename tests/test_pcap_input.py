"""Bad captures: decode what is there, report what is not, exit 2 only when nothing is readable."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from parsers.capture import read_capture
from parsers.model import CertificateRequest, Direction
from parsers.pcapfile import PcapWriter

_DER = Encoding.DER
CAPTURES = Path(__file__).resolve().parent.parent / "captures"


def test_not_a_capture(cli, tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "notes.pcap"
    path.write_text("hello\n")
    result = cli("pcap", str(path))
    assert result.status == 2 and "not a pcap or pcapng file" in result.err
    assert "Traceback" not in result.err


def test_empty_missing_directory(cli, tmp_path):  # type: ignore[no-untyped-def]
    empty = tmp_path / "e.pcap"
    empty.write_bytes(b"")
    assert cli("pcap", str(empty)).status == 2
    assert "no such file" in cli("pcap", str(tmp_path / "nope.pcap")).err
    assert "is a directory" in cli("pcap", str(tmp_path)).err


def test_unsupported_link_type(cli, tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "usb.pcap"
    with path.open("wb") as handle:
        writer = PcapWriter(handle, linktype=189)
        writer.write(1.0, b"\x00" * 60)
    result = cli("pcap", str(path))
    assert result.status == 2 and "link type 189 is not supported" in result.err


def test_absurd_packet_length_stops_cleanly(tmp_path):  # type: ignore[no-untyped-def]
    data = bytearray((CAPTURES / "tls12-success.pcap").read_bytes())
    # corrupt the 6th packet's captured length
    pos, count = 24, 0
    while count < 5:
        incl = struct.unpack_from("<I", data, pos + 8)[0]
        pos += 16 + incl
        count += 1
    struct.pack_into("<I", data, pos + 8, 0x7FFFFFFF)
    path = tmp_path / "absurd.pcap"
    path.write_bytes(bytes(data))
    result = read_capture(path)
    assert result.frames == 5
    assert "absurd captured length" in result.problems[0]
    assert result.transcripts[0].client_hello is not None


def test_corrupt_record_header_is_a_finding(cli, tmp_path):  # type: ignore[no-untyped-def]
    data = bytearray((CAPTURES / "tls12-unknown-ca.pcap").read_bytes())
    marker = data.find(b"\x16\x03\x03", 200)  # the server's first record
    data[marker] = 0x99
    path = tmp_path / "corrupt.pcap"
    path.write_bytes(bytes(data))
    result = cli("pcap", str(path), "--json")
    assert result.status in (0, 1)
    conn = result.json()["connections"][0]
    assert any(p["kind"] == "malformed" for p in conn["problems"])
    assert "capture-incomplete" in result.codes()


def test_snaplen_cut_packets_are_reported(tmp_path):  # type: ignore[no-untyped-def]
    from parsers.pcapfile import CaptureFile

    path = tmp_path / "snap.pcap"
    with path.open("wb") as handle:
        writer = PcapWriter(handle, snaplen=600)
        for frame in CaptureFile(CAPTURES / "tls12-unknown-ca.pcap").frames():
            writer.write(frame.time, frame.data[:600], len(frame.data))
    result = read_capture(path)
    kinds = {p.kind for t in result.transcripts for p in t.problems}
    assert "snaplen" in kinds
    t = result.transcripts[0]
    assert t.client_hello is not None  # small enough to survive the snaplen
    assert t.outcome.value == "alert"  # the server's alert record is still read after resync


def test_capture_started_mid_connection(tmp_path):  # type: ignore[no-untyped-def]
    from parsers.pcapfile import CaptureFile

    frames = list(CaptureFile(CAPTURES / "tls12-unknown-ca.pcap").frames())
    path = tmp_path / "mid.pcap"
    with path.open("wb") as handle:
        writer = PcapWriter(handle)
        for frame in frames[5:]:  # no SYN, no ClientHello
            writer.write(frame.time, frame.data)
    result = read_capture(path)
    t = result.transcripts[0]
    assert any(p.kind == "mid-stream" for p in t.problems)
    assert t.outcome.value == "alert"


def test_client_told_by_its_hello_when_the_syn_was_lost(tmp_path):  # type: ignore[no-untyped-def]
    """Without the SYN, a ClientHello says which side is the client, even when the client's
    port is below the server's (a guess by port order would turn the connection around)."""
    from parsers.pcapfile import CaptureFile

    frames = list(CaptureFile(CAPTURES / "tls12-unknown-ca.pcap").frames())
    client_port, server_port = struct.unpack_from("!HH", frames[0].data, 34)
    path = tmp_path / "nosyn.pcap"
    with path.open("wb") as handle:
        writer = PcapWriter(handle)
        for frame in frames[2:]:  # the SYN and SYN/ACK lost; the client's port now 1025, the server's 50000
            data = bytearray(frame.data)
            sport, dport = struct.unpack_from("!HH", data, 34)
            swap = {client_port: 1025, server_port: 50000}
            struct.pack_into("!HH", data, 34, swap[sport], swap[dport])
            writer.write(frame.time, bytes(data))
    t = read_capture(path).transcripts[0]
    assert (t.client.port, t.server.port) == (1025, 50000)
    assert t.client_hello is not None and t.server_hello is not None
    assert t.first(CertificateRequest, Direction.SERVER) is not None


def test_gzip_compressed_capture_is_read_through_scapy(cli, tmp_path):  # type: ignore[no-untyped-def]
    import gzip

    plain = cli("pcap", str(CAPTURES / "several.pcap"), "--json").json()
    packed = tmp_path / "several.pcap.gz"
    packed.write_bytes(gzip.compress((CAPTURES / "several.pcap").read_bytes()))
    result = cli("pcap", str(packed), "--json")
    doc = result.json()
    assert doc["capture"]["format"] == "pcap (gzip)"
    assert doc["connections"] == plain["connections"]
    assert result.err == ""
    ng = tmp_path / "s.pcapng.gz"
    ng.write_bytes(gzip.compress((CAPTURES / "tls13-secrets.pcapng").read_bytes()))
    keyed = cli("pcap", str(ng), "--keylog", str(CAPTURES / "tls13-success.keys"), "--json")
    assert keyed.json()["capture"]["format"] == "pcapng (gzip)"
    assert keyed.json()["connections"][0]["client_cert"] == "CN=letstestcba"


@pytest.mark.parametrize("chunk", [7, 16, 17, 100, 1000, 1 << 20])
def test_packets_across_chunk_ends_read_alike(tmp_path, monkeypatch, chunk):  # type: ignore[no-untyped-def]
    """The reader works in chunks; a packet over a chunk's end (or a header cut by it) reads
    the same, and a truncated file is reported the same, whatever the chunk size."""
    from parsers import pcapfile
    from parsers.pcapfile import CaptureFile

    data = (CAPTURES / "several.pcap").read_bytes()
    path = tmp_path / "cut.pcap"
    path.write_bytes(data[:-100])  # ends inside the last packet
    expected = list(CaptureFile(path).frames())
    reference = CaptureFile(path)
    list(reference.frames())
    monkeypatch.setattr(pcapfile, "CHUNK", chunk)
    reader = CaptureFile(path)
    assert list(reader.frames()) == expected
    assert reader.problems == reference.problems and len(reader.problems) == 1
    assert (reader.frames_read, reader.bytes_read) == (reference.frames_read, reference.bytes_read)
    assert len(expected) == 51


def test_a_connection_to_itself_is_read_not_a_crash(cli, tmp_path):  # type: ignore[no-untyped-def]
    """Found by fuzzing a capture set: a connection whose two ends are one address and port
    (TCP's self-connect, or a mangled header) has one flow key for both directions; closing it
    removed the key twice (KeyError, exit 70). Now it is read and reported."""
    from parsers.pcapfile import CaptureFile

    frames = list(CaptureFile(CAPTURES / "tls12-unknown-ca.pcap").frames())
    client_port = struct.unpack_from("!H", frames[0].data, 34)[0]
    path = tmp_path / "self.pcap"
    with path.open("wb") as handle:
        writer = PcapWriter(handle)
        for frame in frames:
            data = bytearray(frame.data)
            struct.pack_into("!HH", data, 34, client_port, client_port)
            writer.write(frame.time, bytes(data))
    done = cli("pcap", str(path))
    assert done.status in (0, 1), done.err
    assert "internal error" not in done.err
    assert f"127.0.0.1:{client_port} → 127.0.0.1:{client_port}" in done.out


def test_a_client_certificate_message_with_no_readable_certificate(cli, tmp_path):  # type: ignore[no-untyped-def]
    """Found by fuzzing: a client Certificate message whose certificates all fail to parse has
    an empty chain and a count of unreadable ones; the table, the rules and the ladder read
    chain[0] (IndexError, exit 70). Now the row says how many were unreadable."""
    from parsers.model import Certificate
    from parsers.pcapfile import CaptureFile

    (t,) = read_capture(CAPTURES / "tls12-success.pcap").transcripts
    sent = t.first(Certificate, Direction.CLIENT)
    assert sent is not None and sent.frame is not None and len(sent.message.chain) == 2
    frames = list(CaptureFile(CAPTURES / "tls12-success.pcap").frames())
    data = bytearray(frames[sent.frame - 1].data)
    first_der = data.index(sent.message.chain[0].public_bytes(_DER))
    # the message: type 11, length (3), list length (3), then each certificate: length (3) + DER
    pos, broken = first_der, 0
    while broken < 2:
        assert data[pos] == 0x30
        data[pos] = 0x31  # a SET, not a SEQUENCE: no longer a certificate
        length = int.from_bytes(data[pos - 3 : pos], "big")
        pos += length + 3
        broken += 1
    path = tmp_path / "unreadable.pcap"
    with path.open("wb") as handle:
        writer = PcapWriter(handle)
        for i, frame in enumerate(frames):
            writer.write(frame.time, bytes(data) if i == sent.frame - 1 else frame.data)
    done = cli("pcap", str(path), "--all")
    assert done.status in (0, 1), done.err
    assert "2 unreadable certificate(s)" in done.out
    (again,) = read_capture(path).transcripts
    got = again.first(Certificate, Direction.CLIENT)
    assert got is not None and got.message.chain == () and got.message.undecodable == 2
