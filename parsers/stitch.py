"""The merge of a set's parts (parsers.fileparts): cut connections joined, all numbered as one.

The frames of connections cut by file boundaries, from every part, are merged by timestamp
(heapq.merge: ties by file rank, then frame; each file's own order is kept) and read again by
the same FlowReader and TranscriptBuilder a single-file read uses, so a connection rotated from
mtls.pcap3 into mtls.pcap4 comes out as one connection, exactly as it would from one file.
Then every connection, whole or joined, is numbered by its order key (see parsers.fileparts)
and handed on in that order. The result depends only on the parts, not on who decoded them.
"""

from __future__ import annotations

import heapq
import io
import os
import pickle
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from parsers.boundary import Item
from parsers.connection import TcpConnection
from parsers.fileparts import FilePart, OrderedReader, OrderKey, Shipped, Whole
from parsers.flows import _Flow, _reverse
from parsers.gcpolicy import fewer_collections
from parsers.keylog import KeyLog
from parsers.model import Problem, Transcript
from parsers.pcapfile import Chunk
from parsers.transcripts import TranscriptBuilder

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

#: (its number in the set, rank of the file it began in, rank of the file it ended in, and
#: either the joined connection's Transcript (numbered) or what `seal` made of a whole one)
JoinedFn = Callable[[int, int, int, "Transcript | object"], None]


@dataclass
class SetCounts:
    """The set's summary, as CaptureResult gives one file's."""

    formats: list[str] = field(default_factory=list)
    frames: int = 0
    tcp_connections: int = 0
    tls_connections: int = 0
    non_tls_connections: int = 0
    undecodable_frames: int = 0
    joined: int = 0  # connections that crossed a file boundary
    embedded_secrets: int = 0
    problems: list[str] = field(default_factory=list)


