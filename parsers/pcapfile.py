"""Streaming pcap / pcapng reader (and a small pcap writer).

Hand-written on purpose: scapy's readers build a Python object per packet, which is the slowest
part of a large capture; here a packet is a slice of a 1 MiB buffer, memory stays bounded
whatever the file size, and pcapng Decryption Secrets Blocks are handed over as key-log text.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, NamedTuple, Protocol

from parsers.gzipped import GzipStream

CHUNK = 1 << 20
MAX_PACKET = 1 << 18  # larger than any snaplen we know: a length past it means corruption
MAX_BLOCK = 1 << 24
MAX_NAMED_PROBLEMS = 5  # per kind of repeated problem: the rest are counted, not listed

PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", 1e-6),
    b"\xa1\xb2\xc3\xd4": (">", 1e-6),
    b"\x4d\x3c\xb2\xa1": ("<", 1e-9),
    b"\xa1\xb2\x3c\x4d": (">", 1e-9),
}
PCAPNG_SHB = b"\x0a\x0d\x0d\x0a"
GZIP_MAGIC = b"\x1f\x8b"
GZIP_SUFFIX = " (gzip)"  # after the format inside: "pcap (gzip)"
#: block type → (name, smallest valid total length: header, fixed fields, trailing length)
PCAPNG_BLOCKS = {
    0x0A0D0D0A: ("section header", 28),
    1: ("interface description", 20),
    2: ("packet block", 32),
    3: ("simple packet block", 16),
    6: ("enhanced packet block", 32),
    0x0A: ("decryption secrets block", 20),
}


RawFrame = tuple[int, float, int, bytes, int, int, int]
Chunk = tuple[bytes, int, list[tuple[int, int, float, int]]]


class CaptureFormatError(Exception):
    """The file is not a capture we can read at all (nothing decodable)."""


class FrameSource(Protocol):
    """What the stream half (parsers.flows) reads packets from: one capture file (CaptureFile),
    or any other source that lays packets out the same way (a pipe, several files in time order)."""

    format: str
    secrets: list[bytes]
    problems: list[str]
    frames_read: int
    bytes_read: int

    def chunks(self) -> Iterator[Chunk]: ...


class Readable(Protocol):
    """A file opened "rb" (io.BufferedReader), or a pipe that reads the same way."""

    def read(self, size: int, /) -> bytes:
        """`size` bytes, fewer only at the end."""
        ...

    def read1(self, size: int, /) -> bytes:
        """At most `size` bytes, at least one unless at the end: what is there already."""
        ...


class Frame(NamedTuple):
    """A tuple, not a dataclass: one is made per packet, and tuples are cheapest."""

    number: int
    time: float
    linktype: int
    data: bytes
    wire_length: int


@dataclass
class CaptureFile:
    path: Path
    format: str = "?"
    secrets: list[bytes] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    frames_read: int = 0
    bytes_read: int = 0
    linktypes: set[int] = field(default_factory=set)
    unknown_interface: int = 0  # packets naming an interface no block described

    def frames(self) -> Iterator[Frame]:
        """Each packet as a Frame (its bytes copied out)."""
        for number, time, linktype, buf, start, incl, orig in self.raw_frames():
            yield Frame(number, time, linktype, buf[start : start + incl], orig)

    def raw_frames(self) -> Iterator[RawFrame]:
        """(number, time, linktype, buffer, start, captured length, wire length)."""
        number = 0
        for buf, linktype, records in self.chunks():
            for start, incl, time, orig in records:
                number += 1
                yield number, time, linktype, buf, start, incl, orig

    def chunks(self) -> Iterator[Chunk]:
        """(buffer, link type, [(start, captured length, time, wire length), ...]): whole
        packets laid in one buffer, so the hot loop walks a list instead of resuming a
        generator per packet, and reads headers in place without copying packets out."""
        try:
            handle = self.path.open("rb")
        except OSError as exc:
            raise CaptureFormatError(f"cannot read ({exc.strerror})") from None
        with handle:
            head = handle.read(4)
            if head[:2] == GZIP_MAGIC:
                yield from self._gzip(handle)
            elif not head:
                raise CaptureFormatError("the file is empty")
            else:
                yield from self.read_from(handle, head)

    def read_from(self, handle: Readable, head: bytes) -> Iterator[Chunk]:
        """A pcap or pcapng whose first 4 bytes (`head`) were read from `handle`: a file, or a
        pipe (parsers.live_source), since packets are cut from whatever `read1` returns."""
        if head in PCAP_MAGICS:
            self.format = "pcap"
            yield from self._pcap(handle, head)
        elif head == PCAPNG_SHB:
            self.format = "pcapng"
            yield from self._pcapng(handle, head)
        else:
            raise CaptureFormatError(f"not a pcap or pcapng file (starts with {head.hex(' ')})")

    # -- pcap --------------------------------------------------------------------------------
    def _pcap(self, handle: Readable, magic: bytes) -> Iterator[Chunk]:
        order, unit = PCAP_MAGICS[magic]
        header = magic + handle.read(20)
        if len(header) < 24:
            raise CaptureFormatError("pcap global header is truncated")
        linktype = struct.unpack(order + "I", header[20:24])[0] & 0xFFFF
        self.linktypes.add(linktype)
        unpack = struct.Struct(order + "IIII").unpack_from
        buf = b""
        number = 0
        offset = 24  # file offset of buf[0]
        while True:
            more = handle.read1(CHUNK)  # a file: 1 MiB; a pipe: what has arrived (a packet cut
            # in two is kept in `buf` until its rest arrives)
            pos = 0
            if buf and more:
                # a packet runs over the chunk's end: it alone is joined (a small copy), not
                # the whole next chunk to it
                joined, taken = _straddling(buf, more, unpack)
                if taken:
                    record = unpack(joined, 0)
                    number += 1
                    self.frames_read, self.bytes_read = number, offset + len(joined)
                    yield joined, linktype, [(16, record[2], record[0] + record[1] * unit, record[3])]
                    offset += len(buf)  # now the file offset of more[0]
                    buf, pos = more, taken
                else:
                    buf = buf + more
            elif more:
                buf = more
            end = len(buf)
            records: list[tuple[int, int, float, int]] = []
            append = records.append
            while pos + 16 <= end:
                sec, frac, incl, orig = unpack(buf, pos)
                if incl > MAX_PACKET:
                    self.frames_read, self.bytes_read = number + len(records), offset + pos
                    if records:
                        yield buf, linktype, records
                    self.problems.append(
                        f"packet {self.frames_read + 1} at byte {offset + pos}: absurd captured "
                        f"length {incl}; the rest of the file is not decodable"
                    )
                    return
                if pos + 16 + incl > end:
                    break
                append((pos + 16, incl, sec + frac * unit, orig))
                pos += 16 + incl
            number += len(records)
            self.frames_read, self.bytes_read = number, offset + pos
            if records:
                yield buf, linktype, records
            if not more:
                if pos < end:
                    have = end - pos
                    if have < 16:
                        self.problems.append(
                            f"file ends inside the header of packet {number + 1} "
                            f"(truncated at byte {offset + end})"
                        )
                    else:
                        incl = unpack(buf, pos)[2]
                        self.problems.append(
                            f"file ends inside packet {number + 1} ({have - 16} of {incl} "
                            "bytes present): truncated capture"
                        )
                return
            buf = buf[pos:]
            offset += pos

    # -- compressed captures -------------------------------------------------------------------
    def _gzip(self, handle: BinaryIO) -> Iterator[Chunk]:
        """A .pcap.gz / .pcapng.gz: the same reader over the decompressed bytes (embedded key
        logs, truncation and every check as for the plain file); a gzip stream cut short is
        read up to the cut and said (parsers.gzipped)."""
        handle.seek(0)
        stream = GzipStream(handle, self.problems.append)
        head = stream.read(4)
        if not head:
            if not self.problems:
                raise CaptureFormatError("compressed, but empty inside")
            raise CaptureFormatError(f"compressed, but {self.problems.pop()}")
        try:
            for chunk in self.read_from(stream, head):
                self._gzipped(stream)
                yield chunk
        except CaptureFormatError as exc:
            raise CaptureFormatError(f"compressed, but {exc}") from None
        self._gzipped(stream)

    def _gzipped(self, stream: GzipStream) -> None:
        if not self.format.endswith(GZIP_SUFFIX):
            self.format += GZIP_SUFFIX
        self.bytes_read = stream.compressed

    # -- pcapng ------------------------------------------------------------------------------
    def _block_length_ok(self, btype: int, length: int, offset: int) -> bool:
        """A block length we can read: within bounds and at least the fixed part of its type
        (a shorter block would make its fields run past its end)."""
        name, minimum = PCAPNG_BLOCKS.get(btype, ("block", 12))
        if length < 12 or length > MAX_BLOCK or length % 4:
            problem = f"absurd length {length}"
        elif length < minimum:
            problem = f"{name} of {length} bytes, shorter than its minimum {minimum}"
        else:
            return True
        self.problems.append(f"block at byte {offset}: {problem}; the rest of the file is not decodable")
        return False

    def _pcapng(self, handle: Readable, first: bytes) -> Iterator[Chunk]:
        order = "<"
        interfaces: list[tuple[int, float, int]] = []  # linktype, ts unit, snaplen
        number = 0
        offset = 0
        pending = first
        while True:
            head = pending + handle.read(8 - len(pending))
            pending = b""
            if len(head) < 8:
                if head:
                    self.problems.append(f"file ends inside a block header at byte {offset}")
                return
            btype_raw = head[:4]
            if btype_raw == PCAPNG_SHB:
                bom = handle.read(4)
                if bom == b"\x4d\x3c\x2b\x1a":
                    order = "<"
                elif bom == b"\x1a\x2b\x3c\x4d":
                    order = ">"
                else:
                    raise CaptureFormatError("pcapng section header has a bad byte-order magic")
                length = struct.unpack(order + "I", head[4:8])[0]
                if not self._block_length_ok(0x0A0D0D0A, length, offset):
                    return
                body = bom + handle.read(length - 12)
                interfaces = []
            else:
                length = struct.unpack(order + "I", head[4:8])[0]
                if not self._block_length_ok(struct.unpack(order + "I", btype_raw)[0], length, offset):
                    return
                body = handle.read(length - 8)
            if len(body) < length - 8:
                self.problems.append(
                    f"file ends inside the block at byte {offset} (packet {number + 1}): truncated capture"
                )
                return
            offset += length
            self.bytes_read = offset
            btype = struct.unpack(order + "I", btype_raw)[0]
            content = body[:-4]
            if btype == 1:  # Interface Description Block
                linktype, _, snaplen = struct.unpack_from(order + "HHI", content, 0)
                interfaces.append((linktype, _tsresol(content[8:], order), snaplen))
                self.linktypes.add(linktype)
            elif btype in (6, 2):  # Enhanced / obsolete Packet Block
                if btype == 6:
                    iface, high, low, incl, orig = struct.unpack_from(order + "IIIII", content, 0)
                else:
                    iface, _drops, high, low, incl, orig = struct.unpack_from(order + "HHIIII", content, 0)
                if iface >= len(interfaces):
                    self.unknown_interface += 1  # counted, named only a few times: a stream is endless
                    if self.unknown_interface <= MAX_NAMED_PROBLEMS:
                        # its place in the file: the packets read and those skipped so far
                        where = number + self.unknown_interface
                        self.problems.append(f"packet {where} names unknown interface {iface}")
                    elif self.unknown_interface == MAX_NAMED_PROBLEMS + 1:
                        self.problems.append("more packets name unknown interfaces: not listed")
                    continue
                linktype, unit, _ = interfaces[iface]
                number += 1
                self.frames_read = number
                incl = min(incl, len(content) - 20)
                yield content, linktype, [(20, incl, ((high << 32) | low) * unit, orig)]
            elif btype == 3:  # Simple Packet Block: no timestamp
                if not interfaces:
                    continue
                orig = struct.unpack_from(order + "I", content, 0)[0]
                linktype, _, snaplen = interfaces[0]
                number += 1
                self.frames_read = number
                incl = min(orig, snaplen or orig, len(content) - 4)
                yield content, linktype, [(4, incl, 0.0, orig)]
            elif btype == 0x0000000A:  # Decryption Secrets Block
                stype, slen = struct.unpack_from(order + "II", content, 0)
                if stype == 0x544C534B:  # "TLSK": NSS key log
                    self.secrets.append(bytes(content[8 : 8 + slen]))


def _straddling(
    tail: bytes, more: bytes, unpack: Callable[[bytes, int], tuple[int, ...]]
) -> tuple[bytes, int]:
    """The packet that begins in `tail` (the rest of the last chunk) and ends in `more`: its
    bytes whole, and how many of `more` they take. (b"", 0) when it cannot be settled here
    (an absurd length, or a packet longer than `more`): the caller joins the chunks."""
    head = tail[:16] if len(tail) >= 16 else tail + more[: 16 - len(tail)]
    if len(head) < 16:
        return b"", 0
    incl = unpack(head, 0)[2]
    taken = 16 + incl - len(tail)
    if incl > MAX_PACKET or taken <= 0 or taken > len(more):
        return b"", 0
    return tail + more[:taken], taken


def _tsresol(options: bytes, order: str) -> float:
    pos = 0
    while pos + 4 <= len(options):
        code, length = struct.unpack_from(order + "HH", options, pos)
        if code == 0:
            break
        if code == 9 and length >= 1:
            value = options[pos + 4]
            return 2.0 ** -(value & 0x7F) if value & 0x80 else 10.0**-value
        pos += 4 + ((length + 3) & ~3)
    return 1e-6


class PcapWriter:
    """A plain little-endian pcap writer (microsecond timestamps)."""

    def __init__(self, handle: BinaryIO, linktype: int = 1, snaplen: int = 262144) -> None:
        self.handle = handle
        handle.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, linktype))

    def write(self, time: float, data: bytes, wire_length: int | None = None) -> None:
        sec = int(time)
        usec = round((time - sec) * 1e6)
        if usec >= 1_000_000:
            sec, usec = sec + 1, usec - 1_000_000
        self.handle.write(
            struct.pack("<IIII", sec, usec, len(data), wire_length if wire_length is not None else len(data))
        )
        self.handle.write(data)
