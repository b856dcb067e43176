"""TCP reassembly for one direction: segments in any order → the stream's bytes, in order.

What it hands on is a `ByteSink`: each run of in-order bytes, and a mark where bytes were lost
(a gap, or a packet the capture's snaplen cut) so the next layer resynchronises. It knows
nothing of TLS.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from parsers.budget import Budget

#: what the reader shares with every direction: how many hold data past a hole, and the memory
#: budget their out-of-order data draws on (parsers.budget)
Holes = Budget

FIN, SYN, RST, ACK = 0x01, 0x02, 0x04, 0x10
MAX_PENDING = 4 << 20  # out-of-order bytes kept per direction before declaring a gap
#: a segment further ahead than this is not this stream's (another ISN on the same 4-tuple, a
#: stray): dropped, unless MAX_PENDING bytes of them come, when the stream has jumped
MAX_AHEAD = 16 << 20
#: the latest bytes delivered, kept per direction to compare a retransmission of them with
#: (a copy with other bytes is said, not silently dropped)
RECENT = 3072
SEQ_MASK = 0xFFFFFFFF
HALF_SPACE = 0x80000000


class ByteSink(Protocol):
    """What reassembled bytes feed (parsers.records.RecordSplitter)."""

    def data(self, data: bytes, skipped: int = 0) -> int:
        """The next bytes of the stream, after `skipped` bytes passed unseen (never more than
        it last allowed). Returns how many bytes after these it need not see (bulk data)."""
        ...

    def lost(self) -> None:
        """Bytes before what comes next were lost: drop partial state, resynchronise."""


#: (kind, detail): a Problem of this direction, in the connection's words
ReportFn = Callable[[str, str], None]


class TcpReassembler:
    """One direction of one connection, by sequence number (32-bit wrap-around included)."""

    def __init__(self, sink: ByteSink, report: ReportFn, holes: Holes | None = None) -> None:
        self.sink = sink
        self.report = report
        self.holes = holes
        self.next_seq: int | None = None  # None until a SYN or the first payload
        self.pending: dict[int, bytes] = {}
        self.pending_bytes = 0
        self.skippable = 0  # bytes ahead the sink said it need not see
        self.skipped = 0  # of those, passed by and not told to the sink yet
        #: the first byte's sequence number of each SYN seen before any data: a peer that
        #: answers twice with different ISNs (a TCP Fast Open fallback, a middlebox) has its
        #: data start at one of them
        self.syn_starts: tuple[int, ...] = ()
        self.delivered = False  # any byte handed on
        self.stray = 0  # bytes dropped as too far ahead (MAX_AHEAD) since the last delivery
        #: the last bytes delivered (at least RECENT of them, or the whole run), as delivered ...
        self.recent: list[bytes] = []
        self.recent_seq = 0  # ... the sequence number of their first ...
        self.recent_len = 0  # ... and how many they are

    @property
    def started(self) -> bool:
        return self.next_seq is not None

    def syn(self, seq: int) -> None:
        """A SYN (retransmissions included). Once data has flowed, a late SYN changes nothing."""
        if self.delivered or self.pending:
            return
        start = (seq + 1) & SEQ_MASK
        self.next_seq = start
        if start not in self.syn_starts and len(self.syn_starts) < 8:
            self.syn_starts += (start,)

    def start_mid_stream(self, seq: int) -> None:
        """The capture begins inside the connection: take `seq` as the start, resynchronise."""
        self.next_seq = seq
        self.skippable = self.skipped = 0
        self.sink.lost()

    def fast_forward(self, seq: int, size: int) -> bool:
        """The per-packet fast path: an in-order segment the next layer need not see (the
        middle of a bulk record) passes by without a copy or a call."""
        if seq != self.next_seq or size >= self.skippable or self.pending:
            return False
        self.skippable -= size
        self.skipped += size
        self.next_seq = (seq + size) & SEQ_MASK
        return True

    def _held(self, before: int) -> None:
        """Tell the budget (`holes`) after a call that may have changed `pending`."""
        holes = self.holes
        if holes is not None and before != self.pending_bytes:
            holes.held(self, before)

    def give_up(self) -> None:
        """The memory budget ran out: deliver what is held past the holes now, after gaps, as
        at the end of the capture (parsers.budget)."""
        before = self.pending_bytes
        while self.pending:
            self._skip_gap("given up on early: out-of-order data past the reader's memory budget")
        self._held(before)

    def acked(self, ack: int) -> None:
        """The peer acknowledged up to `ack`: bytes before it that the capture does not hold were
        lost by the capture (never to be seen), so data held past them is delivered now, at this
        frame, not at the end of the capture. An ack beyond every byte held says nothing."""
        if not self.pending or self.next_seq is None:
            return
        base = self.next_seq
        ahead = (ack - base) & SEQ_MASK
        if ahead == 0 or ahead >= HALF_SPACE:
            return
        furthest = max(((seq - base) & SEQ_MASK) + len(data) for seq, data in self.pending.items())
        if ahead > furthest:
            return
        first = min(self.pending, key=lambda s: (s - base) & SEQ_MASK)
        target = first if (first - base) & SEQ_MASK <= ahead else ack
        before = self.pending_bytes
        self.report("gap", f"{(target - base) & SEQ_MASK} bytes missing (lost segments)")
        self._resume_at(target)
        self._held(before)

    def feed(self, seq: int, payload: bytes) -> None:
        before = self.pending_bytes
        self._feed(seq, payload)
        if before or self.pending_bytes:
            self._held(before)

    def _feed(self, seq: int, payload: bytes) -> None:
        assert self.next_seq is not None
        if not self.delivered and seq != self.next_seq and seq in self.syn_starts:
            self.next_seq = seq  # the data follows another of the SYNs seen
        diff = (seq - self.next_seq) & SEQ_MASK
        if diff >= HALF_SPACE:  # before next_seq: retransmission or overlap
            if self.recent:
                self._compare(seq, payload)
            overlap = 0x100000000 - diff
            if overlap >= len(payload):
                return
            payload = payload[overlap:]
            diff = 0
        if diff == 0:
            self._deliver(payload)
            if self.pending:
                self._drain()
            return
        if diff > MAX_AHEAD:
            self.stray += len(payload)
            if self.stray <= MAX_PENDING:
                return  # not this stream's bytes
            self.report("gap", f"the stream jumped {diff} bytes ahead (another sequence space)")
            self.pending.clear()
            self.pending_bytes = 0
            self._resume_at(seq)
            self._deliver(payload)
            return
        if not payload:
            return
        held = self.pending.get(seq)
        if held is not None and _differ(held, 0, payload, 0, min(len(held), len(payload))):
            self._conflict(seq, min(len(held), len(payload)))
            return  # the first copy stays, as for bytes already read
        if held is None or len(held) < len(payload):
            self.pending_bytes += len(payload) - len(self.pending.get(seq, b""))
            self.pending[seq] = payload
        if self.pending_bytes > MAX_PENDING:
            self._skip_gap()

    def cut(self, seq: int, captured: int, wire_length: int) -> None:
        """The capture kept `captured` of this segment's `wire_length` bytes: skip the rest."""
        end = (seq + wire_length) & SEQ_MASK
        assert self.next_seq is not None
        if (end - self.next_seq) & SEQ_MASK >= HALF_SPACE:
            return  # already past it
        self.report(
            "snaplen",
            f"packet cut by the capture's snaplen: {wire_length - captured} of {wire_length} bytes "
            "not captured",
        )
        before = self.pending_bytes
        self._resume_at(end)
        self._held(before)

    def finish(self) -> None:
        """End of capture: whatever is still out of order follows a gap."""
        before = self.pending_bytes
        while self.pending:
            self._skip_gap()
        self._held(before)
        if self.skipped:
            self._deliver(b"")

    def _deliver(self, data: bytes) -> None:
        if data:
            self._keep_recent(data)
        self.delivered = True
        self.stray = 0
        self.next_seq = ((self.next_seq or 0) + len(data)) & SEQ_MASK
        self.skippable = self.sink.data(data, self.skipped)
        self.skipped = 0

    def _resume_at(self, seq: int) -> None:
        """Bytes before `seq` are lost."""
        self.next_seq = seq
        self.skippable = self.skipped = 0
        self.sink.lost()
        self._drain()

    def _drain(self) -> None:
        while self.pending:
            assert self.next_seq is not None
            progressed = False
            for seq in list(self.pending):
                diff = (seq - self.next_seq) & SEQ_MASK
                if diff < HALF_SPACE and diff != 0:
                    continue
                data = self.pending.pop(seq)
                self.pending_bytes -= len(data)
                overlap = 0 if diff == 0 else 0x100000000 - diff
                if overlap < len(data):
                    self._deliver(data[overlap:])
                progressed = True
            if not progressed:
                return

    def _keep_recent(self, data: bytes) -> None:
        """The last RECENT bytes delivered, while they run on without a gap or a skip: kept as
        the segments themselves (no copy: a segment is ~1.5 KB, and each was concatenated and
        cut, 4 KB copied per segment), joined only when a retransmission is compared."""
        start = self.next_seq or 0
        if len(data) >= RECENT:
            self.recent, self.recent_len = [data[-RECENT:]], RECENT
            self.recent_seq = (start + len(data) - RECENT) & SEQ_MASK
            return
        recent = self.recent
        if recent and (self.recent_seq + self.recent_len) & SEQ_MASK == start:
            recent.append(data)
            self.recent_len += len(data)
            while self.recent_len - len(recent[0]) >= RECENT:  # the rest still holds RECENT
                first = recent.pop(0)
                self.recent_len -= len(first)
                self.recent_seq = (self.recent_seq + len(first)) & SEQ_MASK
        else:
            self.recent, self.recent_seq, self.recent_len = [data], start, len(data)

    def _recent_bytes(self) -> tuple[bytes, int]:
        """The last RECENT bytes delivered (fewer: all of the run) and the number of the first."""
        joined = b"".join(self.recent)
        if len(joined) > RECENT:
            return joined[-RECENT:], (self.recent_seq + len(joined) - RECENT) & SEQ_MASK
        return joined, self.recent_seq

    def _compare(self, seq: int, payload: bytes) -> None:
        """A retransmission of bytes already read: do the bytes it shares with the latest
        ones read (`recent`) match?"""
        recent, recent_seq = self._recent_bytes()
        ahead = (seq - recent_seq) & SEQ_MASK
        if ahead < HALF_SPACE:  # starts inside (or past) the recent bytes
            size = min(len(recent) - ahead, len(payload))
            if size > 0 and _differ(recent, ahead, payload, 0, size):
                self._conflict(seq, size)
        else:  # starts before them
            before = 0x100000000 - ahead
            size = min(len(payload) - before, len(recent))
            if size > 0 and _differ(recent, 0, payload, before, size):
                self._conflict(recent_seq, size)

    def _conflict(self, seq: int, size: int) -> None:
        where = (
            f"relative sequence number {(seq - self.syn_starts[0] + 1) & SEQ_MASK}"
            if self.syn_starts
            else (f"sequence number {seq}")
        )
        self.report(
            "conflict",
            f"a retransmission carries other bytes than the first copy of the same {size} bytes "
            f"(from {where}): the first copy was used, as tshark does; if it was the damaged one, "
            "what was read from it may be wrong",
        )

    def _skip_gap(self, why: str = "lost segments") -> None:
        """Lost segments: jump to the earliest pending data."""
        assert self.next_seq is not None
        base = self.next_seq
        first = min(self.pending, key=lambda s: (s - base) & SEQ_MASK)
        self.report("gap", f"{(first - base) & SEQ_MASK} bytes missing ({why})")
        self._resume_at(first)


def _differ(first: bytes, at: int, second: bytes, start: int, size: int) -> bool:
    """Do `size` bytes of `first` from `at` differ from those of `second` from `start`?"""
    return first[at : at + size] != second[start : start + size]
