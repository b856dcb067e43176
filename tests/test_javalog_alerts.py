"""Alerts a Java log names oddly, and logs as Windows and coloured consoles write them.

A received alert whose description the JDK cannot name (`UNKNOWN ALERT (200)`) or that the log
does not show must be said as such, keeping its number: never close_notify (description 0).
The JDK 11+ logs are real: the Java client of tests/javalog against a socket on 127.0.0.1 that
answers the ClientHello with a fatal alert of code 200. The JDK 8 line is hand-written in the
JDK 8 JSSE format (`<UNKNOWN ALERT: 200>`, no JDK 8 installs here).
"""

from __future__ import annotations

import codecs
import json
import shutil
import socket
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.javalog import scenarios as S

JAVA, JAVAC = shutil.which("java"), shutil.which("javac")


def _alert_once(listener: socket.socket, code: int) -> None:
    """Answer one ClientHello with a plaintext fatal alert (TLS 1.2 record), then close."""
    try:
        conn, _ = listener.accept()
    except OSError:
        return
    with conn:
        conn.settimeout(10)
        try:
            conn.recv(65536)
            conn.sendall(bytes([21, 3, 3, 0, 2, 2, code]))
        except OSError:
            pass


@pytest.fixture(scope="module")
def alert_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real JDK client's ssl:handshake:verbose log of a server that sent alert 200."""
    if JAVA is None or JAVAC is None:
        pytest.skip("java and javac are needed for a real log")
    d = tmp_path_factory.mktemp("alerts")
    S.build_files(d)
    classes = S.compile_client(None, d / "classes")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(60)
        server = threading.Thread(target=_alert_once, args=(listener, 200), daemon=True)
        server.start()
        scenario = S.Scenario("alert200", "good.jks", "trust-acme.jks", "alert", "TLSv1.2")
        S.run_java(
            "java",
            classes,
            "ssl:handshake:verbose",
            d,
            {"alert": listener.getsockname()[1]},
            d / "out",
            [scenario],
        )
        server.join(timeout=30)
    log = d / "out" / "alert200.log"
    assert '"description": "UNKNOWN ALERT (200)"' in log.read_text()
    return log


def _report(cli: Any, path: Path) -> tuple[int, dict[str, Any]]:
    result = cli("log", str(path), "--json")
    assert result.status != 70, result.err
    return result.status, json.loads(result.out)


def _alerts(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["alert"] for h in document["handshakes"] for e in h["events"] if "alert" in e]


def _said(document: dict[str, Any]) -> str:
    """What the report says of this log: its handshakes and findings (not the rules' prose)."""
    findings = [{k: v for k, v in f.items() if k != "explanation"} for f in document["findings"]]
    return json.dumps([document["handshakes"], findings])


def _codes(document: dict[str, Any]) -> set[str]:
    return {f["code"] for f in document["findings"] if f["severity"] != "info"}


def test_an_alert_the_jdk_cannot_name_keeps_its_number(cli, alert_log):  # type: ignore[no-untyped-def]
    status, document = _report(cli, alert_log)
    assert status == 1
    received = _alerts(document)[0]
    assert received == {"level": 2, "description": 200, "name": "alert 200 (unknown)", "readable": True}
    assert "alert-unnamed" in _codes(document)
    assert "close_notify" not in _said(document)


def test_an_alert_whose_description_is_not_shown_is_not_close_notify(cli, alert_log, tmp_path):  # type: ignore[no-untyped-def]
    lines = alert_log.read_text().splitlines(keepends=True)
    cut = [line for line in lines if '"description": "UNKNOWN ALERT (200)"' not in line]
    assert len(cut) == len(lines) - 1
    path = tmp_path / "no-description.log"
    path.write_text("".join(cut))
    status, document = _report(cli, path)
    assert status == 1
    received = _alerts(document)[0]
    assert received == {
        "level": 2,
        "description": None,
        "name": "unknown alert (description not shown)",
        "readable": True,
    }
    assert "alert-unnamed" in _codes(document)
    assert "close_notify" not in _said(document)


def test_a_jdk8_unknown_alert_keeps_its_number(cli, tmp_path):  # type: ignore[no-untyped-def]
    """Hand-written in JDK 8's format: its Alerts.alertDescription names an unknown code so."""
    path = tmp_path / "jdk8.log"
    path.write_text(
        "*** ClientHello, TLSv1.2\n"
        "RandomCookie:  random_bytes = { 00 }\n"
        "***\n"
        "main, WRITE: TLSv1.2 Handshake, length = 200\n"
        "main, READ: TLSv1.2 Alert, length = 2\n"
        "main, RECV TLSv1.2 ALERT:  fatal, <UNKNOWN ALERT: 200>\n"
        "main, called closeSocket()\n"
    )
    status, document = _report(cli, path)
    assert status == 1
    unknown = {"level": 2, "description": 200, "name": "alert 200 (unknown)", "readable": True}
    assert _alerts(document) == [unknown]
    assert "alert-unnamed" in _codes(document)
    assert "close_notify" not in _said(document)


# --- logs as consoles and Windows write them ------------------------------------------------------


def _nocert_report(cli: Any, tmp_path: Path, data: bytes) -> tuple[int, dict[str, Any]]:
    path = tmp_path / "variant.log"
    path.write_bytes(data)
    return _report(cli, path)


SAMPLE = Path(__file__).resolve().parent.parent / "captures" / "java-nocert12.log"


@pytest.mark.parametrize(
    "variant",
    [
        "every line coloured",
        "UTF-16LE with BOM and CRLF",
        "UTF-16BE with BOM",
    ],
)
def test_console_and_windows_encodings_keep_the_diagnosis(cli, tmp_path, variant):  # type: ignore[no-untyped-def]
    text = SAMPLE.read_text()
    data = {
        # a console or CI viewer that colours stderr: each line wrapped, block lines included
        "every line coloured": "".join(f"\x1b[31m{line}\x1b[0m\n" for line in text.splitlines()).encode(),
        # PowerShell 5.1 `java ... 2> client.log`
        "UTF-16LE with BOM and CRLF": codecs.BOM_UTF16_LE + text.replace("\n", "\r\n").encode("utf-16-le"),
        "UTF-16BE with BOM": codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
    }[variant]
    want_status, want = _report(cli, SAMPLE)
    status, got = _nocert_report(cli, tmp_path, data)
    assert (status, _codes(got)) == (want_status, _codes(want))
    assert status == 1 and "client-cert-not-sent" in _codes(got)
    assert got["handshakes"][0]["events"] == want["handshakes"][0]["events"]
    assert "?[0m" not in json.dumps(got) and "\\u001b" not in json.dumps(got)
