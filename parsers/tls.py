"""One TCP connection's bytes → TLS records → handshake messages → a Transcript.

Each direction has its own TCP reassembly (by sequence number), record splitter and handshake
buffer (messages split across records, several messages in one record). Bulk application data
is skipped by record headers, never buffered, unless a key log lets us read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from parsers import messages
from parsers.decrypt import (
    TLS12_AEAD_SUITES,
    TLS12_CBC_SUITES,
    TLS13_SUITES,
    DecryptError,
    Tls12CbcDecryptor,
    Tls12Decryptor,
    Tls13Decryptor,
)
from parsers.keylog import KeyLog
from parsers.model import (
    Alert,
    ApplicationData,
    ChangeCipherSpec,
    ClientHello,
    Direction,
    EncryptedRecords,
    HandshakeEvent,
    Message,
    Problem,
    ServerHello,
    SimpleMessage,
    Transcript,
)

MAX_RECORD = (1 << 14) + 2048
MAX_HANDSHAKE_MESSAGE = 1 << 20  # a bigger message is absurd: reported, not buffered
MAX_PENDING = 4 << 20  # out-of-order bytes kept per direction before declaring a gap
FIN, SYN, RST = 0x01, 0x02, 0x04


def plausible_header(data: bytes | bytearray, pos: int) -> bool:
    return (
        data[pos] in (20, 21, 22, 23)
        and data[pos + 1] == 3
        and data[pos + 2] <= 4
        and ((data[pos + 3] << 8) | data[pos + 4]) <= MAX_RECORD
    )


@dataclass
class _Direction:
    """TCP reassembly and record splitting for one direction."""

    next_seq: int | None = None
    pending: dict[int, bytes] = field(default_factory=dict)
    pending_bytes: int = 0
    header: bytearray = field(default_factory=bytearray)
    need: int = 0
    body: bytearray | None = None
    record_header: bytes = b""
    resync: bool = False
    dead: bool = False  # unrecoverable: stop reading this direction
    handshake: bytearray = field(default_factory=bytearray)
    encrypted: bool = False
    finished: bool = False
    decryptor: Tls12Decryptor | Tls12CbcDecryptor | Tls13Decryptor | None = None
    #: the key epoch a decryptor was wanted for but the key log had no secret yet (live use)
    wanted: str | None = None
    app_records: int = 0


@dataclass
class _OpaqueRun:
    direction: Direction
    time: float
    frame: int
    count: int
    sizes: list[int]


class TlsConnection:
    """Feeds on TCP segments of one connection; `transcript` is the result."""

    def __init__(self, transcript: Transcript, keylog: KeyLog | None, lean: bool = False) -> None:
        self.t = transcript
        self.keylog = keylog
        self.lean = lean  # hand readers instead of scapy (parsers/lean.py)
        self.dirs = {Direction.CLIENT: _Direction(), Direction.SERVER: _Direction()}
        self.frame = 0
        self.time = 0.0
        self.client_random: bytes | None = None
        self.server_random: bytes | None = None
        self.suite: int | None = None
        self.tls13 = False
        self.is_tls: bool | None = None
        self.secrets: dict[str, bytes] = {}
        self._run: _OpaqueRun | None = None
        self.has_data = False  # any TCP payload seen (a SYN after that starts a new connection)
        self._renegotiation: tuple[bytes, dict[str, bytes]] | None = None
        self.encrypt_then_mac = False

    # -- TCP ---------------------------------------------------------------------------------
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
        state = self.dirs[direction]
        self.frame, self.time = frame, time
        if flags & RST:
            self.t.reset_by = direction
            return
        if flags & SYN:
            state.next_seq = (seq + 1) & 0xFFFFFFFF
            return
        if state.next_seq is None:
            if not payload:
                if flags & FIN:
                    self.t.fin_by.append(direction)
                return
            state.next_seq = seq
            state.resync = True
            self.t.problems.append(
                Problem(
                    "mid-stream",
                    "capture starts inside the connection; decoding resumes at the first record header",
                    direction,
                    frame,
                )
            )
        if payload:
            self.has_data = True
            self._tcp_data(state, direction, seq, payload)
        if wire_length is not None and wire_length > len(payload):
            self._snaplen_cut(state, direction, seq, payload, wire_length)
        if flags & FIN and direction not in self.t.fin_by:
            self.t.fin_by.append(direction)

    def _tcp_data(self, state: _Direction, direction: Direction, seq: int, payload: bytes) -> None:
        assert state.next_seq is not None
        diff = (seq - state.next_seq) & 0xFFFFFFFF
        if diff >= 0x80000000:  # before next_seq: retransmission or overlap
            overlap = 0x100000000 - diff
            if overlap >= len(payload):
                return
            payload = payload[overlap:]
            diff = 0
        if diff == 0:
            self._deliver(state, direction, payload)
            self._drain(state, direction)
            return
        if seq not in state.pending or len(state.pending[seq]) < len(payload):
            state.pending_bytes += len(payload) - len(state.pending.get(seq, b""))
            state.pending[seq] = payload
        if state.pending_bytes > MAX_PENDING:
            self._skip_gap(state, direction)

    def _snaplen_cut(
        self, state: _Direction, direction: Direction, seq: int, payload: bytes, wire_length: int
    ) -> None:
        """The capture kept only part of this segment: skip the rest and resynchronise."""
        end = (seq + wire_length) & 0xFFFFFFFF
        assert state.next_seq is not None
        if (end - state.next_seq) & 0xFFFFFFFF >= 0x80000000:
            return  # already past it
        self.t.problems.append(
            Problem(
                "snaplen",
                f"packet cut by the capture's snaplen: "
                f"{wire_length - len(payload)} of {wire_length} bytes "
                "not captured",
                direction,
                self.frame,
            )
        )
        self._resume_at(state, direction, end)

    def _resume_at(self, state: _Direction, direction: Direction, seq: int) -> None:
        """Bytes before `seq` are lost: drop the partial record, find the next record header."""
        state.next_seq = seq
        state.header.clear()
        state.need = 0
        state.body = None
        state.resync = True
        self._drain(state, direction)

    def _drain(self, state: _Direction, direction: Direction) -> None:
        while state.pending:
            assert state.next_seq is not None
            progressed = False
            for seq in list(state.pending):
                diff = (seq - state.next_seq) & 0xFFFFFFFF
                if diff < 0x80000000 and diff != 0:
                    continue
                data = state.pending.pop(seq)
                state.pending_bytes -= len(data)
                overlap = 0 if diff == 0 else 0x100000000 - diff
                if overlap < len(data):
                    self._deliver(state, direction, data[overlap:])
                progressed = True
            if not progressed:
                return

    def _skip_gap(self, state: _Direction, direction: Direction) -> None:
        """Lost segments: jump to the earliest pending data and resynchronise records."""
        assert state.next_seq is not None
        base = state.next_seq
        first = min(state.pending, key=lambda s: (s - base) & 0xFFFFFFFF)
        missing = (first - base) & 0xFFFFFFFF
        self.t.problems.append(
            Problem("gap", f"{missing} bytes missing (lost segments)", direction, self.frame)
        )
        self._resume_at(state, direction, first)

    def finish(self) -> None:
        """End of capture: report what was never filled in, decode what is left."""
        self.finish_tcp()
        self.finish_tls()

    def finish_tcp(self) -> None:
        for direction, state in self.dirs.items():
            while state.pending:
                self._skip_gap(state, direction)
            if state.need or state.header:
                self.t.problems.append(
                    Problem("truncated", "capture ends inside a TLS record", direction, self.frame)
                )

    def finish_tls(self) -> None:
        client, server = self.dirs[Direction.CLIENT], self.dirs[Direction.SERVER]
        if (
            self.tls13
            and not self.t.handshake_done
            and client.encrypted
            and server.encrypted
            and client.decryptor is None
        ):
            # Without keys the client's Finished is not visible: its encrypted flight after
            # the server's is the best evidence that the handshake completed on its side.
            self.t.handshake_done = True
            self.t.done_inferred = True
        self._flush_run()
        # one order whichever process found them (TCP problems in a worker, TLS ones here)
        self.t.problems.sort(key=lambda p: p.frame or 0)

    def replay(self, records: list[RecordedRecord]) -> None:
        """Process records a RecordRecorder took in a worker process, exactly as if read here."""
        for server_side, frame, time, header, body in records:
            direction = Direction.SERVER if server_side else Direction.CLIENT
            state = self.dirs[direction]
            self.frame, self.time = frame, time
            if not self._wants_body(state, header[0], (header[3] << 8) | header[4]):
                body = None
            self._record(state, direction, header, body)

    # -- records -----------------------------------------------------------------------------
    def _deliver(self, state: _Direction, direction: Direction, data: bytes) -> None:
        n = len(data)
        state.next_seq = ((state.next_seq or 0) + n) & 0xFFFFFFFF
        if state.dead:
            return
        if state.need > n and state.body is None:
            state.need -= n  # fast path: the middle of a record we skip (bulk data)
            return
        i = 0
        if state.resync:
            i = self._find_header(data)
            if i < 0:
                return
            state.resync = False
        if self.is_tls is None:
            if (
                direction is Direction.CLIENT
                and not state.header
                and n - i >= 3
                and data[i] == 22
                and data[i + 1] == 3
            ):
                self.is_tls = True
            elif n - i >= 1 and not state.header:
                if data[i] in (20, 21, 22, 23) and n - i >= 2 and data[i + 1] == 3:
                    self.is_tls = True
                else:
                    self.is_tls = False
                    state.dead = True
                    return
        while i < n:
            if state.need == 0:
                take = min(5 - len(state.header), n - i)
                state.header += data[i : i + take]
                i += take
                if len(state.header) < 5:
                    return
                header = bytes(state.header)
                state.header.clear()
                if not plausible_header(header, 0):
                    self.t.problems.append(
                        Problem(
                            "malformed",
                            f"not a TLS record header ({header.hex(' ')}); the rest of "
                            "this direction is skipped",
                            direction,
                            self.frame,
                        )
                    )
                    state.dead = True
                    return
                length = (header[3] << 8) | header[4]
                state.record_header = header
                state.need = length
                state.body = bytearray() if self._wants_body(state, header[0], length) else None
                if length == 0:
                    self._record(state, direction, header, b"")
                    continue
            take = min(state.need, n - i)
            if state.body is not None:
                state.body += data[i : i + take]
            i += take
            state.need -= take
            if state.need == 0:
                body = bytes(state.body) if state.body is not None else None
                state.body = None
                self._record(state, direction, state.record_header, body)

    @staticmethod
    def _find_header(data: bytes) -> int:
        for pos in range(max(0, len(data) - 4)):
            if plausible_header(data, pos):
                return pos
        return -1

    def _wants_body(self, state: _Direction, ctype: int, length: int) -> bool:
        """Keep this record's body? Decides what bulk data is skipped unread."""
        if ctype != 23:
            return True
        if self.tls13 and state.decryptor is None and not state.encrypted:
            # the client's first encrypted record: switch to its handshake keys now, so the
            # record's body is kept for decryption
            state.encrypted = True
            direction = next(d for d, s in self.dirs.items() if s is state)
            self._switch_keys(state, direction, "HANDSHAKE")
        if state.decryptor is None:
            return False
        # After the handshake, read small records (alerts, tickets, post-handshake requests,
        # KeyUpdate) and the first data records (an HTTP status line); skip bulk data.
        return not state.finished or length <= 1024 or state.app_records < 2

    def _record(self, state: _Direction, direction: Direction, header: bytes, body: bytes | None) -> None:
        ctype, length = header[0], (header[3] << 8) | header[4]
        if ctype == 20:
            self._emit(direction, ChangeCipherSpec())
            if not self.tls13:
                state.encrypted = True
                self._switch_keys(state, direction, "TLS12")
            return
        if not state.encrypted or ctype not in (21, 22, 23):
            if ctype == 22 and body is not None:
                self._handshake_bytes(state, direction, body, encrypted=False)
            elif ctype == 21 and body is not None and len(body) == 2:
                self._emit(direction, Alert(body[0], body[1]))
            elif ctype == 23:
                self._opaque(direction, length)
            return
        if state.decryptor is None or body is None:
            if state.decryptor is not None:
                state.decryptor.skip()
            if ctype == 21:
                self._emit(direction, Alert(0, 0, encrypted=True))
            elif ctype == 22 and not self.tls13:
                self._emit(direction, SimpleMessage(20, length), encrypted=True)
                state.finished = True
                self._check_done()
            else:
                self._opaque(direction, length)
            return
        try:
            if isinstance(state.decryptor, Tls13Decryptor):
                inner, plain = state.decryptor.decrypt(header, body)
            else:
                inner, plain = ctype, state.decryptor.decrypt(ctype, header[1:3], body)
        except DecryptError as exc:
            self.t.problems.append(Problem("undecryptable", str(exc), direction, self.frame))
            state.decryptor, state.wanted = None, None
            self._opaque(direction, length)
            return
        self.t.decrypted = True
        if inner == 22:
            self._handshake_bytes(state, direction, plain, encrypted=True)
        elif inner == 21 and len(plain) == 2:
            self._emit(direction, Alert(plain[0], plain[1]), encrypted=True)
        elif inner == 23:
            state.app_records += 1
            first = plain.split(b"\r\n", 1)[0][:120]
            line = (
                first.decode("latin-1")
                if first[:5] in (b"HTTP/", b"GET /", b"POST ") or first[:4] in (b"PUT ", b"HEAD")
                else None
            )
            self._emit(direction, ApplicationData(len(plain), line), encrypted=True)

    def _opaque(self, direction: Direction, length: int) -> None:
        """Fold consecutive opaque records of one direction into one event (built lazily: a
        bulk transfer is thousands of records)."""
        run = self._run
        if run is not None and run.direction is direction:
            run.count += 1
            if len(run.sizes) < 64:
                run.sizes.append(length)
            return
        self._flush_run()
        self._run = _OpaqueRun(direction, self.time, self.frame, 1, [length])

    def _flush_run(self) -> None:
        run = self._run
        if run is None:
            return
        self._run = None
        self.t.events.append(
            HandshakeEvent(
                run.direction,
                run.time - self.t.start_time,
                EncryptedRecords(run.count, tuple(run.sizes)),
                run.frame,
                True,
            )
        )

    # -- handshake messages ------------------------------------------------------------------
    def _handshake_bytes(self, state: _Direction, direction: Direction, data: bytes, encrypted: bool) -> None:
        buf = state.handshake
        buf += data
        while len(buf) >= 4:
            length = (buf[1] << 16) | (buf[2] << 8) | buf[3]
            if length > MAX_HANDSHAKE_MESSAGE:
                self.t.problems.append(
                    Problem(
                        "malformed",
                        f"handshake message of {length} bytes announced: absurd, skipped",
                        direction,
                        self.frame,
                    )
                )
                buf.clear()
                state.dead = True
                return
            if len(buf) < 4 + length:
                return
            raw = bytes(buf[: 4 + length])
            del buf[: 4 + length]
            self._message(state, direction, raw[0], raw, encrypted)

    def _message(
        self, state: _Direction, direction: Direction, msg_type: int, raw: bytes, encrypted: bool
    ) -> None:
        post = state.finished and self.tls13
        try:
            message = messages.decode(msg_type, raw, self.tls13, self.lean)
        except messages.MalformedMessage as exc:
            self.t.problems.append(Problem("malformed", str(exc), direction, self.frame))
            return
        if post and msg_type == 13:
            from dataclasses import replace

            message = replace(message, post_handshake=True)  # type: ignore[type-var,arg-type]
        if isinstance(message, ClientHello) and self.client_random is None:
            self.client_random = message.random
            if self.keylog is not None:
                self.secrets = self.keylog.for_client_random(message.random)
                self.t.keylog_available = bool(self.secrets)
                self.t.keylog_missed = not self.secrets and len(self.keylog) > 0
        elif isinstance(message, ClientHello) and not self.tls13 and self.keylog is not None:
            # TLS 1.2 renegotiation: the new handshake brings its own CLIENT_RANDOM; its keys
            # take over at this ServerHello's ChangeCipherSpecs (the current epoch's decryptors
            # are already built and keep working until then)
            self._renegotiation = (message.random, self.keylog.for_client_random(message.random))
        elif isinstance(message, ServerHello) and message.hello_retry_request:
            # HelloRetryRequest exists only in TLS 1.3: the ChangeCipherSpec that follows is the
            # compatibility one, and the second ClientHello travels in clear
            self.tls13 = True
        elif isinstance(message, ServerHello) and not message.hello_retry_request:
            if self._renegotiation is not None:
                self.client_random, self.secrets = self._renegotiation
                self._renegotiation = None
            self.server_random = message.random
            self.suite = message.cipher_suite
            self.encrypt_then_mac = message.encrypt_then_mac
            self.tls13 = message.version == 0x0304
            if self.tls13:
                server = self.dirs[Direction.SERVER]
                server.encrypted = True
                self._switch_keys(server, Direction.SERVER, "HANDSHAKE")
        self._emit(direction, message, encrypted=encrypted)
        if msg_type == 20:  # Finished
            state.finished = True
            if self.tls13:
                self._switch_keys(state, direction, "APPLICATION")
            self._check_done()

    def _check_done(self) -> None:
        if self.dirs[Direction.CLIENT].finished and self.dirs[Direction.SERVER].finished:
            self.t.handshake_done = True

    def _emit(self, direction: Direction, message: Message, encrypted: bool = False) -> None:
        self._flush_run()
        self.t.events.append(
            HandshakeEvent(direction, self.time - self.t.start_time, message, self.frame, encrypted)
        )

    # -- keys --------------------------------------------------------------------------------
    def _switch_keys(self, state: _Direction, direction: Direction, epoch: str) -> None:
        self._fetch_secrets()
        state.decryptor = (
            self._tls12_decryptor(direction) if epoch == "TLS12" else self._tls13_decryptor(direction, epoch)
        )
        # retried by refresh_keys only for want of a secret (not for an unsupported suite)
        state.wanted = (
            epoch if state.decryptor is None and _label(direction, epoch) not in self.secrets else None
        )

    def _fetch_secrets(self) -> None:
        """Look the secrets up again while there are none: a live key log fills in during the
        handshake, and a renegotiation's CLIENT_RANDOM is logged after its ClientHello."""
        if self.secrets or self.keylog is None or self.client_random is None:
            return
        self.secrets = self.keylog.for_client_random(self.client_random)
        if self.secrets:
            self.t.keylog_available, self.t.keylog_missed = True, False

    def refresh_keys(self) -> None:
        """Live use: OpenSSL logs each secret as it derives it, after our decoder has seen the
        message that leads to it; retry the decryptors that were wanted before their secret."""
        self._fetch_secrets()
        if not self.secrets:
            return
        for direction, state in self.dirs.items():
            if state.wanted is not None and state.decryptor is None:
                self._switch_keys(state, direction, state.wanted)

    def _tls13_decryptor(self, direction: Direction, epoch: str) -> Tls13Decryptor | None:
        if self.suite not in TLS13_SUITES:
            return None
        secret = self.secrets.get(_label(direction, epoch))
        if secret is None:
            return None
        assert self.suite is not None
        return Tls13Decryptor.from_secret(self.suite, secret)

    def _tls12_decryptor(self, direction: Direction) -> Tls12Decryptor | Tls12CbcDecryptor | None:
        master = self.secrets.get("CLIENT_RANDOM")
        if master is None or self.suite is None or self.client_random is None or self.server_random is None:
            return None
        client_side = direction is Direction.CLIENT
        if self.suite in TLS12_AEAD_SUITES:
            return Tls12Decryptor.from_master(
                self.suite, master, self.client_random, self.server_random, client_side
            )
        if self.suite in TLS12_CBC_SUITES:
            return Tls12CbcDecryptor.from_master(
                self.suite, master, self.client_random, self.server_random, client_side, self.encrypt_then_mac
            )
        self.t.problems.append(
            Problem(
                "undecryptable",
                f"cipher suite 0x{self.suite:04x} is not one we decrypt (AEAD or AES-CBC)",
                direction,
                self.frame,
            )
        )
        return None


