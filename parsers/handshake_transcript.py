"""What a handshake's signatures cover: the transcript bytes a CertificateVerify signs (TLS 1.2)
or hashes (TLS 1.3), the hello parameters a ServerKeyExchange signs, and where a signed
message's scheme and signature bytes sit. Nothing here checks a signature or decides which ones
are checked: that policy is handshake_signatures'."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from cryptography import x509

from parsers.constants import HandshakeType
from parsers.model import CertificateVerify, Direction, ServerKeyExchange

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
COMPRESSED_CERTIFICATE = _H.compressed_certificate
CERTIFICATE_VERIFY, FINISHED, KEY_UPDATE, MESSAGE_HASH = (
    _H.certificate_verify,
    _H.finished,
    _H.key_update,
    _H.message_hash,
)
NOT_IN_TRANSCRIPT = (HELLO_REQUEST, NEW_SESSION_TICKET, KEY_UPDATE)
_HASHLIB = {"sha256": hashlib.sha256, "sha384": hashlib.sha384}  # TLS 1.3 transcript hashes
TLS13_HASH = {0x1302: "sha384"}  # every other TLS 1.3 suite hashes with SHA-256


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


@dataclass(slots=True)
class HandshakeState:
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


def releases_transcript(msg_type: int, direction: Direction, h: HandshakeState) -> bool:
    """No signature left in this handshake can need its transcript after this message."""
    client = direction is Direction.CLIENT
    unrequested = h.request_schemes is None
    return (
        (msg_type == CERTIFICATE_VERIFY and client)  # the last signature a handshake holds
        or (msg_type == FINISHED and client)
        or (unrequested and msg_type == SERVER_HELLO_DONE and not h.tls13)
        or (unrequested and msg_type == FINISHED and not client and h.tls13)
    )


def verify_head(
    h: HandshakeState, direction: Direction, raw: bytes, cv: CertificateVerify, why: str, word: str
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


def key_exchange_head(
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
