"""pyOpenSSL over memory BIOs on a real socket, with our decoder reading every byte first.

Every byte both ways is recorded with its time and decoded as it passes, by the same decoder as
for captures; the client's own key log (set_keylog_callback) decrypts TLS 1.3. pyOpenSSL has
no client-certificate callback, but with memory BIOs it does not need one: the server's bytes
are handed to OpenSSL one record at a time, after our decoder has read them, so when the
CertificateRequest arrives (TLS 1.3: decrypted with the secret OpenSSL logged a moment before)
the entry a Java client would choose is installed before OpenSSL answers it. One handshake, as
the real client makes — also when the request comes later, in a TLS 1.2 renegotiation.
"""

from __future__ import annotations

import socket
import time
from typing import TYPE_CHECKING

from inspector.keystore.model import KeyEntry
from inspector.live.attempt import Attempt, ChooseEntry, Target, VerifyProblem
from inspector.live.contexts import client_context
from inspector.live.peer_certs import der, peer_chain
from inspector.pki.certs import readable, subject_of
from inspector.pki.hostnames import is_ip
from inspector.pki.openssl_verify import verify_error
from parsers import model
from parsers.constants import HandshakeType
from parsers.keylog import KeyLog
from parsers.model import CertificateRequest, Direction, Endpoint, HandshakeEvent, SimpleMessage
from parsers.records import plausible_header
from parsers.stream import LiveDecoder

if TYPE_CHECKING:
    from OpenSSL import SSL, crypto

READ_AFTER_HANDSHAKE = 1.5  # seconds to wait for a TLS 1.3 post-handshake alert
QUIET_AFTER_SERVER_SPOKE = 0.05  # then this long for a rejection, unless a ticket says "judged"
NEW_SESSION_TICKET = HandshakeType.new_session_ticket
MAX_RECORDED = 4 << 20  # bytes kept per attempt: enough for any handshake, bounded for a bad peer
REJECTION_MARKERS = (
    "No required SSL certificate was sent",
    "The SSL certificate error",
    "SSL certificate error",
)  # nginx's 400 pages