def _label(direction: Direction, epoch: str) -> str:
    """The key log label holding the secret of one direction's key epoch."""
    if epoch == "TLS12":
        return "CLIENT_RANDOM"
    side = "CLIENT" if direction is Direction.CLIENT else "SERVER"
    return f"{side}_HANDSHAKE_TRAFFIC_SECRET" if epoch == "HANDSHAKE" else f"{side}_TRAFFIC_SECRET_0"


#: (from the server?, frame, time, record header, body or None): plain types, cheap to pickle
RecordedRecord = tuple[bool, int, float, bytes, "bytes | None"]
KEEP_FIRST_BYTES = 128 << 10


class RecordRecorder(TlsConnection):
    """The worker half: TCP reassembly and record splitting only. Records are kept (with a
    superset of the bodies TlsConnection would keep) for TlsConnection.replay elsewhere."""

    def __init__(self, transcript: Transcript, keep_app_data: bool) -> None:
        super().__init__(transcript, None)
        self.keep_app_data = keep_app_data
        self.records: list[RecordedRecord] = []
        self._kept = {Direction.CLIENT: 0, Direction.SERVER: 0}

    def _wants_body(self, state: _Direction, ctype: int, length: int) -> bool:
        if ctype != 23:
            return True
        if not self.keep_app_data:
            return False
        direction = Direction.CLIENT if state is self.dirs[Direction.CLIENT] else Direction.SERVER
        if length <= 1024:
            return True
        # the handshake (TLS 1.3: all of it in application_data records) and the first data
        # records; a bulk transfer beyond that would only be shipped to be thrown away
        if self._kept[direction] < KEEP_FIRST_BYTES:
            self._kept[direction] += length
            return True
        return False

    def _record(self, state: _Direction, direction: Direction, header: bytes, body: bytes | None) -> None:
        self.records.append((direction is Direction.SERVER, self.frame, self.time, header, body))

    def finish(self) -> None:
        self.finish_tcp()
