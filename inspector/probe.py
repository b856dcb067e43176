"""The live outbound handshake: a pyOpenSSL client over memory BIOs on a real socket.

Every byte both ways is recorded with its time and decoded as it passes by the same decoder as
for captures; the client's own key log (set_keylog_callback) decrypts TLS 1.3. pyOpenSSL has
no client-certificate callback, but with memory BIOs it does not need one: the server's bytes
are handed to OpenSSL one record at a time, after our decoder has read them, so when the
CertificateRequest arrives (TLS 1.3: decrypted with the secrets OpenSSL has just logged) the
entry a Java client would choose is installed on the connection before OpenSSL answers it.
One handshake, as the real client makes.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509

from inspector.errors import InputError
from inspector.keystore.model import KeyEntry
from parsers.keylog import KeyLog
from parsers.model import CertificateRequest, Direction, Endpoint, SimpleMessage, Transcript
from parsers.stream import Chunk, LiveDecoder
from parsers.tls import MAX_RECORD

#: Called once with the transcript as it stands when the CertificateRequest has been read;
#: returns the key entry to present, or None for an empty Certificate.
ChooseEntry = Callable[[Transcript], "KeyEntry | None"]

READ_AFTER_HANDSHAKE = 1.5  # seconds to wait for a TLS 1.3 post-handshake alert
NEW_SESSION_TICKET = 4
MAX_RECORDED = 4 << 20  # bytes kept per attempt: enough for any handshake, bounded for a bad peer


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


def _context(target: Target, entry: KeyEntry | None, attempt: Attempt, keys: KeyLog) -> Any:
    from OpenSSL import SSL

    ctx = SSL.Context(SSL.TLS_CLIENT_METHOD)
    versions = {"1.2": SSL.TLS1_2_VERSION, "1.3": SSL.TLS1_3_VERSION}
    if target.tls_version:
        ctx.set_min_proto_version(versions[target.tls_version])
        ctx.set_max_proto_version(versions[target.tls_version])

    def log(_conn: Any, line: bytes) -> None:
        attempt.keylog.append(line.decode())
        keys.add_text(line.decode())

    ctx.set_keylog_callback(log)

    def verify(_conn: Any, cert: Any, errnum: int, depth: int, ok: int) -> bool:
        if not ok:
            attempt.verify_problems.append(VerifyProblem(
                depth, errnum, _verify_message(errnum),
                cert.to_cryptography().subject.rfc4514_string()))
        return True  # keep going: the client-certificate exchange is what we came to see

    ctx.set_verify(SSL.VERIFY_PEER, verify)
    if target.ca_file:
        ctx.load_verify_locations(target.ca_file)
    elif not target.insecure:
        ctx.set_default_verify_paths()
    if entry is not None and entry.private_key is not None and entry.chain:
        # pyOpenSSL 24+ takes cryptography objects directly (its own types are deprecated)
        ctx.use_certificate(entry.chain[0])
        ctx.use_privatekey(entry.private_key)  # type: ignore[arg-type]
        for cert in entry.chain[1:]:
            if cert.issuer != cert.subject:  # roots are not sent, as Java does not either
                ctx.add_extra_chain_cert(cert)
    return ctx


_VERIFY_MESSAGES = {
    2: "unable to get issuer certificate", 10: "certificate has expired",
    9: "certificate is not yet valid", 18: "self-signed certificate",
    19: "self-signed certificate in certificate chain",
    20: "unable to get local issuer certificate", 21: "unable to verify the first certificate",
    26: "unsupported certificate purpose", 62: "hostname mismatch",
}


def _verify_message(errnum: int) -> str:
    return _VERIFY_MESSAGES.get(errnum, f"verify error {errnum}")


def handshake(target: Target, entry: KeyEntry | None, choose: ChooseEntry | None = None) -> Attempt:
    """One attempt presenting `entry`, or — with `choose` — the entry it picks when the
    CertificateRequest arrives. Socket errors become InputError only when nothing was exchanged."""
    from OpenSSL import SSL

    attempt = Attempt(alias=entry.alias if entry else None)
    keys = KeyLog()
    deadline = time.monotonic() + target.timeout
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
    local, remote = sock.getsockname(), sock.getpeername()
    attempt.client = Endpoint(local[0], local[1])
    attempt.server = Endpoint(remote[0], remote[1])
    decoder = LiveDecoder(attempt.client, attempt.server, keys, attempt.start)
    contexts = [_context(target, entry, attempt, keys)]  # kept alive: OpenSSL holds callbacks
    conn = SSL.Connection(contexts[0], None)
    conn.set_connect_state()
    name = target.servername or (None if _is_ip(target.host) else target.host)
    if name:
        conn.set_tlsext_host_name(name.encode("idna"))
    recorded = 0
    pending = bytearray()  # server bytes received, not yet handed to OpenSSL
    raw_mode = False  # the server does not speak TLS records: pass its bytes on unsplit

    def record(direction: Direction, data: bytes) -> tuple[float, int]:
        """Keep the bytes (bounded) for the capture; returns their time and frame number."""
        nonlocal recorded
        now = time.time()
        if recorded < MAX_RECORDED:
            attempt.chunks.append((direction, now, data))
            recorded += len(data)
        return now, len(attempt.chunks) + 2

    def flush() -> None:
        while True:
            try:
                out = conn.bio_read(65536)
            except SSL.WantReadError:
                return
            if not out:
                return
            try:
                sock.sendall(out)
            except OSError:
                attempt.reset_by = attempt.reset_by or Direction.SERVER
                return
            decoder.feed(Direction.CLIENT, *record(Direction.CLIENT, out), out)

    def next_record() -> bytes | None:
        """The next complete record in `pending` (or all of it, for a non-TLS peer)."""
        nonlocal raw_mode
        if len(pending) >= 5 and not raw_mode:
            length = (pending[3] << 8) | pending[4]
            if pending[0] not in (20, 21, 22, 23) or pending[1] != 3 or length > MAX_RECORD:
                raw_mode = True
            elif len(pending) >= 5 + length:
                out = bytes(pending[: 5 + length])
                del pending[: 5 + length]
                return out
        if raw_mode and pending:
            out = bytes(pending)
            pending.clear()
            return out
        return None

    def hand_over(data: bytes) -> None:
        """Our decoder reads the bytes first; at the CertificateRequest the entry is chosen."""
        decoder.feed(Direction.SERVER, arrival[0], int(arrival[1]), data)
        if choose is not None and not attempt.request_seen:
            request = decoder.transcript.first(CertificateRequest)
            if request is not None:
                attempt.request_seen = True
                chosen = choose(decoder.transcript)
                if chosen is not None:
                    # pyOpenSSL freezes a context once used, and a chain can only be set on
                    # one: switch to a context holding the entry (SSL_set_SSL_CTX)
                    contexts.append(_context(target, chosen, attempt, keys))
                    conn.set_context(contexts[-1])
                    attempt.alias = chosen.alias
        conn.bio_write(data)

    arrival: list[float] = [attempt.start, 0]  # time and frame of the last bytes received

    def pump(wait: float | None = None) -> bool:
        """Move the server's next record into OpenSSL; False when the connection ended."""
        while True:
            data = next_record()
            if data is not None:
                hand_over(data)
                return True
            remaining = deadline - time.monotonic() if wait is None else wait
            if remaining <= 0:
                attempt.timed_out = True
                return end_of_stream()
            sock.settimeout(remaining)
            try:
                data = sock.recv(65536)
            except TimeoutError:
                attempt.timed_out = wait is None
                return end_of_stream()
            except ConnectionResetError:
                attempt.reset_by = Direction.SERVER
                return end_of_stream()
            if not data:
                attempt.closed_by = Direction.SERVER
                return end_of_stream()
            arrival[:] = record(Direction.SERVER, data)
            pending.extend(data)

    def end_of_stream() -> bool:
        """The connection ended inside a record: OpenSSL and the decoder get what there is."""
        if pending:
            data = bytes(pending)
            pending.clear()
            hand_over(data)
        return False

    try:
        while True:
            try:
                conn.do_handshake()
                attempt.completed = True
                break
            except SSL.WantReadError:
                flush()
                if not pump():
                    break
            except SSL.Error as exc:
                attempt.error = _ssl_error(exc)
                flush()  # our own alert goes out
                break
        flush()
        if attempt.completed:
            _after_handshake(conn, attempt, target, flush, pump,
                             lambda: _ticket_received(decoder.transcript))
        _collect(conn, attempt)
    finally:
        sock.close()
    attempt.transcript = decoder.close(attempt.closed_by, attempt.reset_by)
    return attempt