class PartSpool:
    """The merging process's disk for the parts' whole connections. A part arrives with them
    packed (one file's worth, in key order); `keep` writes the bytes to an unnamed temporary file
    and leaves the part an iterator that reads them back one batch at a time, so the merge holds
    a batch per file, not the set's (bench_many's set: peak RSS 411 MB before, 184 MB after)."""

    def __init__(self, files: int = 1) -> None:
        self.handle = tempfile.TemporaryFile()  # noqa: SIM115  # unlinked at once; closed by close()
        #: each part's read buffer: the merge fills every part's at once, so READ_BUDGET in all
        #: (a rotation of 1,500 files at 256 KiB each held 370 MB), never less than Python's own
        self.buffer = max(io.DEFAULT_BUFFER_SIZE, min(READ_BUFFER, READ_BUDGET // max(files, 1)))

    def keep(self, part: FilePart) -> None:
        if part.spooled is not None:
            return
        start = self.handle.seek(0, 2)
        self.handle.write(part.packed)
        part.spooled = self._read(start, part.packed_count, min(self.buffer, len(part.packed) or 1))
        part.packed = b""

    def _read(self, offset: int, count: int, buffer: int) -> Iterator[Whole]:
        # a buffered reader of its own per part: the merge takes one connection from this part,
        # the next from another, and one shared handle would refill its buffer at every turn
        # (a read call per connection)
        self.handle.flush()
        return _batches(io.BufferedReader(_PartBytes(self.handle.fileno(), offset), buffer), count)

    def close(self) -> None:
        self.handle.close()


#: per part being merged (a set of 17 files: 4 MiB) …
READ_BUFFER = 256 << 10
#: … and for all of them: a set of more than 64 files reads each part with less
READ_BUDGET = 16 << 20


class _PartBytes(io.RawIOBase):
    """One part's bytes in the spool, read from `offset` on with pread: the spool's file
    position (shared by every part) is neither used nor moved."""

    def __init__(self, fd: int, offset: int) -> None:
        super().__init__()
        self.fd = fd
        self.offset = offset

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        with memoryview(buffer) as view:
            data = os.pread(self.fd, len(view), self.offset)
            view[: len(data)] = data
        self.offset += len(data)
        return len(data)


def _batches(source: BinaryIO, count: int) -> Iterator[Whole]:
    """`count` whole connections, in the batches parsers.fileparts.decode_part pickled them."""
    while count > 0:
        batch: list[Whole] = pickle.load(source)
        count -= len(batch)
        yield from batch


def _unpacked(packed: bytes, count: int) -> Iterator[Whole]:
    """A part's whole connections in key order, read from its packed bytes."""
    return _batches(io.BytesIO(packed), count)


class _Frames:
    """The shipped frames as a FrameSource: one packet per chunk, numbered as in its own file."""

    def __init__(self, frames: Iterator[Shipped], pcapng: bool) -> None:
        self.frames = frames
        self.format = "pcapng" if pcapng else "pcap"
        self.secrets: list[bytes] = []
        self.problems: list[str] = []
        self.frames_read = 0
        self.bytes_read = 0
        self.frame_base = 0
        self.rank = 0
        self.done = False
        self.last_rank: dict[bytes, int] = {}  # flow key (canonical) → rank of its last frame

    def chunks(self) -> Iterator[Chunk]:
        for s in self.frames:
            self.frame_base, self.rank = s.frame - 1, s.rank
            self.frames_read += 1
            self.bytes_read += len(s.data)
            self.last_rank[min(s.flow, _reverse(s.flow))] = s.rank
            yield s.data, s.linktype, [(0, len(s.data), s.time, s.wire_length)]
        self.done = True


class _StitchReader(OrderedReader):
    def __init__(self, emit: Callable[[Item], None], keys_given: bool, frames: _Frames, capped: set[bytes]):
        super().__init__(Path("(joined)"), emit, keys_given, frames)
        self.frames = frames
        self.capped = capped
        self.info: dict[int, tuple[int, bytes]] = {}  # id(conn) → first rank, canonical flow key
        #: the first and last file rank of the connection being closed: its transcript is handed
        #: on from within `_finish` (TLS may be recognised only then, when the last bytes are read)
        self.closing: tuple[int, int] = (0, 0)

    def where(self) -> int:
        return self.frames.rank

    def _open(
        self, key: bytes, found: _Flow | None, flags: int, size: int, ftime: float, head: bytes = b""
    ) -> _Flow | None:
        flow = super()._open(key, found, flags, size, ftime, head)
        if flow is not None:
            self.info[id(flow[0])] = (self.frames.rank, min(key, _reverse(key)))
        return flow

    def _finish(self, conn: TcpConnection) -> None:
        first, key = self.info.pop(id(conn))
        last = self.frames.last_rank.get(key, first) if self.frames.done else self.frames.rank
        if key in self.capped:
            conn.add_problem(
                Problem(
                    "limit",
                    "more than 64 MiB of this connection lay in one file of a set read by several "
                    "processes: the rest of that file's part was not joined (read the files "
                    "without --workers to see it all)",
                    None,
                    conn.frame,
                )
            )
        self.closing = (first, last)
        super()._finish(conn)


def merge(parts: list[FilePart], keylog: KeyLog, on_joined: JoinedFn) -> SetCounts:
    """Join the cut connections, number everything, hand each transcript on in number order.
    `parts` in rank order; `keylog` gets the secrets embedded in any of them."""
    counts = SetCounts()
    for part in parts:
        counts.formats.append(part.format)
        counts.frames += part.frames
        counts.tcp_connections += part.tcp_connections
        counts.tls_connections += part.tls_connections
        counts.non_tls_connections += part.non_tls_connections
        counts.undecodable_frames += part.undecodable_frames
        counts.problems += [f"{Path(part.path).name}: {p}" for p in part.problems]
        counts.embedded_secrets += len(part.secrets)
        for text in part.secrets:
            keylog.add_text(text)

    joined: list[tuple[OrderKey, int, int, Transcript]] = []

    def take(t: Transcript) -> None:
        first, last = reader.closing
        joined.append((reader.fired.pop(t.index), first, last, t))

    builder = TranscriptBuilder(keylog, take)
    frames = _Frames(
        heapq.merge(*(p.shipped for p in parts), key=lambda s: (s.time, s.rank, s.frame)),
        any(p.format.startswith("pcapng") for p in parts),
    )
    capped = {key for p in parts for key in p.capped}
    reader = _StitchReader(builder.feed, bool(len(keylog)), frames, capped)
    with fewer_collections():
        result = reader.run()
    counts.tcp_connections += result.tcp_connections
    counts.tls_connections += result.tls_connections
    counts.non_tls_connections += result.non_tls_connections
    counts.joined = sum(1 for _, first, last, _ in joined if first != last)

    # every source is in key order: merged lazily, so a spooled part is read back one at a time
    joined.sort(key=lambda j: j[0])
    sources: list[Iterator[tuple[OrderKey, int, int, Transcript | object]]] = [
        iter([(key, first, last, t) for key, first, last, t in joined])
    ]
    for part in parts:
        if part.spooled is None:  # merged without a spool: read back from memory
            part.spooled = _unpacked(part.packed, part.packed_count)
        sources.append((w.key, w.rank, w.rank, w.sealed) for w in part.spooled)
    for number, (_, first, last, item) in enumerate(heapq.merge(*sources, key=lambda o: o[0]), 1):
        if isinstance(item, Transcript):
            item.index = number
        on_joined(number, first, last, item)
    return counts
