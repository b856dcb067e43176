"""IP fragments → the whole IP packet, as the receiving host rebuilt it (IPv4 and IPv6).

A path with a small MTU (a tunnel, a VPN) fragments the large packets of a handshake — the
certificate flights — and the capture holds the fragments. Unread, the connection would lose
its certificates and be judged on the rest. Fragments are held until their packet is whole
(then it is decoded as any packet, at the frame of its last fragment, as Wireshark shows it) or
given up on within fixed bounds; what never completed is counted and said.
"""

from __future__ import annotations

import struct
from collections import OrderedDict
from typing import NamedTuple

from parsers.packets import Fragment

MAX_PACKET = 65535  # an IP packet's payload cannot be larger: a fragment past it is not one
MAX_HELD = 4 << 20  # fragment bytes held at once, every packet together
MAX_PACKETS = 1024  # packets waiting for fragments at once; past it the oldest is given up on


class Lost(NamedTuple):
    """A packet of a connection that was never rebuilt: its TCP data is missing."""

    frame: int  # of its first fragment in the capture
    forward: bool  # sent the way the connection's flow key names (else the other way)
    detail: str


class _Pieces:
    """One IP packet's fragments so far."""

    __slots__ = ("addresses", "cut", "end", "frame", "header", "held", "pieces", "ports", "version")

    def __init__(self, fragment: Fragment, frame: int) -> None:
        self.version = fragment.version
        self.addresses = fragment.key[: 8 if fragment.version == 4 else 32]  # source, destination
        self.ports: bytes | None = None  # TCP's, from the first fragment
        self.frame = frame
        self.header = fragment.header
        self.pieces: dict[int, bytes] = {}
        self.end: int | None = None  # the payload's length, once the last fragment came
        self.held = 0
        self.cut = False  # a fragment the capture's snaplen cut: the packet cannot be rebuilt

    def whole(self) -> bytes | None:
        """The payload, once every byte of it has come."""
        if self.end is None or self.cut:
            return None
        have = 0
        for offset in sorted(self.pieces):
            if offset > have:
                return None
            have = max(have, offset + len(self.pieces[offset]))
        if have < self.end:
            return None
        payload = bytearray(self.end)
        for offset in sorted(self.pieces):
            piece = self.pieces[offset][: self.end - offset]
            payload[offset : offset + len(piece)] = piece
        return bytes(payload)


class Fragments:
    """Fragments of the packets in flight, by (addresses, identification[, protocol])."""

    def __init__(self) -> None:
        self.waiting: OrderedDict[bytes, _Pieces] = OrderedDict()
        self.held = 0
        self.rebuilt = 0
        self.given_up = 0  # packets whose fragments did not all come (or not within the bounds)

    def add(self, fragment: Fragment, frame: int) -> bytes | None:
        """Hold `fragment` (of capture frame `frame`); the whole IP packet (header and
        payload) once this completes it."""
        key = fragment.key
        pieces = self.waiting.get(key)
        if pieces is None:
            pieces = self.waiting[key] = _Pieces(fragment, frame)
        if fragment.offset == 0:
            pieces.header = fragment.header  # the first fragment's header is the packet's
            protocol = fragment.key[-1] if fragment.version == 4 else fragment.header[6]
            if protocol == 6 and len(fragment.payload) >= 4:
                pieces.ports = bytes(fragment.payload[:4])
        payload = fragment.payload
        if len(payload) < fragment.length:
            pieces.cut = True
        end = fragment.offset + len(payload)
        if end > MAX_PACKET:
            pieces.cut = True
        elif fragment.offset not in pieces.pieces or len(pieces.pieces[fragment.offset]) < len(payload):
            added = len(payload) - len(pieces.pieces.get(fragment.offset, b""))
            pieces.pieces[fragment.offset] = payload
            pieces.held += added
            self.held += added
        if not fragment.more:
            pieces.end = end
        whole = pieces.whole()
        if whole is not None:
            self._drop(key)
            self.rebuilt += 1
            return rebuild(fragment.version, pieces.header, whole)
        while self.held > MAX_HELD or len(self.waiting) > MAX_PACKETS:
            self._drop(next(iter(self.waiting)))
            self.given_up += 1
        return None

    def _drop(self, key: bytes) -> None:
        pieces = self.waiting.pop(key)
        self.held -= pieces.held

    def lost_in(self, flow: bytes) -> list[Lost]:
        """The packets still waiting that the connection `flow` (parsers.flows' key: addresses
        and ports) may have sent, either way: given up on now, as it ends. A packet whose first
        fragment (naming the ports) is missing is said on every connection between its hosts."""
        half = len(flow) // 2 - 2
        src, dst, ports = flow[:half], flow[half : 2 * half], flow[-4:]
        lost = []
        for key, pieces in list(self.waiting.items()):
            if pieces.addresses not in (src + dst, dst + src):
                continue
            forward = pieces.addresses == src + dst
            if pieces.ports is not None and pieces.ports != (ports if forward else ports[2:] + ports[:2]):
                continue
            size = f"{pieces.end} bytes" if pieces.end is not None else f"over {pieces.held} bytes"
            detail = (
                f"an IPv{pieces.version} packet of {size} came in fragments and not all of them "
                "were captured: the TCP data it carried is missing"
            )
            if pieces.ports is None:
                detail += (
                    " (its first fragment, naming the ports, is missing too: it may be another connection's)"
                )
            else:
                self._drop(key)
                self.given_up += 1
            lost.append(Lost(pieces.frame, forward, detail))
        return lost

    def summary(self) -> str | None:
        """The capture problem for packets whose fragments never all came, or None."""
        missing = self.given_up + len(self.waiting)
        if not missing:
            return None
        return (
            f"{missing} fragmented IP packet(s) could not be rebuilt (a fragment missing from the "
            f"capture, cut by its snaplen, or past the {MAX_HELD >> 20} MiB held for fragments): "
            "their TCP data is missing"
        )


def rebuild(version: int, header: bytes, payload: bytes) -> bytes:
    """The IP packet the fragments were cut from: `header` with its length set and its
    fragment fields cleared (IPv4), or the fixed IPv6 header with the payload length set."""
    if version == 4:
        total = len(header) + len(payload)
        # past 16 bits, 0: the length segmentation offload writes, read as "the bytes are the packet"
        length = struct.pack("!H", total if total <= 0xFFFF else 0)
        return header[:2] + length + header[4:6] + b"\0\0" + header[8:] + payload
    return header[:4] + struct.pack("!H", len(payload)) + header[6:40] + payload
