"""The stream half of the capture pipeline: a capture file → boundary items (parsers.boundary).

Frames (parsers.pcapfile) → TCP segments (parsers.packets) → one TcpConnection per 4-tuple
(parsers.connection: reassembly and record framing). TLS connections are numbered in the order
their first record appears. Streaming: memory is bounded by the connections open at one time.
"""

from __future__ import annotations

import time as _time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from parsers import packets
from parsers.boundary import ConnectionClosed, ConnectionOpened, Item, SecretsFound
from parsers.connection import SharedState, TcpConnection
from parsers.fragments import Fragments
from parsers.model import Direction, Endpoint, Problem, Transcript
from parsers.pcapfile import CaptureFile, CaptureFormatError, FrameSource
from parsers.tcp import Holes, TcpReassembler

ProgressFn = Callable[[int, int], None]  # (bytes read, frames read)
ItemFn = Callable[[Item], None]
PROGRESS_EVERY = 4096  # frames between looks at the clock
#: tracked at once (parsers.budget.CONNECTION_COST each, out of the one memory budget they share
#: with out-of-order data); past it the oldest is closed
MAX_OPEN_CONNECTIONS = 10_000
MAX_DECODE_PROBLEMS = 5  # undecodable frames named in the summary
#: 4-tuples of connections that ended (FIN both ways, RST, or not TLS) remembered, so their late
#: packets (retransmissions after FIN, data after RST, the rest of a non-TLS stream) are not read
#: as a new connection that "starts inside the connection"; a new SYN reopens the 4-tuple
MAX_CLOSED_REMEMBERED = 8192
FIN_SYN_RST = 0x07


@dataclass
class CaptureResult:
    """The capture's summary (the stream half's counts) and, unless streamed, its transcripts."""

    path: Path
    format: str
    transcripts: list[Transcript] = field(default_factory=list)  # empty with on_transcript
    tls_connections: int = 0
    problems: list[str] = field(default_factory=list)
    frames: int = 0
    tcp_connections: int = 0
    non_tls_connections: int = 0
    undecodable_frames: int = 0
    keylog_entries: int = 0
    embedded_secrets: int = 0
    first_time: float | None = None


#: per 4-tuple key (src + dst + ports as raw bytes): the connection, this side's direction and
#: its reassembler (for the fast path)
_Flow = tuple[TcpConnection, Direction, TcpReassembler]


