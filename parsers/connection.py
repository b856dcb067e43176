"""One TCP connection, both directions: segments → TLS records (parsers.boundary.Record) and
the TCP facts of the connection (FIN, RST, gaps). The stream half of the pipeline: nothing
here decrypts or decodes a handshake message.

The objects of one connection form no reference cycle (callbacks point at `SharedState` and
`_LaneEnds`, which point at nothing of the lanes): a closed connection is freed at once, and
the garbage collector never has to walk thousands of open ones to find it.
"""

from __future__ import annotations

from collections.abc import Callable

from parsers import openvpn
from parsers.boundary import MAX_RUN_LENGTHS, OpaqueRecords, Record, TcpFacts
from parsers.model import MAX_PROBLEMS, Direction, Problem, too_many_problems
from parsers.records import (
    APPLICATION_DATA,
    CONTENT_TYPES,
    HANDSHAKE,
    RecordSplitter,
    sslv2_hello_length,
)
from parsers.tcp import FIN, RST, SYN, Holes, TcpReassembler

#: application data bodies kept per direction when keys may exist: the handshake (TLS 1.3: all
#: of it travels in application_data records) and the first data records; a bulk transfer
#: beyond that would be copied only to be thrown away
KEEP_FIRST_BYTES = 128 << 10
SMALL_RECORD = 1024  # alerts, tickets, post-handshake requests, KeyUpdate: always kept

#: plaintext bytes (both directions) before TLS starts: a STARTTLS dialogue is a few hundred,
#: an XMPP stream's features a few KB; past this without a hello, the connection is not TLS
PRELUDE_MAX = 32 << 10

RecordSink = Callable[[Record], None]
#: (connection, from the server, record length) → will the TLS half read this application_data
#: record's body? False only when it certainly will not (it then gets the record without it)
BodyPolicy = Callable[[int, bool, int], bool]


def hello_at(data: bytes, i: int, from_server: bool) -> bool:
    """A TLS handshake record holding a ClientHello (from the client) or a ServerHello (from
    the server) starts at `i`, or an SSLv2-format ClientHello (the client's compatible hello)."""
    if len(data) - i < 6:
        return False
    if data[i] == HANDSHAKE and data[i + 1] == 3 and data[i + 2] <= 4:
        return data[i + 5] == (2 if from_server else 1)
    return not from_server and sslv2_client_hello(data, i)


def sslv2_client_hello(data: bytes, i: int) -> bool:
    """An SSLv2-format ClientHello offering SSL 3.0 or later (RFC 5246 E.2), whole here."""
    return sslv2_hello_length(data, i) > 0


#: takes the folded continuations of a run of unread application_data records
RunSink = Callable[[OpaqueRecords], None]
_new_record = tuple.__new__  # Record is a NamedTuple: built in C, once per record
#: called when a connection turns out to be TLS, before its first record (sets its `index`)
OnTls = Callable[["SharedState"], None]


class SharedState:
    """What both directions of one connection share."""

    __slots__ = (
        "body_policy",
        "dropped_problems",
        "frame",
        "index",
        "is_tls",
        "keep_app_data",
        "on_record",
        "on_run",
        "on_tls",
        "prelude",
        "problems",
        "run_count",
        "run_frame",
        "run_lane",
        "run_lengths",
        "run_time",
        "time",
        "tunnel",
    )

    def __init__(
        self,
        on_record: RecordSink,
        keep_app_data: bool,
        index: int,
        on_tls: Callable[[SharedState], None] | None,
        on_run: RunSink | None = None,
    ) -> None:
        self.on_record = on_record
        #: the record sink's owner may say which application_data bodies its TLS half will read
        #: (`wants_body`: a TLS half in this process, parsers.transcripts); None: keep by rule
        self.body_policy: BodyPolicy | None = getattr(
            getattr(on_record, "__self__", None), "wants_body", None
        )
        #: set: a run of unread application_data records goes out as its first Record and one
        #: OpaqueRecords for the rest (a bulk transfer: one item, not thousands)
        self.on_run = on_run
        self.run_lane: _LaneEnds | None = None  # whose run is open (its first record sent)
        self.run_count = 0  # records since that first one, not sent yet
        self.run_lengths: list[int] = []
        self.run_frame = 0
        self.run_time = 0.0
        #: keys may exist (a key log, or a pcapng that can embed one): keep encrypted bodies
        self.keep_app_data = keep_app_data
        self.index = index  # the connection number records carry (set by on_tls when 0)
        self.frame = 0  # of the segment being read
        self.time = 0.0
        self.problems: list[Problem] = []
        self.dropped_problems = 0  # past MAX_PROBLEMS
        self.is_tls: bool | None = None
        self.prelude = 0  # plaintext bytes seen before TLS (both directions)
        self.on_tls = on_tls
        #: TLS found inside a tunnel's framing (OpenVPN over TCP) in the client's first bytes,
        #: with those bytes: the connection puts an unwrapper in front of both directions
        self.tunnel: tuple[openvpn.Framing, bytes] | None = None

    def add_problem(self, problem: Problem) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)
        else:
            self.dropped_problems += 1

    def end_run(self) -> None:
        """Another record of the connection, or its end: send the open run's continuations."""
        lane, self.run_lane = self.run_lane, None
        if self.run_count and lane is not None and self.on_run is not None:
            self.on_run(
                OpaqueRecords(
                    self.index,
                    lane.from_server,
                    self.run_frame,
                    self.run_time,
                    self.run_count,
                    tuple(self.run_lengths),
                )
            )
            self.run_count = 0
            self.run_lengths = []


