"""One memory budget for a capture's open connections and the out-of-order data they hold: a
flood of connections each holding megabytes past a hole stays within it (the peak RSS of a real
run is measured), and what was given up is said, in the capture's report and on the connection."""

from __future__ import annotations

import gzip
import json
import struct
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from parsers import budget, events, framing, tls, transcripts
from parsers.capture import read_capture
from parsers.model import Direction
from parsers.pcapfile import PcapWriter
from tests.helpers.memory import measure
from tests.pcap_stream_helpers import pcap_records

ROOT = Path(__file__).resolve().parent.parent
CAPTURES = ROOT / "captures"
SEGMENT, SEGMENTS = 60_000, 69  # 4,140,000 bytes held per connection: under tcp.MAX_PENDING
MiB = 1 << 20


def _frame(src: str, sport: int, seq: int, flags: int, payload: bytes = b"") -> bytes:
    """Ethernet / IPv4 / TCP to 10.2.0.1:443 (checksums left 0: this reader does not check them)."""
    tcp = struct.pack("!HHIIBBHHH", sport, 443, seq, 0, 5 << 4, flags, 65535, 0, 0)
    ip = struct.pack(
        "!BBHHHBBH4s4s",
        0x45,
        0,
        40 + len(payload),
        0,
        0x4000,
        64,
        6,
        0,
        bytes(map(int, src.split("."))),
        bytes((10, 2, 0, 1)),
    )
    return b"\x00" * 12 + b"\x08\x00" + ip + tcp + payload


@contextmanager
def _flood(path: Path, connections: int) -> Iterator[Callable[[int, int, bytes], None]]:
    """A gzipped pcap of `connections` clients that each sent a SYN; yields `send(seq, flags,
    payload)`, which writes that segment for every client, the clients interleaved."""
    when = 1_700_000_000
    hosts = [(f"10.1.{i >> 8}.{i & 255}", 20_000 + i) for i in range(connections)]
    with gzip.open(path, "wb", compresslevel=1) as out:

        def record(data: bytes) -> None:
            nonlocal when
            when += 1
            out.write(struct.pack("<IIII", when, 0, len(data), len(data)) + data)

        def send(seq: int, flags: int, payload: bytes = b"") -> None:
            for host, port in hosts:
                record(_frame(host, port, seq, flags, payload))

        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        send(1000, framing.SYN)
        yield send


def _held_data_flood(path: Path, connections: int) -> None:
    """Each connection: a SYN, then its bytes from the second on (the first never comes), the
    connections' segments interleaved: every one holds ~4 MB past its hole at the end."""
    zeros = bytes(SEGMENT)
    with _flood(path, connections) as send:
        for k in range(SEGMENTS):
            send(1002 + k * SEGMENT, framing.ACK | framing.PSH, zeros)


#: the CLI in a fresh interpreter (tests.helpers.memory): its own peak RSS, imports included
_CLI = "from inspector.cli import main\ndef run(*argv):\n    return main(list(argv))\n"


def test_a_compressed_flood_of_held_data_stays_within_the_budget(tmp_path: Path) -> None:
    """100 connections x 4 MB held past a hole, from a 2 MB .pcap.gz: without one budget the
    reader held all of it (460 MB peak; a 10 MB file, 2 GB); with it, about 240 MB. The CLI
    runs in a fresh interpreter, which reports its own peak RSS."""
    flood = tmp_path / "held.pcap.gz"
    _held_data_flood(flood, 100)
    assert flood.stat().st_size < 4 * MiB
    run = measure(_CLI, "pcap", str(flood), "--json", timeout=600)
    assert run.result == 0
    # the budget, plus the interpreter and its libraries (~45 MB), plus slack for the allocator
    assert run.peak_mb * MiB < budget.MEMORY_BUDGET + 160 * MiB, f"peak RSS {run.peak_mb:.0f} MB"
    problems = json.loads(run.printed)["capture"]["problems"]
    assert problems == [
        "memory budget reached (192 MiB for the open connections and the data held past their "
        "holes): 152700000 bytes of out-of-order data in 58 direction(s) given up on (read on "
        "after a gap, as if the segments before them were lost)"
    ]


def _reordered_with_syns(path: Path, syns: int) -> None:
    """tls12-mss1448.pcap with the client's segment at 207 (frame 8, and its retransmission,
    frame 10) never captured: the next one (frame 9) waits past the hole while `syns` new
    connections open (and then reset)."""
    header, records = pcap_records(CAPTURES / "tls12-mss1448.pcap")
    stamp = records[8][:8]
    hosts = [(f"10.9.{i >> 8}.{i & 255}", 30_000 + i) for i in range(syns)]
    frames = [_frame(host, port, 5, framing.SYN) for host, port in hosts]
    frames += [_frame(host, port, 6, framing.RST) for host, port in hosts]
    flood = [stamp + struct.pack("<II", len(f), len(f)) + f for f in frames]
    path.write_bytes(header + b"".join([*records[:7], records[8], *flood, *records[10:]]))


