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
#: the same with the acknowledgement number after the sequence number
ETH_IPV4_TCP_ACK = struct.Struct("!12xH2xH2xH1xB14xIIBB")


class Segment(NamedTuple):
    src: bytes
    dst: bytes
    sport: int
    dport: int
    seq: int
    flags: int
    payload: bytes
    length: int  # payload length on the wire (more than len(payload) when snaplen cut it)
    ack: int = 0  # the acknowledgement number (meaningful with the ACK flag)


class NotDecodable(Exception):
    """This packet is not IPv4/IPv6 TCP we can read (a reason, not a crash)."""


class NotRead(NotDecodable):
    """A packet inside an encapsulation this reader does not open: counted per kind and named
    in the capture's summary ("N packets in X not read"), never silently dropped."""

    def __init__(self, kind: str) -> None:
        super().__init__(f"packet in {kind} not read")
        self.kind = kind


class Fragment(NotDecodable):
    """A fragment of an IP packet: held by parsers.fragments until its packet is whole. `key`
    names the packet (addresses, identification, protocol); `header` is the IP header the whole
    packet is rebuilt under (parsers.fragments.rebuild)."""

    def __init__(
        self, version: int, key: bytes, offset: int, more: bool, header: bytes, payload: bytes, length: int
    ) -> None:
        super().__init__(f"IPv{version} fragment (not reassembled)")
        self.version = version
        self.key = key
        self.offset = offset
        self.more = more
        self.header = header
        self.payload = payload
        self.length = length  # on the wire: more than len(payload) when the snaplen cut it


#: UDP ports of the tunnels opened: VXLAN, Geneve, GTP-U, CAPWAP data
VXLAN_PORTS = (4789, 8472)
GENEVE_PORT = 6081
GTPU_PORT = 2152
CAPWAP_DATA_PORT = 5247
#: what a layer says it carries → 4 (IPv4), 6 (IPv6), "eth" (an Ethernet frame) or "ppp"
_ETHERTYPES: dict[int, int | str] = {0x0800: 4, 0x86DD: 6, 0x6558: "eth", 0x880B: "ppp"}
MAX_NESTING = 6  # tunnels inside tunnels followed at most this deep


def ip_text(raw: bytes) -> str:
    return socket.inet_ntop(socket.AF_INET6 if len(raw) == 16 else socket.AF_INET, raw)


def _ethernet(data: bytes, off: int) -> tuple[int, int]:
    """An Ethernet frame at `off`: (offset of its IP header, 4 / 6 / 0). VLAN tags (802.1Q,
    QinQ), PPPoE sessions, Cisco MetaData (SGT) and MPLS labels are stepped over."""
    off += 12
    etype = _H.unpack_from(data, off)[0]
    while True:
        if etype in (0x8100, 0x88A8, 0x9100):
            off += 4
        elif etype == 0x8909:  # Cisco MetaData: version, length, option, SGT, then the type
            off += 8
        elif etype == 0x8864:  # PPPoE session: 6-byte header, then the PPP protocol
            return _ppp(data, off + 8)
        elif etype in (0x8847, 0x8848):  # MPLS: labels up to the bottom of the stack
            off += 2
            while not data[off + 2] & 0x01:
                off += 4
            off += 4
            version = data[off] >> 4
            return off, version if version in (4, 6) else 0
        else:
            break
        etype = _H.unpack_from(data, off)[0]
    off += 2
    return off, 4 if etype == 0x0800 else 6 if etype == 0x86DD else 0


def _ppp(data: bytes, off: int) -> tuple[int, int]:
    """The PPP protocol field at `off` (one or two bytes): (offset of IP, 4 / 6 / 0)."""
    if data[off] & 0x01:  # protocol-field compression: one byte
        proto, off = data[off], off + 1
    else:
        proto, off = _H.unpack_from(data, off)[0], off + 2
    return off, 4 if proto == 0x21 else 6 if proto == 0x57 else 0


