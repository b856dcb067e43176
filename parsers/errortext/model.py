"""What a client's pasted error text says, as typed facts (no diagnosis: inspector/rules does that)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum


class Family(str, Enum):
    """Who wrote the text: the client program (or the server page it printed)."""

    CURL = "curl"
    OPENSSL = "openssl"  # openssl s_client / openssl verify, or OpenSSL's error queue in another client
    PYTHON = "python"  # ssl, urllib3, requests
    GO = "go"
    NODE = "node"
    DOTNET = "dotnet"
    POSTMAN = "postman"
    PLATFORM = "platform"  # the integration platform's own outbound error texts
    HTTP = "http"  # a server's HTTP error page (nginx's 400 pages) printed by the client


class Speaker(str, Enum):
    """Who said it. An alert records who sent it (tlslite-ng's view): a client that reports a
    received alert is quoting the server."""

    CLIENT = "client"  # the client, about something it found itself
    SERVER_ALERT = "server-alert"  # a TLS alert the server sent, as the client reports it
    CLIENT_ALERT = "client-alert"  # a TLS alert the client sent (curl -v "(OUT), TLS alert")
    SERVER_HTTP = "server-http"  # the server's HTTP answer, after the handshake
    LOCAL_CHECK = "local-check"  # a check run on files alone (openssl verify): no server involved
    UNKNOWN = "unknown"  # a closed connection: the server or something between


class Kind(str, Enum):
    ALERT_RECEIVED = "alert-received"
    ALERT_SENT = "alert-sent"
    SERVER_CERT_UNTRUSTED = "server-cert-untrusted"
    SERVER_CERT_EXPIRED = "server-cert-expired"
    SERVER_CERT_SELF_SIGNED = "server-cert-self-signed"
    HOSTNAME_MISMATCH = "hostname-mismatch"
    CLIENT_CERT_UNUSABLE = "client-cert-unusable"
    CLOSED_WITHOUT_ALERT = "closed-without-alert"
    HANDSHAKE_FAILED = "handshake-failed"  # the text says it failed, not why
    HTTP_NO_CERT = "http-no-cert"
    HTTP_CERT_ERROR = "http-cert-error"
    HTTP_PLAIN_TO_TLS = "http-plain-to-tls"
    HTTP_BAD_REQUEST = "http-bad-request"
    VERIFY_FAILED = "verify-failed"  # openssl verify on files
    SUCCESS = "success"


@dataclass(frozen=True)
class Sighting:
    """One recognised statement: where, whose words, what it says. `text` is escaped (printable)."""

    line: int
    family: Family
    kind: Kind
    speaker: Speaker
    text: str
    alert: str | None = None  # the TLS alert's RFC name (unknown_ca, certificate_required, ...)
    detail: str | None = None  # e.g. the verify reason ("unable to get local issuer certificate")
    sign: str = ""  # which recognised form matched (curl (56), Go remote error, ...)


@dataclass(frozen=True)
class Target:
    """The server the text names: host and port as the text gives them."""

    host: str
    port: int | None
    line: int
    how: str  # curl's "Connected to", a URL, Python's host=/port=, s_client -connect

    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port if self.port is not None else 443}"


@dataclass(frozen=True)
class Clues:
    """What the text shows of the handshake besides the error (line numbers; None: not shown)."""

    cert_requested: int | None = (
        None  # curl -v "Request CERT", s_client "Acceptable client certificate CA names"
    )
    client_cert_verify_sent: int | None = None  # curl -v "(OUT) ... CERT verify": a certificate was sent
    client_cert_message: int | None = None  # curl -v "(OUT) ... Certificate (11)" (maybe empty)
    ca_names: tuple[str, ...] = ()
    no_ca_names: int | None = None  # s_client "No client certificate CA names sent"
    tls_version: str | None = None
    cert_file: str | None = None  # --cert / -E / -cert / cert= on a pasted command line
    client_cert_configured: bool | None = None


@dataclass(frozen=True)
class ErrorTextReading:
    lines: int
    sightings: tuple[Sighting, ...]
    targets: tuple[Target, ...] = ()
    clues: Clues = field(default_factory=Clues)

    @property
    def families(self) -> tuple[Family, ...]:
        return tuple(dict.fromkeys(s.family for s in self.sightings))

    @property
    def failures(self) -> tuple[Sighting, ...]:
        return tuple(s for s in self.sightings if s.kind is not Kind.SUCCESS)

    @property
    def target(self) -> Target | None:
        return self.targets[0] if self.targets else None
