"""Diagnoses that stay true under odd input: an alert this tool cannot name is
said so (never close_notify, never "version / cipher negotiation failed"); a client certificate
that is not yet valid is a clock problem, not "expired — renew it". Real peers on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import pki as P
from tests.helpers import tls_bytes as TB
from tests.live.conftest import PW
from tests.servers import RawServer, read_record


def _answer_alert_200(conn: socket.socket) -> None:
    """Read the ClientHello record, answer with a fatal alert of description 200 (none has it)."""
    read_record(conn)
    conn.sendall(TB.alert_record(200))
    conn.recv(4096)


@pytest.fixture
def alert_200() -> Iterator[RawServer]:
    with RawServer(_answer_alert_200) as server:
        yield server


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
