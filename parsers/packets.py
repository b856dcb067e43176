"""Link layer → IPv4/IPv6 → TCP, by hand with struct: the per-packet fast path."""

from __future__ import annotations

import socket
import struct
from typing import NamedTuple

ETHERNET, NULL, LOOP, RAW, SLL, SLL2 = 1, 0, 108, 101, 113, 276
RAW_ALIASES = {12, 14, 101, 228, 229}
SUPPORTED_LINKTYPES = {ETHERNET, NULL, LOOP, SLL, SLL2, *RAW_ALIASES}

FIN, SYN, RST, ACK = 0x01, 0x02, 0x04, 0x10

_H = struct.Struct("!H")
_TCP = struct.Struct("!HHIIBB")
PORTS = struct.Struct("!HH")
ETH_IPV4_TCP = struct.Struct("!12xH2xH2xH1xB14xI4xBB")


class Segment(NamedTuple):
    src: bytes
    dst: bytes
    sport: int
    dport: int
    seq: int
    flags: int
    payload: bytes
    length: int  # payload length on the wire (more than len(payload) when snaplen cut it)


class NotDecodable(Exception):
    """This packet is not IPv4/IPv6 TCP we can read (a reason, not a crash)."""


def ip_text(raw: bytes) -> str:
    return socket.inet_ntop(socket.AF_INET6 if len(raw) == 16 else socket.AF_INET, raw)


def network_offset(linktype: int, data: bytes) -> tuple[int, int]:
    """(offset of the IP header, ethertype-like protocol: 4 or 6, 0 when not IP)."""
    if linktype == ETHERNET:
        off = 12
        etype = _H.unpack_from(data, off)[0]
        while etype in (0x8100, 0x88A8, 0x9100):
            off += 4
            etype = _H.unpack_from(data, off)[0]
        off += 2
        return off, 4 if etype == 0x0800 else 6 if etype == 0x86DD else 0
    if linktype == SLL:
        etype = _H.unpack_from(data, 14)[0]
        return 16, 4 if etype == 0x0800 else 6 if etype == 0x86DD else 0
    if linktype == SLL2:
        etype = _H.unpack_from(data, 0)[0]
        return 20, 4 if etype == 0x0800 else 6 if etype == 0x86DD else 0
    if linktype in RAW_ALIASES:
        version = data[0] >> 4
        return 0, version if version in (4, 6) else 0
    if linktype in (NULL, LOOP):
        family = struct.unpack_from("<I" if linktype == NULL else "!I", data, 0)[0]
        if family > 0xFFFF:  # written on the other endianness
            family = struct.unpack_from(">I" if linktype == NULL else "<I", data, 0)[0]
        return 4, 4 if family == 2 else 6 if family in (10, 24, 28, 30) else 0
    raise NotDecodable(f"unsupported link type {linktype}")


def decode(linktype: int, data: bytes) -> Segment | None:
    """A TCP segment, or None for anything that is not TCP over IP (ARP, UDP, ...)."""
    try:
        off, version = network_offset(linktype, data)
        if version == 4:
            first = data[off]
            if first >> 4 != 4:
                return None
            ihl = (first & 0x0F) * 4
            total = _H.unpack_from(data, off + 2)[0]
            frag = _H.unpack_from(data, off + 6)[0]
            if data[off + 9] != 6:
                return None
            if frag & 0x3FFF:
                raise NotDecodable("IPv4 fragment (not reassembled)")
            src, dst = data[off + 12 : off + 16], data[off + 16 : off + 20]
            end = off + total if total else len(data)
            tcp = off + ihl
        elif version == 6:
            plen = _H.unpack_from(data, off + 4)[0]
            nxt = data[off + 6]
            src, dst = data[off + 8 : off + 24], data[off + 24 : off + 40]
            tcp = off + 40
            end = tcp + plen if plen else len(data)
            while nxt in (0, 43, 60):
                nxt = data[tcp]
                tcp += (data[tcp + 1] + 1) * 8
            if nxt == 44:
                raise NotDecodable("IPv6 fragment (not reassembled)")
            if nxt != 6:
                return None
        else:
            return None
        sport, dport, seq, _ack, doff, flags = _TCP.unpack_from(data, tcp)
        start = tcp + (doff >> 4) * 4
        payload = data[start : min(end, len(data))]
        return Segment(src, dst, sport, dport, seq, flags, payload, max(end - start, len(payload)))
    except (IndexError, struct.error):
        raise NotDecodable("packet too short for its headers") from None