class BioClient:
    """One connection: the handshake, the read after it, the optional HTTP request."""

    def __init__(
        self,
        sock: socket.socket,
        target: Target,
        attempt: Attempt,
        entry: KeyEntry | None,
        choose: ChooseEntry | None,
        deadline: float | None = None,
    ) -> None:
        from OpenSSL import SSL

        self.sock, self.target, self.attempt, self.choose = sock, target, attempt, choose
        #: monotonic time by which everything ends (`--timeout` is total, set before connecting)
        self.deadline = time.monotonic() + target.timeout if deadline is None else deadline
        local, remote = _addresses(sock)
        attempt.client = Endpoint(local[0], local[1])
        attempt.server = Endpoint(remote[0], remote[1])
        self.keys = KeyLog()  # grows as OpenSSL derives secrets; the decoder reads it live
        self.decoder = LiveDecoder(attempt.client, attempt.server, self.keys, attempt.start)
        self.contexts = [self._context(entry)]  # all kept alive: OpenSSL holds their callbacks
        if entry is not None and attempt.key_mismatch == entry.alias:
            attempt.alias = None
        self.conn = SSL.Connection(self.contexts[0], None)
        self.conn.set_connect_state()
        name = target.servername or (None if is_ip(target.host) else target.host)
        if name:
            self.conn.set_tlsext_host_name(name.encode("idna"))
        if target.post_handshake_auth:
            _offer_post_handshake_auth(self.conn)
        self.recorded = 0
        self.pending = bytearray()  # server bytes received, not yet handed to OpenSSL
        self.raw_mode = False  # the peer does not speak TLS records: pass its bytes unsplit
        self.arrival: tuple[float, int] = (attempt.start, 0)  # time, frame of the last recv

    # -- the whole attempt ---------------------------------------------------------------------
    def run(self) -> None:
        from OpenSSL import SSL

        a = self.attempt
        while True:
            try:
                self.conn.do_handshake()
                a.completed = True
                break
            except SSL.WantReadError:
                self.flush()
                if not self.pump():
                    break
            except SSL.Error as exc:
                a.error = ssl_error(exc)
                self.flush()  # our own alert goes out
                break
        self.flush()
        if a.completed:
            if self.target.http_path is not None:
                self.http_request(self.target.http_path)
            elif self.conn.get_protocol_version_name() == "TLSv1.3":
                self.read(READ_AFTER_HANDSHAKE, until_judged=True)
        # records received with the last one read but not needed (a server writing its two
        # TLS 1.3 tickets in one segment): decoded too, so the transcript is what was recorded
        while (record := self._next_record()) is not None:
            self._hand_over(record)
        self._collect()
        a.transcript = self.decoder.close(a.closed_by, a.reset_by)

    # -- OpenSSL configuration -----------------------------------------------------------------
    def _context(self, entry: KeyEntry | None, sha1_signing: bool = False) -> SSL.Context:
        """A client context (live/contexts) whose callbacks record into this attempt."""
        attempt, keys = self.attempt, self.keys

        def log(_conn: SSL.Connection, line: bytes) -> None:
            attempt.keylog.append(line.decode())
            keys.add_text(line.decode())

        def verify(_conn: SSL.Connection, cert: crypto.X509, errnum: int, depth: int, ok: int) -> bool:
            if not ok:
                attempt.verify_problems.append(
                    VerifyProblem(
                        depth,
                        errnum,
                        verify_error(errnum).text,
                        subject_of(der(cert)),
                    )
                )
            return True  # keep going: the client-certificate exchange is what we came to see

        shown = entry if entry is not None and self._presentable(entry) else None
        return client_context(self.target, log, verify, shown, sha1_signing=sha1_signing)

    def _present(self, entry: KeyEntry) -> None:
        """Mid-handshake: pyOpenSSL freezes a context once used, and a chain can be set only
        on a context, so switch to a new one holding the entry (SSL_set_SSL_CTX)."""
        # Java (11-21) signs a TLS 1.2 CertificateVerify with SHA-1 when the server offers
        # nothing else: the security level is lowered on this handshake's new context only
        sha1 = _sha1_only(self.decoder.transcript.first(CertificateRequest))
        self.contexts.append(self._context(entry, sha1_signing=sha1))
        self.conn.set_context(self.contexts[-1])
        self.attempt.alias = entry.alias if self._presentable(entry) else None

    def _presentable(self, entry: KeyEntry) -> bool:
        """OpenSSL sends only a certificate whose key it holds ("key values mismatch" otherwise);
        a mismatched entry is noted, and the handshake goes on without it."""
        from inspector.pki.certs import private_matches

        if entry.private_key is None or not entry.chain:
            return False
        if not private_matches(entry.private_key, entry.chain[0]):
            self.attempt.key_mismatch = entry.alias
            return False
        return True

    # -- bytes out -----------------------------------------------------------------------------
    def _record(self, direction: Direction, data: bytes) -> tuple[float, int]:
        """Keep the bytes (bounded) for the capture; returns their time and frame number."""
        now = time.time()
        if self.recorded < MAX_RECORDED:
            self.attempt.chunks.append((direction, now, data))
            self.recorded += len(data)
        return now, len(self.attempt.chunks) + 2

    def flush(self) -> None:
        """Send what OpenSSL wrote; the decoder reads it as it goes."""
        from OpenSSL import SSL

        while True:
            try:
                out = self.conn.bio_read(65536)
            except SSL.WantReadError:
                return
            if not out:
                return
            try:
                self.sock.settimeout(max(0.001, self.deadline - time.monotonic()))
                self.sock.sendall(out)
            except TimeoutError:  # the server stopped reading
                self.attempt.timed_out = True
                return
            except OSError:
                self.attempt.reset_by = self.attempt.reset_by or Direction.SERVER
                return
            self.decoder.feed(Direction.CLIENT, *self._record(Direction.CLIENT, out), out)

    # -- bytes in ------------------------------------------------------------------------------
    def pump(self, wait: float | None = None) -> bool:
        """Move the server's next record into OpenSSL; False when nothing more came (closed,
        reset, or no byte within `wait` / the deadline)."""
        a = self.attempt
        # one limit for the whole call: a peer trickling bytes must not extend it
        limit = self.deadline if wait is None else min(self.deadline, time.monotonic() + wait)
        while True:
            data = self._next_record()
            if data is not None:
                self._hand_over(data)
                return True
            remaining = limit - time.monotonic()
            if remaining <= 0:
                a.timed_out = a.timed_out or limit >= self.deadline
                return self._hand_over_partial()
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                a.timed_out = a.timed_out or limit >= self.deadline
                return self._hand_over_partial()
            except ConnectionResetError:
                a.reset_by = Direction.SERVER
                return self._hand_over_partial()
            if not data:
                a.closed_by = Direction.SERVER
                return self._hand_over_partial()
            self.arrival = self._record(Direction.SERVER, data)
            self.pending.extend(data)

    def _next_record(self) -> bytes | None:
        """The next complete record in `pending` (or all of it, for a non-TLS peer)."""
        pending = self.pending
        if len(pending) >= 5 and not self.raw_mode:
            length = (pending[3] << 8) | pending[4]
            if not plausible_header(pending):
                self.raw_mode = True
            elif len(pending) >= 5 + length:
                out = bytes(pending[: 5 + length])
                del pending[: 5 + length]
                return out
        if self.raw_mode and pending:
            out = bytes(pending)
            pending.clear()
            return out
        return None

    def _hand_over_partial(self) -> bool:
        """Nothing more is coming now: OpenSSL and the decoder get the partial record (both
        keep it until the rest arrives, if it ever does)."""
        if self.pending:
            data = bytes(self.pending)
            self.pending.clear()
            self._hand_over(data)
        return False

    def _hand_over(self, data: bytes) -> None:
        """Our decoder reads the bytes first; at the CertificateRequest the entry is chosen."""
        self.decoder.feed(Direction.SERVER, self.arrival[0], self.arrival[1], data)
        if not self.attempt.request_seen and self.decoder.transcript.first(CertificateRequest) is not None:
            self.attempt.request_seen = True
            if self.choose is not None:
                chosen = self.choose(self.decoder.transcript)
                if chosen is not None:
                    self._present(chosen)
        self.conn.bio_write(data)

    # -- after the handshake -------------------------------------------------------------------
    def read(self, wait: float, until_judged: bool = False) -> bytes | None:
        """Application data within `wait` seconds, or None. `until_judged`: stop once the
        server has judged our certificate — a ticket, or a quiet moment after it spoke."""
        from OpenSSL import SSL

        end = min(self.deadline, time.monotonic() + wait)
        while time.monotonic() < end:
            try:
                return bytes(self.conn.recv(65536))
            except SSL.WantReadError:
                self.flush()
                if not self.pump(max(0.01, end - time.monotonic())):
                    return None
                if until_judged:
                    if self._ticket_received():
                        return None
                    end = min(end, time.monotonic() + QUIET_AFTER_SERVER_SPOKE)
            except SSL.ZeroReturnError:
                self.attempt.closed_by = Direction.SERVER
                return None
            except SSL.Error as exc:
                self.attempt.error = ssl_error(exc)
                self.flush()
                return None
        return None

    def _ticket_received(self) -> bool:
        """A TLS 1.3 server that asked for a certificate sends a NewSessionTicket only after
        our Finished, which follows our Certificate: by then it has judged the certificate."""
        recent = self.decoder.transcript.events[-4:]
        return any(
            s.message.msg_type == NEW_SESSION_TICKET
            for s in model.every(recent, SimpleMessage, Direction.SERVER)
        )

    def http_request(self, path: str) -> None:
        """GET path, then the status line (nginx refuses a bad certificate with HTTP 400 after
        a completed handshake; IIS asks for one by renegotiating after the request)."""
        from OpenSSL import SSL

        a = self.attempt
        host = self.target.servername or self.target.host
        request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: mtls-inspector\r\nConnection: close\r\n\r\n"
        ).encode()
        try:
            self.conn.sendall(request)
        except SSL.Error as exc:
            a.error = ssl_error(exc)
            self.flush()
            return
        self.flush()
        body = b""
        while b"\r\n" not in body and time.monotonic() < self.deadline:
            data = self.read(self.deadline - time.monotonic())
            if not data:
                break
            body += data
        if body:
            a.http_status = body.split(b"\r\n", 1)[0].decode("latin-1")[:200]
            text = body.decode("latin-1")
            marker = next((m for m in REJECTION_MARKERS if m in text), None)
            if marker:
                a.http_status += f" ({marker})"

    def _collect(self) -> None:
        conn, a = self.conn, self.attempt
        received = peer_chain(conn)
        a.server_chain_subjects = [subject_of(d) for d in received]
        a.server_chain = []
        for d in received:  # the certificates read; the rules judge none past one that is not
            cert = readable(d)
            if cert is None:
                break
            a.server_chain.append(cert)
        # OpenSSL names its own highest version even when the server refused every one: only a
        # ServerHello makes a version the negotiated one
        agreed = self.decoder.transcript.server_hello is not None
        a.version = conn.get_protocol_version_name() if agreed else None
        a.cipher = conn.get_cipher_name() if agreed else None


