"""Two copies of the same TCP bytes that differ (a damaged copy, a tampering middlebox): the
first copy is read, as tshark reads it, and the report says the copies differ and which was used
— whether the bytes were already read or still waiting past a hole."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import CliResult
from tests.pcap_stream_helpers import pcap_records

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "captures" / "tls12-mss1448.pcap"  # frame 10 retransmits frame 8 (client, 1448 bytes)
TSHARK = shutil.which("tshark")
Cli = Callable[..., CliResult]


def _damaged(record: bytes) -> bytes:
    """The client certificate's CN letstestcba turned into letstestcbX."""
    at = record.index(b"letstestcba")
    return record[:at] + b"letstestcbX" + record[at + 11 :]


def _capture(path: Path, damage: int) -> None:
    """The sample with the copy in frame `damage` (8: the first, 10: the retransmission) damaged."""
    header, records = pcap_records(SOURCE)
    records[damage - 1] = _damaged(records[damage - 1])
    path.write_bytes(header + b"".join(records))


def _tshark_client_names(capture: Path) -> str:
    assert TSHARK is not None
    done = subprocess.run(
        [
            TSHARK,
            "-r",
            str(capture),
            "-Y",
            "tls.handshake.type == 11 && tcp.srcport == 38274",
            "-T",
            "fields",
            "-e",
            "x509sat.uTF8String",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip()


CONFLICT = (
    "client: a retransmission carries other bytes than the first copy of the same 1448 bytes (from "
    "relative sequence number 207): the first copy was used, as tshark does; if it was the damaged "
    "one, what was read from it may be wrong"
)


@pytest.mark.parametrize(("damage", "read"), [(8, "CN=letstestcbX"), (10, "CN=letstestcba")])
def test_a_retransmission_with_other_bytes_is_said(cli: Cli, tmp_path: Path, damage: int, read: str) -> None:
    capture = tmp_path / "conflict.pcap"
    _capture(capture, damage)
    doc = cli("pcap", str(capture), "--json").json()
    connection = doc["connections"][0]
    assert connection["client_cert"] == read  # the first copy, whichever is damaged
    assert [p for p in connection["problems"] if p["kind"] == "conflict"] == [
        {"kind": "conflict", "detail": CONFLICT.removeprefix("client: "), "frame": 10}
    ]
    conflict = [f for f in doc["findings"] if f["code"] == "retransmission-conflict"]
    assert [f["summary"] for f in conflict] == [
        "connection #1: 1 TCP retransmission(s) carry other bytes than the copy read first; the "
        "first copy was used, and what was read from it may be the damaged one"
    ]
    text = cli("pcap", str(capture)).out
    assert f"   = evidence: frame 10: {CONFLICT}" in text
    if TSHARK is not None:  # tshark reads the same copy
        assert read.removeprefix("CN=") in _tshark_client_names(capture).split(",")


def test_copies_that_differ_while_waiting_past_a_hole_are_said(cli: Cli, tmp_path: Path) -> None:
    """Frame 9 (after the hole at frame 8) arrives twice, the second copy damaged, both before
    the hole is filled: the first copy waits and is used."""
    header, records = pcap_records(SOURCE)
    ninth = records[8]
    other = ninth[:-1] + bytes([ninth[-1] ^ 0xFF])
    reordered = [*records[:7], ninth, other, records[7], *records[9:]]
    capture = tmp_path / "waiting.pcap"
    capture.write_bytes(header + b"".join(reordered))
    doc = cli("pcap", str(capture), "--json").json()
    connection = doc["connections"][0]
    assert connection["client_cert"] == "CN=letstestcba"
    assert [(p["detail"], p["frame"]) for p in connection["problems"]] == [
        (
            "a retransmission carries other bytes than the first copy of the same 621 bytes (from "
            "relative sequence number 1655): the first copy was used, as tshark does; if it was the "
            "damaged one, what was read from it may be wrong",
            9,
        )
    ]
    assert [f["code"] for f in doc["findings"]] == ["retransmission-conflict"]
