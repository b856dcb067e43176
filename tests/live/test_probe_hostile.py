"""The probe on keystores that OpenSSL itself refuses to use: a report, not an internal error."""

from __future__ import annotations

import pytest

from tests import pki as P
from tests.helpers import tls_bytes as TB
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
    conn.sendall(TB.alert_record(TB.PROTOCOL_VERSION))


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
    """OpenSSL names its highest version even when the server refused them all."""
    port = s_server(version="1.2")
    text = cli("probe", f"127.0.0.1:{port}", "--insecure", "--tls-version", "1.3")
    assert text.out.splitlines()[0] == f"Probe 127.0.0.1:{port}: no TLS version agreed"
    doc = cli("probe", f"127.0.0.1:{port}", "--insecure", "--tls-version", "1.3", "--json").json()
    assert doc["probe"]["attempts"][0]["version"] is None
    assert doc["probe"]["attempts"][0]["cipher"] is None


def _without_renegotiation_info(record: bytes) -> bytes:
    """The server's first record with renegotiation_info (0xff01) cut out of its ServerHello, as
    a pre-2010 TLS stack would have sent it (lengths adjusted; the rest of the record kept)."""
    body = record[5:]
    assert body[0] == 2, "the first server message is a ServerHello"
    hello_len = int.from_bytes(body[1:4], "big")
    hello, rest = body[4 : 4 + hello_len], body[4 + hello_len :]
    pos = 2 + 32
    pos += 1 + hello[pos] + 2 + 1  # session id, cipher suite, compression
    exts, kept = hello[pos + 2 :], b""
    while exts:
        kind, size = int.from_bytes(exts[:2], "big"), int.from_bytes(exts[2:4], "big")
        if kind != 0xFF01:
            kept += exts[: 4 + size]
        exts = exts[4 + size :]
    assert len(kept) < len(hello[pos + 2 :]), "the server sent renegotiation_info"
    hello = hello[:pos] + len(kept).to_bytes(2, "big") + kept
    body = b"\x02" + len(hello).to_bytes(3, "big") + hello + rest
    return record[:3] + len(body).to_bytes(2, "big") + body


def _stripping_relay(upstream: int):  # type: ignore[no-untyped-def]
    """127.0.0.1 relay to `upstream` that rewrites the server's first record, then relays bytes."""
    import contextlib
    import select
    import socket
    import threading

    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)

    def relay() -> None:
        with contextlib.suppress(OSError):
            client, _ = listener.accept()
            server = socket.create_connection(("127.0.0.1", upstream), timeout=10)
            first, pending = True, b""
            with client, server:
                while True:
                    ready, _, _ = select.select([client, server], [], [], 10)
                    if not ready:
                        return
                    for sock in ready:
                        data = sock.recv(65536)
                        if not data:
                            return
                        if sock is client:
                            server.sendall(data)
                            continue
                        if not first:
                            client.sendall(data)
                            continue
                        pending += data
                        if len(pending) >= 5 and len(pending) >= 5 + int.from_bytes(pending[3:5], "big"):
                            end = 5 + int.from_bytes(pending[3:5], "big")
                            client.sendall(_without_renegotiation_info(pending[:end]) + pending[end:])
                            first = False

    threading.Thread(target=relay, daemon=True).start()
    return listener


def test_a_server_without_secure_renegotiation_is_named(cli, s_server):  # type: ignore[no-untyped-def]
    """OpenSSL 3 refuses such a server ("unsafe legacy renegotiation disabled"); Java connects.
    The probe connects as Java does and says what the server lacks. The relay's
    edit breaks the Finished check afterwards, as any change to the handshake does."""
    port = s_server(version="1.2")
    listener = _stripping_relay(port)
    try:
        result = cli("probe", f"127.0.0.1:{listener.getsockname()[1]}", "--insecure", "--json")
    finally:
        listener.close()
    assert "internal error" not in result.err
    doc = result.json()
    assert "server-no-secure-renegotiation" in [f["code"] for f in doc["findings"]]
    error = doc["probe"]["attempts"][0]["error"] or ""
    assert "unsafe legacy renegotiation" not in error, error
    assert doc["connections"][0]["version"] == "TLS 1.2"
