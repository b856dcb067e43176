"""Handshake message assembly: one direction's handshake bytes (plaintext, in record order) →
complete messages, header included. Messages may span records; a record may hold several."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from typing import Generic, TypeVar

from cryptography import x509

from parsers.constants import HandshakeType
from parsers.model import (
    Alert,
    Certificate,
    CertificateRequest,
    CertificateVerify,
    ClientHello,
    Direction,
    HandshakeEvent,
    Message,
    Outcome,
    ServerHello,
    ServerKeyExchange,
    SimpleMessage,
    Transcript,
)

HEADER_SIZE = 4
MAX_HANDSHAKE_MESSAGE = 1 << 20  # a bigger message is absurd: reported, not buffered


class AbsurdLength(Exception):
    """A message header announced more than MAX_HANDSHAKE_MESSAGE bytes."""

    def __init__(self, length: int) -> None:
        super().__init__(f"handshake message of {length} bytes announced: absurd, skipped")
        self.length = length


class HandshakeAssembler:
    def __init__(self) -> None:
        self.buffer = bytearray()

    def feed(self, data: bytes) -> tuple[list[bytes], AbsurdLength | None]:
        """The messages `data` completes, in order (framing does not depend on what they say,
        so they can be split before any is read); and, if a header announced an absurd length,
        that error: what was held is then forgotten."""
        buf = self.buffer
        buf += data
        out: list[bytes] = []
        while len(buf) >= HEADER_SIZE:
            length = (buf[1] << 16) | (buf[2] << 8) | buf[3]
            if length > MAX_HANDSHAKE_MESSAGE:
                buf.clear()
                return out, AbsurdLength(length)
            if len(buf) < HEADER_SIZE + length:
                break
            out.append(bytes(buf[: HEADER_SIZE + length]))
            del buf[: HEADER_SIZE + length]
        return out, None


# -- what the signatures cover ---------------------------------------------------------------

#: handshake bytes kept per connection until its signatures are checked; a transcript past
#: this (a certificate chain of hundreds of certificates) is left unchecked, not buffered
MAX_TRANSCRIPT = 256 << 10
_H = HandshakeType
HELLO_REQUEST, CLIENT_HELLO, SERVER_HELLO = _H.hello_request, _H.client_hello, _H.server_hello
NEW_SESSION_TICKET, CERTIFICATE, SERVER_KEY_EXCHANGE = (
    _H.new_session_ticket,
    _H.certificate,
    _H.server_key_exchange,
)
CERTIFICATE_REQUEST, SERVER_HELLO_DONE = _H.certificate_request, _H.server_hello_done
CERTIFICATE_VERIFY, FINISHED, KEY_UPDATE, MESSAGE_HASH = (
    _H.certificate_verify,
    _H.finished,
    _H.key_update,
    _H.message_hash,
)
_NOT_IN_TRANSCRIPT = (HELLO_REQUEST, NEW_SESSION_TICKET, KEY_UPDATE)
_HASHLIB = {"sha256": hashlib.sha256, "sha384": hashlib.sha384}  # TLS 1.3 transcript hashes
#: the messages whose content the signature checks need
_WATCHED = frozenset(
    (CLIENT_HELLO, SERVER_HELLO, CERTIFICATE, SERVER_KEY_EXCHANGE, CERTIFICATE_REQUEST, CERTIFICATE_VERIFY)
)
_RELEASE_POINTS = frozenset((CERTIFICATE_VERIFY, SERVER_HELLO_DONE, FINISHED))


class HandshakeTranscript:
    """The handshake messages of both directions in the order they were assembled: the bytes a
    CertificateVerify signs (TLS 1.2) or hashes (TLS 1.3). Kept only while a signature may
    still need them (`release`), and never past MAX_TRANSCRIPT."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.too_long = False
        self.released = False

    def restart(self) -> None:
        """A new handshake (its ClientHello): the transcript starts afresh."""
        self.data = bytearray()
        self.too_long = False
        self.released = False

    def add(self, raw: bytes) -> None:
        if self.released or self.too_long:
            return
        if len(self.data) + len(raw) > MAX_TRANSCRIPT:
            self.too_long = True
            self.data = bytearray()
            return
        self.data += raw

    def hello_retry(self, hash_name: str) -> None:
        """RFC 8446 §4.4.1: after a HelloRetryRequest, ClientHello1 is replaced by a synthetic
        message_hash message holding its hash."""
        if self.released or self.too_long:
            return
        digest = _HASHLIB[hash_name](self.data).digest()
        self.data = bytearray(bytes([MESSAGE_HASH, 0, 0, len(digest)]) + digest)

    def release(self) -> None:
        self.data = bytearray()
        self.released = True

    @property
    def available(self) -> bool:
        return not self.released and not self.too_long and bool(self.data)

    def hash(self, hash_name: str) -> bytes:
        return _HASHLIB[hash_name](self.data).digest()


