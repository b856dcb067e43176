"""One file of a set decoded on its own, where it lies (a Dask worker, or this process).

A file of a rotated set holds whole connections and the two ends of connections cut by the
rotation. `decode_part` decodes the whole ones completely (the stream half and the TLS half:
what costs per packet stays with the file) and returns them as compact records: the handshake's
Transcript, pickled (events and problems; bulk data was never kept). A connection already
running at the file's first packet (its first packet there is not a SYN), or still open at its
end, is *cut*: its frames are returned instead (up to SHIP_CAP bytes per file), so that
`parsers.stitch` re-reads those connections across files in time order, as one.

Numbering is defined so that it does not depend on who read what: connections are numbered by
the (time, file rank, frame) of the packet that showed they are TLS (their first TLS bytes).
Frame numbers count from 1 in each file, as Wireshark shows that file.
"""

from __future__ import annotations

import copyreg
import io
import os
import pickle
import socket
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from parsers import packets, x509_lenient
from parsers.connection import SharedState, TcpConnection
from parsers.flows import FlowReader, ItemFn, _Flow, _reverse
from parsers.gcpolicy import fewer_collections
from parsers.keylog import KeyLog
from parsers.model import Transcript
from parsers.pcapfile import CaptureFile, Chunk, FrameSource
from parsers.transcripts import TranscriptBuilder

#: frame bytes returned per cut connection per file: a handshake needs a few KB; past this
#: (a long bulk transfer across a rotation) the rest of that file's part of it is not returned
#: and the connection carries a `limit` problem saying so
SHIP_CAP = 64 << 20

#: whole connections per pickle in a part's `packed` bytes: the merge unpickles half as fast one
#: at a time (the unpickler's fixed cost per load), and holds only this many per part at once
PACK_BATCH = 16

#: where the packet that showed a connection is TLS lies: (time, file rank, frame in its file)
OrderKey = tuple[float, int, int]


class Whole(NamedTuple):
    """A connection that opened and closed inside one file, decoded there."""

    key: OrderKey
    rank: int  # of its file
    sealed: object  # what `seal` made of its Transcript (by default: the Transcript, pickled)


class Shipped(NamedTuple):
    """A frame of a cut connection, for the re-read (parsers.stitch)."""

    time: float
    rank: int
    frame: int
    linktype: int
    data: bytes
    wire_length: int
    flow: bytes  # the 4-tuple as FlowReader keys it (this direction)


@dataclass
class FilePart:
    """What one file gives the merge: counts over its whole connections, their records, and
    the frames of its cut ones. Plain data: cheap to send from a worker."""

    rank: int
    path: str
    format: str = "?"
    size: int = 0
    frames: int = 0
    first_time: float | None = None
    last_time: float | None = None
    tcp_connections: int = 0  # whole ones (cut ones are counted by the re-read)
    tls_connections: int = 0
    non_tls_connections: int = 0
    undecodable_frames: int = 0
    problems: list[str] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)  # embedded key log text (pcapng)
    #: the whole connections (Whole), sorted by key and pickled PACK_BATCH at a time where the
    #: file was decoded: the merging process writes the bytes to disk as they come, instead of
    #: unpickling thousands of objects and pickling them again (it was the busiest process)
    packed: bytes = b""
    packed_count: int = 0
    #: the merging process's view of them, read back from disk (parsers.stitch.PartSpool)
    spooled: Iterable[Whole] | None = None
    shipped: list[Shipped] = field(default_factory=list)
    capped: list[bytes] = field(default_factory=list)  # cut connections past SHIP_CAP (flow keys)
    error: str | None = None  # the file could not be read at all
    decoded_by: str = ""  # host:pid of the process that read it


# -- transcripts across processes -----------------------------------------------------------


def _certificate(der: bytes, as_written: tuple[bytes, bytes] | None) -> x509.Certificate:
    cert = x509.load_der_x509_certificate(der)
    if as_written is not None:  # a certificate repaired on reading keeps what was signed
        x509_lenient._SIGNED_AS_WRITTEN[x509_lenient.fingerprint(cert)] = as_written
    return cert


def _reduce_certificate(
    cert: x509.Certificate,
) -> tuple[Callable[..., x509.Certificate], tuple[bytes, tuple[bytes, bytes] | None]]:
    return _certificate, (cert.public_bytes(Encoding.DER), x509_lenient.signed_as_written(cert))


