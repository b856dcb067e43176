"""A reference mutual-TLS server (pyOpenSSL) that says why it accepts or refuses each client.

Trusting and naming can differ, as on real servers: `client_ca` files are trusted for
verification, `ca_names` (default: the trusted certificates' subjects) are what the
CertificateRequest names.

It keeps serving whatever its clients do: each client is handled on a thread of its own (at
most `MAX_CLIENTS` at once; more wait in the listen backlog), with one total deadline for
everything it does (a client trickling a byte a second is cut at `timeout`, not per read), and
OpenSSL over memory BIOs, so every byte each way passes here: what a client sent (nothing,
plain text, an SSLv2 hello, a ClientHello cut short) and the alert OpenSSL wrote are observed,
not guessed. Only the last `REPORTS_KEPT` reports are kept, each a few strings.
"""

from __future__ import annotations

import contextlib
import enum
import socket
import threading
import time
import warnings
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509

from inspector.live.peer_certs import der, peer_chain
from inspector.pki import certs as C
from inspector.pki.openssl_verify import verify_error
from inspector.system.errors import InputError
from parsers.constants import ALERT_NAMES

if TYPE_CHECKING:
    from OpenSSL import SSL, crypto

#: clients handled at once; the next ones wait in the listen backlog
MAX_CLIENTS = 64
#: reports kept for wait_for (the log callback has already seen each)
REPORTS_KEPT = 256
#: subjects kept per client (the count is kept whole)
SUBJECTS_KEPT = 10
#: bytes of the server's output kept to find a plaintext alert in (records before any encryption)
OUTPUT_KEPT = 64 << 10


class Hello(enum.Enum):
    """What the client's first bytes were."""

    NOTHING = "nothing"
    NOT_TLS = "not TLS"
    SSLV2 = "an SSLv2-style hello"
    NOT_HANDSHAKE = "a TLS record that is not a handshake"
    CUT = "a ClientHello cut short"
    COMPLETE = "a ClientHello"


@dataclass
class ClientReport:
    peer: str
    version: str | None = None
    #: the subjects of the certificates the client sent (the first SUBJECTS_KEPT), leaf first
    subjects: list[str] = field(default_factory=list)
    #: how many certificates it sent (0 when OpenSSL refused the chain and kept none of it)
    certificates: int = 0
    #: the leaf's CN (or DN), for the line
    leaf: str | None = None
    verify_errors: list[tuple[int, int, str]] = field(default_factory=list)  # errnum, depth, subj
    accepted: bool = False
    error: str | None = None
    #: the client's first line when it did not speak TLS (plain HTTP to a TLS port), escaped
    not_tls: str | None = None
    #: what its first bytes were
    hello: Hello = Hello.NOTHING
    #: the first bytes it sent, as hex (for garbage), and how many it sent in all
    first_bytes: str = ""
    received: int = 0
    #: (received, expected) bytes of a ClientHello record cut short
    cut: tuple[int, int] | None = None
    #: how the client's side ended when the handshake did not finish
    ended: str | None = None
    #: the alert OpenSSL wrote in plaintext (TLS 1.2 and before the keys), when it wrote one
    alert_sent: str | None = None
    #: a ServerHello went out: the version is the negotiated one
    negotiated: bool = False

    def _sent(self) -> str:
        if self.leaf is None:
            return "sent no certificate"
        if not self.certificates:  # refused: OpenSSL keeps no chain, only its leaf was seen
            return f"sent {self.leaf}"
        return f"sent {self.leaf} ({self.certificates} certificate(s))"

    def line(self) -> str:
        if self.not_tls is not None:
            return (
                f'client {self.peer}: not TLS (sent "{self.not_tls}") → answered HTTP 400: '
                "a plain-HTTP client on a TLS port (use https://)"
            )
        who = f"client {self.peer}"
        early = self._early()
        if early is not None:
            return f"{who}: {early}"
        head = f"{who}: {self.version if self.negotiated else 'no TLS version agreed'}, {self._sent()}"
        if self.accepted:
            return f"{head} → accepted"
        if self.verify_errors:
            errnum, depth, subject = self.verify_errors[0]
            row = verify_error(errnum)
            return (
                f"{head} → rejected with {self.alert_sent or row.alert}: {row.cause} "
                f"(depth {depth}, {subject}) [finding {row.finding}]"
            )
        if self.leaf is None and self.error is not None and "did not return a certificate" in self.error:
            alert = self.alert_sent or (
                "certificate_required" if self.version == "TLSv1.3" else "handshake_failure"
            )
            return f"{head} → rejected with {alert}: a certificate is required [finding client-cert-not-sent]"
        said = f" with {self.alert_sent}" if self.alert_sent else ""
        return f"{head} → failed{said}: {self.error or self.ended or 'the handshake did not finish'}"

    def _early(self) -> str | None:
        """The line for a client that never got as far as a handshake OpenSSL could answer."""
        ended = self.ended or "left"
        if self.hello is Hello.NOTHING:
            return f"sent nothing ({ended}) → no handshake"
        if self.hello is Hello.SSLV2:
            return (
                f"sent an SSLv2-style hello ({self.first_bytes}…) → refused: SSLv2 hellos are not "
                "accepted; the client must send a TLS ClientHello (enable TLS 1.2 or 1.3 on it)"
            )
        if self.hello is Hello.NOT_HANDSHAKE:
            return (
                f"sent {self.received} byte(s) that are not a TLS ClientHello ({self.first_bytes}…) "
                f"→ refused{f' with {self.alert_sent}' if self.alert_sent else ''}: not a TLS client"
            )
        if self.hello is Hello.CUT and self.cut is not None:
            got, wanted = self.cut
            return f"sent {got} of a {wanted}-byte ClientHello record, then {ended} → no handshake"
        if not self.negotiated and self.error is not None:
            reason = self.error
            if "unsupported protocol" in reason or "version" in reason:
                return (
                    f"offered no TLS version this server accepts ({reason}) → refused with "
                    f"{self.alert_sent or 'protocol_version'}: enable TLS 1.2 or 1.3 on the client"
                )
            said = f" with {self.alert_sent}" if self.alert_sent else ""
            return f"sent a ClientHello → refused{said} before any certificate was asked: {reason}"
        return None