def _addresses(sock: socket.socket) -> tuple[tuple[str, int], tuple[str, int]]:
    """(local, remote) address; a server that reset the connection the moment it was made
    leaves the socket unconnected (ENOTCONN): the addresses are then unknown, not a crash."""
    try:
        local = sock.getsockname()[:2]
    except OSError:
        local = ("0.0.0.0", 0)
    try:
        remote = sock.getpeername()[:2]
    except OSError:
        remote = ("0.0.0.0", 0)
    return local, remote


# TLS 1.2 SignatureAndHashAlgorithm codes whose hash is MD5 or SHA-1 (RFC 5246, RFC 8446 B.3.1.3)
_WEAK_HASH_SCHEMES = frozenset({0x0101, 0x0102, 0x0103, 0x0201, 0x0202, 0x0203})


def _sha1_only(event: HandshakeEvent | None) -> bool:
    """A TLS 1.2 CertificateRequest whose signature algorithms are all SHA-1 (or MD5)."""
    request = event.message if event is not None else None
    if not isinstance(request, CertificateRequest) or request.tls13:
        return False
    schemes = request.signature_algorithms
    return bool(schemes) and all(s in _WEAK_HASH_SCHEMES for s in schemes)


def _offer_post_handshake_auth(conn: SSL.Connection) -> None:
    """pyOpenSSL has no call for it; the OpenSSL binding it is built on has the function."""
    from OpenSSL.SSL import _lib  # type: ignore[attr-defined]

    if not getattr(_lib, "Cryptography_HAS_SSL_VERIFY_CLIENT_POST_HANDSHAKE", False):
        from inspector.system.errors import InputError

        raise InputError(
            "--post-handshake-auth: this OpenSSL build cannot offer it",
            "upgrade cryptography/pyOpenSSL, or leave the option out",
        )
    _lib.SSL_set_post_handshake_auth(conn._ssl, 1)


def ssl_error(exc: Exception) -> str:
    """OpenSSL's own words from a pyOpenSSL error (its reason strings, joined)."""
    parts = []
    for item in getattr(exc, "args", [[]])[0] or []:
        if isinstance(item, tuple) and len(item) >= 3:
            parts.append(str(item[2]))
    return "; ".join(parts) or str(exc)