class FlowReader:
    """Reads the file once; items go to `emit` as they happen; `run` returns the summary."""

    #: runs of unread application_data records go out folded (boundary.OpaqueRecords)
    fold_runs = True

    def __init__(
        self,
        path: Path,
        emit: ItemFn,
        keys_given: bool,
        progress: ProgressFn | None = None,
        source: FrameSource | None = None,
        idle: float | None = None,
    ) -> None:
        """`source`: where packets come from when not the file at `path` itself (then `path`
        names the source in the report). `idle` (seconds, for input that never ends): a
        connection silent that long is closed and reported as it stands."""
        self.path = path
        self.emit = emit
        self.keys_given = keys_given
        self.progress = progress
        self.file: FrameSource = source if source is not None else CaptureFile(path)
        self.result = CaptureResult(path=path, format="?")
        # in creation order, so the oldest is found at once (OrderedDict: O(1) at the front)
        self.active: OrderedDict[bytes, _Flow] = OrderedDict()
        self.closed: OrderedDict[bytes, None] = OrderedDict()  # see MAX_CLOSED_REMEMBERED
        #: directions waiting past a hole (then pure ACKs are looked at), and the memory budget
        #: open connections and out-of-order data share (parsers.budget)
        self.holes = Holes()
        self.tls_count = 0
        self.keep_app_data = keys_given
        self._unsupported: set[int] = set()
        self._decode_problems = 0
        self.not_read: dict[str, int] = {}  # packets in encapsulations not opened, per kind
        self.fragments = Fragments()  # IP fragments waiting for the rest of their packet
        self._secrets_used = 0
        self._last_progress = _time.monotonic()
        self.idle = idle
        self._idle_step = min(1.0, idle / 2) if idle is not None else 0.0
        self._idle_checked = float("-inf")  # capture time of the last look for idle connections
        self._clock: tuple[float, float] | None = None  # (latest packet's capture time, wall then)

    def run(self) -> CaptureResult:
        """Raises CaptureFormatError if nothing in the file is readable."""
        cf, result = self.file, self.result
        number = 0
        for buf, linktype, records in cf.chunks():
            if result.first_time is None:
                result.first_time = records[0][2]
                # a pcapng may embed its key log: keep encrypted bodies for it
                self.keep_app_data = self.keys_given or cf.format.startswith("pcapng")
            self._embedded_secrets()
            # a source may number frames itself (per file, when it re-reads a few of several)
            base: int | None = getattr(cf, "frame_base", None)
            number = self._packets(buf, linktype, records, number if base is None else base)
            if self.idle is not None and records:  # per chunk, not per packet: the hot loop stays as is
                self._capture_clock(records[-1][2])
        return self.close()

    def close(self) -> CaptureResult:
        """Close what is still open and return the summary: at the end of the input, or when a
        stream is stopped between chunks (Ctrl-C). Raises CaptureFormatError if nothing was
        readable."""
        cf, result = self.file, self.result
        seen: set[int] = set()
        for key, (conn, _, _) in list(self.active.items()):
            if id(conn) not in seen:
                seen.add(id(conn))
                self._unrebuilt(key)
                self._finish(conn)
        self.active.clear()
        self._opened()
        for said in (self.fragments.summary(), self.holes.summary(MAX_OPEN_CONNECTIONS)):
            if said is not None:
                result.problems.append(said)
        result.format = cf.format
        result.frames = cf.frames_read
        result.problems += [f"{n} packet(s) in {kind} not read" for kind, n in sorted(self.not_read.items())]
        self.not_read = {}
        result.problems = cf.problems + result.problems
        if result.frames == 0 and cf.problems:
            raise CaptureFormatError("; ".join(cf.problems))
        if self._unsupported and result.undecodable_frames == result.frames and result.frames:
            raise CaptureFormatError(result.problems[0])
        return result

    def _capture_clock(self, now: float) -> None:
        """A chunk ended at capture time `now`: look for idle connections (at most every
        `_idle_step` seconds of capture time)."""
        self._clock = (now, _time.monotonic())
        if now - self._idle_checked >= self._idle_step:
            self._idle_checked = now
            self.close_idle(now)

    def quiet(self) -> None:
        """Nothing has arrived for a while (a live capture gone quiet): the wall-clock time since
        the latest packet counts as capture time, so its connections still go idle."""
        if self._clock is not None:
            latest, wall = self._clock
            self.close_idle(latest + _time.monotonic() - wall)

    def close_idle(self, now: float) -> None:
        """Close every connection with no packet since `now - idle` (capture time)."""
        assert self.idle is not None
        limit = now - self.idle
        active = self.active
        stale = [
            key
            for key, (conn, direction, _) in active.items()
            if direction is Direction.CLIENT and conn.shared.time < limit
        ]
        for key in stale:
            conn = active[key][0]
            conn.add_problem(
                Problem(
                    "idle",
                    f"no packet for {self.idle:g} s: reported as it stood; later packets of it "
                    "are read as a new connection",
                    None,
                    conn.frame,
                )
            )
            self._unrebuilt(key)
            self._finish(conn)
            active.pop(key, None)  # pop, not del: the two keys are one when src = dst
            active.pop(_reverse(key), None)
        self._opened()

    def _embedded_secrets(self) -> None:
        secrets = self.file.secrets
        if len(secrets) > self._secrets_used:
            for blob in secrets[self._secrets_used :]:
                self.emit(SecretsFound(blob.decode("utf-8", "replace")))
            self.result.embedded_secrets += len(secrets) - self._secrets_used
            self._secrets_used = len(secrets)

    def _packets(
        self, buf: bytes, linktype: int, records: list[tuple[int, int, float, int]], number: int
    ) -> int:
        """The hot loop: one iteration per packet, headers read in place."""
        active = self.active
        # Ethernet type, IPv4 total length, flags+fragment offset, protocol, TCP seq, offset, flags
        unpack_eth_ip_tcp = packets.ETH_IPV4_TCP_ACK.unpack_from
        ethernet = linktype == packets.ETHERNET
        holes = self.holes
        for o, incl, ftime, _orig in records:
            number += 1
            # Fast path, read in place: Ethernet / IPv4 without options, not fragmented / TCP.
            if ethernet and incl >= 54:
                etype, ip_total, fragment, proto, seq, ack, doff, flags = unpack_eth_ip_tcp(buf, o)
            else:
                etype = 0
            if etype == 0x0800 and proto == 6 and buf[o + 14] == 0x45 and not fragment & 0x3FFF:
                header = (doff >> 4) * 4
                if not ip_total:  # segmentation offload wrote no length: the frame is the packet
                    ip_total = _orig - 14
                wire_payload = ip_total - 20 - header
                if wire_payload <= 0 and not flags & FIN_SYN_RST:
                    if holes.n and flags & packets.ACK:
                        self._pure_ack(buf[o + 26 : o + 38], ack, number, ftime)
                    continue  # a pure ACK: nothing for TLS; only an ACK past a hole matters
                key = buf[o + 26 : o + 38]
                start = o + 34 + header
                size = o + incl - start  # what the capture kept of the payload
                if size > wire_payload:
                    size = wire_payload
                payload = b""
            else:
                seg = self._decode(linktype, buf[o : o + incl], number)
                if seg is None:
                    continue
                key = seg.src + seg.dst + packets.PORTS.pack(seg.sport, seg.dport)
                seq, flags, payload, ack = seg.seq, seg.flags, seg.payload, seg.ack
                size = len(payload)
                wire_payload = seg.length
                start = -1
            if size <= 0 and not flags & FIN_SYN_RST:
                if holes.n and flags & packets.ACK:
                    self._pure_ack(key, ack, number, ftime)
                continue
            found = active.get(key)
            if found is None and key in self.closed:
                if not flags & packets.SYN or flags & packets.ACK:
                    continue  # a late packet of a connection that ended
                self.closed.pop(key, None)
            if found is None or (flags & packets.SYN and not flags & packets.ACK and found[0].has_data):
                head = buf[start : start + min(size, 6)] if start >= 0 else payload[:6]
                found = self._open(key, found, flags, size, ftime, head)
                if found is None:
                    continue
            conn, direction, tcp = found
            if size == wire_payload and not flags & FIN_SYN_RST and tcp.fast_forward(seq, size):
                # the middle of a record whose body is skipped (bulk data); its ACK still counts
                # for the other direction's hole, as it does when the segment is read
                if holes.n and flags & packets.ACK:
                    self._pure_ack(key, ack, number, ftime)
                continue
            if start >= 0:
                payload = buf[start : start + size] if size > 0 else b""
            conn.segment(
                direction,
                seq,
                flags,
                payload,
                number,
                ftime,
                wire_payload,
                ack if flags & packets.ACK else None,
            )
            if conn.ended:
                if self.fragments.waiting:
                    self._unrebuilt(key)
                self._finish(conn)
                active.pop(key, None)  # pop, not del: the two keys are one when src = dst
                active.pop(_reverse(key), None)
                self.holes.connections = len(active) >> 1
                self._remember_closed(key)
            if self.progress is not None and number % PROGRESS_EVERY == 0:
                self._report_progress(number)
        return number

    def _decode(self, linktype: int, data: bytes, number: int) -> packets.Segment | None:
        """The general path: any supported link type, IPv6, IP options. None: skip the frame."""
        result = self.result
        if linktype not in packets.SUPPORTED_LINKTYPES:
            if linktype not in self._unsupported:
                self._unsupported.add(linktype)
                result.problems.append(
                    f"link type {linktype} is not supported (Ethernet, Linux cooked, raw IP, loopback are)"
                )
            result.undecodable_frames += 1
            return None
        try:
            return packets.decode(linktype, data)
        except packets.Fragment as fragment:
            whole = self.fragments.add(fragment, number)  # the packet, once this completes it
            return None if whole is None else self._decode(packets.RAW, whole, number)
        except packets.NotRead as exc:
            result.undecodable_frames += 1
            self.not_read[exc.kind] = self.not_read.get(exc.kind, 0) + 1
            return None
        except packets.NotDecodable as exc:
            result.undecodable_frames += 1
            self._decode_problems += 1
            if self._decode_problems <= MAX_DECODE_PROBLEMS:
                result.problems.append(f"frame {number}: {exc}")
            return None

    def _open(
        self, key: bytes, found: _Flow | None, flags: int, size: int, ftime: float, head: bytes = b""
    ) -> _Flow | None:
        """A new connection on this 4-tuple (or a new SYN reusing it). None: not worth one.
        `head`: the first bytes of this segment's payload."""
        if found is None and not (size > 0 or flags & packets.SYN):
            return None  # a stray ACK/FIN/RST of a connection we no longer track
        half = len(key) // 2 - 2
        src, dst = key[:half], key[half : 2 * half]
        sport, dport = packets.PORTS.unpack(key[-4:])
        reverse = dst + src + packets.PORTS.pack(dport, sport)
        if found is not None:  # port reuse: a new SYN on a used 4-tuple
            self._unrebuilt(key)
            self._finish(found[0])
            self.active.pop(key, None)
            self.active.pop(reverse, None)
        # without the SYN (not captured), a hello says who is who, else the higher port is the client's
        said = None if flags & packets.SYN else _hello_from_client(head)
        if flags & packets.SYN:
            client_is_src = not flags & packets.ACK
        else:
            client_is_src = said if said is not None else sport > dport
        client, server = ((src, sport), (dst, dport)) if client_is_src else ((dst, dport), (src, sport))
        client_end = Endpoint(packets.ip_text(client[0]), client[1])
        server_end = Endpoint(packets.ip_text(server[0]), server[1])

        def opened(state: SharedState) -> None:
            self.tls_count += 1
            state.index = self.tls_count
            self.emit(ConnectionOpened(state.index, client_end, server_end, ftime))

        conn = TcpConnection(
            self.emit,
            self.keep_app_data,
            on_tls=opened,
            on_run=self.emit if self.fold_runs else None,
            holes=self.holes,
        )
        self.result.tcp_connections += 1
        mine, theirs = (
            (Direction.CLIENT, Direction.SERVER) if client_is_src else (Direction.SERVER, Direction.CLIENT)
        )
        self.active[key] = (conn, mine, conn.reassembler(mine))
        self.active[reverse] = (conn, theirs, conn.reassembler(theirs))
        if len(self.active) > 2 * MAX_OPEN_CONNECTIONS:
            self._evict_oldest()
        self._opened()
        return self.active[key]

    def _opened(self) -> None:
        """The number of open connections changed: the budget's room for out-of-order data too."""
        self.holes.opened(len(self.active) >> 1)

    def _pure_ack(self, key: bytes, ack: int, number: int, ftime: float) -> None:
        """A segment with no data while some direction waits past a hole: its ACK may show the
        hole lost (tcp.TcpReassembler.acked)."""
        found = self.active.get(key)
        if found is not None:
            found[0].segment(found[1], 0, packets.ACK, b"", number, ftime, 0, ack)

    def _remember_closed(self, key: bytes) -> None:
        closed = self.closed
        closed[key] = None
        closed[_reverse(key)] = None
        while len(closed) > 2 * MAX_CLOSED_REMEMBERED:
            closed.popitem(last=False)

    def _evict_oldest(self) -> None:
        """Too many connections open at once (a scan, a flood of half-open ones): close the
        oldest, so memory stays flat whatever the capture holds."""
        key = next(iter(self.active))
        conn = self.active[key][0]
        conn.add_problem(
            Problem(
                "limit",
                f"more than {MAX_OPEN_CONNECTIONS} connections open at once: this one (the oldest) "
                "was closed early; later packets of it are read as a new connection",
                None,
                conn.frame,
            )
        )
        self._unrebuilt(key)
        self._finish(conn)
        self.active.pop(key, None)
        self.active.pop(_reverse(key), None)
        self.holes.closed_connections += 1

    def _unrebuilt(self, key: bytes) -> None:
        """The connection on `key` ends: packets of it that came in fragments and were never
        rebuilt (one missing) are data it lost, said on it as a gap, so it is not judged as if
        nothing were missing."""
        found = self.active.get(key)
        if found is None or not self.fragments.waiting:
            return
        conn, direction = found[0], found[1]
        for lost in self.fragments.lost_in(key):
            conn.add_problem(
                Problem("gap", lost.detail, direction if lost.forward else direction.peer, lost.frame)
            )

    def _finish(self, conn: TcpConnection) -> None:
        """The connection ended (or the capture did): count it, close its transcript."""
        facts = conn.finish()
        if conn.is_tls:
            self.result.tls_connections += 1
            self.emit(ConnectionClosed(conn.index, facts))
        elif conn.is_tls is False:
            self.result.non_tls_connections += 1

    def _report_progress(self, number: int) -> None:
        assert self.progress is not None
        now = _time.monotonic()
        if now - self._last_progress > 0.5:
            self.progress(self.file.bytes_read, number)
            self._last_progress = now


def _hello_from_client(head: bytes) -> bool | None:
    """A segment that starts with a TLS handshake record holding a ClientHello (True) or a
    ServerHello (False); None when it says nothing. Without the SYN, the port order is only a
    guess (a client's ephemeral port may be below the server's port)."""
    if len(head) >= 5 and head[0] & 0x80 and head[2] == 1 and head[3] == 3:
        return True  # an SSLv2-format ClientHello
    if len(head) < 6 or head[0] != 22 or head[1] != 3:
        return None
    return True if head[5] == 1 else False if head[5] == 2 else None


def _reverse(key: bytes) -> bytes:
    """The other direction's key: addresses and ports swapped."""
    half = len(key) // 2 - 2
    return key[half : 2 * half] + key[:half] + key[-2:] + key[-4:-2]