copyreg.pickle(x509.Certificate, _reduce_certificate)


def pack(t: Transcript) -> bytes:
    return pickle.dumps(t, protocol=pickle.HIGHEST_PROTOCOL)


def unpack(data: bytes) -> Transcript:
    transcript: Transcript = pickle.loads(data)
    return transcript


# -- the per-file read -----------------------------------------------------------------------


@dataclass
class _FileChunks(CaptureFile):
    """CaptureFile's chunks, noting the file's last packet time and when it is exhausted."""

    last_time: float | None = None
    done: bool = False

    def chunks(self) -> Iterator[Chunk]:
        for chunk in super().chunks():
            self.last_time = chunk[2][-1][2]
            yield chunk
        self.done = True


class OrderedReader(FlowReader):
    """FlowReader noting, per TLS connection, the order key of the packet that showed it is TLS."""

    def __init__(self, path: Path, emit: ItemFn, keys_given: bool, source: FrameSource) -> None:
        super().__init__(path, emit, keys_given, source=source)
        self.fired: dict[int, OrderKey] = {}

    def where(self) -> int:
        """The rank of the file the packet being read comes from."""
        raise NotImplementedError

    def _open(
        self, key: bytes, found: _Flow | None, flags: int, size: int, ftime: float, head: bytes = b""
    ) -> _Flow | None:
        flow = super()._open(key, found, flags, size, ftime, head)
        if flow is not None:
            shared = flow[0].shared
            told = shared.on_tls
            assert told is not None

            def fired(state: SharedState) -> None:
                told(state)
                self.fired[state.index] = (state.time, self.where(), state.frame)

            shared.on_tls = fired
        return flow


class _PartReader(OrderedReader):
    """Pass one over a file: decode everything, and note which connections the file cuts."""

    def __init__(self, path: Path, emit: ItemFn, keys_given: bool, rank: int) -> None:
        self.chunks_in = _FileChunks(path)
        super().__init__(path, emit, keys_given, self.chunks_in)
        self.rank = rank
        self.started: set[bytes] = set()  # flow keys (both ways) where a SYN opened a connection
        self.info: dict[int, tuple[bool, float, bytes]] = {}  # id(conn) → head?, opened at, key
        self.closing_cut = False  # the connection being finished is cut by the file's start or end
        self.cut_tcp = self.cut_tls_count = self.cut_non_tls = 0
        self.tails: dict[bytes, float] = {}  # flow key (both ways) → when its tail connection opened

    def where(self) -> int:
        return self.rank

    def _open(
        self, key: bytes, found: _Flow | None, flags: int, size: int, ftime: float, head: bytes = b""
    ) -> _Flow | None:
        pure_syn = flags & packets.SYN and not flags & packets.ACK
        cut_before = not pure_syn and key not in self.started  # began in an earlier file
        if pure_syn:
            self.started.add(key)
            self.started.add(_reverse(key))
        flow = super()._open(key, found, flags, size, ftime, head)
        if flow is not None:
            self.info[id(flow[0])] = (cut_before, ftime, key)
        return flow

    def _finish(self, conn: TcpConnection) -> None:
        head, opened, key = self.info.pop(id(conn))
        tail = self.chunks_in.done  # still open when the file ended
        # whether it is TLS may be known only once it is finished (bytes held after a gap are
        # read then), and its transcript is handed on from within: so `closing_cut` says, while
        # it is finished, that the transcript is not a whole one; it is counted afterwards
        self.closing_cut = head or tail
        try:
            super()._finish(conn)
        finally:
            self.closing_cut = False
        if head or tail:
            self.cut_tcp += 1
            if conn.is_tls:
                self.cut_tls_count += 1
            elif conn.is_tls is False:
                self.cut_non_tls += 1
            if tail:
                self.tails[key] = self.tails[_reverse(key)] = opened


#: a whole connection's Transcript → what is sent back for it (judged and rendered, say)
SealFn = Callable[[Transcript], object]


