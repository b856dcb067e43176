"""`mtls-inspect serve`: the reference server explains each client it accepts or refuses."""

from __future__ import annotations

import subprocess
import sys

from tests.live.conftest import PW
from tests.servers import free_port


def test_server_explains_accept_and_reject(cli, files, serve):  # type: ignore[no-untyped-def]
    server = serve(tls_version="1.2")
    for keystore in ("good.jks", "stranger.jks", "expired.jks"):
        cli(
            "probe",
            f"127.0.0.1:{server.port}",
            "--insecure",
            "--keystore",
            str(files / keystore),
            "--storepass",
            PW,
            "--alias",
            {"good.jks": "letstestcba", "stranger.jks": "stranger", "expired.jks": "old"}[keystore],
        )
    lines = [r.line() for r in server.wait_for(3)]
    assert lines[0].endswith("→ accepted")
    assert "rejected with unknown_ca" in lines[1] and "[finding server-rejected-client-cert]" in lines[1]
    assert "rejected with certificate_expired" in lines[2] and "client-cert-expired" in lines[2]


def test_serve_command_line(cli, files):  # type: ignore[no-untyped-def]
    port = free_port()
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
            "--ca-names",
            str(files / "stranger-root.pem"),
            "--port",
            str(port),
            "--max-connections",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_port_without_connecting = proc.stdout.readline()  # type: ignore[union-attr]
        assert f"listening on 127.0.0.1:{port}" in wait_port_without_connecting
        result = cli("probe", f"127.0.0.1:{port}", "--insecure", "--json")
        names = next(
            e
            for e in result.json()["connections"][0]["events"]
            if e["message"].startswith("CertificateRequest")
        )["ca_names"]
        assert names == ["CN=Stranger Root CA,O=Stranger"]  # names differ from what it trusts
        out, _ = proc.communicate(timeout=20)
        assert "sent no certificate → rejected" in out
    finally:
        proc.kill()


def test_demo_shows_curl_works_java_does_not(cli):  # type: ignore[no-untyped-def]
    result = cli("demo", "--tls-version", "1.2")
    assert result.status == 0
    assert "Same keystore, same server — Java: refused; OpenSSL/curl: accepted." in result.out
    assert "error[issuer-not-in-ca-list]" in result.out


def test_demo_interrupted_by_sigterm_leaves_no_key_behind(tmp_path):  # type: ignore[no-untyped-def]
    """The demo writes a throwaway private key to a temporary directory; a SIGTERM (a CI job's
    timeout, `kill`) must still remove it."""
    import os
    import signal
    import subprocess
    import sys
    import time

    env = {**os.environ, "TMPDIR": str(tmp_path)}
    demo = subprocess.Popen(
        [sys.executable, "-m", "inspector", "demo"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not any(tmp_path.glob("mtls-demo-*/*")):
        time.sleep(0.005)
    assert any(tmp_path.glob("mtls-demo-*/*")), "the demo never wrote its temporary files"
    demo.send_signal(signal.SIGTERM)
    _out, err = demo.communicate(timeout=30)
    if demo.returncode == 0:  # it finished before the signal landed: nothing to prove this time
        assert not list(tmp_path.glob("mtls-demo-*"))
        return
    assert demo.returncode == 130, err
    assert err.strip() == "mtls-inspect: interrupted"
    assert not list(tmp_path.glob("mtls-demo-*")), "the temporary key stayed behind"


def test_a_plain_http_client_is_named_not_tls(serve):  # type: ignore[no-untyped-def]
    """curl http://… to a TLS port: an HTTP 400 as nginx answers, and the report says what came —
    not 'TLSv1.3, sent no certificate'. The client's bytes are escaped."""
    import socket

    server = serve()
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(b"GET /\x1b[31m HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    (report,) = server.wait_for(1)
    assert report.line() == (
        f'client {report.peer}: not TLS (sent "GET /\\1B[31m HTTP/1.1") → answered HTTP 400: '
        "a plain-HTTP client on a TLS port (use https://)"
    )
    assert not report.accepted
