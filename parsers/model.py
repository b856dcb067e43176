"""The transcript model every evidence source produces (pcap, live probe).

Frozen dataclasses built from stdlib and cryptography types only: nothing from scapy travels
past the decoder. `None` on an Optional field means "not observable", never "no".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from cryptography import x509


class Direction(str, Enum):
    CLIENT = "client"  # client → server
    SERVER = "server"  # server → client

    @property
    def peer(self) -> Direction:
        return Direction.SERVER if self is Direction.CLIENT else Direction.CLIENT


@dataclass(frozen=True, slots=True)
class Endpoint:
    ip: str
    port: int

    def __str__(self) -> str:
        return f"[{self.ip}]:{self.port}" if ":" in self.ip else f"{self.ip}:{self.port}"

    def __reduce__(self) -> tuple[type[Endpoint], tuple[str, int]]:
        """Pickled as its two values: a set's merge reads two endpoints per connection back,
        and a slotted dataclass's default unpickling (dataclasses' __setstate__) costs 4x more."""
        return Endpoint, (self.ip, self.port)


TLS_VERSIONS = {0x0300: "SSL 3.0", 0x0301: "TLS 1.0", 0x0302: "TLS 1.1", 0x0303: "TLS 1.2", 0x0304: "TLS 1.3"}


def version_name(value: int | None) -> str:
    if value is None:
        return "?"
    return TLS_VERSIONS.get(value, f"0x{value:04x}")


@dataclass(frozen=True, slots=True)
class DistinguishedName:
    """A CA name from a CertificateRequest: the DER as sent plus a readable RFC 4514 form."""

    der: bytes
    text: str


@dataclass(frozen=True, slots=True)
class ClientHello:
    random: bytes
    server_name: str | None
    legacy_version: int
    supported_versions: tuple[int, ...]
    cipher_suites: tuple[int, ...]
    signature_algorithms: tuple[int, ...]
    post_handshake_auth: bool
    session_id: bytes = b""


@dataclass(frozen=True, slots=True)
class ServerHello:
    random: bytes
    version: int  # negotiated (supported_versions wins over legacy_version)
    cipher_suite: int
    hello_retry_request: bool = False
    session_id: bytes = b""
    #: TLS 1.3: the server accepted a pre-shared key (session resumption).
    psk: bool = False
    #: TLS 1.2: encrypt_then_mac was negotiated (changes CBC record layout).
    encrypt_then_mac: bool = False
    #: The server answered renegotiation_info (RFC 5746; always true of TLS 1.3, which has no
    #: renegotiation). False: a legacy server OpenSSL 3 clients refuse and Java tolerates.
    secure_renegotiation: bool = True


@dataclass(frozen=True, slots=True)
class CertificateRequest:
    """TLS 1.2 (certificate_types, signature algorithms, CA names) or TLS 1.3 (context + exts)."""

    tls13: bool
    certificate_types: tuple[int, ...]
    signature_algorithms: tuple[int, ...]
    signature_algorithms_cert: tuple[int, ...]
    ca_names: tuple[DistinguishedName, ...]
    context: bytes = b""
    post_handshake: bool = False
    #: False when the TLS 1.3 request carries no certificate_authorities extension at all.
    ca_names_present: bool = True
    #: SSL 3.0, TLS 1.0 or 1.1: no signature_algorithms field (certificate_types decide alone).
    legacy: bool = False


@dataclass(frozen=True, slots=True)
class Certificate:
    chain: tuple[x509.Certificate, ...]
    context: bytes = b""
    #: Certificates in the message that did not parse (kept as problems, not raised).
    undecodable: int = 0
    #: (position in the message, what a strict parser refused or found non-standard), for the
    #: certificates read leniently (parsers/x509_lenient.py); malformed ones first say "malformed:"
    notes: tuple[tuple[int, str], ...] = ()

    @property
    def empty(self) -> bool:
        return not self.chain and not self.undecodable


@dataclass(frozen=True, slots=True)
class CertificateVerify:
    algorithm: int  # the SignatureScheme; 0 in TLS 1.0/1.1, whose message names none
    signature_length: int
    #: True/False: the signature was checked against the sender's certificate key over the
    #: handshake transcript (parsers.signatures); None: not checkable, `unchecked` says why.
    verified: bool | None = None
    #: why `verified` is None, or what failed when it is False
    unchecked: str = ""
    #: the scheme was among the peer's signature_algorithms (None: the peer listed none we saw)
    scheme_offered: bool | None = None
    #: the scheme fits the certificate's key (RSA-PSS rsae/pss, the curve in TLS 1.3)
    scheme_fits_key: bool | None = None


@dataclass(frozen=True, slots=True)
class Alert:
    level: int
    description: int
    #: True when the alert travelled encrypted and we could not read it (level/description 0).
    encrypted: bool = False
    #: False when the level was read but not the description (a log that does not show it):
    #: description 0 then means nothing, least of all close_notify.
    described: bool = True

    @property
    def fatal(self) -> bool:
        return self.level == 2

    @property
    def name(self) -> str:
        if self.encrypted:
            return "encrypted alert"
        if not self.described:
            return "alert (description not shown)"
        return ALERT_NAMES.get(self.description, f"alert {self.description}")


@dataclass(frozen=True, slots=True)
class SimpleMessage:
    """A handshake message whose body we do not need: ServerKeyExchange, Finished, ..."""

    msg_type: int
    length: int

    @property
    def name(self) -> str:
        return HANDSHAKE_NAMES.get(self.msg_type, f"handshake type {self.msg_type}")


@dataclass(frozen=True, slots=True)
class ServerKeyExchange(SimpleMessage):
    """TLS 1.0-1.2 ServerKeyExchange: a SimpleMessage (msg_type 12) whose signature over
    client_random + server_random + params was checked against the server's certificate."""

    algorithm: int | None = None  # None in TLS 1.0/1.1 (no scheme on the wire) or unsigned
    verified: bool | None = None
    unchecked: str = ""
    scheme_offered: bool | None = None
    scheme_fits_key: bool | None = None


