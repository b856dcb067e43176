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
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from inspector.live.client_report import ClientReport, Hello, note_chain, note_verify
from inspector.live.contexts import server_context
from inspector.live.server_pump import ClientPump, plain_text_start
from inspector.pki import certs as C
from inspector.system.errors import InputError

__all__ = ["MAX_CLIENTS", "REPORTS_KEPT", "ClientReport", "Hello", "ReferenceServer"]


#: clients handled at once; the next ones wait in the listen backlog
MAX_CLIENTS = 64
#: reports kept for wait_for (the log callback has already seen each)
REPORTS_KEPT = 256


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
        self._ctx = server_context(
            cert,
            key,
            client_ca,
            note_verify,
            ca_names=ca_names,
            optional=optional,
            tls_version=tls_version,
            send_ca_names=send_ca_names,
        )
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
        pump = ClientPump(raw, self._timeout, report)  # one deadline for everything this client gets
        deadline = pump.deadline
        try:
            first = pump.first_bytes()
            if not first:
                return report
            if plain_text_start(first):
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
            note_chain(conn, report)
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