class ReferenceServer:
    def __init__(
        self,
        cert: Path,
        key: Path,
        client_ca: list[Path],
        ca_names: list[Path] | None = None,
        optional: bool = False,
        tls_version: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        log: Callable[[ClientReport], None] | None = None,
        timeout: float = 10.0,
        send_ca_names: bool = True,
        max_clients: int = MAX_CLIENTS,
    ) -> None:
        #: the last REPORTS_KEPT reports; `served` counts them all
        self.reports: deque[ClientReport] = deque(maxlen=REPORTS_KEPT)
        self.served = 0
        self._reported = threading.Condition()
        self._log = log
        self._log_lock = threading.Lock()
        self._timeout = timeout
        self._slots = threading.BoundedSemaphore(max_clients)
        self._handlers: set[threading.Thread] = set()
        self._ctx = self._context(cert, key, client_ca, ca_names, optional, tls_version, send_ca_names)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._sock = socket.socket(family, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._sock.bind((host, port))
        except OSError as exc:
            raise InputError(
                f"{host}:{port}: cannot listen ({exc.strerror})", "pick another --port"
            ) from None
        self._sock.listen(128)
        self._sock.settimeout(0.2)
        self.host, self.port = host, self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @staticmethod
    def _context(
        cert: Path,
        key: Path,
        client_ca: list[Path],
        ca_names: list[Path] | None,
        optional: bool,
        tls_version: str | None,
        send_ca_names: bool,
    ) -> SSL.Context:
        from OpenSSL import SSL, crypto

        ctx = SSL.Context(SSL.TLS_SERVER_METHOD)
        versions = {"1.2": SSL.TLS1_2_VERSION, "1.3": SSL.TLS1_3_VERSION}
        if tls_version:
            ctx.set_min_proto_version(versions[tls_version])
            ctx.set_max_proto_version(versions[tls_version])
        try:
            ctx.use_certificate_chain_file(str(cert))
            ctx.use_privatekey_file(str(key))
            for ca in client_ca:
                ctx.load_verify_locations(str(ca))
        except SSL.Error as exc:
            raise InputError(
                f"{cert} / {key}: cannot load ({exc})", "give PEM files: the server chain and its key"
            ) from None
        names: list[crypto.X509Name] = []
        # pyOpenSSL deprecates X509Name, but it is still the only way to set the CA list.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            for path in ca_names if ca_names is not None else client_ca:
                for c in x509.load_pem_x509_certificates(path.read_bytes()):
                    names.append(crypto.X509.from_cryptography(c).get_subject())
            if send_ca_names:
                ctx.set_client_ca_list(names)
        mode = SSL.VERIFY_PEER | (0 if optional else SSL.VERIFY_FAIL_IF_NO_PEER_CERT)
        ctx.set_verify(mode, lambda conn, c, errnum, depth, ok: _record(conn, c, errnum, depth, ok))
        return ctx

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ClientReport]:
        """The reports once `count` clients are done: a client's report is written when it has
        gone, which can be just after the client returned."""
        with self._reported:
            self._reported.wait_for(lambda: self.served >= count, timeout)
            return list(self.reports)

    def start(self) -> ReferenceServer:
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._sock.close()

    def __enter__(self) -> ReferenceServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def serve_forever(self, max_connections: int | None = None) -> None:
        """Accept clients until stopped (or `max_connections` have been accepted and handled),
        each on a thread of its own, at most MAX_CLIENTS at once."""
        accepted = 0
        try:
            while not self._stop.is_set() and (max_connections is None or accepted < max_connections):
                if not self._slots.acquire(timeout=0.2):
                    continue
                try:
                    raw, peer = self._sock.accept()
                except TimeoutError:
                    self._slots.release()
                    continue
                except OSError:
                    self._slots.release()
                    return
                accepted += 1
                worker = threading.Thread(target=self._serve_one, args=(raw, peer), daemon=True)
                with self._reported:
                    self._handlers.add(worker)
                worker.start()
        except BaseException:  # Ctrl-C: the clients being served are not waited for
            self._stop.set()
            raise
        # stopped, or the last of max_connections accepted: their reports are written first
        deadline = time.monotonic() + self._timeout + 1
        for worker in self._running():
            worker.join(max(0.0, deadline - time.monotonic()))

    def _running(self) -> list[threading.Thread]:
        with self._reported:
            return list(self._handlers)

    def _serve_one(self, raw: socket.socket, peer: tuple[str, int]) -> None:
        try:
            try:
                report = self.handle(raw, peer)
            except Exception as exc:  # one client never ends the server; the bug is said
                report = ClientReport(peer=f"{peer[0]}:{peer[1]}")
                report.hello = Hello.COMPLETE
                report.error = (
                    f"internal error: {type(exc).__name__}: {C.one_line(exc)} "
                    "(a bug in mtls-inspect: please report it)"
                )
                with contextlib.suppress(OSError):
                    raw.close()
            with self._reported:
                self.reports.append(report)
                self.served += 1
                self._reported.notify_all()
            if self._log is not None:
                with self._log_lock:
                    self._log(report)
        finally:
            with self._reported:
                self._handlers.discard(threading.current_thread())
            self._slots.release()

    def _refuse_plain_text(
        self, raw: socket.socket, first: bytes, report: ClientReport, deadline: float
    ) -> None:
        """A client speaking plain text gets nginx's answer (HTTP 400) and a report saying so,
        instead of being reported as a TLS client that sent no certificate."""
        from parsers.printable import escape_text

        report.hello = Hello.NOT_TLS
        report.not_tls = escape_text(first.split(b"\r\n", 1)[0][:80].decode("latin-1"))
        report.error = "not TLS"
        with contextlib.suppress(OSError):
            raw.settimeout(max(0.001, min(0.2, deadline - time.monotonic())))
            with contextlib.suppress(TimeoutError):
                raw.recv(65536)
            raw.settimeout(max(0.001, deadline - time.monotonic()))
            raw.sendall(
                b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\n"
                b"Content-Length: 45\r\n\r\nThis port speaks TLS: connect with https://\r\n"
            )

    def handle(self, raw: socket.socket, peer: tuple[str, int]) -> ClientReport:
        from OpenSSL import SSL

        report = ClientReport(peer=f"{peer[0]}:{peer[1]}")
        pump = _Pump(raw, self._timeout, report)  # one deadline for everything this client gets
        deadline = pump.deadline
        try:
            first = pump.first_bytes()
            if not first:
                return report
            if _plain_text_start(first):
                self._refuse_plain_text(raw, first, report, deadline)
                return report
            conn = SSL.Connection(self._ctx, None)
            conn.set_accept_state()
            conn.set_app_data(report)
            pump.conn = conn
            conn.bio_write(first)
            if not pump.handshake():
                return report
            report.version = conn.get_protocol_version_name()
            report.negotiated = True
            self._note_chain(conn, report)
            report.accepted = True
            with contextlib.suppress(SSL.Error, OSError):  # the client may leave at once
                pump.receive_some()
                body = f"hello {report.subjects[0]}\n" if report.subjects else "hello\n"
                conn.sendall(
                    (
                        f"HTTP/1.1 200 OK\r\nContent-Length: {len(body.encode())}\r\n"
                        f"Connection: close\r\n\r\n{body}"
                    ).encode()
                )
                conn.shutdown()
                pump.flush()
        finally:
            with contextlib.suppress(OSError):
                raw.close()
        return report

    @staticmethod
    def _note_chain(conn: SSL.Connection, report: ClientReport) -> None:
        from OpenSSL import SSL

        with contextlib.suppress(SSL.Error):
            chain = peer_chain(conn, server_side=True)
            if len(chain) > report.certificates:
                report.certificates = len(chain)
                report.subjects = [C.subject_of(d) for d in chain[:SUBJECTS_KEPT]]
                report.leaf = C.subject_of(chain[0], short=True)


