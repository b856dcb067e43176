"""Malformed input never crashes the decoder: it becomes problems, not exceptions."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from parsers import framing
from parsers.capture import read_capture
from parsers.keylog import KeyLog
from parsers.model import Direction, Endpoint, Transcript
from parsers.pcapfile import PcapWriter
from parsers.tls import TlsConnection
from tests.helpers import tls_bytes as TB

#: a ClientHello record whose message is one byte long: enough to make a connection TLS
HELLO_START = TB.record(TB.HANDSHAKE, TB.handshake(TB.CLIENT_HELLO, b"\x00"), TB.TLS10)

CAPTURES = Path(__file__).resolve().parent.parent / "captures"
HANDSHAKE = (CAPTURES / "tls12-unknown-ca.pcap").read_bytes()


def _connection() -> TlsConnection:
    t = Transcript(1, Endpoint("127.0.0.1", 5000), Endpoint("127.0.0.1", 443), 0.0)
    conn = TlsConnection(t, KeyLog())
    conn.segment(Direction.CLIENT, 99, 0x02, b"", 1, 0.0)
    conn.segment(Direction.SERVER, 499, 0x12, b"", 2, 0.0)
    return conn


tls_like = st.one_of(
    st.binary(max_size=600),
    # plausible record headers with random bodies and lengths
    st.builds(
        lambda t, ln, body: TB.record(t, body, length=ln),
        st.sampled_from([TB.CHANGE_CIPHER_SPEC, TB.ALERT, TB.HANDSHAKE, TB.APPLICATION_DATA]),
        st.integers(0, 20000),
        st.binary(max_size=300),
    ),
    # handshake records with random message types and lengths
    st.builds(
        lambda mt, ln, body: TB.record(TB.HANDSHAKE, TB.handshake(mt, body, length=ln)),
        st.integers(0, 255),
        st.integers(0, (1 << 24) - 1),
        st.binary(max_size=300),
    ),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.booleans(), tls_like), max_size=8))
def test_random_streams_never_raise(chunks):  # type: ignore[no-untyped-def]
    conn = _connection()
    seq = {Direction.CLIENT: 100, Direction.SERVER: 500}
    conn.segment(Direction.CLIENT, 100, 0x18, HELLO_START, 3, 0.1)
    seq[Direction.CLIENT] += len(HELLO_START)
    for frame, (from_server, data) in enumerate(chunks, 4):
        direction = Direction.SERVER if from_server else Direction.CLIENT
        conn.segment(direction, seq[direction], 0x18, data, frame, 0.2)
        seq[direction] += len(data)
    conn.finish()
    assert conn.t.outcome is not None


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, len(HANDSHAKE) - 1), min_size=1, max_size=12), st.binary(min_size=1, max_size=12)
)
def test_corrupted_capture_files_never_raise(tmp_path_factory, positions, noise):  # type: ignore[no-untyped-def]
    data = bytearray(HANDSHAKE)
    for i, pos in enumerate(positions):
        data[pos] ^= noise[i % len(noise)] or 0xFF
    path = tmp_path_factory.mktemp("fuzz") / "c.pcap"
    path.write_bytes(bytes(data))
    try:
        result = read_capture(path)
    except Exception as exc:  # only "nothing readable" may escape, as a format error
        from parsers.pcapfile import CaptureFormatError

        assert isinstance(exc, CaptureFormatError)
        return
    assert result.frames >= 0


def test_random_tcp_segments_in_a_pcap(tmp_path):  # type: ignore[no-untyped-def]
    import random

    rnd = random.Random(3)
    path = tmp_path / "noise.pcap"
    with path.open("wb") as handle:
        writer = PcapWriter(handle)
        for i in range(300):
            payload = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 200)))
            if i % 7 == 0:
                payload = TB.record(TB.HANDSHAKE, b"")[:3] + payload  # a record header begun, then noise
            writer.write(
                i * 0.001,
                framing.tcp_packet(
                    "127.0.0.1" if i % 2 else "127.0.0.2",
                    "127.0.0.2" if i % 2 else "127.0.0.1",
                    40000 + i % 5,
                    443,
                    rnd.getrandbits(32),
                    0,
                    0x18,
                    payload,
                ),
            )
    result = read_capture(path)
    assert result.frames == 300
