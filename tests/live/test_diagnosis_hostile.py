"""Diagnoses that stay true under odd input: an alert this tool cannot name is
said so (never close_notify, never "version / cipher negotiation failed"); a client certificate
that is not yet valid is a clock problem, not "expired — renew it". Real peers on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import pki as P
from tests.live.conftest import PW


class _AlertServer:
    """Reads a ClientHello record and answers with a fatal alert of description `code`."""

    def __init__(self, code: int) -> None:
        self.code = code
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                data = b""
                try:
                    while len(data) < 5 or len(data) < 5 + int.from_bytes(data[3:5], "big"):
                        chunk = conn.recv(4096)
                        if not chunk:
                            break
                        data += chunk
                    conn.sendall(bytes([0x15, 3, 3, 0, 2, 2, self.code]))
                    conn.recv(4096)
                except OSError:
                    pass

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.sock.close()


@pytest.fixture
def alert_200() -> Iterator[_AlertServer]:
    server = _AlertServer(200)
    yield server
    server.close()


def test_an_unknown_alert_on_the_wire_is_named_as_unknown(cli, alert_200, tmp_path):  # type: ignore[no-untyped-def]
    capture = tmp_path / "alert200.pcap"
    probe = cli("probe", f"127.0.0.1:{alert_200.port}", "--tls-version", "1.2", "--capture", str(capture))
    read = cli("pcap", str(capture))
    for result in (probe, read):
        assert result.status == 1, result.err
        assert "close_notify" not in result.out
        assert "Alert 200 (unknown)  ✗ fails here" in result.out
        assert (
            "error[alert-unnamed]: the server aborted with an alert this tool cannot name (alert 200 "
            in result.out
        )
        assert "negotiation-failed" not in result.out
    doc = cli("pcap", str(capture), "--json").json()
    alert = next(e for e in doc["connections"][0]["events"] if "alert" in e)["alert"]
    assert alert == {"level": 2, "description": 200, "name": "alert 200 (unknown)", "readable": True}


def _modern(message: str, ms: int = 0) -> str:
    return f"javax.net.ssl|DEBUG|10|main|2026-12-07 15:29:33.{ms:03d} UTC|Alert.java:238|{message}"


def _log_with_server_alert(description_line: str | None) -> str:
    lines = [
        _modern("Produced ClientHello handshake message ("),
        '"ClientHello": {',
        '  "client version"      : "TLSv1.2",',
        '  "cipher suites"       : "[TLS_AES_128_GCM_SHA256(0x1301)]",',
        "}",
        ")",
        _modern("Received alert message (", 2),
        '"Alert": {',
        '  "level"      : "fatal",',
        *([description_line] if description_line else []),
        "}",
        ")",
        _modern("Fatal (UNEXPECTED_MESSAGE): Unknown alert description (-56) (", 3),
        '"throwable" : {',
        "  javax.net.ssl.SSLProtocolException: Unknown alert description (-56)",
        "}",
        ")",
    ]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("line", ['  "description": "UNKNOWN ALERT (200)"', None])
def test_a_java_log_alert_unknown_or_unread_is_not_close_notify(cli, tmp_path, line):  # type: ignore[no-untyped-def]
    """As a real JDK 17 logs an alert 200 (and the same with the description line missing)."""
    log = tmp_path / "alert.log"
    log.write_text(_log_with_server_alert(line))
    result = cli("log", str(log))
    assert result.status == 1, result.err
    assert "close_notify" not in result.out
    assert "Alert unknown alert  ✗ fails here" in result.out
    assert "error[alert-unnamed]" in result.out
    assert "negotiation" not in result.out


def test_a_not_yet_valid_client_certificate_is_a_clock_problem(cli, files, serve, tmp_path):  # type: ignore[no-untyped-def]
    future = P.issue(
        "client-future",
        files.acme.intermediate,
        not_before=P.NOW + dt.timedelta(days=1),
        not_after=P.NOW + dt.timedelta(days=300),
    )
    store = tmp_path / "future.jks"
    P.write_jks(store, PW, keys=[("future", future.key, [future.cert, files.acme.intermediate.cert])])
    server = serve(tls_version="1.2")
    capture = tmp_path / "future.pcap"
    probe = cli(
        "probe",
        f"127.0.0.1:{server.port}",
        "--insecure",
        "--keystore",
        str(store),
        "--storepass",
        PW,
        "--alias",
        "future",
        "--capture",
        str(capture),
        "--json",
    )
    read = cli("pcap", str(capture), "--json")
    for result in (probe, read):
        assert result.status == 1, result.err
        codes = result.error_codes()
        assert "cert-not-yet-valid" in codes and "client-cert-expired" not in codes, codes
        (finding,) = [f for f in result.json()["findings"] if f["code"] == "cert-not-yet-valid"]
        assert finding["fix"].startswith("check the clocks") and "does not help" in finding["fix"]
        assert "not yet valid" in finding["summary"]
    rejected = next(f for f in read.json()["findings"] if f["code"] == "server-rejected-client-cert")
    assert "bad_certificate" in rejected["summary"]  # what OpenSSL sends for it, on the wire


def test_a_pem_file_claims_no_integrity(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pki = P.make_pki()
    pem = tmp_path / "root.pem"
    pem.write_bytes(pki.root.pem)
    result = cli("keystore", str(pem))
    assert (
        result.out.splitlines()[0]
        == f"Keystore {pem}: PEM, no integrity check (a PEM file has none), 1 entries"
    )
    assert "integrity verified" not in result.out
    assert cli("keystore", str(pem), "--json").json()["keystore"]["integrity_checked"] is False