class _LaneEnds:
    """One direction's callbacks from its reassembler and record splitter."""

    __slots__ = ("direction", "from_server", "kept", "shared")

    def __init__(self, shared: SharedState, direction: Direction) -> None:
        self.shared = shared
        self.direction = direction
        self.from_server = direction is Direction.SERVER
        self.kept = 0

    def keep_body(self, content_type: int, length: int) -> bool:
        if content_type != APPLICATION_DATA:
            return True
        if not self.shared.keep_app_data:
            return False
        if length <= SMALL_RECORD:
            return True
        if self.kept < KEEP_FIRST_BYTES:
            policy = self.shared.body_policy
            if policy is not None and not policy(self.shared.index, self.from_server, length):
                return False  # its TLS half would drop it unread: no copy, and the run folds
            self.kept += length
            return True
        return False

    def record(self, header: bytes, body: bytes | None) -> None:
        c = self.shared
        if c.on_run is not None:
            run = c.run_lane
            if body is None and header[0] == APPLICATION_DATA:
                if run is self:  # the run goes on: counted, sent when it ends
                    c.run_count += 1
                    if len(c.run_lengths) < MAX_RUN_LENGTHS:
                        c.run_lengths.append((header[3] << 8) | header[4])
                    c.run_frame, c.run_time = c.frame, c.time
                    return
                if run is not None:
                    c.end_run()
                c.run_lane = self  # this record starts a run
            elif run is not None:
                c.end_run()
        c.on_record(_new_record(Record, (c.index, self.from_server, c.frame, c.time, header, body)))

    def report(self, kind: str, detail: str) -> None:
        self.shared.add_problem(Problem(kind, detail, self.direction, self.shared.frame))

    def malformed(self, detail: str) -> None:
        self.report("malformed", detail)

    def gate(self, data: bytes, i: int) -> bool | None:
        """Is this TLS at all? Records from the first bytes a direction delivers when they look
        like one. Anything else is plaintext before TLS (STARTTLS in SMTP, IMAP, POP3, LDAP,
        XMPP, FTP; PostgreSQL's and MySQL's upgrades; an HTTP CONNECT or a SOCKS handshake):
        passed over, one delivery at a time, until a hello starts a delivery (`hello_at`) — the
        connection keeps its SYN's direction and first frame. Past PRELUDE_MAX bytes of
        plaintext with no hello, the connection is not TLS (decided once, for both
        directions)."""
        shared = self.shared
        if shared.is_tls is not None:
            # decided by the other direction's hello: from here on this one is records too
            # (a STARTTLS peer says its last plaintext before the hello, never after)
            return shared.is_tls
        n = len(data)
        if shared.prelude == 0:
            # the connection's very first bytes: any record header (a capture may start late)
            if not self.from_server and n - i >= 3 and data[i] == HANDSHAKE and data[i + 1] == 3:
                return self._tls()
            if data[i] in CONTENT_TYPES and n - i >= 2 and data[i + 1] == 3:
                return self._tls()
            if not self.from_server and sslv2_client_hello(data, i):
                return self._tls()
            framing = None if self.from_server else openvpn.client_reset(data, i)
            if framing is not None:
                shared.tunnel = (framing, bytes(data[i:]))
                self._tls()
                return None  # these bytes go to the unwrapper (TcpConnection._open_tunnel)
        elif hello_at(data, i, self.from_server):
            return self._tls()
        shared.prelude += n - i
        if shared.prelude > PRELUDE_MAX:
            shared.is_tls = False
            return False
        return None

    def _tls(self) -> bool:
        shared = self.shared
        shared.is_tls = True
        if shared.on_tls is not None:
            shared.on_tls(shared)
        return True


class _Lane:
    """One direction: reassembly feeding record framing."""

    __slots__ = ("direction", "ends", "splitter", "tcp")

    def __init__(self, shared: SharedState, direction: Direction, holes: Holes | None = None) -> None:
        ends = _LaneEnds(shared, direction)
        self.direction = direction
        self.ends = ends
        self.splitter = RecordSplitter(ends.keep_body, ends.record, ends.malformed)
        self.splitter.gate = ends.gate
        self.tcp = TcpReassembler(self.splitter, ends.report, holes)

    def unwrap(self, framing: openvpn.Framing) -> openvpn.OpenVpnUnwrapper:
        """Read this direction's TLS from inside the tunnel's framing from here on."""
        unwrapper = openvpn.OpenVpnUnwrapper(self.splitter, framing, self.ends.report)
        self.tcp.sink = unwrapper
        return unwrapper