def _ticket_received(t: Transcript) -> bool:
    """A TLS 1.3 server that asked for a certificate sends a NewSessionTicket only after our
    Finished, which follows our Certificate: by then it has judged the certificate."""
    return any(e.direction is Direction.SERVER and isinstance(e.message, SimpleMessage)
               and e.message.msg_type == NEW_SESSION_TICKET for e in reversed(t.events[-4:]))


def _after_handshake(conn: Any, attempt: Attempt, target: Target, flush: Any, pump: Any,
                     judged: Callable[[], bool]) -> None:
    """Read once (TLS 1.3 servers judge the client certificate after Finished), then the
    optional HTTP request."""
    from OpenSSL import SSL

    def read(wait: float, until_quiet: bool = False) -> bytes | None:
        end = time.monotonic() + wait
        while time.monotonic() < end:
            try:
                return bytes(conn.recv(65536))
            except SSL.WantReadError:
                flush()
                if not pump(max(0.01, end - time.monotonic())):
                    return None
                if until_quiet:
                    if judged():
                        return None
                    # The server spoke after our Finished without an alert or a ticket: give
                    # a rejection a moment, no more.
                    end = min(end, time.monotonic() + 0.05)
            except SSL.ZeroReturnError:
                attempt.closed_by = Direction.SERVER
                return None
            except SSL.Error as exc:
                attempt.error = _ssl_error(exc)
                flush()
                return None
        return None

    if target.http_path is None:
        if conn.get_protocol_version_name() == "TLSv1.3":
            read(READ_AFTER_HANDSHAKE, until_quiet=True)
        return
    host = target.servername or target.host
    request = (f"GET {target.http_path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: mtls-inspector"
               "\r\nConnection: close\r\n\r\n").encode()
    try:
        conn.sendall(request)
    except SSL.Error as exc:
        attempt.error = _ssl_error(exc)
        flush()
        return
    flush()
    body = b""
    deadline = time.monotonic() + max(1.0, target.timeout)
    while b"\r\n" not in body and time.monotonic() < deadline:
        data = read(deadline - time.monotonic())
        if not data:
            break
        body += data
    if body:
        attempt.http_status = body.split(b"\r\n", 1)[0].decode("latin-1")[:200]
        text = body.decode("latin-1")
        for marker in ("No required SSL certificate was sent", "The SSL certificate error",
                       "SSL certificate error"):
            if marker in text:
                attempt.http_status += f" ({marker})"
                break


def _collect(conn: Any, attempt: Attempt) -> None:
    try:
        chain = conn.get_peer_cert_chain(as_cryptography=True) or []
    except TypeError:
        chain = [c.to_cryptography() for c in (conn.get_peer_cert_chain() or [])]
    attempt.server_chain = list(chain)
    attempt.version = conn.get_protocol_version_name()
    attempt.cipher = conn.get_cipher_name()


def _ssl_error(exc: Exception) -> str:
    parts = []
    for item in getattr(exc, "args", [[]])[0] or []:
        if isinstance(item, tuple) and len(item) >= 3:
            parts.append(str(item[2]))
    return "; ".join(parts) or str(exc)


def _is_ip(host: str) -> bool:
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
    if _is_ip(name):
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