@dataclass(frozen=True, slots=True)
class ChangeCipherSpec:
    pass


@dataclass(frozen=True, slots=True)
class EncryptedRecords:
    """Opaque records we could not (or chose not to) decrypt, folded into one event."""

    count: int
    sizes: tuple[int, ...]
    content_type: int = 23


@dataclass(frozen=True, slots=True)
class ApplicationData:
    """Decrypted (or plaintext) application data: its size and, if HTTP, the first line."""

    length: int
    first_line: str | None = None


Message = (
    ClientHello
    | ServerHello
    | CertificateRequest
    | Certificate
    | CertificateVerify
    | Alert
    | SimpleMessage
    | ChangeCipherSpec
    | EncryptedRecords
    | ApplicationData
)


@dataclass(frozen=True, slots=True)
class HandshakeEvent:
    direction: Direction
    time: float  # seconds since the capture's first packet (or the probe's start)
    message: Message
    frame: int | None = None  # 1-based packet number in the capture
    encrypted: bool = False  # travelled inside an encrypted record (we decrypted it)

    @property
    def label(self) -> str:
        return message_label(self.message)


class Outcome(str, Enum):
    COMPLETED = "completed"
    ALERT = "alert"
    RESET = "reset"
    CLOSED = "closed"  # FIN before the handshake ended, no alert
    INCOMPLETE = "incomplete"  # capture ended / started mid-way


#: problems kept per connection and per pipeline half; past it they are counted in one more
MAX_PROBLEMS = 100


@dataclass(frozen=True, slots=True)
class Problem:
    """Something the decoder met and could not decode: data, not an exception."""

    kind: str  # gap, truncated, snaplen, malformed, mid-stream, undecryptable, limit...
    detail: str
    direction: Direction | None = None
    frame: int | None = None


def too_many_problems(count: int, frame: int | None) -> Problem:
    return Problem("limit", f"{count} more problems in this connection, not listed", None, frame)


