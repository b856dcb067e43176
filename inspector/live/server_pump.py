"""OpenSSL over memory BIOs on one client's socket, within one total deadline: every byte each
way passes here, so what the client sent (nothing, plain text, an SSLv2 hello, a ClientHello cut
short) and the alert OpenSSL wrote are observed, not guessed, and written into its report."""

from __future__ import annotations

import contextlib
import socket
import time
from typing import TYPE_CHECKING

from inspector.live.client_report import ClientReport, Hello, note_chain
from parsers.constants import ALERT_NAMES, ContentType, HandshakeType

if TYPE_CHECKING:
    from OpenSSL import SSL

#: bytes of the server's output kept to find a plaintext alert in (records before any encryption)
OUTPUT_KEPT = 64 << 10

HANDSHAKE_RECORD = ContentType.handshake
SERVER_HELLO = bytes([HandshakeType.server_hello])


class ClientPump:
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
            if data[0] != HANDSHAKE_RECORD:  # not a TLS handshake record: classified as it is
                break
            if len(data) >= 5 and len(data) >= 5 + int.from_bytes(data[3:5], "big"):
                break
        report.first_bytes = data[:16].hex(" ")
        if not data:
            report.hello = Hello.NOTHING
            return b""
        if plain_text_start(data):
            return data
        if data[0] & 0x80:
            report.hello = Hello.SSLV2
            return b""
        if data[0] != HANDSHAKE_RECORD or (len(data) >= 2 and data[1] != 3):
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
        note_chain(self.conn, report)
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
    return bool(records) and records[0][0] == HANDSHAKE_RECORD and records[0][1][:1] == SERVER_HELLO


def _plaintext_alert(output: bytes) -> str | None:
    """The alert OpenSSL wrote, when it wrote it before any encryption (TLS 1.2's refusal of a
    client certificate, any refusal of a ClientHello); TLS 1.3's come encrypted: None."""
    for kind, body in _records(output):
        if kind == 20 or kind == 23:  # ChangeCipherSpec or encrypted: nothing plaintext after it
            return None
        if kind == 21 and len(body) == 2:
            return ALERT_NAMES.get(body[1], f"alert {body[1]} (unknown)")
    return None


def plain_text_start(first: bytes) -> bool:
    """Bytes no TLS ClientHello starts with (a TLS record is 0x16 0x03 ..., an SSLv2-style hello has
    the high bit set): plain HTTP, a typo'd port, a health check speaking text."""
    return (
        bool(first)
        and first[0] != HANDSHAKE_RECORD
        and not first[0] & 0x80
        and first[:1].isascii()
        and first[0] >= 0x20
    )
