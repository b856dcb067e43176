"""TLS records → handshake messages → a Transcript: the TLS half of the pipeline.

`TlsSession` interprets one connection's records (parsers.boundary.Record) in capture order:
record protection (decryption when a key log allows it, parsers.keys), handshake message
assembly (parsers.handshake), message decoding (parsers.messages) and transcript events
(parsers.events). It never sees TCP. `TlsConnection` joins it to the stream half for one
connection in one process (the live probe, tests).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from parsers import messages
from parsers.boundary import OpaqueRecords, Record, TcpFacts
from parsers.connection import TcpConnection
from parsers.constants import HandshakeType, ProtocolVersion
from parsers.decrypt import DecryptError, Tls13Decryptor
from parsers.events import MAX_EVENTS, TranscriptWriter
from parsers.handshake import AbsurdLength, HandshakeAssembler, signature_checker
from parsers.keylog import KeyLog
from parsers.keys import Epoch, KeySchedule, RecordProtection, UnsupportedSuite
from parsers.model import (
    MAX_PROBLEMS,
    Alert,
    ApplicationData,
    CertificateRequest,
    ChangeCipherSpec,
    ClientHello,
    Direction,
    Message,
    Problem,
    ServerHello,
    SimpleMessage,
    Transcript,
    too_many_problems,
)
from parsers.records import ALERT, APPLICATION_DATA, CHANGE_CIPHER_SPEC, HANDSHAKE, MAX_RECORD

__all__ = ["MAX_RECORD", "TlsConnection", "TlsSession"]

FINISHED, CERTIFICATE_REQUEST = HandshakeType.finished, HandshakeType.certificate_request
SMALL_RECORD = 1024
#: handshake messages read per direction: a handshake has a dozen, renegotiations and tickets a
#: few more; a record of zeros is four thousand empty HelloRequests, and a connection of them
#: must not cost a decode and an event each (nor hold them while thousands of others do)
MAX_MESSAGES = 256


class Abandoned(HandshakeAssembler):
    """The assembler of a direction whose handshake is no longer read (past MAX_MESSAGES, or
    an unfinished message given up on: where the next one starts is lost with it)."""

    def feed(self, data: bytes) -> tuple[list[bytes], AbsurdLength | None]:
        return [], None


@dataclass
class _Side:
    """One direction's TLS state."""

    protection: RecordProtection = field(default_factory=RecordProtection)
    handshake: HandshakeAssembler = field(default_factory=HandshakeAssembler)
    finished: bool = False
    app_records: int = 0
    messages: int = 0  # handshake messages read