def network_offset(linktype: int, data: bytes) -> tuple[int, int]:
    """(offset of the IP header, ethertype-like protocol: 4 or 6, 0 when not IP)."""
    if linktype == ETHERNET:
        return _ethernet(data, 0)
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
    """A TCP segment, or None for anything that is not TCP over IP (ARP, UDP, ...). Tunnels
    are opened (IP in IP: 6in4, 4in6; GRE; VXLAN, Geneve, GTP-U and CAPWAP over UDP); one
    this reader does not open raises NotRead."""
    try:
        off, version = network_offset(linktype, data)
        for _ in range(MAX_NESTING):
            if version == 4:
                first = data[off]
                if first >> 4 != 4:
                    return None
                ihl = (first & 0x0F) * 4
                total = _H.unpack_from(data, off + 2)[0]
                frag = _H.unpack_from(data, off + 6)[0]
                proto = data[off + 9]
                src, dst = data[off + 12 : off + 16], data[off + 16 : off + 20]
                # total length 0: segmentation offload (TSO/GSO) wrote no length; the captured
                # bytes are the packet
                end = off + total if total else len(data)
                if frag & 0x3FFF:
                    key = src + dst + data[off + 4 : off + 6] + bytes((proto,))
                    header = bytes(data[off : off + ihl])
                    raise Fragment(
                        4,
                        key,
                        (frag & 0x1FFF) * 8,
                        bool(frag & 0x2000),
                        header,
                        data[off + ihl : end],
                        end - off - ihl,
                    )
                tcp = off + ihl
                nxt = proto
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
                    word = _H.unpack_from(data, tcp + 2)[0]
                    key = src + dst + data[tcp + 4 : tcp + 8]
                    # the whole packet: the fixed header, carrying what the fragment header said next
                    header = (
                        bytes(data[off : off + 6]) + data[tcp : tcp + 1] + bytes(data[off + 7 : off + 40])
                    )
                    raise Fragment(
                        6, key, word & 0xFFF8, bool(word & 1), header, data[tcp + 8 : end], end - tcp - 8
                    )
            else:
                return None
            if nxt == 6:
                break
            inner = _tunnel(data, nxt, tcp)
            if inner is None:
                return None
            off, version = inner
        else:
            raise NotRead(f"tunnels nested over {MAX_NESTING} deep")
        sport, dport, seq, ack, doff, flags = _TCP.unpack_from(data, tcp)
        start = tcp + (doff >> 4) * 4
        payload = data[start : min(end, len(data))]
        return Segment(src, dst, sport, dport, seq, flags, payload, max(end - start, len(payload)), ack)
    except (IndexError, struct.error):
        raise NotDecodable("packet too short for its headers") from None


def _tunnel(data: bytes, proto: int, at: int) -> tuple[int, int] | None:
    """What an IP packet of protocol `proto` whose payload starts at `at` carries: (offset,
    4 / 6) of the inner IP packet; None when it is no tunnel (plain UDP, ICMP, ...)."""
    if proto == 4:  # IPv4 in IP (IPIP, 4in6)
        return at, 4
    if proto == 41:  # IPv6 in IP (6in4, 6in6)
        return at, 6
    if proto == 47:
        return _gre(data, at)
    if proto != 17:
        return None
    sport, dport = PORTS.unpack_from(data, at)
    body = at + 8
    if dport in VXLAN_PORTS:
        return _inner(data, body + 8, "eth", "VXLAN")
    if dport == GENEVE_PORT:
        options = (data[body] & 0x3F) * 4
        return _inner(
            data, body + 8 + options, _ETHERTYPES.get(_H.unpack_from(data, body + 2)[0], 0), "Geneve"
        )
    if GTPU_PORT in (sport, dport):
        return _gtp(data, body)
    if CAPWAP_DATA_PORT in (sport, dport):
        return _capwap(data, body)
    if len(data) - body >= 13:
        _tls_over_udp(data, body, sport, dport)
    return None


#: QUIC versions whose long-header packets are named (v1, v2; drafts are 0xff0000xx)
_QUIC_VERSIONS = frozenset((0x00000001, 0x6B3343CF))
_DTLS_VERSIONS = frozenset((0xFEFF, 0xFEFD, 0xFEFC))
OPENVPN_PORT = 1194