class _Pump:
    """OpenSSL over memory BIOs on one client's socket, within one total deadline."""

    def __init__(self, raw: socket.socket, seconds: float, report: ClientReport) -> None:
        self.raw, self.seconds, self.report = raw, seconds, report
        self.deadline = time.monotonic() + seconds
        self.conn: SSL.Connection | None = None
        self.output = bytearray()  # the first OUTPUT_KEPT bytes the server wrote

    def _wait(self) -> float | None:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            return None
        return remaining

    def recv(self) -> bytes | None:
        """The client's next bytes; None (and `report.ended` said) when it closed, reset or
        the deadline passed."""
        remaining = self._wait()
        if remaining is None:
            self.report.ended = f"timed out after {self.report_seconds()}"
            return None
        try:
            self.raw.settimeout(remaining)
            data = self.raw.recv(16384)
        except TimeoutError:
            self.report.ended = f"timed out after {self.report_seconds()}"
            return None
        except OSError as exc:
            self.report.ended = f"reset the connection ({exc.strerror or type(exc).__name__})"
            return None
        if not data:
            self.report.ended = "closed the connection"
            return None
        self.report.received += len(data)
        return data

    def report_seconds(self) -> str:
        return f"{self.seconds:g} s, the time each client is given in all"

    def first_bytes(self) -> bytes:
        """The client's first bytes, classified; a ClientHello record is read whole (or found cut)."""
        report = self.report
        data = b""
        while True:
            more = self.recv()
            if more is None:
                break
            data += more
            if data[0] != 0x16:  # not a TLS handshake record: classified as it is
                break
            if len(data) >= 5 and len(data) >= 5 + int.from_bytes(data[3:5], "big"):
                break
        report.first_bytes = data[:16].hex(" ")
        if not data:
            report.hello = Hello.NOTHING
            return b""
        if _plain_text_start(data):
            return data
        if data[0] & 0x80:
            report.hello = Hello.SSLV2
            return b""
        if data[0] != 0x16 or (len(data) >= 2 and data[1] != 3):
            report.hello = Hello.NOT_HANDSHAKE
            with contextlib.suppress(OSError):  # as OpenSSL would answer a record it cannot read
                self.raw.settimeout(0.5)
                self.raw.sendall(b"\x15\x03\x03\x00\x02\x02\x0a")
                report.alert_sent = "unexpected_message"
            return b""
        wanted = 5 + int.from_bytes(data[3:5], "big") if len(data) >= 5 else 0
        if len(data) < 5 or len(data) < wanted:
            report.hello = Hello.CUT
            report.cut = (len(data), max(wanted, 5))
            return b""
        report.hello = Hello.COMPLETE
        return data

    def flush(self) -> bool:
        """Send what OpenSSL wrote; False when the client is gone or the deadline passed."""
        from OpenSSL import SSL

        assert self.conn is not None
        while True:
            try:
                out = self.conn.bio_read(65536)
            except SSL.WantReadError:
                return True
            if not out:
                return True
            if len(self.output) < OUTPUT_KEPT:
                self.output += out[: OUTPUT_KEPT - len(self.output)]
                self.report.alert_sent = _plaintext_alert(bytes(self.output))
            remaining = self._wait()
            if remaining is None:
                self.report.ended = f"timed out after {self.report_seconds()}"
                return False
            try:
                self.raw.settimeout(remaining)
                self.raw.sendall(out)
            except TimeoutError:
                self.report.ended = "stopped reading (timed out)"
                return False
            except OSError as exc:
                self.report.ended = f"reset the connection ({exc.strerror or type(exc).__name__})"
                return False

    def handshake(self) -> bool:
        """Run the handshake; True when it completed. The report says how it ended otherwise."""
        from OpenSSL import SSL

        assert self.conn is not None
        report = self.report
        while True:
            try:
                self.conn.do_handshake()
                self.flush()
                return True
            except SSL.WantReadError:
                if not self.flush():
                    break
                data = self.recv()
                if data is None:
                    break
                self.conn.bio_write(data)
            except SSL.Error as exc:
                report.error = _ssl_error(exc)
                self.flush()  # OpenSSL's alert goes out
                break
        report.negotiated = _server_hello_sent(bytes(self.output))
        if report.negotiated:
            report.version = self.conn.get_protocol_version_name()
        if report.error is None and report.ended:
            report.error = f"the client {report.ended}"
        ReferenceServer._note_chain(self.conn, report)
        return False

    def receive_some(self) -> None:
        """The client's request (or nothing), within the deadline."""
        from OpenSSL import SSL

        assert self.conn is not None
        while True:
            try:
                self.conn.recv(4096)
                return
            except SSL.WantReadError:
                data = self.recv()
                if data is None:
                    return
                self.conn.bio_write(data)


