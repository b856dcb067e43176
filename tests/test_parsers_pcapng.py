"""pcapng blocks shorter than their fixed fields, or claiming gigabytes: a clean problem (and a
one-line error when nothing is readable), never an unpack_from crash or a huge read."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from parsers.capture import read_capture
from parsers.pcapfile import CaptureFormatError

CAPTURES = Path(__file__).resolve().parent.parent / "captures"
SHB = struct.pack("<IIIHHqI", 0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0, -1, 28)
IDB = struct.pack("<IIHHII", 1, 20, 1, 0, 0, 20)


def _block(btype: int, total: int) -> bytes:
    """A block whose header and trailer say `total`, with only what that length holds."""
    return struct.pack("<II", btype, total) + b"\x00" * (total - 12) + struct.pack("<I", total)


@pytest.mark.parametrize(
    ("btype", "name", "minimum"),
    [
        (1, "interface description", 20),
        (6, "enhanced packet block", 32),
        (2, "packet block", 32),
        (3, "simple packet block", 16),
        (0x0A, "decryption secrets block", 20),
    ],
)
def test_a_block_shorter_than_its_minimum_is_a_problem(tmp_path, btype, name, minimum):  # type: ignore[no-untyped-def]
    path = tmp_path / "short.pcapng"
    prefix = SHB + (IDB if btype != 1 else b"")
    path.write_bytes(prefix + _block(btype, 12))
    with pytest.raises(CaptureFormatError) as caught:
        read_capture(path)
    assert str(caught.value) == (
        f"block at byte {len(prefix)}: {name} of 12 bytes, shorter than its minimum {minimum}; "
        "the rest of the file is not decodable"
    )


def test_after_readable_packets_a_short_block_is_a_capture_problem(tmp_path):  # type: ignore[no-untyped-def]
    good = (CAPTURES / "tls13-secrets.pcapng").read_bytes()
    path = tmp_path / "tail.pcapng"
    path.write_bytes(good + _block(6, 16))
    result = read_capture(path)
    assert result.tls_connections == 1
    assert result.problems == [
        f"block at byte {len(good)}: enhanced packet block of 16 bytes, shorter than its minimum 32; "
        "the rest of the file is not decodable"
    ]


def test_a_section_header_claiming_4_gb_is_not_read(tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "huge.pcapng"
    path.write_bytes(struct.pack("<III", 0x0A0D0D0A, 0xFFFFFFFC, 0x1A2B3C4D) + b"\x00" * 64)
    with pytest.raises(CaptureFormatError, match="block at byte 0: absurd length 4294967292"):
        read_capture(path)


def test_the_cli_names_the_input_in_one_line(cli, tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "short.pcapng"
    path.write_bytes(SHB + _block(1, 12))
    result = cli("pcap", str(path))
    assert result.status == 2
    assert result.out == ""
    assert result.err.count("\n") == 1
    assert str(path) in result.err and "interface description of 12 bytes" in result.err
    assert "internal error" not in result.err


def test_packets_naming_an_unknown_interface_are_counted_not_each_listed(tmp_path):  # type: ignore[no-untyped-def]
    """An endless stream of packets naming interface 7 (none described) must not grow the
    problem list without bound: five are named, then one line says more were skipped."""
    good = (CAPTURES / "tls13-secrets.pcapng").read_bytes()
    epb = struct.pack("<IIIIIII", 6, 32, 7, 0, 0, 0, 0) + struct.pack("<I", 32)
    path = tmp_path / "iface.pcapng"
    path.write_bytes(good + epb * 1000)
    result = read_capture(path)
    assert result.tls_connections == 1
    named = [p for p in result.problems if "unknown interface" in p]
    # each named by its place in the file (it was "packet N+1" five times over)
    assert named == [f"packet {result.frames + i} names unknown interface 7" for i in range(1, 6)] + [
        "more packets name unknown interfaces: not listed"
    ]