def _tls_over_udp(data: bytes, at: int, sport: int, dport: int) -> None:
    """A UDP datagram that carries a TLS handshake this reader does not open (QUIC's, DTLS, or
    OpenVPN's control channel over UDP) is named (NotRead), so a capture of them never reads
    as empty; any other datagram is passed over in silence, as before."""
    first = data[at]
    if first & 0xC0 == 0xC0:
        version = int.from_bytes(data[at + 1 : at + 5], "big")
        if version in _QUIC_VERSIONS or version >> 8 == 0xFF0000:
            raise NotRead("QUIC")
    dtls = 20 <= first <= 25 and _H.unpack_from(data, at + 1)[0] in _DTLS_VERSIONS
    if dtls and _H.unpack_from(data, at + 11)[0] <= len(data) - at - 13:
        raise NotRead("DTLS")
    if OPENVPN_PORT in (sport, dport) and 1 <= first >> 3 <= 11:
        raise NotRead("OpenVPN over UDP")


def _inner(data: bytes, off: int, kind: int | str, name: str) -> tuple[int, int]:
    if kind == "eth":
        found = _ethernet(data, off)
    elif kind == "ppp":
        found = _ppp(data, off)
    elif kind in (4, 6):
        found = off, int(kind)
    else:
        raise NotRead(name)
    if not found[1]:
        raise NotRead(name)
    return found


def _gre(data: bytes, at: int) -> tuple[int, int]:
    flags, proto = _H.unpack_from(data, at)[0], _H.unpack_from(data, at + 2)[0]
    off = at + 4
    if flags & 0x07 == 1:  # enhanced GRE (PPTP): key always, sequence and ack when flagged
        off += 4 + (4 if flags & 0x1000 else 0) + (4 if flags & 0x0080 else 0)
        if proto == 0x880B and off < len(data) and data[off] == 0xFF:
            off += 2  # PPP address and control
    else:
        off += (4 if flags & 0x8000 else 0) + (4 if flags & 0x2000 else 0) + (4 if flags & 0x1000 else 0)
        if proto == 0x88BE:  # ERSPAN type II: an 8-byte header, then the mirrored frame
            return _inner(data, off + 8, "eth", "GRE (ERSPAN)")
    return _inner(data, off, _ETHERTYPES.get(proto, 0), f"GRE (protocol 0x{proto:04x})")


def _gtp(data: bytes, at: int) -> tuple[int, int]:
    flags, message = data[at], data[at + 1]
    if flags >> 5 != 1 or message != 0xFF:  # GTPv1-U carrying a user packet (G-PDU)
        raise NotRead("GTP (not a user-plane packet)")
    off = at + 8
    if flags & 0x07:
        off += 4  # sequence number, N-PDU number, next extension type
        next_type = data[off - 1]
        while flags & 0x04 and next_type:
            length = data[off] * 4
            next_type = data[off + length - 1]
            off += length
    version = data[off] >> 4
    return _inner(data, off, version if version in (4, 6) else 0, "GTP")


def _capwap(data: bytes, at: int) -> tuple[int, int]:
    if data[at] >> 4 != 0:
        raise NotRead("CAPWAP (DTLS)")
    hlen = (data[at + 1] >> 3) * 4
    wbid = (data[at + 2] >> 1) & 0x1F
    native = bool(data[at + 2] & 0x01)
    off = at + hlen
    if not native:
        return _inner(data, off, "eth", "CAPWAP")
    if wbid != 1:
        raise NotRead(f"CAPWAP (native frames of binding {wbid})")
    # IEEE 802.11 data frame: 24-byte header (+2 QoS, +6 with four addresses), then LLC/SNAP
    fc, fc_flags = data[off], data[off + 1]
    if (fc >> 2) & 0x03 != 2 and (fc_flags >> 2) & 0x03 == 2:
        fc, fc_flags = fc_flags, fc  # some access points write the frame control byte-swapped
    if (fc >> 2) & 0x03 != 2:
        raise NotRead("CAPWAP (802.11 management or control frame)")
    header = 24 + (2 if fc & 0x80 else 0) + (6 if fc_flags & 0x03 == 0x03 else 0)
    snap = off + header
    if data[snap : snap + 3] != b"\xaa\xaa\x03":
        raise NotRead("CAPWAP (802.11 frame without LLC/SNAP)")
    return _inner(data, snap + 8, _ETHERTYPES.get(_H.unpack_from(data, snap + 6)[0], 0), "CAPWAP")