_TLS13_HASH = {0x1302: "sha384"}  # every other TLS 1.3 suite hashes with SHA-256
#: connections (by number) whose signatures are all checked as they arrive; past it, only those
#: a failed handshake may hinge on (DeferredSignatures). Measured on benchmarks/bench_pcap.py's
#: capture (5,000 real handshakes, 316 MB, `pcap --keylog`): all checked +20 % CPU; the first 100
#: and the rest hashed as they came +11-12 % CPU; now +6 % wall, +7.5 % CPU (docs/how-it-works.md).
FULL_CHECKS = 100
DEFERRED = (
    f"not checked: past connection {FULL_CHECKS}, only the signatures a failed handshake may "
    "hinge on are checked"
)

NOT_SEEN = "its handshake transcript was not seen (post-handshake, or after a gap)"

_Signed = TypeVar("_Signed", CertificateVerify, ServerKeyExchange)


@dataclass(frozen=True, slots=True)
class _Pending(Generic[_Signed]):
    """One signature to check: the message it came in and what it signs (digest or content)."""

    message: _Signed
    direction: Direction  # who signed
    leaf: x509.Certificate
    code: int | None
    signature: bytes
    signed: bytes
    prehashed: bool
    tls13: bool

    def verdict(self) -> _Signed:
        from parsers import signatures as S  # imported at the first signature (see _certificate_verify)

        v = S.verify(self.leaf, self.code, self.signature, self.signed, self.prehashed, self.tls13)
        m = self.message
        if isinstance(m, CertificateVerify):  # built directly: dataclasses.replace is slow
            return CertificateVerify(
                m.algorithm, m.signature_length, v.verified, v.why, m.scheme_offered, v.fits_key
            )
        return ServerKeyExchange(
            m.msg_type, m.length, m.algorithm, v.verified, v.why, m.scheme_offered, v.fits_key
        )


@dataclass(slots=True)
class _Handshake:
    """What the signatures of one handshake are checked with."""

    client_random: bytes = b""
    server_random: bytes = b""
    version: int | None = None
    suite: int | None = None
    client_schemes: tuple[int, ...] = ()
    request_schemes: tuple[int, ...] | None = None  # None: no CertificateRequest yet
    leaves: dict[Direction, x509.Certificate | None] = field(default_factory=dict)
    hello_retry: bool = False

    @property
    def tls13(self) -> bool:
        return self.version == 0x0304


