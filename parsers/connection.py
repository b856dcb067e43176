"""One TCP connection, both directions: segments → TLS records (parsers.boundary.Record) and
the TCP facts of the connection (FIN, RST, gaps). The stream half of the pipeline: nothing
here decrypts or decodes a handshake message."""

from __future__ import annotations

from collections.abc import Callable

from parsers.boundary import Record, TcpFacts
from parsers.model import MAX_PROBLEMS, Direction, Problem, too_many_problems
from parsers.records import APPLICATION_DATA, CONTENT_TYPES, HANDSHAKE, RecordSplitter
from parsers.tcp import FIN, RST, SYN, TcpReassembler

#: application data bodies kept per direction when keys may exist: the handshake (TLS 1.3: all
#: of it travels in application_data records) and the first data records; a bulk transfer
#: beyond that would be copied only to be thrown away
KEEP_FIRST_BYTES = 128 << 10
SMALL_RECORD = 1024  # alerts, tickets, post-handshake requests, KeyUpdate: always kept

RecordSink = Callable[[Record], None]


class _Lane:
    """One direction: reassembly feeding record framing."""

    def __init__(self, conn: TcpConnection, direction: Direction) -> None:
        self.conn = conn
        self.direction = direction
        self.from_server = direction is Direction.SERVER
        self.kept = 0
        self.splitter = RecordSplitter(self.keep_body, self.record, self.malformed)
        self.tcp = TcpReassembler(self.splitter, self.report)

    def keep_body(self, content_type: int, length: int) -> bool:
        if content_type != APPLICATION_DATA:
            return True
        if not self.conn.keep_app_data:
            return False
        if length <= SMALL_RECORD:
            return True
        if self.kept < KEEP_FIRST_BYTES:
            self.kept += length
            return True
        return False

    def record(self, header: bytes, body: bytes | None) -> None:
        c = self.conn
        c.on_record(Record(c.index, self.from_server, c.frame, c.time, header, body))

    def report(self, kind: str, detail: str) -> None:
        self.conn.add_problem(Problem(kind, detail, self.direction, self.conn.frame))

    def malformed(self, detail: str) -> None:
        self.report("malformed", detail)

    def gate(self, data: bytes, i: int) -> bool:
        return self.conn.classify(self, data, i)


class TcpConnection:
    """Feed it segments of one connection (either direction); records go to `on_record`."""

    def __init__(
        self,
        on_record: RecordSink,
        keep_app_data: bool,
        index: int = 0,
        on_tls: Callable[[TcpConnection], None] | None = None,
    ) -> None:
        self.on_record = on_record
        #: keys may exist (a key log, or a pcapng that can embed one): keep encrypted bodies
        self.keep_app_data = keep_app_data
        self.index = index  # the connection number records carry (set by on_tls if 0)
        self.on_tls = on_tls
        self.lanes = {d: _Lane(self, d) for d in (Direction.CLIENT, Direction.SERVER)}
        for lane in self.lanes.values():
            lane.splitter.gate = lane.gate
        self.is_tls: bool | None = None
        self.has_data = False  # any payload seen (a SYN after that starts a new connection)
        self.problems: list[Problem] = []
        self.dropped_problems = 0  # past MAX_PROBLEMS
        self.fin_by: list[Direction] = []
        self.reset_by: Direction | None = None
        self.frame = 0
        self.time = 0.0

    def reassembler(self, direction: Direction) -> TcpReassembler:
        """For the capture reader's per-packet fast path (TcpReassembler.fast_forward)."""
        return self.lanes[direction].tcp

    @property
    def ended(self) -> bool:
        """Nothing more will come: not TLS, reset, or closed both ways."""
        return self.is_tls is False or self.reset_by is not None or len(self.fin_by) == 2

    def segment(
        self,
        direction: Direction,
        seq: int,
        flags: int,
        payload: bytes,
        frame: int,
        time: float,
        wire_length: int | None = None,
    ) -> None:
        tcp = self.lanes[direction].tcp
        self.frame, self.time = frame, time
        if flags & RST:
            self.reset_by = direction
            return
        if flags & SYN:
            tcp.syn(seq)
            return
        if not tcp.started:
            if not payload:
                if flags & FIN:
                    self.fin_by.append(direction)
                return
            self.add_problem(
                Problem(
                    "mid-stream",
                    "capture starts inside the connection; decoding resumes at the first record header",
                    direction,
                    frame,
                )
            )
            tcp.start_mid_stream(seq)
        if payload:
            self.has_data = True
            tcp.feed(seq, payload)
        if wire_length is not None and wire_length > len(payload):
            tcp.cut(seq, len(payload), wire_length)
        if flags & FIN and direction not in self.fin_by:
            self.fin_by.append(direction)

    def classify(self, lane: _Lane, data: bytes, i: int) -> bool:
        """Decide from a direction's first bytes whether this is TLS at all."""
        n = len(data)
        if lane.direction is Direction.CLIENT and n - i >= 3 and data[i] == HANDSHAKE and data[i + 1] == 3:
            tls = True
        else:
            tls = data[i] in CONTENT_TYPES and n - i >= 2 and data[i + 1] == 3
        self.is_tls = tls
        for other in self.lanes.values():
            other.splitter.gate = None
        if tls and self.on_tls is not None:
            self.on_tls(self)
        return tls

    def add_problem(self, problem: Problem) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)
        else:
            self.dropped_problems += 1

    def finish(self) -> TcpFacts:
        """End of the connection: report what was never filled in."""
        for lane in self.lanes.values():
            lane.tcp.finish()
            if lane.splitter.inside_record:
                self.add_problem(
                    Problem("truncated", "capture ends inside a TLS record", lane.direction, self.frame)
                )
        if self.dropped_problems:
            self.problems.append(too_many_problems(self.dropped_problems, self.frame))
        return TcpFacts(tuple(self.problems), tuple(self.fin_by), self.reset_by)
