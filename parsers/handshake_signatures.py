"""The signature-checking policy: which CertificateVerify and ServerKeyExchange signatures of a
connection are checked, and when. The first FULL_CHECKS connections are checked as their
messages arrive (HandshakeSignatures); later ones are only logged and replayed where a failed
handshake may hinge on a signature (DeferredSignatures); a failure after lost bytes proves
nothing (settle_signatures). The bytes each signature covers are handshake_transcript's."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Generic, TypeVar

from cryptography import x509

from parsers.handshake_transcript import (
    CERTIFICATE,
    CERTIFICATE_REQUEST,
    CERTIFICATE_VERIFY,
    CLIENT_HELLO,
    COMPRESSED_CERTIFICATE,
    FINISHED,
    MAX_TRANSCRIPT,
    NEW_SESSION_TICKET,
    NOT_IN_TRANSCRIPT,
    SERVER_HELLO,
    SERVER_HELLO_DONE,
    SERVER_KEY_EXCHANGE,
    TLS13_HASH,
    HandshakeState,
    HandshakeTranscript,
    key_exchange_head,
    releases_transcript,
    verify_head,
)
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

#: the messages whose content the signature checks need
_WATCHED = frozenset(
    (
        CLIENT_HELLO,
        SERVER_HELLO,
        CERTIFICATE,
        COMPRESSED_CERTIFICATE,
        SERVER_KEY_EXCHANGE,
        CERTIFICATE_REQUEST,
        CERTIFICATE_VERIFY,
    )
)
_CERTIFICATES = (CERTIFICATE, COMPRESSED_CERTIFICATE)
_RELEASE_POINTS = frozenset((CERTIFICATE_VERIFY, SERVER_HELLO_DONE, FINISHED))
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


class HandshakeSignatures:
    """Follows one connection's handshake messages (both directions, in order) and checks each
    CertificateVerify and ServerKeyExchange signature it meets: the verdict goes on the message
    (`verified`, `unchecked`, `scheme_offered`, `scheme_fits_key`)."""

    def __init__(self, index: int = 1, eager: bool | None = None) -> None:
        self.transcript = HandshakeTranscript()
        self.h = HandshakeState()
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
        if msg_type not in NOT_IN_TRANSCRIPT:
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
                self.h = h = HandshakeState()
            h.hello_retry = False
            h.client_random, h.client_schemes = message.random, message.signature_algorithms
        elif isinstance(message, ServerHello):
            if message.hello_retry_request:
                h.hello_retry = True
                self.transcript.hello_retry(TLS13_HASH.get(message.cipher_suite, "sha256"))
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
        if releases_transcript(msg_type, direction, self.h):
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
        cv, code, signature = verify_head(h, direction, raw, cv, self._why_not(), self._pending_word)
        leaf = h.leaves.get(direction)
        if cv.unchecked != self._pending_word or leaf is None:
            return cv
        # imported here, at the first signature, not with the pipeline: importing the signature
        # modules with it shifted when the demo's SIGTERM lands, and 1 in 2 runs of
        # tests/live/test_serve.py's SIGTERM test then exited -2 instead of 130
        from parsers import signatures as S

        if h.tls13:
            digest = self.transcript.hash(TLS13_HASH.get(h.suite or 0, "sha256"))
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
        ske, split = key_exchange_head(raw, h.version, h.client_schemes, ready, self._pending_word)
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
    h = HandshakeState()
    seen = released = False  # transcript bytes since the ClientHello; dropped at a release point
    for direction, raw, message in log:
        msg_type = raw[0]  # the type first: most messages are none of these (and cheaper to tell)
        if msg_type == CLIENT_HELLO and isinstance(message, ClientHello):
            if not h.hello_retry:
                h, seen, released = HandshakeState(), False, False
            h.hello_retry = False
            h.client_random, h.client_schemes = message.random, message.signature_algorithms
        elif msg_type == SERVER_HELLO and isinstance(message, ServerHello):
            if message.hello_retry_request:
                h.hello_retry = True
            else:
                h.server_random, h.version, h.suite = message.random, message.version, message.cipher_suite
        elif msg_type in _CERTIFICATES and isinstance(message, Certificate):
            h.leaves[direction] = message.chain[0] if message.chain and not message.undecodable else None
        elif msg_type == CERTIFICATE_REQUEST:
            if isinstance(message, CertificateRequest) and not message.post_handshake:
                h.request_schemes = message.signature_algorithms
        elif msg_type == CERTIFICATE_VERIFY and isinstance(message, CertificateVerify):
            why = "" if seen and not released else NOT_SEEN
            marks[id(message)] = verify_head(h, direction, raw, message, why, DEFERRED)[0]
        elif msg_type == SERVER_KEY_EXCHANGE and isinstance(message, SimpleMessage) and not h.tls13:
            ready = h.leaves.get(Direction.SERVER) is not None and bool(h.client_random and h.server_random)
            marks[id(message)] = key_exchange_head(raw, h.version, h.client_schemes, ready, DEFERRED)[0]
        if msg_type not in NOT_IN_TRANSCRIPT and not released:
            seen = True
        if msg_type in _RELEASE_POINTS and not released:
            released = releases_transcript(msg_type, direction, h)
    return marks


def signature_checker(index: int) -> HandshakeSignatures | DeferredSignatures:
    """The first FULL_CHECKS connections are checked as their messages arrive; later ones only
    where a failed handshake may hinge on a signature (the issue's cost bound)."""
    return HandshakeSignatures(index) if index <= FULL_CHECKS else DeferredSignatures(index)


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