class HandshakeSignatures:
    """Follows one connection's handshake messages (both directions, in order) and checks each
    CertificateVerify and ServerKeyExchange signature it meets: the verdict goes on the message
    (`verified`, `unchecked`, `scheme_offered`, `scheme_fits_key`)."""

    def __init__(self, index: int = 1, eager: bool | None = None) -> None:
        self.transcript = HandshakeTranscript()
        self.h = _Handshake()
        #: check at once, or keep what is needed (a digest) and decide at `settle`
        self.eager = index <= FULL_CHECKS if eager is None else eager
        self._pending_word = "" if self.eager else DEFERRED
        self.pending: list[_Pending[CertificateVerify] | _Pending[ServerKeyExchange]] = []

    def message(self, direction: Direction, raw: bytes, message: Message | None) -> Message | None:
        """`message` as decoded (None: it did not decode; its bytes still count), returned with
        its signature's verdict when it carries one."""
        msg_type = raw[0]
        if msg_type in _WATCHED:
            message = self._watched(direction, msg_type, raw, message)
        elif self.transcript.released:
            return message  # the common case after the handshake: nothing to keep
        if msg_type not in _NOT_IN_TRANSCRIPT:
            self.transcript.add(raw)
        if msg_type in _RELEASE_POINTS:
            self._maybe_release(direction, msg_type)
        return message

    def _watched(
        self, direction: Direction, msg_type: int, raw: bytes, message: Message | None
    ) -> Message | None:
        h = self.h
        if isinstance(message, ClientHello):
            if not h.hello_retry:
                self.transcript.restart()
                self.h = h = _Handshake()
            h.hello_retry = False
            h.client_random, h.client_schemes = message.random, message.signature_algorithms
        elif isinstance(message, ServerHello):
            if message.hello_retry_request:
                h.hello_retry = True
                self.transcript.hello_retry(_TLS13_HASH.get(message.cipher_suite, "sha256"))
            else:
                h.server_random, h.version, h.suite = message.random, message.version, message.cipher_suite
        elif isinstance(message, Certificate):
            h.leaves[direction] = message.chain[0] if message.chain and not message.undecodable else None
        elif isinstance(message, CertificateRequest) and not message.post_handshake:
            h.request_schemes = message.signature_algorithms
        elif isinstance(message, CertificateVerify):
            return self._certificate_verify(direction, raw, message)
        elif msg_type == SERVER_KEY_EXCHANGE and isinstance(message, SimpleMessage) and not h.tls13:
            return self._server_key_exchange(raw)
        return message

    def _maybe_release(self, direction: Direction, msg_type: int) -> None:
        """Drop the bytes once no signature left in this handshake can need them."""
        if _releases(msg_type, direction, self.h):
            self.transcript.release()

    def _why_not(self) -> str:
        if self.transcript.too_long:
            return f"the handshake is longer than {MAX_TRANSCRIPT} bytes: not kept, not checked"
        if self.transcript.released or not self.transcript.data:
            return NOT_SEEN
        return ""

    def _certificate_verify(
        self, direction: Direction, raw: bytes, cv: CertificateVerify
    ) -> CertificateVerify:
        h = self.h
        cv, code, signature = _verify_head(h, direction, raw, cv, self._why_not(), self._pending_word)
        leaf = h.leaves.get(direction)
        if cv.unchecked != self._pending_word or leaf is None:
            return cv
        # imported here, at the first signature, not with the pipeline: importing the signature
        # modules with it shifted when the demo's SIGTERM lands, and 1 in 2 runs of
        # tests/live/test_serve.py's SIGTERM test then exited -2 instead of 130
        from parsers import signatures as S

        if h.tls13:
            digest = self.transcript.hash(_TLS13_HASH.get(h.suite or 0, "sha256"))
            signed, prehashed = S.tls13_content(digest, server=direction is Direction.SERVER), False
        else:
            signed, prehashed = S.signed_digest(code, bytes(self.transcript.data))
        return self._check(_Pending(cv, direction, leaf, code, signature, signed, prehashed, h.tls13))

    def _check(self, check: _Pending[_Signed]) -> _Signed:
        if self.eager:
            return check.verdict()
        # decided at `settle`: until then (and unless a failure needs it) it says why not
        self.pending.append(check)  # type: ignore[arg-type]  # one of the two kinds
        return check.message

    def settle(self, t: Transcript) -> None:
        """The connection ended. Signatures left pending (connections past FULL_CHECKS) are
        checked only if the handshake did not complete, where a finding needs them; then a
        failure after lost bytes is made unchecked (settle_signatures)."""
        if self.pending and t.outcome is not Outcome.COMPLETED and not _not_about_signatures(t):
            ender = _who_ended(t)
            checked: dict[int, Message] = {
                id(p.message): p.verdict() for p in self.pending if ender is None or ender is p.direction.peer
            }
            for i, e in enumerate(t.events):
                done = checked.get(id(e.message))
                if done is not None:
                    t.replace_event(i, HandshakeEvent(e.direction, e.time, done, e.frame, e.encrypted))
        self.pending = []
        settle_signatures(t)

    def _server_key_exchange(self, raw: bytes) -> ServerKeyExchange:
        h = self.h
        leaf = h.leaves.get(Direction.SERVER)
        ready = leaf is not None and bool(h.client_random) and bool(h.server_random)
        ske, split = _key_exchange_head(raw, h.version, h.client_schemes, ready, self._pending_word)
        if split is None or leaf is None:
            return ske
        params, code, signature = split
        from parsers import signatures as S

        signed, prehashed = S.signed_digest(code, h.client_random + h.server_random + params)
        return self._check(_Pending(ske, Direction.SERVER, leaf, code, signature, signed, prehashed, False))


