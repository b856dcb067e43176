"""Synthetic but valid Ethernet / IPv4 / IPv6 / TCP framing, for pcaps we write ourselves
(the probe's --capture, re-segmented sample captures). Checksums are computed, so Wireshark
and tshark accept the packets as they are."""

from __future__ import annotations

import ipaddress
import struct

ETH_SRC = bytes.fromhex("020000000001")
ETH_DST = bytes.fromhex("020000000002")
ACK, PSH, SYN, FIN, RST = 0x10, 0x08, 0x02, 0x01, 0x04


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\x00"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def tcp_packet(
    src: str,
    dst: str,
    sport: int,
    dport: int,
    seq: int,
    ack: int,
    flags: int,
    payload: bytes = b"",
    window: int = 65535,
    ip_id: int = 0,
) -> bytes:
    """One Ethernet frame carrying a TCP segment over IPv4 or IPv6."""
    s, d = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    header = struct.pack(
        "!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4, flags, window, 0, 0
    )
    length = len(header) + len(payload)
    if s.version == 4:
        pseudo = s.packed + d.packed + struct.pack("!BBH", 0, 6, length)
    else:
        pseudo = s.packed + d.packed + struct.pack("!IxxxB", length, 6)
    csum = _checksum(pseudo + header + payload)
    tcp = header[:16] + struct.pack("!H", csum) + header[18:] + payload
    if s.version == 4:
        ip = struct.pack(
            "!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), ip_id & 0xFFFF, 0x4000, 64, 6, 0, s.packed, d.packed
        )
        ip = ip[:10] + struct.pack("!H", _checksum(ip)) + ip[12:]
        etype = 0x0800
    else:
        ip = struct.pack("!IHBB16s16s", 6 << 28, len(tcp), 6, 64, s.packed, d.packed)
        etype = 0x86DD
    return ETH_DST + ETH_SRC + struct.pack("!H", etype) + ip + tcp