def test_open_connections_and_held_data_share_one_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The room for out-of-order data is what the open connections leave: as connections open,
    a direction's held data is given up on, said on its connection and in the capture."""
    monkeypatch.setattr(budget, "MEMORY_BUDGET", 50 * budget.CONNECTION_COST + 700)
    capture = tmp_path / "held.pcap"
    _reordered_with_syns(capture, 60)
    result = read_capture(capture)
    assert result.problems == [
        f"memory budget reached ({50 * budget.CONNECTION_COST + 700} bytes for the open connections "
        "and the data held past their holes): 621 bytes of out-of-order data in 1 direction(s) "
        "given up on (read on after a gap, as if the segments before them were lost)"
    ]
    [t] = result.transcripts
    gaps = [p for p in t.problems if p.kind == "gap"]
    assert [(p.direction, p.detail, p.frame) for p in gaps] == [
        (
            Direction.CLIENT,
            "1448 bytes missing (given up on early: out-of-order data past the reader's memory budget)",
            8,  # the last frame of the connection read: its held segment
        )
    ]
    # the same capture with room to spare: nothing given up, the hole named as lost segments
    monkeypatch.setattr(budget, "MEMORY_BUDGET", 128 * MiB)
    assert not any(budget.BUDGET_PROBLEM in p for p in read_capture(capture).problems)


def _handshake_flood(path: Path, connections: int, first: bytes, records: int) -> None:
    """Each connection: a SYN, then `records` handshake records of 16 KiB from the client, the
    first starting with `first`, the rest zeros; no connection ends."""
    body = bytes(16384)
    with _flood(path, connections) as send:
        for k in range(records):
            payload = b"\x16\x03\x03\x40\x00" + (first + body[len(first) :] if k == 0 else body)
            send(1001 + k * len(payload), framing.ACK | framing.PSH, payload)


def test_unfinished_megabyte_messages_on_many_connections_stay_within_a_budget(tmp_path: Path) -> None:
    """300 connections each inside a 1 MiB Certificate message (1.6 MB compressed): each held
    what it had of its message (385 MB); past the handshake budget the messages waiting longest
    are given up on, said on their connection."""
    flood = tmp_path / "messages.pcap.gz"
    _handshake_flood(flood, 300, b"\x0b\x0f\xff\xff", 64)
    run = measure(_CLI, "pcap", str(flood), "--json", timeout=600)
    assert run.result == 0
    assert run.peak_mb * MiB < transcripts.HANDSHAKE_BUDGET + 160 * MiB, f"peak RSS {run.peak_mb:.0f} MB"
    connections = json.loads(run.printed)["connections"]
    given_up = [c for c in connections if c["problems"]]
    assert len(given_up) == 250
    assert given_up[0]["problems"] == [
        {
            "kind": "gap",
            "detail": "an unfinished handshake message (409600 bytes so far) given up on, and the rest "
            "of this direction's handshake with it: the unfinished messages of every open connection "
            "outgrew the reader's memory budget (64 MiB)",
            "frame": 7501,
        }
    ]


def test_a_direction_of_empty_messages_is_read_only_so_far(tmp_path: Path) -> None:
    """16 KiB records of zeros are 4096 empty HelloRequests each: past MAX_MESSAGES the rest of
    the direction's handshake is not decoded (it was: a decode and an event each)."""
    flood = tmp_path / "zeros.pcap.gz"
    _handshake_flood(flood, 1, b"", 8)
    [t] = read_capture(flood).transcripts
    assert len(t.events) == tls.MAX_MESSAGES
    assert [(p.kind, p.detail) for p in t.problems] == [
        ("limit", "more than 256 handshake messages from the client: the rest of its handshake is not read")
    ]


def test_many_connections_share_the_events_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each open connection sends 100 alerts; with room for 1,000 events across 50 open ones,
    each keeps its share (never under MIN_EVENTS) and says how many more were not kept."""
    monkeypatch.setattr(events, "MAX_HELD_EVENTS", 1000)
    alert = b"\x15\x03\x03\x00\x02\x01\x00"
    capture = tmp_path / "alerts.pcap"
    with capture.open("wb") as out:
        writer = PcapWriter(out)
        hosts = [(f"10.1.0.{i}", 20_000 + i) for i in range(50)]
        for host, port in hosts:
            writer.write(1.0, _frame(host, port, 1000, framing.SYN))
        for host, port in hosts:  # every connection open first
            writer.write(2.0, _frame(host, port, 1001, framing.ACK | framing.PSH, alert))
        for host, port in hosts:
            writer.write(3.0, _frame(host, port, 1008, framing.ACK | framing.PSH, alert * 99))
    result = read_capture(capture)
    assert len(result.transcripts) == 50
    for t in result.transcripts:
        assert len(t.events) == events.MIN_EVENTS
        assert [(p.kind, p.detail) for p in t.problems] == [
            (
                "limit",
                "more than 64 messages: 36 more not kept (the reader's share for each of the many "
                "connections open at once)",
            )
        ]
