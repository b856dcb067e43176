"""The two-process reader gives the same report as the serial one, byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest

CAPTURES = Path(__file__).resolve().parent.parent / "captures"

CASES = [
    ("several.pcap", None),
    ("tls12-frag512.pcap", "tls12-frag512.keys"),
    ("tls13-mss1448.pcap", "tls13-success.keys"),
    ("tls13-certificate-required.pcap", "tls13-certificate-required.keys"),
    ("tls13-secrets.pcapng", None),
    ("tls12-mss1448.pcap", None),
    ("truncated.pcap", None),
    ("tls13-ipv6.pcap", "tls13-ipv6.keys"),
    ("tls13-hello-retry.pcap", "tls13-hello-retry.keys"),
]


#: which connections the reader's worker judges and renders itself: none, every one, every
#: other one (the default decides by how far behind this process is)
SHARES = ["0", "1", "2"]


@pytest.mark.parametrize("share", SHARES)
@pytest.mark.parametrize(("name", "keys"), CASES)
def test_parallel_equals_serial(cli, monkeypatch, name, keys, share):  # type: ignore[no-untyped-def]
    argv = ["pcap", str(CAPTURES / name)]
    if keys:
        argv += ["--keylog", str(CAPTURES / keys)]
    monkeypatch.setenv("MTLS_INSPECT_WORKER_SHARE", share)
    for form in (["--json"], []):
        monkeypatch.setenv("MTLS_INSPECT_PARALLEL_MIN", str(1 << 40))
        serial = cli(*argv, *form)
        monkeypatch.setenv("MTLS_INSPECT_PARALLEL_MIN", "0")
        parallel = cli(*argv, *form)
        assert serial.status in (0, 1)
        assert parallel.status == serial.status
        assert parallel.out == serial.out


@pytest.fixture(scope="module")
def many_connections(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """48 real handshakes (OpenSSL in memory), every other one TLS 1.3: without its key log,
    24 connections with only info findings, more than the report details (the order in which
    connections are taken then decides which are shown). Each then downloads 40 KB (three
    records of 16 KiB: with the key log, the third one's body is read by nobody)."""
    from benchmarks.certs_capture import write

    path = tmp_path_factory.mktemp("many") / "many.pcap"
    write(path, 48, servers=6, sans=20, intermediates=2, tls13_every=2, body=40_000)
    return path


TRUST = str(CAPTURES / "acme-root.pem")
STORE = ["--keystore", str(CAPTURES / "letstestcba.jks"), "--storepass-env", "SP"]


@pytest.mark.parametrize("share", ["1", "3"])
@pytest.mark.parametrize(
    "extra",
    [
        [],
        ["--json"],
        ["--all"],
        ["--connection", "7"],
        ["--host", "10.2.0.2"],
        ["--truststore", TRUST, "--server-ca", TRUST],  # judges forked with the worker
        [*STORE, "--json"],
        ["--keylog", "KEYS"],  # the capture's own key log: bodies kept as each TLS half asks
        ["--keylog", "KEYS", "--json", "--all"],
    ],
)
def test_worker_judging_connections_changes_nothing(cli, monkeypatch, many_connections, share, extra):  # type: ignore[no-untyped-def]
    keys = str(many_connections.with_suffix(".keys"))
    argv = ["pcap", str(many_connections), *(keys if arg == "KEYS" else arg for arg in extra)]
    monkeypatch.setenv("SP", "changeit")  # the sample keystore's password (captures/README.md)
    monkeypatch.setenv("MTLS_INSPECT_PARALLEL_MIN", str(1 << 40))
    serial = cli(*argv)
    monkeypatch.setenv("MTLS_INSPECT_PARALLEL_MIN", "0")
    monkeypatch.setenv("MTLS_INSPECT_WORKER_SHARE", share)
    parallel = cli(*argv)
    assert serial.status in (0, 1)
    assert serial.out.count("\n") > 10
    assert (parallel.status, parallel.out) == (serial.status, serial.out)


def _holes_and_bulk(path: Path) -> dict[str, int]:
    """A TLS 1.2 connection read without keys: three of the client's segments lost (three holes,
    data waiting past each), then the server's 14 KB application_data record in ten segments,
    each acknowledging all the client sent. Returns frame numbers by name."""
    from parsers import framing
    from parsers.pcapfile import PcapWriter
    from tests.helpers import tls_bytes as TB

    client, server = ("10.0.0.1", 40000), ("10.0.0.2", 443)
    hello = TB.record(TB.HANDSHAKE, TB.client_hello(suites=[0xC02F]))
    server_hello = TB.handshake(TB.SERVER_HELLO, b"\x03\x03" + bytes(32) + b"\x00" + b"\xc0\x2f" + b"\x00")
    flight = TB.record(TB.HANDSHAKE, server_hello + TB.server_hello_done())
    pieces = [TB.record(TB.HANDSHAKE, bytes(70)), TB.record(TB.CHANGE_CIPHER_SPEC, b"\x01")]
    pieces += [TB.record(TB.HANDSHAKE, bytes(40)), TB.record(TB.APPLICATION_DATA, bytes(60))]
    pieces += [TB.record(TB.APPLICATION_DATA, bytes(30)), TB.record(TB.APPLICATION_DATA, bytes(30))]
    bulk = TB.record(TB.APPLICATION_DATA, bytes(14_000))
    frames: dict[str, int] = {}
    with path.open("wb") as handle:
        writer = PcapWriter(handle)
        clock = [0.0]

        def send(
            src: tuple[str, int], dst: tuple[str, int], seq: int, ack: int, flags: int, data: bytes = b""
        ) -> None:
            clock[0] += 0.001
            writer.write(clock[0], framing.tcp_packet(src[0], dst[0], src[1], dst[1], seq, ack, flags, data))
            frames["last"] = frames.get("last", 0) + 1

        send(client, server, 999, 0, framing.SYN)
        send(server, client, 4999, 1000, framing.SYN | framing.ACK)
        c, s = 1000, 5000
        send(client, server, c, s, framing.ACK | framing.PSH, hello)
        c += len(hello)
        send(server, client, s, c, framing.ACK | framing.PSH, flight)
        s += len(flight)
        for i, piece in enumerate(pieces):  # the 1st, 3rd and 5th are lost
            if i % 2:
                send(client, server, c, s, framing.ACK | framing.PSH, piece)
            c += len(piece)
        ccs_finished = TB.record(TB.CHANGE_CIPHER_SPEC, b"\x01") + TB.record(TB.HANDSHAKE, bytes(40))
        send(server, client, s, c, framing.ACK | framing.PSH, ccs_finished)
        frames["first gap"] = frames["last"]
        s += len(ccs_finished)
        for k in range(0, len(bulk), 1400):
            send(server, client, s + k, c, framing.ACK, bulk[k : k + 1400])
            frames.setdefault("second gap", frames["last"])
            if k == 1400:
                frames["third gap"] = frames["last"]  # the record's middle: skipped unread
        s += len(bulk)
        send(client, server, c, s, framing.ACK | framing.FIN)
        send(server, client, s, c + 1, framing.ACK | framing.FIN)
    return frames


def test_an_ack_on_a_skipped_bulk_segment_closes_a_hole_at_its_frame(cli, monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    """A segment in the middle of a record nobody reads passes by unread; its ACK still tells
    that the other direction's missing bytes were lost, at its frame. It did not: the serial
    reader (which skips such segments) said the hole at a later frame than the two-process
    reader (whose worker reads them), so the two reports differed."""
    path = tmp_path / "holes.pcap"
    frames = _holes_and_bulk(path)
    monkeypatch.setenv("MTLS_INSPECT_PARALLEL_MIN", str(1 << 40))
    serial = cli("pcap", str(path), "--all")
    monkeypatch.setenv("MTLS_INSPECT_PARALLEL_MIN", "0")
    parallel = cli("pcap", str(path), "--all")
    said = [line.strip() for line in serial.out.splitlines() if "bytes missing" in line]
    assert said == [
        f"= evidence: frame {frames['first gap']}: client: 75 bytes missing (lost segments)",
        f"= evidence: frame {frames['second gap']}: client: 45 bytes missing (lost segments)",
        f"= evidence: frame {frames['third gap']}: client: 35 bytes missing (lost segments)",
    ]
    assert (parallel.status, parallel.out) == (serial.status, serial.out)
