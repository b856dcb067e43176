"""The live outbound handshake: its target, its result (Attempt), and the connection set-up.

The byte pump itself — pyOpenSSL over memory BIOs, our decoder reading every record before
OpenSSL does — is inspector/bio_client.py.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography import x509

from inspector.errors import InputError
from inspector.keystore.model import KeyEntry
from parsers.model import Direction, Endpoint, Transcript
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
    server_chain: list[x509.Certificate] = field(default_factory=list)
    verify_problems: list[VerifyProblem] = field(default_factory=list)
    version: str | None = None
    cipher: str | None = None
    #: the CertificateRequest was read before OpenSSL answered it (the choice could be made)
    request_seen: bool = False
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


def parse_target(text: str) -> tuple[str, int]:
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest.lstrip(":") or "443"
    elif text.count(":") == 1:
        host, port = text.split(":")
    else:
        host, port = text, "443"
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise InputError(f"{text}: the port must be a number from 1 to 65535", "write HOST:PORT")
    return host, int(port)


def handshake(target: Target, entry: KeyEntry | None, choose: ChooseEntry | None = None) -> Attempt:
    """One attempt presenting `entry`, or — with `choose` — the entry it picks when the
    CertificateRequest arrives. Socket errors become InputError only when nothing was exchanged."""
    from inspector.bio_client import BioClient

    attempt = Attempt(alias=entry.alias if entry else None)
    try:
        socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise InputError(f"{target.host}: cannot resolve ({exc.strerror})",
                         "check the host name") from None
    attempt.start = time.time()
    try:
        sock = socket.create_connection((target.host, target.port), timeout=target.timeout)
    except ConnectionRefusedError:
        raise InputError(f"{target.host}:{target.port}: connection refused",
                         "check the port and that the server is running") from None
    except TimeoutError:
        raise InputError(f"{target.host}:{target.port}: no answer within {target.timeout:g} s",
                         "check the address, the firewall, or raise --timeout") from None
    except OSError as exc:
        raise InputError(f"{target.host}:{target.port}: cannot connect ({exc.strerror})",
                         "check the address") from None
    try:
        BioClient(sock, target, attempt, entry, choose).run()
    finally:
        sock.close()
    return attempt


def is_ip(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def looks_like_tls(data: bytes) -> bool:
    return len(data) >= 3 and data[0] in (20, 21, 22, 23) and data[1] == 3


def hostname_matches(cert: x509.Certificate, name: str) -> bool:
    """RFC 6125 style: SAN DNS names (one left-most wildcard label) or IP addresses."""
    import ipaddress

    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    if is_ip(name):
        return ipaddress.ip_address(name) in san.get_values_for_type(x509.IPAddress)
    wanted = name.lower().rstrip(".")
    for pattern in san.get_values_for_type(x509.DNSName):
        pattern = pattern.lower().rstrip(".")
        if pattern == wanted:
            return True
        if pattern.startswith("*.") and "." in wanted and \
                wanted.split(".", 1)[1] == pattern[2:]:
            return True
    return False