def _ssl_error(exc: Exception) -> str:
    args = exc.args[0] if exc.args else None
    if isinstance(args, list) and args and isinstance(args[0], tuple) and len(args[0]) >= 3:
        return str(args[0][2])
    return str(exc) or type(exc).__name__


def _records(data: bytes) -> list[tuple[int, bytes]]:
    out = []
    pos = 0
    while pos + 5 <= len(data):
        length = int.from_bytes(data[pos + 3 : pos + 5], "big")
        if pos + 5 + length > len(data):
            break
        out.append((data[pos], data[pos + 5 : pos + 5 + length]))
        pos += 5 + length
    return out


def _server_hello_sent(output: bytes) -> bool:
    records = _records(output)
    return bool(records) and records[0][0] == 0x16 and records[0][1][:1] == b"\x02"


def _plaintext_alert(output: bytes) -> str | None:
    """The alert OpenSSL wrote, when it wrote it before any encryption (TLS 1.2's refusal of a
    client certificate, any refusal of a ClientHello); TLS 1.3's come encrypted: None."""
    for kind, body in _records(output):
        if kind == 20 or kind == 23:  # ChangeCipherSpec or encrypted: nothing plaintext after it
            return None
        if kind == 21 and len(body) == 2:
            return ALERT_NAMES.get(body[1], f"alert {body[1]} (unknown)")
    return None


def _plain_text_start(first: bytes) -> bool:
    """Bytes no TLS ClientHello starts with (a TLS record is 0x16 0x03 ..., an SSLv2-style hello has
    the high bit set): plain HTTP, a typo'd port, a health check speaking text."""
    return (
        bool(first) and first[0] != 0x16 and not first[0] & 0x80 and first[:1].isascii() and first[0] >= 0x20
    )


def _record(conn: SSL.Connection, cert: crypto.X509, errnum: int, depth: int, ok: int) -> bool:
    """OpenSSL's verify callback: never raises (an exception here would end the handshake
    in pyOpenSSL's hands); subjects are read leniently from the DER."""
    report = conn.get_app_data()
    if isinstance(report, ClientReport):
        if depth == 0 and not report.subjects:  # a refused chain is not kept by OpenSSL
            leaf = der(cert)
            report.subjects = [C.subject_of(leaf)]
            report.leaf = C.subject_of(leaf, short=True)
        elif not ok and not report.subjects:  # refused above the leaf: the leaf is not shown to us
            report.leaf = report.leaf or f"a chain through {C.subject_of(der(cert))}"
        if not ok:
            report.verify_errors.append((errnum, depth, C.subject_of(der(cert))))
    return bool(ok)
