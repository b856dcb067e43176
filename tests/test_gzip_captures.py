"""A gzip-compressed capture is read by the same reader as the plain file: embedded key logs are
used, a truncated capture is called truncated (not cut by a snaplen), and a gzip stream that
stops early is read up to the cut and said."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

from tests.conftest import CliResult

ROOT = Path(__file__).resolve().parent.parent
CAPTURES = ROOT / "captures"
Cli = Callable[..., CliResult]


def test_embedded_secrets_in_a_gzipped_pcapng_are_used(cli: Cli, tmp_path: Path) -> None:
    packed = tmp_path / "secrets.pcapng.gz"
    packed.write_bytes(gzip.compress((CAPTURES / "tls13-secrets.pcapng").read_bytes()))
    plain = cli("pcap", str(CAPTURES / "tls13-secrets.pcapng"), "--json").json()
    result = cli("pcap", str(packed), "--json")
    doc = result.json()
    assert result.status == 0, result.err
    assert doc["capture"]["format"] == "pcapng (gzip)"
    assert doc["capture"]["embedded_secrets"] == 1
    assert doc["capture"]["keylog_sessions"] == 1
    assert doc["connections"][0]["client_cert"] == "CN=letstestcba"
    assert doc["connections"] == plain["connections"]
    assert doc["findings"] == plain["findings"] == []


def test_a_truncated_capture_is_truncation_gzipped_or_not(cli: Cli, tmp_path: Path) -> None:
    packed = tmp_path / "truncated.pcap.gz"
    packed.write_bytes(gzip.compress((CAPTURES / "truncated.pcap").read_bytes()))
    plain = cli("pcap", str(CAPTURES / "truncated.pcap"), "--json").json()
    doc = cli("pcap", str(packed), "--json").json()
    expected = ["file ends inside packet 11 (4890 of 9605 bytes present): truncated capture"]
    assert plain["capture"]["problems"] == doc["capture"]["problems"] == expected
    assert "snaplen" not in cli("pcap", str(packed)).out
    assert doc["connections"] == plain["connections"]


def test_a_cut_gzip_stream_is_read_up_to_the_cut_and_said(cli: Cli, tmp_path: Path) -> None:
    whole = gzip.compress((CAPTURES / "tls12-success.pcap").read_bytes())
    cut = tmp_path / "cut.pcap.gz"
    cut.write_bytes(whole[:6000])  # a download that stopped
    result = cli("pcap", str(cut), "--json")
    doc = result.json()
    assert result.status == 0, result.err
    problems = doc["capture"]["problems"]
    assert problems[0].startswith(
        "the gzip stream ends before its end marker (an interrupted copy or download): read up to there, "
    )
    assert problems[0].endswith(" bytes of capture")
    assert problems[1].startswith("file ends inside packet 11 (")
    assert [f["code"] for f in doc["findings"]] == ["capture-incomplete"]
    assert doc["capture"]["packets"] == 10
    text = cli("pcap", str(cut)).out
    assert "warning[capture-incomplete]: cut.pcap.gz: the gzip stream ends before its end marker" in text


def test_gzip_trailer_and_header_damage_are_said(cli: Cli, tmp_path: Path) -> None:
    whole = bytearray(gzip.compress((CAPTURES / "tls12-success.pcap").read_bytes()))
    whole[-8] ^= 0xFF  # the CRC-32 of the content
    bad_crc = tmp_path / "crc.pcap.gz"
    bad_crc.write_bytes(bytes(whole))
    problems = cli("pcap", str(bad_crc), "--json").json()["capture"]["problems"]
    assert problems[0].startswith(
        "the gzip stream's checksum does not match its content: the file is corrupt: read up to there, "
    )
    garbage = tmp_path / "garbage.pcap.gz"
    garbage.write_bytes(b"\x1f\x8b\x09" + b"x" * 40)  # gzip's magic, an unknown method
    result = cli("pcap", str(garbage))
    assert result.status == 2
    assert result.err == (
        f"mtls-inspect: error: {garbage}: compressed, but not a gzip stream this reader opens "
        "(Unknown compression method) — give a pcap or "
        "pcapng capture file\n"
    )
