"""IP fragments are put back together before TCP reads them (IPv4 and IPv6, in any order), as
the receiving host and tshark do; a packet that cannot be rebuilt (a fragment missing) is said on
its connection, which is then never judged as if nothing were missing."""

from __future__ import annotations

import shutil
import struct
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import CliResult
from tests.pcap_stream_helpers import pcap_records

ROOT = Path(__file__).resolve().parent.parent
CAPTURES = ROOT / "captures"
TSHARK = shutil.which("tshark")
Cli = Callable[..., CliResult]
PIECE = 1000  # bytes of IP payload per fragment (a multiple of 8)


def _ipv4_fragments(frame: bytes, ident: int) -> list[bytes]:
    """An Ethernet / IPv4 frame cut into fragments of PIECE bytes (the IP checksum left 0:
    neither this reader nor tshark's reassembly needs it)."""
    eth, ip = frame[:14], frame[14:]
    ihl, total = (ip[0] & 15) * 4, struct.unpack("!H", ip[2:4])[0]
    payload = ip[ihl:total]
    out = []
    for offset in range(0, len(payload), PIECE):
        piece = payload[offset : offset + PIECE]
        more = 0x2000 if offset + PIECE < len(payload) else 0
        header = bytearray(ip[:ihl])
        struct.pack_into("!HHH", header, 2, ihl + len(piece), ident, more | offset // 8)
        struct.pack_into("!H", header, 10, 0)
        out.append(eth + bytes(header) + piece)
    return out


def _ipv6_fragments(frame: bytes, ident: int) -> list[bytes]:
    """An Ethernet / IPv6 frame (no extension headers) cut into fragments of PIECE bytes, each
    with a Fragment header."""
    eth, ip = frame[:14], frame[14:]
    nxt, payload = ip[6], ip[40:]
    out = []
    for offset in range(0, len(payload), PIECE):
        piece = payload[offset : offset + PIECE]
        more = 1 if offset + PIECE < len(payload) else 0
        fragment = struct.pack("!BBHI", nxt, 0, offset | more, ident)
        header = ip[:4] + struct.pack("!HB", 8 + len(piece), 44) + ip[7:40]
        out.append(eth + header + fragment + piece)
    return out


def _fragmented(
    source: Path, out: Path, cut: Callable[[bytes, int], list[bytes]], reverse: bool = False, drop: int = -1
) -> None:
    """`source` with every frame over 1400 bytes sent in fragments (their order reversed with
    `reverse`); `drop`: the index (over all fragments written) of one left out of the capture."""
    header, records = pcap_records(source)
    written: list[bytes] = []
    count = 0
    for number, record in enumerate(records):
        frame = record[16:]
        pieces = cut(frame, 0x4000 + number) if len(frame) > 1500 else [frame]
        if len(pieces) > 1 and reverse:
            pieces.reverse()
        for piece in pieces:
            if len(pieces) > 1:
                count += 1
                if count - 1 == drop:
                    continue
            written.append(record[:8] + struct.pack("<II", len(piece), len(piece)) + piece)
    out.write_bytes(header + b"".join(written))


def _tshark_certificates(capture: Path) -> list[str]:
    """The frames in which tshark decodes a Certificate message (after its own reassembly)."""
    assert TSHARK is not None
    listed = subprocess.run(
        [TSHARK, "-r", str(capture), "-Y", "tls.handshake.type == 11", "-T", "fields", "-e", "frame.number"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return listed.stdout.split()


@pytest.mark.parametrize("reverse", [False, True])
def test_ipv4_fragments_are_reassembled(cli: Cli, tmp_path: Path, reverse: bool) -> None:
    fragmented = tmp_path / "fragments.pcap"
    _fragmented(CAPTURES / "tls12-unknown-ca.pcap", fragmented, _ipv4_fragments, reverse)
    plain = cli("pcap", str(CAPTURES / "tls12-unknown-ca.pcap"), "--json")
    result = cli("pcap", str(fragmented), "--json")
    doc = result.json()
    assert result.status == plain.status == 1
    assert doc["capture"]["problems"] == []
    assert doc["capture"]["packets"] == 14
    assert doc["connections"][0]["client_cert"] == "CN=stranger"
    assert result.codes() == plain.codes() == ["issuer-not-in-ca-list", "server-rejected-client-cert"]
    ladder = cli("pcap", str(fragmented)).out
    # the client's flight is read in the frame of its last fragment, as tshark shows it
    assert "     10  Certificate (2) CN=stranger" in ladder
    if TSHARK is not None:
        assert _tshark_certificates(fragmented) == ["6", "10"]


def test_ipv6_fragments_are_reassembled(cli: Cli, tmp_path: Path) -> None:
    fragmented = tmp_path / "fragments6.pcap"
    _fragmented(CAPTURES / "tls13-ipv6.pcap", fragmented, _ipv6_fragments, reverse=True)
    keys = str(CAPTURES / "tls13-ipv6.keys")
    plain = cli("pcap", str(CAPTURES / "tls13-ipv6.pcap"), "--keylog", keys, "--json").json()
    doc = cli("pcap", str(fragmented), "--keylog", keys, "--json").json()
    assert doc["capture"]["problems"] == []
    for key in ("client_cert", "outcome", "version", "cert_requested"):
        assert doc["connections"][0][key] == plain["connections"][0][key], key
    assert doc["findings"] == plain["findings"]


def test_a_packet_missing_a_fragment_withholds_the_verdict(cli: Cli, tmp_path: Path) -> None:
    """The client's whole flight (Certificate to Finished) in one packet, its second fragment
    never captured: the server's unknown_ca must not end in "No findings"."""
    fragmented = tmp_path / "missing.pcap"
    _fragmented(CAPTURES / "tls12-unknown-ca.pcap", fragmented, _ipv4_fragments, drop=1)
    result = cli("pcap", str(fragmented))
    assert "No findings" not in result.out
    assert (
        "warning[capture-incomplete]: connection #1 is not fully captured (gap): findings about the "
        "missing part cannot be made" in result.out
    )
    assert (
        "= evidence: frame 8: client: an IPv4 packet of 2126 bytes came in fragments and not all of "
        "them were captured: the TCP data it carried is missing" in result.out
    )
    doc = cli("pcap", str(fragmented), "--json").json()
    assert doc["capture"]["problems"] == [
        "1 fragmented IP packet(s) could not be rebuilt (a fragment missing from the capture, cut by "
        "its snaplen, or past the 4 MiB held for fragments): their TCP data is missing"
    ]