class TlsSession:
    """Feed it one connection's records (`record`); `close` completes its Transcript."""

    def __init__(self, transcript: Transcript, keylog: KeyLog | None, lean: bool = False) -> None:
        self.t = transcript
        self.lean = lean  # hand readers instead of scapy (parsers/lean.py)
        self.keys = KeySchedule(keylog)
        self._client, self._server = _Side(), _Side()
        self.sides = {Direction.CLIENT: self._client, Direction.SERVER: self._server}
        self.writer = TranscriptWriter(transcript)
        self.signatures = signature_checker(transcript.index)  # transcript bytes, signatures checked
        self.frame = 0
        self.time = 0.0
        self.tls13 = False
        self.version: int | None = None  # the ServerHello's, once seen
        self._header_version = 0  # the current record's
        self._renegotiation: tuple[bytes, dict[str, bytes]] | None = None
        self.dropped_problems = 0  # past MAX_PROBLEMS

    # -- records -----------------------------------------------------------------------------
    def record(self, record: Record) -> None:
        _, from_server, self.frame, self.time, header, body = record
        if from_server:
            direction, side = Direction.SERVER, self._server
        else:
            direction, side = Direction.CLIENT, self._client
        ctype, length = header[0], (header[3] << 8) | header[4]
        self._header_version = (header[1] << 8) | header[2]
        if ctype == APPLICATION_DATA and not self._wants_body(side, direction, length):
            body = None
        protection = side.protection
        if ctype == CHANGE_CIPHER_SPEC:
            self._emit(direction, ChangeCipherSpec())
            if not self.tls13:
                protection.encrypted = True
                self._switch_keys(direction, Epoch.TLS12)
            return
        if not protection.encrypted or ctype not in (ALERT, HANDSHAKE, APPLICATION_DATA):
            self._plaintext(side, direction, ctype, length, body)
            return
        decryptor = protection.decryptor
        if decryptor is None or body is None:
            if decryptor is not None:
                decryptor.skip()
            self._unreadable(side, direction, ctype, length)
            return
        try:
            if isinstance(decryptor, Tls13Decryptor):
                inner, plain = decryptor.decrypt(header, body)
            else:
                inner, plain = ctype, decryptor.decrypt(ctype, header[1:3], body)
        except DecryptError as exc:
            # a key log never makes it worse: this record (and the rest of the direction) is
            # read as it would be without one — a TLS 1.2 Finished is still named by position
            self._problem("undecryptable", str(exc), direction)
            protection.decryptor, protection.wanted = None, None
            self._unreadable(side, direction, ctype, length)
            return
        self.t.decrypted = True
        self._decrypted(side, direction, inner, plain)

    def opaque_records(self, run: OpaqueRecords) -> None:
        """The rest of a run of unread application_data records, after its first (a Record,
        read by `record`) with nothing of the connection between: each would take the same
        path as that first one did (skipped by the decryptor, counted as opaque), so they are
        taken as one."""
        _, from_server, self.frame, self.time, count, lengths = run
        side = self._server if from_server else self._client
        direction = Direction.SERVER if from_server else Direction.CLIENT
        decryptor = side.protection.decryptor
        if side.protection.encrypted and decryptor is not None:
            for _ in range(count):
                decryptor.skip()
        self.writer.opaque_more(direction, count, lengths, self.frame, self.time)

    def skips_body(self, from_server: bool, length: int) -> bool:
        """Will `record` certainly leave the body of an application_data record of this length,
        arriving next in this direction, unread? Asked by the stream half at the record's header
        (parsers.connection), so only what no record of the other direction can change before
        the record arrives counts: this direction's keys, Finished and data records read."""
        side = self._server if from_server else self._client
        protection = side.protection
        if protection.decryptor is None:
            return protection.encrypted  # encrypted without keys: never read
        return side.finished and length > SMALL_RECORD and side.app_records >= 2

    def _wants_body(self, side: _Side, direction: Direction, length: int) -> bool:
        """Read this application_data record's body? Bulk data is left unread."""
        protection = side.protection
        if self.tls13 and protection.decryptor is None and not protection.encrypted:
            # the client's first encrypted record: switch to its handshake keys now, so the
            # record's body is read with them
            protection.encrypted = True
            self._switch_keys(direction, Epoch.HANDSHAKE)
        if protection.decryptor is None:
            return False
        # After the handshake, read small records (alerts, tickets, post-handshake requests,
        # KeyUpdate) and the first data records (an HTTP status line); skip bulk data.
        return not side.finished or length <= SMALL_RECORD or side.app_records < 2

    def _plaintext(
        self, side: _Side, direction: Direction, ctype: int, length: int, body: bytes | None
    ) -> None:
        if ctype == HANDSHAKE and body is not None and self._header_version == ProtocolVersion.sslv2:
            self._sslv2_hello(direction, body)
        elif ctype == HANDSHAKE and body is not None:
            self._handshake_bytes(side, direction, body, encrypted=False)
        elif ctype == ALERT and body is not None and len(body) == 2:
            self._emit(direction, Alert(body[0], body[1]))
        elif ctype == APPLICATION_DATA:
            self.writer.opaque(direction, length, self.frame, self.time)

    def _unreadable(self, side: _Side, direction: Direction, ctype: int, length: int) -> None:
        """An encrypted record we cannot (or chose not to) read: what its type still says."""
        if ctype == ALERT:
            self._emit(direction, Alert(0, 0, encrypted=True), encrypted=True)
        elif ctype == HANDSHAKE and not self.tls13:
            # TLS 1.2: the only encrypted handshake record is Finished
            self._emit(direction, SimpleMessage(FINISHED, length), encrypted=True)
            side.finished = True
            self._check_done()
        else:
            self.writer.opaque(direction, length, self.frame, self.time)

    def _decrypted(self, side: _Side, direction: Direction, inner: int, plain: bytes) -> None:
        if inner == HANDSHAKE:
            self._handshake_bytes(side, direction, plain, encrypted=True)
        elif inner == ALERT and len(plain) == 2:
            self._emit(direction, Alert(plain[0], plain[1]), encrypted=True)
        elif inner == APPLICATION_DATA:
            side.app_records += 1
            end = plain.find(b"\r\n", 0, 122)  # the first line, not a copy of the rest
            first = plain[: end if 0 <= end < 120 else 120]
            line = (
                first.decode("latin-1")
                if first[:5] in (b"HTTP/", b"GET /", b"POST ") or first[:4] in (b"PUT ", b"HEAD")
                else None
            )
            self._emit(direction, ApplicationData(len(plain), line), encrypted=True)

    def _sslv2_hello(self, direction: Direction, body: bytes) -> None:
        """An SSLv2-format ClientHello (records.SSLV2_HELLO): read as the ClientHello it stands
        for; its SSLv2 bytes are what the handshake's transcript holds (RFC 5246 E.2)."""
        try:
            hello = messages.parse_sslv2_client_hello(body)
        except messages.MalformedMessage as exc:
            self._problem("malformed", str(exc), direction)
            return
        message = self.signatures.message(direction, body, hello)
        if isinstance(message, ClientHello):
            self._client_hello(message)
            self._emit(direction, message)

    # -- handshake messages ------------------------------------------------------------------
    def _handshake_bytes(self, side: _Side, direction: Direction, data: bytes, encrypted: bool) -> None:
        complete, absurd = side.handshake.feed(data)
        for raw in complete:
            side.messages += 1
            if side.messages > MAX_MESSAGES:
                self._problem(
                    "limit",
                    f"more than {MAX_MESSAGES} handshake messages from the {direction.value}: the rest of "
                    "its handshake is not read",
                    direction,
                )
                side.handshake = Abandoned()
                return
            self._message(side, direction, raw, encrypted)
        if absurd is not None:
            # what the assembler held is dropped; the direction goes on at the next record
            # (ChangeCipherSpec, Finished, alerts, application data are still read)
            self._problem("malformed", str(absurd), direction)

    def _message(self, side: _Side, direction: Direction, raw: bytes, encrypted: bool) -> None:
        msg_type = raw[0]
        try:
            decoded: Message | None = messages.decode(msg_type, raw, self.tls13, self.lean, self.version)
        except messages.MalformedMessage as exc:
            self._problem(exc.kind, str(exc), direction)
            decoded = None
        message = self.signatures.message(direction, raw, decoded)
        if message is None:
            return
        if side.finished and self.tls13 and isinstance(message, CertificateRequest):
            message = replace(message, post_handshake=True)
        if isinstance(message, ClientHello):
            self._client_hello(message)
        elif isinstance(message, ServerHello):
            self._server_hello(message)
        self._emit(direction, message, encrypted=encrypted)
        if msg_type == FINISHED:
            side.finished = True
            if self.tls13:
                self._switch_keys(direction, Epoch.APPLICATION)
            self._check_done()

    def _client_hello(self, hello: ClientHello) -> None:
        keys = self.keys
        if keys.client_random is None:
            keys.client_random = hello.random
            if keys.keylog is not None:
                keys.secrets = keys.lookup(hello.random)
                self.t.keylog_missed = not keys.secrets and len(keys.keylog) > 0
        elif not self.tls13 and keys.keylog is not None:
            # TLS 1.2 renegotiation: the new handshake brings its own CLIENT_RANDOM; its keys
            # take over at this ServerHello's ChangeCipherSpecs (the current epoch's decryptors
            # are already built and keep working until then)
            self._renegotiation = (hello.random, keys.lookup(hello.random))

    def _server_hello(self, hello: ServerHello) -> None:
        if hello.hello_retry_request:
            # HelloRetryRequest exists only in TLS 1.3: the ChangeCipherSpec that follows is
            # the compatibility one, and the second ClientHello travels in clear
            self.tls13 = True
            return
        keys = self.keys
        if self._renegotiation is not None:
            keys.client_random, keys.secrets = self._renegotiation
            self._renegotiation = None
        keys.server_random = hello.random
        keys.suite = hello.cipher_suite
        keys.version = hello.version
        keys.encrypt_then_mac = hello.encrypt_then_mac
        self.version = hello.version
        self.tls13 = hello.version == ProtocolVersion.tls1_3
        if self.tls13:
            self.sides[Direction.SERVER].protection.encrypted = True
            self._switch_keys(Direction.SERVER, Epoch.HANDSHAKE)

    def _check_done(self) -> None:
        if self.sides[Direction.CLIENT].finished and self.sides[Direction.SERVER].finished:
            self.t.handshake_done = True

    def _emit(self, direction: Direction, message: Message, encrypted: bool = False) -> None:
        self.writer.emit(direction, message, self.frame, self.time, encrypted)

    def _problem(self, kind: str, detail: str, direction: Direction) -> None:
        if len(self.t.problems) < MAX_PROBLEMS:
            self.t.problems.append(Problem(kind, detail, direction, self.frame))
        else:
            self.dropped_problems += 1

    # -- keys --------------------------------------------------------------------------------
    def _fetch_secrets(self) -> None:
        if self.keys.fetch_secrets():
            self.t.keylog_missed = False

    def _switch_keys(self, direction: Direction, epoch: Epoch) -> None:
        self._fetch_secrets()
        protection = self.sides[direction].protection
        try:
            protection.decryptor = self.keys.decryptor(direction, epoch)
        except UnsupportedSuite as exc:
            self._problem("undecryptable", str(exc), direction)
            protection.decryptor = None
        # retried by refresh_keys only for want of a secret (not for an unsupported suite)
        missing = protection.decryptor is None and not self.keys.has_secret(direction, epoch)
        protection.wanted = epoch if missing else None

    def refresh_keys(self) -> None:
        """Live use: OpenSSL logs each secret as it derives it, after our decoder has seen the
        message that leads to it; retry the decryptors that were wanted before their secret."""
        self._fetch_secrets()
        if not self.keys.secrets:
            return
        for direction, side in self.sides.items():
            if side.protection.wanted is not None and side.protection.decryptor is None:
                self._switch_keys(direction, side.protection.wanted)

    # -- end ---------------------------------------------------------------------------------
    def close(self, facts: TcpFacts) -> Transcript:
        """The connection ended: merge what TCP saw, settle what the records imply."""
        t = self.t
        if self.dropped_problems:
            t.problems.append(too_many_problems(self.dropped_problems, self.frame))
        t.problems[:0] = facts.problems
        t.fin_by = list(facts.fin_by)
        t.reset_by = facts.reset_by
        client, server = self.sides[Direction.CLIENT].protection, self.sides[Direction.SERVER].protection
        if (
            self.tls13
            and not t.handshake_done
            and client.encrypted
            and server.encrypted
            and client.decryptor is None
        ):
            # Without keys the client's Finished is not visible: its encrypted flight after
            # the server's is the best evidence that the handshake completed on its side.
            t.handshake_done = True
            t.done_inferred = True
        self.writer.flush()
        if self.writer.dropped:
            t.problems.append(
                Problem(
                    "limit",
                    f"more than {len(t.events)} messages: {self.writer.dropped} more not kept"
                    + (
                        ""
                        if len(t.events) >= MAX_EVENTS
                        else " (the reader's share for each of the many connections open at once)"
                    ),
                    None,
                    self.frame,
                )
            )
        t.problems.sort(key=lambda p: p.frame or 0)
        self.signatures.settle(t)
        return t


class TlsConnection:
    """One connection from TCP segments to its Transcript, both halves in this process."""

    def __init__(self, transcript: Transcript, keylog: KeyLog | None, lean: bool = False) -> None:
        self.t = transcript
        self.session = TlsSession(transcript, keylog, lean)
        self.tcp = TcpConnection(
            self.session.record, keep_app_data=keylog is not None, index=transcript.index
        )

    @property
    def is_tls(self) -> bool | None:
        return self.tcp.is_tls

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
        self.tcp.segment(direction, seq, flags, payload, frame, time, wire_length)

    def refresh_keys(self) -> None:
        self.session.refresh_keys()

    def finish(self) -> Transcript:
        return self.session.close(self.tcp.finish())