_Logged = tuple[Direction, bytes, Message | None]
_SIGNED = (CERTIFICATE_VERIFY, SERVER_KEY_EXCHANGE)


class DeferredSignatures:
    """Past FULL_CHECKS connections: a handshake's messages are only logged as they pass (one
    append each: the per-message work of HandshakeSignatures was most of the signatures' cost).
    A handshake that completes is marked from its log in one pass (scheme, offered, why it is
    not checked) as soon as that is certain — the server's Finished after the client's (TLS
    1.2), a NewSessionTicket after the client's Finished (TLS 1.3) — and the log dropped, so
    memory follows the handshakes in flight. One that fails is replayed through a
    HandshakeSignatures at `settle`, which checks what the failure may hinge on. Anything
    unusual (a transcript past MAX_TRANSCRIPT, a renegotiation before the log was dropped)
    hands the rest of the connection to a HandshakeSignatures at once: the same verdicts."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.log: list[_Logged] | None = []
        self.size = 0
        self.finished: set[Direction] = set()
        self.tls13 = False
        self.retrying = False  # after a HelloRetryRequest the next ClientHello continues
        self.marks: dict[int, Message] = {}  # id(message as decoded) → as marked
        self.engine: HandshakeSignatures | None = None

    def message(self, direction: Direction, raw: bytes, message: Message | None) -> Message | None:
        if self.engine is not None:
            return self.engine.message(direction, raw, message)
        msg_type = raw[0]
        log = self.log
        if msg_type == CLIENT_HELLO and isinstance(message, ClientHello) and not self.retrying:
            if log:  # a new handshake while the last is undecided: leave it to the engine
                return self._hand_over().message(direction, raw, message)
            log = self.log = []
            self.size, self.finished = 0, set()
        if log is None:
            return message
        self.size += len(raw)
        log.append((direction, raw, message))
        if self.size > MAX_TRANSCRIPT:
            self._hand_over()
            return self.marks.pop(id(message), message) if message is not None else None
        if msg_type == SERVER_HELLO and isinstance(message, ServerHello):
            self.retrying = message.hello_retry_request
            self.tls13 = message.version == 0x0304
        elif msg_type == FINISHED:
            self.finished.add(direction)
            if len(self.finished) == 2 and not self.tls13:
                self._completed()  # TLS 1.2: the server's Finished accepts what came before
        elif msg_type == NEW_SESSION_TICKET and direction is Direction.SERVER and len(self.finished) == 2:
            self._completed()  # TLS 1.3: a ticket after the client's Finished: accepted
        return message

    def _completed(self) -> None:
        assert self.log is not None
        self.marks.update(_deferred_marks(self.log))
        self.log = None

    def _hand_over(self) -> HandshakeSignatures:
        """Replay what was logged into a full checker, which takes the connection from here."""
        engine = self.engine = HandshakeSignatures(self.index, eager=False)
        for direction, raw, message in self.log or ():
            checked = engine.message(direction, raw, message)
            if message is not None and checked is not message and checked is not None:
                self.marks[id(message)] = checked
        self.log = None
        return engine

    def settle(self, t: Transcript) -> None:
        """A handshake that did not complete is checked from its log (only the side its peer
        ended it for, as HandshakeSignatures.settle decides); the rest are marked DEFERRED."""
        log = self.log
        if log and self.engine is None:
            ender = None if t.outcome is Outcome.COMPLETED else _who_ended(t)
            hinges = (
                t.outcome is not Outcome.COMPLETED
                and not _not_about_signatures(t)
                and (ender is None or any(d is ender.peer and raw[0] in _SIGNED for d, raw, _ in log))
            )
            if hinges:
                self._hand_over()
            else:  # completed, or no signature of the side its peer ended it for: nothing to check
                self._completed()
        if self.marks:
            marks = self.marks
            for i, e in enumerate(t.events):
                marked = marks.get(id(e.message))
                if marked is not None:
                    t.replace_event(i, HandshakeEvent(e.direction, e.time, marked, e.frame, e.encrypted))
            self.marks = {}
        if self.engine is not None:
            self.engine.settle(t)
        else:
            settle_signatures(t)


def _deferred_marks(log: list[_Logged]) -> dict[int, Message]:
    """What HandshakeSignatures(eager=False) says of each signature in a completed handshake,
    in one pass over its messages: no bytes kept, nothing hashed."""
    marks: dict[int, Message] = {}
    h = _Handshake()
    seen = released = False  # transcript bytes since the ClientHello; dropped at a release point
    for direction, raw, message in log:
        msg_type = raw[0]  # the type first: most messages are none of these (and cheaper to tell)
        if msg_type == CLIENT_HELLO and isinstance(message, ClientHello):
            if not h.hello_retry:
                h, seen, released = _Handshake(), False, False
            h.hello_retry = False
            h.client_random, h.client_schemes = message.random, message.signature_algorithms
        elif msg_type == SERVER_HELLO and isinstance(message, ServerHello):
            if message.hello_retry_request:
                h.hello_retry = True
            else:
                h.server_random, h.version, h.suite = message.random, message.version, message.cipher_suite
        elif msg_type == CERTIFICATE and isinstance(message, Certificate):
            h.leaves[direction] = message.chain[0] if message.chain and not message.undecodable else None
        elif msg_type == CERTIFICATE_REQUEST:
            if isinstance(message, CertificateRequest) and not message.post_handshake:
                h.request_schemes = message.signature_algorithms
        elif msg_type == CERTIFICATE_VERIFY and isinstance(message, CertificateVerify):
            why = "" if seen and not released else NOT_SEEN
            marks[id(message)] = _verify_head(h, direction, raw, message, why, DEFERRED)[0]
        elif msg_type == SERVER_KEY_EXCHANGE and isinstance(message, SimpleMessage) and not h.tls13:
            ready = h.leaves.get(Direction.SERVER) is not None and bool(h.client_random and h.server_random)
            marks[id(message)] = _key_exchange_head(raw, h.version, h.client_schemes, ready, DEFERRED)[0]
        if msg_type not in _NOT_IN_TRANSCRIPT and not released:
            seen = True
        if msg_type in _RELEASE_POINTS and not released:
            released = _releases(msg_type, direction, h)
    return marks


def signature_checker(index: int) -> HandshakeSignatures | DeferredSignatures:
    """The first FULL_CHECKS connections are checked as their messages arrive; later ones only
    where a failed handshake may hinge on a signature (the issue's cost bound)."""
    return HandshakeSignatures(index) if index <= FULL_CHECKS else DeferredSignatures(index)


def _releases(msg_type: int, direction: Direction, h: _Handshake) -> bool:
    """No signature left in this handshake can need its transcript after this message."""
    client = direction is Direction.CLIENT
    unrequested = h.request_schemes is None
    return (
        (msg_type == CERTIFICATE_VERIFY and client)  # the last signature a handshake holds
        or (msg_type == FINISHED and client)
        or (unrequested and msg_type == SERVER_HELLO_DONE and not h.tls13)
        or (unrequested and msg_type == FINISHED and not client and h.tls13)
    )


def _verify_head(
    h: _Handshake, direction: Direction, raw: bytes, cv: CertificateVerify, why: str, word: str
) -> tuple[CertificateVerify, int | None, bytes]:
    """A CertificateVerify's verdict before any check (scheme, offered, why it cannot be
    checked, else `word`), its scheme (None in TLS 1.0/1.1) and its signature bytes."""
    code: int | None = cv.algorithm
    length = cv.signature_length
    if h.version is not None and h.version < 0x0303:  # TLS 1.0/1.1: no scheme on the wire
        code, length = None, int.from_bytes(raw[4:6], "big")
        signature = raw[6 : 6 + length]
    else:
        signature = raw[8 : 8 + length]
    peer_offered = h.request_schemes if direction is Direction.CLIENT else h.client_schemes
    offered = code in peer_offered if code is not None and peer_offered else None
    if h.leaves.get(direction) is None:
        why = why or f"no readable {direction.value} certificate before it"
    if h.version is None:
        why = why or "no ServerHello before it"
    verdict = CertificateVerify(code or 0, length, unchecked=why or word, scheme_offered=offered)
    return verdict, code, signature


def _key_exchange_head(
    raw: bytes, version: int | None, client_schemes: tuple[int, ...], ready: bool, word: str
) -> tuple[ServerKeyExchange, tuple[bytes, int | None, bytes] | None]:
    """A ServerKeyExchange's verdict before any check (scheme, offered, why it cannot be
    checked) and, when it can be, its (params, scheme, signature)."""
    body = bytes(raw[4:])
    split = _split_key_exchange(body, version is not None and version < 0x0303)
    if split is None:
        why = "its parameters are not ECDHE or DHE ones this tool reads"
        return ServerKeyExchange(SERVER_KEY_EXCHANGE, len(body), unchecked=why), None
    code, signature = split[1], split[2]
    if not signature:
        why = "not signed (anonymous or PSK key exchange)"
        return ServerKeyExchange(SERVER_KEY_EXCHANGE, len(body), unchecked=why), None
    offered = code in client_schemes if code is not None and client_schemes else None
    if not ready:
        why = "no readable server certificate or hello randoms before it"
        return ServerKeyExchange(SERVER_KEY_EXCHANGE, len(body), code, None, why, offered), None
    return ServerKeyExchange(SERVER_KEY_EXCHANGE, len(body), code, None, word, offered), split


def _split_key_exchange(body: bytes, legacy: bool) -> tuple[bytes, int | None, bytes] | None:
    """(params, scheme, signature) of a ServerKeyExchange: the params are ECDHE (named curve)
    or DHE (p, g, Ys), whichever leaves exactly a signature after them."""
    candidates = []
    if len(body) >= 4 and body[0] == 3:  # ECParameters: named_curve
        candidates.append(4 + body[3])
    pos = 0
    for _ in range(3):  # DH p, g, Ys
        if pos + 2 > len(body):
            pos = -1
            break
        pos += 2 + int.from_bytes(body[pos : pos + 2], "big")
    if pos > 0:
        candidates.append(pos)
    for end in candidates:
        if end > len(body):
            continue
        rest = body[end:]
        if not rest:
            return body[:end], None, b""
        if legacy and len(rest) >= 2 and 2 + int.from_bytes(rest[:2], "big") == len(rest):
            return body[:end], None, rest[2:]
        if not legacy and len(rest) >= 4 and 4 + int.from_bytes(rest[2:4], "big") == len(rest):
            return body[:end], int.from_bytes(rest[:2], "big"), rest[4:]
    return None


#: fatal alerts that name a cause no signature can be (RFC 8446 §6.2): the peer judged the
#: certificate's issuer, dates, revocation or the protocol, and (OpenSSL, Java) sends them on the
#: Certificate message, before it reads the CertificateVerify. Past FULL_CHECKS connections,
#: a handshake ended by one of these has nothing that hinges on a signature.
NOT_SIGNATURE_ALERTS = frozenset(
    (
        44,  # certificate_revoked
        45,  # certificate_expired
        48,  # unknown_ca
        49,  # access_denied
        70,  # protocol_version
        71,  # insufficient_security
        86,  # inappropriate_fallback
        112,  # unrecognized_name
        116,  # certificate_required
        120,  # no_application_protocol
    )
)


def _not_about_signatures(t: Transcript) -> bool:
    """The handshake ended with a readable fatal alert that no signature can have caused."""
    for event in t.events:
        m = event.message
        if isinstance(m, Alert) and m.fatal and not m.encrypted:
            return m.description in NOT_SIGNATURE_ALERTS
    return False


def _who_ended(t: Transcript) -> Direction | None:
    """Who ended a failed handshake (a fatal alert, else a reset or close): the side whose
    verification of the other's signature may be why. None: not known."""
    for event in t.events:
        if isinstance(event.message, Alert) and event.message.fatal:
            return event.direction
    if t.reset_by is not None:
        return t.reset_by
    return t.fin_by[0] if t.fin_by else None


#: problems before a signature that make its transcript incomplete
_LOSSES = ("gap", "snaplen", "mid-stream", "truncated", "undecryptable", "malformed")


def settle_signatures(t: Transcript) -> None:
    """A signature that failed after bytes were lost (a TCP gap, an unreadable record) proves
    nothing about the key: its transcript is incomplete. Such verdicts become unchecked."""
    losses = [p for p in t.problems if p.kind in _LOSSES]
    if not losses:
        return
    for i, event in enumerate(t.events):
        m = event.message
        if not isinstance(m, (CertificateVerify, ServerKeyExchange)) or m.verified is not False:
            continue
        lost = next(
            (p for p in losses if p.frame is None or event.frame is None or p.frame <= event.frame), None
        )
        if lost is not None:
            why = f"bytes were lost before it ({lost.kind}): its transcript is incomplete"
            t.replace_event(i, replace(event, message=replace(m, verified=None, unchecked=why)))
