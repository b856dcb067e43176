"""`serve` under attack: odd client certificates, many clients at once,
slow and silent ones, clients that never send a ClientHello — real clients on 127.0.0.1."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from inspector.live import reference_server as RS
from inspector.live.server_pump import ClientPump
from tests import pki as P
from tests.helpers import tls_bytes as TB
from tests.oddnames import ODD_CNS, key_pem, odd_cn, pem

_ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}


def _client_context(cert: Path | None = None, key: Path | None = None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if cert is not None and key is not None:
        ctx.load_cert_chain(cert, key)
    return ctx


def _tls_client(port: int, ctx: ssl.SSLContext) -> str:
    """Handshake, ask, read; what came back (or the error)."""
    try:
        with (
            socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
            ctx.wrap_socket(raw) as tls,
        ):
            tls.sendall(b"GET / HTTP/1.0\r\n\r\n")
            return tls.recv(4096).decode("utf-8", "replace")
    except (OSError, ssl.SSLError) as exc:
        return f"error: {exc}"


def _client_hello() -> bytes:
    """A real ClientHello, as Python's OpenSSL writes it."""
    ctx = _client_context()
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing)
    with pytest.raises(ssl.SSLWantReadError):
        obj.do_handshake()
    return outgoing.read()


def test_serve_keeps_serving_clients_with_odd_certificate_subjects(files, tmp_path):  # type: ignore[no-untyped-def]
    """Each odd CN encoding, self-signed (refused) and issued by the trusted CA (accepted): serve
    logs each with its subject read as OpenSSL reads it, and keeps serving (it exited 70 on the
    first one)."""
    clients = []
    for variant in ODD_CNS:
        cert_der, holder = odd_cn(variant)
        (tmp_path / f"{variant}.crt").write_bytes(pem(cert_der))
        (tmp_path / f"{variant}.key").write_bytes(key_pem(holder))
        clients.append(variant)
    trusted_der, trusted = odd_cn("t61", files.acme.intermediate)
    (tmp_path / "trusted.crt").write_bytes(pem(trusted_der) + files.acme.intermediate.pem)
    (tmp_path / "trusted.key").write_bytes(key_pem(trusted))
    clients.append("trusted")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "inspector",
            "serve",
            "--cert",
            str(files / "server.pem"),
            "--key",
            str(files / "server.key"),
            "--client-ca",
            str(files / "acme-root.pem"),
            "--tls-version",
            "1.2",
            "--port",
            "0",
            "--max-connections",
            str(len(clients) + 1),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_ENV,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        port = int(re.search(r":(\d+) ", first).group(1))  # type: ignore[union-attr]
        answers = {
            name: _tls_client(port, _client_context(tmp_path / f"{name}.crt", tmp_path / f"{name}.key"))
            for name in clients
        }
        honest = _tls_client(port, _client_context(files.d / "none", None))
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert err == ""
    assert answers["trusted"].endswith("\r\n\r\nhello CN=café ÿþ,O=Acme\n")
    assert "handshake failure" in honest  # TLS 1.2: refused in plaintext, no certificate
    lines = out.splitlines()
    assert len(lines) == len(clients) + 1, first + out
    shown = {
        "t61": "CN=café ÿþ",
        "seq": "CN=#30050c03616263",
        "bitstr": "CN=#030300fffe",
        "ia5_8bit": "CN=a\ufffdb",
        "printable_bad": "CN=a\ufffdb",
    }
    for variant, line in zip(ODD_CNS, lines, strict=False):
        assert f"sent {shown[variant]} → rejected with unknown_ca" in line, line
    assert re.search(r"TLSv1\.2, sent CN=café ÿþ \(2 certificate\(s\)\) → accepted$", lines[len(ODD_CNS)])
    assert lines[-1].endswith(
        "TLSv1.2, sent no certificate → rejected with handshake_failure: a certificate is required "
        "[finding client-cert-not-sent]"
    )


def _silent(port: int, hold: float, done: list[float]) -> None:
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.settimeout(hold)
        with contextlib.suppress(TimeoutError):
            sock.recv(1)  # the server gives up first: EOF
    done.append(time.monotonic() - start)


def _trickle(port: int, hello: bytes, done: list[float]) -> None:
    """A real ClientHello, one byte every 0.3 s (each read well inside any per-read timeout)."""
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        for byte in hello:
            try:
                sock.sendall(bytes([byte]))
            except OSError:
                break
            time.sleep(0.3)
            if time.monotonic() - start > 20:
                break
    done.append(time.monotonic() - start)


def test_slow_and_silent_clients_cannot_hold_the_server(files, serve):  # type: ignore[no-untyped-def]
    """Eight silent connections and a trickling one at once: an honest client is still served at
    once, and each slow one is cut at the total per-client deadline (3 s here), not per read."""
    server = serve(timeout=3.0, optional=True)
    silent_done: list[float] = []
    trickle_done: list[float] = []
    threads = [threading.Thread(target=_silent, args=(server.port, 15, silent_done)) for _ in range(8)]
    threads.append(threading.Thread(target=_trickle, args=(server.port, _client_hello(), trickle_done)))
    for t in threads:
        t.start()
    time.sleep(0.5)
    start = time.monotonic()
    answer = _tls_client(server.port, _client_context())
    honest_took = time.monotonic() - start
    for t in threads:
        t.join(30)
    assert answer.endswith("\r\n\r\nhello\n"), answer
    assert honest_took < 2.0, honest_took
    reports = server.wait_for(10, timeout=10)
    assert server.served == 10
    lines = [r.line() for r in reports]
    assert sum("sent nothing (timed out after 3 s" in line for line in lines) == 8, lines
    cut = [line for line in lines if "-byte ClientHello record, then timed out after 3 s" in line]
    assert len(cut) == 1, lines
    assert max(silent_done) < 6 and trickle_done[0] < 6  # 3 s, not 15 or 20