def decode_part(path: str, rank: int, keylog_text: str = "", seal: SealFn = pack) -> FilePart:
    """Decode one file of a set (see the module's docstring). Never raises for a bad file: a
    file that cannot be read at all comes back with `error` set. `seal` turns each whole
    connection's Transcript into what is sent back (the Transcript's `index` is its number in
    this file alone: the set's numbers are given at the merge)."""
    from parsers.pcapfile import CaptureFormatError

    part = FilePart(rank, path, decoded_by=f"{socket.gethostname()}:{os.getpid()}")
    keylog = KeyLog()
    if keylog_text:
        keylog.add_text(keylog_text)

    wholes: list[Whole] = []

    def take(t: Transcript) -> None:
        if reader.closing_cut:  # not whole: the merge re-reads it from the shipped frames
            reader.fired.pop(t.index, None)
            return
        wholes.append(Whole(reader.fired.pop(t.index), rank, seal(t)))

    builder = TranscriptBuilder(keylog, take)
    reader = _PartReader(Path(path), builder.feed, bool(len(keylog)), rank)
    try:
        part.size = Path(path).stat().st_size
        with fewer_collections():
            result = reader.run()
    except CaptureFormatError as exc:
        part.error = str(exc)
        return part
    except OSError as exc:
        part.error = f"cannot read ({exc.strerror})"
        return part
    part.format = result.format
    part.frames = result.frames
    part.first_time = result.first_time
    part.last_time = reader.chunks_in.last_time
    part.tcp_connections = result.tcp_connections - reader.cut_tcp
    part.tls_connections = result.tls_connections - reader.cut_tls_count
    part.non_tls_connections = result.non_tls_connections - reader.cut_non_tls
    part.undecodable_frames = result.undecodable_frames
    part.problems = result.problems
    part.secrets = [s.decode("utf-8", "replace") for s in reader.chunks_in.secrets]
    # always scanned: a stray FIN or ACK of a connection from the previous file opens nothing
    # in pass one, yet closes that connection in a serial read
    _ship(part, reader.tails)
    wholes.sort(key=lambda w: w.key)
    out = io.BytesIO()
    for start in range(0, len(wholes), PACK_BATCH):
        pickle.dump(wholes[start : start + PACK_BATCH], out, protocol=pickle.HIGHEST_PROTOCOL)
    part.packed, part.packed_count = out.getvalue(), len(wholes)
    return part


def _ship(part: FilePart, tails: dict[bytes, float]) -> None:
    """Pass two: the frames of cut connections. A flow whose first packet here is not a SYN is
    a head (it began in an earlier file): its frames go until a SYN starts a new connection on
    it. A tail (still open at the end) goes from the packet that opened it."""
    file = CaptureFile(Path(part.path))
    seen: dict[bytes, bool] = {}  # flow key (both ways) → still in its head
    sizes: dict[bytes, int] = {}
    capped: set[bytes] = set()
    shipped = part.shipped
    rank = part.rank
    number = 0
    for buf, linktype, records in file.chunks():
        for o, incl, ftime, orig in records:
            number += 1
            flow = _flow_of(linktype, buf, o, incl)
            if flow is None:
                continue
            key, flags = flow
            head = seen.get(key)
            if head is None:
                head = not (flags & packets.SYN and not flags & packets.ACK)
                seen[key] = seen[_reverse(key)] = head
            elif head and flags & packets.SYN and not flags & packets.ACK:
                head = seen[key] = seen[_reverse(key)] = False
            opened = tails.get(key)
            if not head and (opened is None or ftime < opened):
                continue
            canonical = min(key, _reverse(key))
            used = sizes.get(canonical, 0) + incl
            if used > SHIP_CAP:
                if canonical not in capped:
                    capped.add(canonical)
                    part.capped.append(canonical)
                continue
            sizes[canonical] = used
            shipped.append(Shipped(ftime, rank, number, linktype, bytes(buf[o : o + incl]), orig, key))


def _flow_of(linktype: int, buf: bytes, o: int, incl: int) -> tuple[bytes, int] | None:
    """(FlowReader's 4-tuple key, TCP flags) of a frame, or None when it is not TCP."""
    if linktype == packets.ETHERNET and incl >= 54:
        etype, _total, fragment, proto, _seq, _doff, flags = packets.ETH_IPV4_TCP.unpack_from(buf, o)
        if etype == 0x0800 and proto == 6 and buf[o + 14] == 0x45 and not fragment & 0x3FFF:
            return bytes(buf[o + 26 : o + 38]), flags
    if linktype not in packets.SUPPORTED_LINKTYPES:
        return None
    try:
        seg = packets.decode(linktype, bytes(buf[o : o + incl]))
    except packets.NotDecodable:
        return None
    if seg is None:
        return None
    return seg.src + seg.dst + packets.PORTS.pack(seg.sport, seg.dport), seg.flags
