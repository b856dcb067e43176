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


def parse_target(text: str, what: str = "") -> tuple[str, int]:
    """HOST[:PORT] (port 443 by default), [IPv6]:PORT; with `what` (an option name) the port
    is required — a proxy has no usual port."""
    default = "" if what else "443"
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest.lstrip(":") or default
    elif text.count(":") == 1:
        host, port = text.split(":")
    else:
        host, port = text, default
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        label = f"{what} {text}" if what else text
        raise InputError(f"{label}: the port must be a number from 1 to 65535", "write HOST:PORT")
    return host, int(port)


def handshake(target: Target, entry: KeyEntry | None, choose: ChooseEntry | None = None) -> Attempt:
    """One attempt presenting `entry`, or — with `choose` — the entry it picks when the
    CertificateRequest arrives. Socket errors become InputError only when nothing was exchanged."""
    from inspector.bio_client import BioClient

    deadline = time.monotonic() + target.timeout  # total: connect, CONNECT, handshake, reads
    attempt = Attempt(alias=entry.alias if entry else None)
    host, port = target.proxy or (target.host, target.port)
    what = f"proxy {host}:{port}" if target.proxy else f"{host}:{port}"
    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise InputError(f"{what}: cannot resolve {host} ({exc.strerror})", "check the host name") from None
    attempt.start = time.time()
    try:
        sock = socket.create_connection((host, port), timeout=target.timeout)
    except ConnectionRefusedError:
        raise InputError(
            f"{what}: connection refused", "check the port and that the server is running"
        ) from None
    except TimeoutError:
        raise InputError(
            f"{what}: no answer within {target.timeout:g} s",
            "check the address, the firewall, or raise --timeout",
        ) from None
    except OSError as exc:
        raise InputError(f"{what}: cannot connect ({exc.strerror})", "check the address") from None
    try:
        if target.proxy:
            attempt.proxy_status = open_tunnel(sock, target, deadline)
        BioClient(sock, target, attempt, entry, choose, deadline).run()
    finally:
        sock.close()
    return attempt


def open_tunnel(sock: socket.socket, target: Target, deadline: float) -> str:
    """HTTP CONNECT through the proxy, as Java's https.proxyHost and curl's --proxy do; returns
    the proxy's status line. Anything but 200 is a one-line error naming the proxy's answer.
    The whole reply must come before `deadline` (a proxy trickling bytes cannot hold us)."""
    assert target.proxy is not None
    proxy = f"proxy {target.proxy[0]}:{target.proxy[1]}"
    authority = f"[{target.host}]:{target.port}" if ":" in target.host else f"{target.host}:{target.port}"
    auth = ""
    if target.proxy_credentials is not None:
        import base64

        token = base64.b64encode(target.proxy_credentials.encode()).decode()
        auth = f"Proxy-Authorization: Basic {token}\r\n"
    try:
        sock.sendall(
            f"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n{auth}"
            "User-Agent: mtls-inspector\r\n\r\n".encode()
        )
        reply = b""
        while b"\r\n\r\n" not in reply and len(reply) < 65536:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            sock.settimeout(remaining)
            chunk = sock.recv(4096)
            if not chunk:
                break
            reply += chunk
    except TimeoutError:
        said = "no answer" if not reply else "no complete answer"
        raise InputError(
            f"{proxy}: {said} to CONNECT {authority} within {target.timeout:g} s",
            "check that this is an HTTP proxy, or raise --timeout",
        ) from None
    except OSError as exc:
        raise InputError(
            f"{proxy}: reset the connection on CONNECT {authority} ({exc.strerror}): not an HTTP proxy?",
            "give the proxy's HOST:PORT (the one in https.proxyHost/proxyPort)",
        ) from None
    if not reply:
        raise InputError(
            f"{proxy}: closed the connection without answering CONNECT {authority}: not an HTTP proxy?",
            "give the proxy's HOST:PORT (the one in https.proxyHost/proxyPort)",
        )
    status = reply.split(b"\r\n", 1)[0].decode("latin-1")[:200]
    parts = status.split()
    if len(parts) < 2 or not parts[0].startswith("HTTP/"):
        quoted = reply[:60].decode("latin-1").encode("unicode_escape").decode()
        raise InputError(
            f'{proxy}: not an HTTP proxy (answered "{quoted}" to CONNECT)',
            "give the proxy's HOST:PORT (the one in https.proxyHost/proxyPort)",
        )
    if parts[1] != "200":
        if parts[1] != "407":
            hint = "check that the proxy allows CONNECT to this host and port"
        elif target.proxy_credentials is None:
            hint = "give --proxy-user USER and --proxy-pass-env VAR (Basic authentication)"
        else:
            hint = (
                "the proxy refused these credentials (Basic); check them — proxies that "
                "want NTLM or Kerberos are not supported"
            )
        raise InputError(f"{proxy}: CONNECT {authority} refused: {status}", hint)
    return status


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
        if pattern.startswith("*.") and "." in wanted and wanted.split(".", 1)[1] == pattern[2:]:
            return True
    return False