@dataclass
class Transcript:
    index: int
    client: Endpoint
    server: Endpoint
    start_time: float  # absolute epoch seconds of the first packet
    events: list[HandshakeEvent] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    decrypted: bool = False
    #: A key log was given but holds no secrets for this connection's client random.
    keylog_missed: bool = False
    reset_by: Direction | None = None
    fin_by: list[Direction] = field(default_factory=list)
    handshake_done: bool = False
    #: True when handshake_done was inferred from encrypted record order (TLS 1.3, no keys).
    done_inferred: bool = False
    _index: tuple[int, dict[type, list[HandshakeEvent]]] | None = field(
        default=None, repr=False, compare=False
    )

    def _of_type(self, kind: type) -> list[HandshakeEvent]:
        # Rules ask this dozens of times per transcript: index the events by type once.
        index = self._index
        if index is None or index[0] != len(self.events):
            by_type: dict[type, list[HandshakeEvent]] = {}
            for e in self.events:
                by_type.setdefault(type(e.message), []).append(e)
            index = self._index = (len(self.events), by_type)
        return index[1].get(kind, [])

    def replace_event(self, position: int, event: HandshakeEvent) -> None:
        """An event replaced in place (a signature's verdict, known only at the end): the type
        index is built again, or it would keep the old event."""
        self.events[position] = event
        self._index = None

    def messages(self, kind: type, direction: Direction | None = None) -> list[HandshakeEvent]:
        found = self._of_type(kind)
        return list(found) if direction is None else [e for e in found if e.direction is direction]

    def first(self, kind: type, direction: Direction | None = None) -> HandshakeEvent | None:
        for event in self._of_type(kind):
            if direction is None or event.direction is direction:
                return event
        return None

    @property
    def client_hello(self) -> ClientHello | None:
        event = self.first(ClientHello, Direction.CLIENT)
        return event.message if event and isinstance(event.message, ClientHello) else None

    @property
    def server_hello(self) -> ServerHello | None:
        for event in self.messages(ServerHello, Direction.SERVER):
            if isinstance(event.message, ServerHello) and not event.message.hello_retry_request:
                return event.message
        return None

    @property
    def version(self) -> int | None:
        hello = self.server_hello
        return hello.version if hello else None

    @property
    def tls13(self) -> bool:
        return self.version == 0x0304

    @property
    def resumed(self) -> bool:
        """An abbreviated handshake: no certificate exchange happens in it at all."""
        sh, ch = self.server_hello, self.client_hello
        if sh is None:
            return False
        if sh.version == 0x0304:
            return sh.psk
        if sh.session_id and ch is not None and sh.session_id == ch.session_id:
            return True
        for event in self.events:  # TLS 1.2: the server's CCS before any Certificate
            if event.direction is Direction.SERVER:
                if isinstance(event.message, ChangeCipherSpec):
                    return True
                if isinstance(event.message, (Certificate, CertificateRequest)):
                    return False
        return False

    @property
    def server_name(self) -> str | None:
        hello = self.client_hello
        return hello.server_name if hello else None

    @property
    def outcome(self) -> Outcome:
        if any(isinstance(e.message, Alert) and e.message.fatal for e in self.events):
            return Outcome.ALERT
        if self.reset_by is not None and not self.handshake_done:
            return Outcome.RESET
        if self.handshake_done:
            return Outcome.COMPLETED
        if self.fin_by:
            return Outcome.CLOSED
        return Outcome.INCOMPLETE


def message_label(message: Message) -> str:
    if isinstance(message, ClientHello):
        return "ClientHello"
    if isinstance(message, ServerHello):
        return "HelloRetryRequest" if message.hello_retry_request else "ServerHello"
    if isinstance(message, CertificateRequest):
        return "CertificateRequest" + (" (post-handshake)" if message.post_handshake else "")
    if isinstance(message, Certificate):
        return "Certificate" + (" (empty)" if message.empty else f" ({len(message.chain)})")
    if isinstance(message, CertificateVerify):
        return "CertificateVerify"
    if isinstance(message, Alert):
        return f"Alert {message.name}" + ("" if message.encrypted or message.fatal else " (warning)")
    if isinstance(message, SimpleMessage):
        return message.name
    if isinstance(message, ChangeCipherSpec):
        return "ChangeCipherSpec"
    if isinstance(message, EncryptedRecords):
        return (
            f"{message.count} encrypted record{'s' if message.count > 1 else ''} "
            f"({', '.join(str(s) for s in message.sizes[:6])}"
            f"{', …' if len(message.sizes) > 6 else ''} bytes)"
        )
    if isinstance(message, ApplicationData):
        return f"ApplicationData {message.length} bytes" + (
            f' "{message.first_line}"' if message.first_line else ""
        )
    return type(message).__name__


