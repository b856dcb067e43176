"""A reference mutual-TLS server (pyOpenSSL) that says why it accepts or refuses each client.

Trusting and naming can differ, as on real servers: `client_ca` files are trusted for
verification, `ca_names` (default: the trusted certificates' subjects) are what the
CertificateRequest names.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509

from inspector.pki import certs as C
from inspector.system.errors import InputError

if TYPE_CHECKING:
    from OpenSSL import SSL, crypto

#: OpenSSL verify error → (the alert OpenSSL sends, our finding code, a sentence)
VERIFY_ERRORS = {
    2: ("unknown_ca", "client-chain-incomplete", "the issuer of a certificate is not available"),
    20: (
        "unknown_ca",
        "server-rejected-client-cert",
        "no trusted CA issued the chain (missing intermediate, or an untrusted CA)",
    ),
    21: ("unknown_ca", "client-chain-incomplete", "cannot verify the first certificate"),
    18: ("unknown_ca", "self-signed-client-cert", "a self-signed certificate that is not trusted"),
    19: ("unknown_ca", "server-rejected-client-cert", "a self-signed root that is not trusted"),
    10: ("certificate_expired", "client-cert-expired", "a certificate has expired"),
    9: ("certificate_expired", "cert-not-yet-valid", "a certificate is not yet valid"),
    7: ("decrypt_error", "chain-out-of-order", "a certificate signature does not verify"),
    26: (
        "unsupported_certificate",
        "missing-client-auth-usage",
        "the certificate is not valid for TLS client authentication",
    ),
    24: ("bad_certificate", "chain-out-of-order", "an intermediate is not a CA"),
}


@dataclass
class ClientReport:
    peer: str
    version: str | None = None
    chain: list[x509.Certificate] = field(default_factory=list)
    verify_errors: list[tuple[int, int, str]] = field(default_factory=list)  # errnum, depth, subj
    accepted: bool = False
    error: str | None = None
    #: the client's first line when it did not speak TLS (plain HTTP to a TLS port), escaped
    not_tls: str | None = None

    def line(self) -> str:
        if self.not_tls is not None:
            return (
                f'client {self.peer}: not TLS (sent "{self.not_tls}") → answered HTTP 400: '
                "a plain-HTTP client on a TLS port (use https://)"
            )
        sent = (
            f"sent {C.short_dn(self.chain[0].subject)} ({len(self.chain)} certificate(s))"
            if self.chain
            else "sent no certificate"
        )
        head = f"client {self.peer}: {self.version or 'no TLS'}, {sent}"
        if self.accepted:
            return f"{head} → accepted"
        if self.verify_errors:
            errnum, depth, subject = self.verify_errors[0]
            alert, code, why = VERIFY_ERRORS.get(
                errnum, ("bad_certificate", "server-rejected-client-cert", f"verify error {errnum}")
            )
            return f"{head} → rejected with {alert}: {why} (depth {depth}, {subject}) [finding {code}]"
        if not self.chain:
            return f"{head} → rejected: a certificate is required [finding client-cert-not-sent]"
        return f"{head} → failed: {self.error}"


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
    ) -> None:
        self.reports: list[ClientReport] = []
        self._reported = threading.Condition()
        self._log = log
        self._timeout = timeout
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
        self._sock.listen(16)
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
        """The reports once `count` clients are done: the server thread writes a report when
        the client has gone, which can be just after the client returned."""
        with self._reported:
            self._reported.wait_for(lambda: len(self.reports) >= count, timeout)
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
        served = 0
        while not self._stop.is_set() and (max_connections is None or served < max_connections):
            try:
                raw, peer = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            served += 1
            report = self.handle(raw, peer)
            with self._reported:
                self.reports.append(report)
                self._reported.notify_all()
            if self._log is not None:
                self._log(report)

    @staticmethod
    def _refuse_plain_text(raw: socket.socket, report: ClientReport) -> bool:
        """A client speaking plain text gets nginx's answer (HTTP 400) and a report saying so,
        instead of being reported as a TLS client that sent no certificate."""
        try:
            first = raw.recv(256, socket.MSG_PEEK)
        except OSError:
            return False
        if not _plain_text_start(first):
            return False
        from parsers.printable import escape_text

        report.not_tls = escape_text(first.split(b"\r\n", 1)[0][:80].decode("latin-1"))
        report.error = "not TLS"
        with contextlib.suppress(OSError):
            raw.recv(65536)
            raw.sendall(
                b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\n"
                b"Content-Length: 45\r\n\r\nThis port speaks TLS: connect with https://\r\n"
            )
        raw.close()
        return True

    def handle(self, raw: socket.socket, peer: tuple[str, int]) -> ClientReport:
        from OpenSSL import SSL

        # Blocking socket with kernel-level timeouts: OpenSSL then reads and writes directly,
        # and a silent client ends in WantReadError after the timeout instead of hanging.
        raw.settimeout(None)
        seconds = int(self._timeout)
        timeval = struct.pack("ll", seconds, int((self._timeout - seconds) * 1e6))
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, timeval)
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, timeval)
        report = ClientReport(peer=f"{peer[0]}:{peer[1]}")
        if self._refuse_plain_text(raw, report):
            return report
        conn = SSL.Connection(self._ctx, raw)
        conn.set_accept_state()
        conn.set_app_data(report)
        try:
            conn.do_handshake()
            report.version = conn.get_protocol_version_name()
            # server side: get_peer_cert_chain() leaves the client's leaf out
            leaf = conn.get_peer_certificate(as_cryptography=True)
            rest = conn.get_peer_cert_chain(as_cryptography=True) or []
            report.chain = ([leaf] if leaf is not None else []) + [c for c in rest if c != leaf]
            report.accepted = True
            with contextlib.suppress(SSL.Error, OSError):  # the client may leave at once
                conn.recv(4096)
                body = f"hello {C.dn(report.chain[0].subject)}\n" if report.chain else "hello\n"
                conn.sendall(
                    (
                        f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n{body}"
                    ).encode()
                )
                conn.shutdown()
        except SSL.Error as exc:
            report.version = report.version or conn.get_protocol_version_name()
            report.error = (
                "timed out"
                if isinstance(exc, SSL.WantReadError | SSL.WantWriteError)
                else str(exc) or type(exc).__name__
            )
            report.accepted = False
            if not report.chain:
                with contextlib.suppress(SSL.Error):
                    report.chain = list(conn.get_peer_cert_chain(as_cryptography=True) or [])
        except OSError as exc:
            report.error = str(exc)
        finally:
            raw.close()
        return report


def _plain_text_start(first: bytes) -> bool:
    """Bytes no TLS ClientHello starts with (a TLS record is 0x16 0x03 ..., an SSLv2-style hello has
    the high bit set): plain HTTP, a typo'd port, a health check speaking text."""
    return bool(first) and first[0] != 0x16 and not first[0] & 0x80


def _record(conn: SSL.Connection, cert: crypto.X509, errnum: int, depth: int, ok: int) -> bool:
    report = conn.get_app_data()
    if isinstance(report, ClientReport):
        if depth == 0 and not report.chain:  # a refused chain is not kept by OpenSSL: keep its leaf
            report.chain = [cert.to_cryptography()]
        if not ok:
            report.verify_errors.append((errnum, depth, C.dn(cert.to_cryptography().subject)))
    return bool(ok)
