"""The probe on keystores that OpenSSL itself refuses to use: a report, not an internal error."""

from __future__ import annotations

import pytest

from tests import pki as P
from tests.live.conftest import PW, Files


@pytest.fixture(scope="module")
def mismatch_store(files: Files) -> str:
    """Entry 'letstestcba': Acme's chain, but another PKI's private key (a CA reply imported
    onto the wrong key pair)."""
    path = files / "mismatch.jks"
    if not path.exists():
        full = [files.acme.leaf.cert, files.acme.intermediate.cert, files.acme.root.cert]
        P.write_jks(path, PW, keys=[("letstestcba", files.stranger.leaf.key, full)])
    return str(path)


@pytest.mark.parametrize("pick", ["java", "alias"])
def test_key_that_is_not_the_certificates_is_reported(cli, s_server, mismatch_store, pick):  # type: ignore[no-untyped-def]
    port = s_server("-CAfile", "acme-root.pem")
    extra = ("--alias", "letstestcba") if pick == "alias" else ()
    result = cli(
        *("probe", f"127.0.0.1:{port}", "--keystore", mismatch_store, "--storepass", PW),
        *("--insecure", "--json", *extra),
    )
    assert result.status == 1, result.err
    assert "internal error" not in result.err
    assert "key-cert-mismatch" in result.error_codes()
    doc = result.json()
    finding = next(f for f in doc["findings"] if f["code"] == "key-cert-mismatch")
    assert "server answers decrypt_error" in finding["summary"]
    assert doc["connections"][0]["client_cert"] == "empty"  # nothing presented
    assert any("OpenSSL refuses the pair" in step for step in doc["probe"]["steps"])


def _one_connection_server(handle):  # type: ignore[no-untyped-def]
    import contextlib
    import socket
    import threading

    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)

    def serve() -> None:
        with contextlib.suppress(OSError):
            conn, _ = listener.accept()
            conn.settimeout(5)
            with conn:
                handle(conn)

    threading.Thread(target=serve, daemon=True).start()
    return listener


def _plain_http(conn):  # type: ignore[no-untyped-def]
    conn.recv(4096)
    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")


def _silent(conn):  # type: ignore[no-untyped-def]
    conn.recv(4096)
    conn.recv(4096)  # until the client gives up


def _alert(conn):  # type: ignore[no-untyped-def]
    conn.recv(4096)
    conn.sendall(b"\x15\x03\x03\x00\x02\x02\x46")  # fatal protocol_version


@pytest.mark.parametrize(
    ("handle", "expected"),
    [
        (_plain_http, 'the server answered with non-TLS data: "HTTP/1.1 400 Bad Request'),
        (_silent, "no TLS answer within 1 s after the ClientHello"),
        (_alert, "the handshake ended before any CertificateRequest ("),
    ],
    ids=["plain-http", "silent", "alert"],
)
def test_select_from_server_says_why_no_request_came(cli, files, handle, expected):  # type: ignore[no-untyped-def]
    listener = _one_connection_server(handle)
    port = listener.getsockname()[1]
    try:
        result = cli(
            *("select", "--keystore", str(files / "good.jks"), "--storepass", PW),
            *("--from-server", f"127.0.0.1:{port}", "--timeout", "1"),
        )
    finally:
        listener.close()
    assert result.status == 2
    lines = [line for line in result.err.splitlines() if not line.startswith("warning:")]
    assert len(lines) == 1 and expected in lines[0], result.err
    assert "sent no CertificateRequest" not in result.err


def test_a_refused_version_is_not_reported_as_negotiated(cli, s_server):  # type: ignore[no-untyped-def]
    """OpenSSL names its highest version even when the server refused them all (issue 10 item 15)."""
    port = s_server(version="1.2")
    text = cli("probe", f"127.0.0.1:{port}", "--insecure", "--tls-version", "1.3")
    assert text.out.splitlines()[0] == f"Probe 127.0.0.1:{port}: no TLS version agreed"
    doc = cli("probe", f"127.0.0.1:{port}", "--insecure", "--tls-version", "1.3", "--json").json()
    assert doc["probe"]["attempts"][0]["version"] is None
    assert doc["probe"]["attempts"][0]["cipher"] is None