class TcpConnection:
    """Feed it segments of one connection (either direction); records go to `on_record`."""

    __slots__ = ("_client", "_server", "fin_by", "has_data", "lanes", "reset_by", "shared")

    def __init__(
        self,
        on_record: RecordSink,
        keep_app_data: bool,
        index: int = 0,
        on_tls: OnTls | None = None,
        on_run: RunSink | None = None,
        holes: Holes | None = None,
    ) -> None:
        """`on_run`: fold runs of unread application_data records (SharedState.on_run);
        `holes`: the reader's count of directions waiting past a hole (tcp.Holes)."""
        self.shared = SharedState(on_record, keep_app_data, index, on_tls, on_run)
        self._client = _Lane(self.shared, Direction.CLIENT, holes)
        self._server = _Lane(self.shared, Direction.SERVER, holes)
        self.lanes = {Direction.CLIENT: self._client, Direction.SERVER: self._server}
        self.has_data = False  # any payload seen (a SYN after that starts a new connection)
        self.fin_by: list[Direction] = []
        self.reset_by: Direction | None = None

    @property
    def index(self) -> int:
        return self.shared.index

    @property
    def is_tls(self) -> bool | None:
        return self.shared.is_tls

    @property
    def frame(self) -> int:
        return self.shared.frame

    def add_problem(self, problem: Problem) -> None:
        self.shared.add_problem(problem)

    def reassembler(self, direction: Direction) -> TcpReassembler:
        """For the capture reader's per-packet fast path (TcpReassembler.fast_forward)."""
        return self.lanes[direction].tcp

    @property
    def ended(self) -> bool:
        """Nothing more will come: not TLS, reset, or closed both ways."""
        return self.shared.is_tls is False or self.reset_by is not None or len(self.fin_by) == 2

    def segment(
        self,
        direction: Direction,
        seq: int,
        flags: int,
        payload: bytes,
        frame: int,
        time: float,
        wire_length: int | None = None,
        ack: int | None = None,
    ) -> None:
        """`ack`: the segment's acknowledgement number when its ACK flag is set (the other
        direction's bytes the peer holds: tcp.TcpReassembler.acked)."""
        tcp = (self._server if direction is Direction.SERVER else self._client).tcp
        shared = self.shared
        shared.frame, shared.time = frame, time
        if ack:  # 0: none, or a synthetic capture's (our writers put 0)
            peer = (self._client if direction is Direction.SERVER else self._server).tcp
            if flags & SYN and peer.syn_starts and ack not in peer.syn_starts:
                return  # a SYN-ACK answering another SYN (another connection on this 4-tuple)
            if flags & SYN and not peer.started:
                peer.syn((ack - 1) & 0xFFFFFFFF)  # the SYN was not captured: its ISN is ack - 1
            peer.acked(ack)
            if shared.tunnel is not None:
                self._open_tunnel()
        if flags & RST:
            self.reset_by = direction
            return
        if flags & SYN:
            tcp.syn(seq)
            if payload:  # TCP Fast Open: the SYN carries the first data (a retransmitted SYN
                # is not "data seen": has_data stays as it was, so it opens no new connection)
                tcp.feed((seq + 1) & 0xFFFFFFFF, payload)
            return
        if tcp.next_seq is None:  # neither a SYN nor data seen yet in this direction
            if not payload:
                if flags & FIN:
                    self.fin_by.append(direction)
                return
            shared.add_problem(
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
            if shared.tunnel is not None:
                self._open_tunnel()
        if wire_length is not None and wire_length > len(payload):
            tcp.cut(seq, len(payload), wire_length)
        if flags & FIN and direction not in self.fin_by:
            self.fin_by.append(direction)

    def _open_tunnel(self) -> None:
        """The client's first bytes were a tunnel's (parsers.openvpn): both directions read
        through its unwrapper from here, starting with those bytes."""
        shared = self.shared
        assert shared.tunnel is not None
        framing, first = shared.tunnel
        shared.tunnel = None
        shared.add_problem(Problem("tunnel", framing.describe(), None, shared.frame))
        self._server.unwrap(framing)
        self._client.unwrap(framing).data(first)

    def finish(self) -> TcpFacts:
        """End of the connection: report what was never filled in."""
        shared = self.shared
        for lane in self.lanes.values():
            lane.tcp.finish()
            if lane.splitter.inside_record:
                shared.add_problem(
                    Problem("truncated", "capture ends inside a TLS record", lane.direction, shared.frame)
                )
        shared.end_run()
        problems = shared.problems
        if shared.dropped_problems:
            problems.append(too_many_problems(shared.dropped_problems, shared.frame))
        return TcpFacts(tuple(problems), tuple(self.fin_by), self.reset_by)