HANDSHAKE_NAMES = {
    0: "HelloRequest",
    1: "ClientHello",
    2: "ServerHello",
    4: "NewSessionTicket",
    5: "EndOfEarlyData",
    8: "EncryptedExtensions",
    11: "Certificate",
    12: "ServerKeyExchange",
    13: "CertificateRequest",
    14: "ServerHelloDone",
    15: "CertificateVerify",
    16: "ClientKeyExchange",
    20: "Finished",
    22: "CertificateStatus",
    24: "KeyUpdate",
    254: "MessageHash",
}

ALERT_NAMES = {
    0: "close_notify",
    10: "unexpected_message",
    20: "bad_record_mac",
    21: "decryption_failed",
    22: "record_overflow",
    30: "decompression_failure",
    40: "handshake_failure",
    41: "no_certificate",
    42: "bad_certificate",
    43: "unsupported_certificate",
    44: "certificate_revoked",
    45: "certificate_expired",
    46: "certificate_unknown",
    47: "illegal_parameter",
    48: "unknown_ca",
    49: "access_denied",
    50: "decode_error",
    51: "decrypt_error",
    60: "export_restriction",
    70: "protocol_version",
    71: "insufficient_security",
    80: "internal_error",
    86: "inappropriate_fallback",
    90: "user_canceled",
    100: "no_renegotiation",
    109: "missing_extension",
    110: "unsupported_extension",
    111: "certificate_unobtainable",
    112: "unrecognized_name",
    113: "bad_certificate_status_response",
    114: "bad_certificate_hash_value",
    115: "unknown_psk_identity",
    116: "certificate_required",
    120: "no_application_protocol",
}

SIGNATURE_SCHEMES = {
    0x0201: "rsa_pkcs1_sha1",
    0x0203: "ecdsa_sha1",
    0x0401: "rsa_pkcs1_sha256",
    0x0403: "ecdsa_secp256r1_sha256",
    0x0501: "rsa_pkcs1_sha384",
    0x0503: "ecdsa_secp384r1_sha384",
    0x0601: "rsa_pkcs1_sha512",
    0x0603: "ecdsa_secp521r1_sha512",
    0x0804: "rsa_pss_rsae_sha256",
    0x0805: "rsa_pss_rsae_sha384",
    0x0806: "rsa_pss_rsae_sha512",
    0x0807: "ed25519",
    0x0808: "ed448",
    0x0809: "rsa_pss_pss_sha256",
    0x080A: "rsa_pss_pss_sha384",
    0x080B: "rsa_pss_pss_sha512",
    0x0402: "dsa_sha256",
    0x0502: "dsa_sha384",
    0x0602: "dsa_sha512",
    0x0202: "dsa_sha1",
    0x0101: "rsa_pkcs1_md5",
    0x0301: "rsa_pkcs1_sha224",
    0x0302: "dsa_sha224",
    0x0303: "ecdsa_sha224",
    0x081A: "ecdsa_brainpoolP256r1tls13_sha256",
    0x081B: "ecdsa_brainpoolP384r1tls13_sha384",
    0x081C: "ecdsa_brainpoolP512r1tls13_sha512",
    0x0904: "mldsa44",
    0x0905: "mldsa65",
    0x0906: "mldsa87",
    0x0708: "sm2sig_sm3",
}

CERTIFICATE_TYPES = {
    1: "rsa_sign",
    2: "dss_sign",
    3: "rsa_fixed_dh",
    4: "dss_fixed_dh",
    64: "ecdsa_sign",
    65: "rsa_fixed_ecdh",
    66: "ecdsa_fixed_ecdh",
}


def scheme_name(value: int) -> str:
    return SIGNATURE_SCHEMES.get(value, f"0x{value:04x}")