def test_many_clients_at_once(files, serve):  # type: ignore[no-untyped-def]
    """Twenty real TLS clients on twenty threads at once, each answered."""
    server = serve(optional=True)
    answers: list[str] = []
    lock = threading.Lock()

    def one() -> None:
        answer = _tls_client(server.port, _client_context())
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=one) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(answers) == 20 and not any(a.startswith("error") for a in answers), answers
    assert server.wait_for(20, timeout=10) and server.served == 20


def test_reports_are_kept_in_a_bounded_ring(files, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(RS, "REPORTS_KEPT", 5)
    server = RS.ReferenceServer(files / "server.pem", files / "server.key", [files / "acme-root.pem"])
    with server:
        for _ in range(12):
            with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
                sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
                sock.recv(4096)
        server.wait_for(12)
    assert server.served == 12 and len(server.reports) == 5
    # a report holds strings and numbers only, no certificate objects
    assert all(
        isinstance(v, str | int | bool | list | tuple | RS.Hello | type(None))
        for v in vars(server.reports[0]).values()
    )


def _raw(port: int, data: bytes, close: bool = True) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        if close:
            sock.shutdown(socket.SHUT_WR)
        try:
            while sock.recv(4096):
                pass
        except OSError:
            pass


def test_what_a_client_sent_is_said_not_sent_no_certificate(files, serve):  # type: ignore[no-untyped-def]
    """Nothing, garbage, an SSLv2 hello, a cut ClientHello, a TLS 1.0-only client: each named for
    what it was (all were 'sent no certificate → a certificate is required')."""
    server = serve(timeout=3.0)
    hello = _client_hello()
    _raw(server.port, b"")
    _raw(server.port, TB.record(TB.APPLICATION_DATA, b"abcd"))
    _raw(server.port, bytes.fromhex("802e0103010015000000100000390000380000350000160000130000") + bytes(16))
    _raw(server.port, hello[:40])
    import warnings

    old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    old.check_hostname, old.verify_mode = False, ssl.CERT_NONE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # TLS 1.0 is the point
        old.minimum_version = old.maximum_version = ssl.TLSVersion.TLSv1
    old.set_ciphers("DEFAULT:@SECLEVEL=0")
    tls10 = _tls_client(server.port, old)
    lines = [r.line().split(": ", 1)[1] for r in server.wait_for(5)]
    assert tls10.startswith("error")
    assert lines[0] == "sent nothing (closed the connection) → no handshake"
    assert lines[1] == (
        "sent 9 byte(s) that are not a TLS ClientHello (17 03 03 00 04 61 62 63 64…) → refused "
        "with unexpected_message: not a TLS client"
    )
    assert lines[2].startswith("sent an SSLv2-style hello (80 2e 01 03")
    assert (
        lines[3]
        == f"sent 40 of a {len(hello)}-byte ClientHello record, then closed the connection → no handshake"
    )
    assert lines[4].startswith(
        "offered no TLS version this server accepts (unsupported protocol) → refused with protocol_version"
    ), lines[4]
    assert not any("certificate" in line for line in lines[:4])


def test_not_yet_valid_client_certificate_names_the_alert_openssl_sent(files, serve, tmp_path):  # type: ignore[no-untyped-def]
    """OpenSSL answers a not-yet-valid client certificate with bad_certificate (seen on the wire in
    TLS 1.2), not certificate_expired; and the finding is cert-not-yet-valid."""
    import datetime as dt

    future = P.issue(
        "client-future",
        files.acme.intermediate,
        not_before=P.NOW + dt.timedelta(days=1),
        not_after=P.NOW + dt.timedelta(days=300),
    )
    (tmp_path / "f.crt").write_bytes(future.pem + files.acme.intermediate.pem)
    (tmp_path / "f.key").write_bytes(future.key_pem)
    server = serve(tls_version="1.2")
    answer = _tls_client(server.port, _client_context(tmp_path / "f.crt", tmp_path / "f.key"))
    assert "bad certificate" in answer.lower()
    (report,) = server.wait_for(1)
    assert report.alert_sent == "bad_certificate"
    assert report.line().endswith(
        "TLSv1.2, sent CN=client-future → rejected with bad_certificate: a certificate "
        "is not yet valid (depth 0, CN=client-future,O=Acme) [finding cert-not-yet-valid]"
    )


def test_a_bug_met_with_one_client_is_its_line_and_the_server_goes_on(files, serve, monkeypatch):  # type: ignore[no-untyped-def]
    original = ClientPump.first_bytes
    calls: list[int] = []

    def planted(self: ClientPump) -> bytes:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("planted")
        return original(self)

    monkeypatch.setattr(ClientPump, "first_bytes", planted)
    server = serve(optional=True)
    first = _tls_client(server.port, _client_context())
    second = _tls_client(server.port, _client_context())
    assert first.startswith("error")
    assert second.endswith("\r\n\r\nhello\n"), second
    lines = [r.line() for r in server.wait_for(2)]
    assert lines[0].endswith(
        "internal error: RuntimeError: planted (a bug in mtls-inspect: please report it)"
    ), lines[0]
    assert lines[1].endswith("→ accepted")
