"""The transcript model every evidence source produces (pcap, live probe).

Frozen dataclasses built from stdlib and cryptography types only: nothing from scapy travels
past the decoder. `None` on an Optional field means "not observable", never "no".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Generic, TypeVar

from cryptography import x509

from parsers.constants import ALERT_NAMES, HANDSHAKE_NAMES, AlertDescription, ProtocolVersion


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
    #: the algorithm it arrived compressed with (RFC 8879 CompressedCertificate), else ""
    compressed: str = ""

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

    def __reduce__(self) -> tuple[type[Problem], tuple[str, str, Direction | None, int | None]]:
        return Problem, (self.kind, self.detail, self.direction, self.frame)  # as Endpoint


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
        return self.version == ProtocolVersion.tls1_3

    @property
    def resumed(self) -> bool:
        """An abbreviated handshake: no certificate exchange happens in it at all."""
        sh, ch = self.server_hello, self.client_hello
        if sh is None:
            return False
        if sh.version == ProtocolVersion.tls1_3:
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


def _certificate_label(message: Certificate) -> str:
    size = "empty" if message.empty else str(len(message.chain))
    return "Certificate" + (
        f" ({size}, {message.compressed}-compressed)" if message.compressed else f" ({size})"
    )


def _encrypted_label(message: EncryptedRecords) -> str:
    return (
        f"{message.count} encrypted record{'s' if message.count > 1 else ''} "
        f"({', '.join(str(s) for s in message.sizes[:6])}"
        f"{', …' if len(message.sizes) > 6 else ''} bytes)"
    )


#: per kind of message, in the order a subclass is matched (ServerKeyExchange is a SimpleMessage)
_LABEL_ORDER: tuple[tuple[type, Callable[[Any], str]], ...] = (
    (ClientHello, lambda m: "ClientHello"),
    (ServerHello, lambda m: "HelloRetryRequest" if m.hello_retry_request else "ServerHello"),
    (CertificateRequest, lambda m: "CertificateRequest" + (" (post-handshake)" if m.post_handshake else "")),
    (Certificate, _certificate_label),
    (CertificateVerify, lambda m: "CertificateVerify"),
    (Alert, lambda m: f"Alert {m.name}" + ("" if m.encrypted or m.fatal else " (warning)")),
    (SimpleMessage, lambda m: m.name),
    (ChangeCipherSpec, lambda m: "ChangeCipherSpec"),
    (EncryptedRecords, _encrypted_label),
    (
        ApplicationData,
        lambda m: f"ApplicationData {m.length} bytes" + (f' "{m.first_line}"' if m.first_line else ""),
    ),
)
#: the label function of each class met, found once (a label per event: a dense capture's JSON
#: report asks 140,000 times)
_LABELS: dict[type, Callable[[Any], str]] = {}


def message_label(message: Message) -> str:
    kind = type(message)
    label = _LABELS.get(kind)
    if label is None:
        label = next((f for base, f in _LABEL_ORDER if issubclass(kind, base)), lambda m: type(m).__name__)
        _LABELS[kind] = label
    return label(message)


# -- typed access to a transcript's events ------------------------------------------------
# `Transcript.first(kind)` returns a `HandshakeEvent` whose `message` is the whole `Message`
# union; `Seen` pairs the event (time, direction, frame, label) with its message already
# narrowed, so callers do not repeat `isinstance(event.message, kind)` to reach its fields.

M = TypeVar("M", bound=Message)


@dataclass(frozen=True, slots=True)
class Seen(Generic[M]):
    """One event and its message, typed as the class asked for."""

    event: HandshakeEvent
    message: M

    @property
    def direction(self) -> Direction:
        return self.event.direction

    @property
    def time(self) -> float:
        return self.event.time


def message_as(event: HandshakeEvent | None, kind: type[M]) -> M | None:
    """The event's message if it is a `kind`, else None."""
    if event is not None and isinstance(event.message, kind):
        return event.message
    return None


def seen_as(event: HandshakeEvent | None, kind: type[M]) -> Seen[M] | None:
    message = message_as(event, kind)
    return None if message is None or event is None else Seen(event, message)


def first(t: Transcript, kind: type[M], direction: Direction | None = None) -> Seen[M] | None:
    """The first `kind` message (from `direction`, if given)."""
    return seen_as(t.first(kind, direction), kind)


def every(
    events: Iterable[HandshakeEvent], kind: type[M], direction: Direction | None = None
) -> Iterator[Seen[M]]:
    """Each `kind` message among `events`, in order (from `direction`, if given)."""
    for event in events:
        if direction is not None and event.direction is not direction:
            continue
        seen = seen_as(event, kind)
        if seen is not None:
            yield seen


def any_of(events: Iterable[HandshakeEvent], kind: type[M], direction: Direction | None = None) -> bool:
    return next(every(events, kind, direction), None) is not None


def fatal_alert(t: Transcript) -> Seen[Alert] | None:
    """The first fatal alert, either way: where the handshake failed."""
    return next((s for s in every(t.messages(Alert), Alert) if s.message.fatal), None)


def alert_named(alert: Alert) -> bool:
    """Is the alert's description one this tool can name? Not for a description outside the
    registry (200), not for one a log did not show (`described` false), nor for a fatal 0:
    close_notify is a warning."""
    if alert.encrypted:
        return True  # said as "encrypted alert": what is not known is said so
    if not alert.described:
        return False
    return alert.description in ALERT_NAMES and not (
        alert.fatal and alert.description == AlertDescription.close_notify
    )


def alert_name(alert: Alert) -> str:
    """The alert's name for reports: never close_notify for one whose description is unknown."""
    if alert.encrypted:
        return "encrypted alert"
    if not alert.described:
        return "unknown alert (description not shown)"
    if alert.fatal and alert.description == AlertDescription.close_notify:
        return "unknown alert"
    if alert.description not in ALERT_NAMES:
        return f"alert {alert.description} (unknown)"
    return ALERT_NAMES[alert.description]


def event_label(event: HandshakeEvent) -> str:
    """The event's label, with an alert named by `alert_name`."""
    m = event.message
    if isinstance(m, Alert):
        name = alert_name(m).removeprefix("alert ")  # "Alert 200 (unknown)"
        return f"Alert {name}" + ("" if m.encrypted or m.fatal else " (warning)")
    return event.label
