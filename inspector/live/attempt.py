"""A live handshake as plain data: what it is asked to do (`Target`) and what it did (`Attempt`).

Shared by the byte pump (bio_client), the connection set-up (probe), the probe rules and the
renderers, so none of them needs to import another to know these shapes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cryptography import x509

from inspector.keystore.model import KeyEntry
from parsers.model import Direction, Endpoint, Transcript

if TYPE_CHECKING:
    from parsers.stream import Chunk

#: Called once with the transcript as it stands when the CertificateRequest has been read;
#: returns the key entry to present, or None for an empty Certificate.
ChooseEntry = Callable[[Transcript], "KeyEntry | None"]


@dataclass
class VerifyProblem:
    depth: int
    errnum: int
    message: str
    subject: str


@dataclass
class Attempt:
    """One handshake: what was sent with it, what happened, every byte recorded."""

    alias: str | None
    chunks: list[Chunk] = field(default_factory=list)
    keylog: list[str] = field(default_factory=list)
    start: float = 0.0
    client: Endpoint = field(default_factory=lambda: Endpoint("127.0.0.1", 0))
    server: Endpoint = field(default_factory=lambda: Endpoint("127.0.0.1", 0))
    completed: bool = False
    error: str | None = None
    closed_by: Direction | None = None
    reset_by: Direction | None = None
    timed_out: bool = False
    http_status: str | None = None
    #: the server's certificates that could be read, leaf first, up to the first that could not
    server_chain: list[x509.Certificate] = field(default_factory=list)
    #: the subject of every certificate the server sent, read leniently (never raises)
    server_chain_subjects: list[str] = field(default_factory=list)
    verify_problems: list[VerifyProblem] = field(default_factory=list)
    version: str | None = None
    cipher: str | None = None
    #: the CertificateRequest was read before OpenSSL answered it (the choice could be made)
    request_seen: bool = False
    #: the proxy's answer to CONNECT, when the probe went through one
    proxy_status: str | None = None
    #: the entry due to be sent whose private key is not its certificate's: OpenSSL refuses
    #: the pair, so an empty Certificate went out instead (Java would send it and fail later)
    key_mismatch: str | None = None
    transcript: Transcript | None = None

    @property
    def received(self) -> bytes:
        return b"".join(d for direction, _, d in self.chunks if direction is Direction.SERVER)


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    servername: str | None
    tls_version: str | None  # "1.2" / "1.3" / None
    timeout: float
    ca_file: str | None
    insecure: bool
    http_path: str | None
    #: offer TLS 1.3 post-handshake authentication (OpenSSL/curl can; Java does not)
    post_handshake_auth: bool = False
    #: an HTTP proxy to tunnel through with CONNECT (Java's https.proxyHost, curl's --proxy)
    proxy: tuple[str, int] | None = None
    #: "user:password" for the proxy's Basic authentication; never shown
    proxy_credentials: str | None = field(default=None, repr=False)
