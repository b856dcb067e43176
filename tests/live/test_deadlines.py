"""`--timeout` is a total deadline for `probe` and `select --from-server`, whatever the peer does
after connecting: trickling one byte at a time after a complete handshake, while answering the
HTTP request, or while answering the proxy's CONNECT.

Each hostile peer here would keep the client busy for TRICKLE_FOR seconds (a byte every
TRICKLE_EVERY seconds); the probe must give up at its deadline with a report or one line."""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable

import pytest

from tests.helpers import tls_bytes as TB
from tests.live.conftest import Files

TRICKLE_FOR = 25.0
TRICKLE_EVERY = 0.05
DEADLINE = 2.0
#: the probe's own work (imports, handshake, report) on a loaded 2-core machine; far below TRICKLE_FOR
SLACK = 4.0


def trickle(conn: socket.socket, data: bytes) -> None:
    """Send `data` one byte at a time, then keep sending a byte of a never-ending record."""
    end = time.monotonic() + TRICKLE_FOR
    stream = iter(data + TB.record(TB.APPLICATION_DATA, bytes(16384)))
    while time.monotonic() < end:
        byte = next(stream, b"\x00"[0])
        conn.sendall(bytes([byte]))
        time.sleep(TRICKLE_EVERY)


@contextlib.contextmanager
def hostile_server(files: Files, behave: Callable[[socket.socket, ssl.SSLSocket | None], None], tls: bool):
    """One connection on 127.0.0.1: a TLS handshake first (when `tls`), then `behave`."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(files / "server.pem", files / "server.key")
    context.num_tickets = 0  # a TLS 1.3 client keeps waiting for the server's judgement

    def serve() -> None:
        with contextlib.suppress(OSError):
            conn, _ = listener.accept()
            conn.settimeout(TRICKLE_FOR + 5)
            with conn:
                if not tls:
                    behave(conn, None)
                    return
                wrapped = context.wrap_socket(conn, server_side=True)
                raw = socket.socket(fileno=os.dup(wrapped.fileno()))  # bytes under the TLS layer
                with raw:
                    behave(raw, wrapped)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()


def trickle_after_handshake(raw: socket.socket, _tls: ssl.SSLSocket | None) -> None:
    trickle(raw, b"")


def trickle_after_request(raw: socket.socket, tls: ssl.SSLSocket | None) -> None:
    assert tls is not None
    tls.recv(4096)  # the GET
    trickle(raw, b"")


def trickle_connect_reply(conn: socket.socket, _tls: ssl.SSLSocket | None) -> None:
    conn.recv(4096)  # CONNECT host:port
    trickle(conn, b"HTTP/1.1 200 Connection established\r\nX-Pad: " + b"a" * 4096)


def timed(cli, *argv: str):  # type: ignore[no-untyped-def]
    start = time.monotonic()
    result = cli(*argv)
    return result, time.monotonic() - start


@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_probe_gives_up_on_a_server_trickling_after_the_handshake(cli, files, version):  # type: ignore[no-untyped-def]
    with hostile_server(files, trickle_after_handshake, tls=True) as port:
        result, took = timed(
            cli,
            *("probe", f"127.0.0.1:{port}", "--insecure", "--timeout", str(DEADLINE)),
            *("--tls-version", version, "--json"),
        )
    assert took < DEADLINE + SLACK, f"ran {took:.1f} s past a {DEADLINE} s deadline"
    assert result.status in (0, 1), result.err
    assert "internal error" not in result.err
    doc = result.json()
    assert doc["connections"][0]["version"] == f"TLS {version}"


def test_probe_gives_up_on_a_server_trickling_its_http_answer(cli, files):  # type: ignore[no-untyped-def]
    with hostile_server(files, trickle_after_request, tls=True) as port:
        result, took = timed(
            cli,
            *("probe", f"127.0.0.1:{port}", "--insecure", "--timeout", str(DEADLINE)),
            *("--tls-version", "1.2", "--http-request", "/", "--json"),
        )
    assert took < DEADLINE + SLACK, f"ran {took:.1f} s past a {DEADLINE} s deadline"
    assert result.status in (0, 1), result.err
    assert "internal error" not in result.err
    attempt = result.json()["probe"]["attempts"][0]
    assert attempt["completed"] is True and attempt["http_status"] is None and attempt["timed_out"] is True


def test_probe_gives_up_on_a_proxy_trickling_its_connect_reply(cli, files):  # type: ignore[no-untyped-def]
    with hostile_server(files, trickle_connect_reply, tls=False) as proxy:
        result, took = timed(
            cli,
            *("probe", "127.0.0.1:443", "--insecure", "--timeout", str(DEADLINE)),
            *("--proxy", f"127.0.0.1:{proxy}"),
        )
    assert took < DEADLINE + SLACK, f"ran {took:.1f} s past a {DEADLINE} s deadline"
    assert result.status == 2
    assert result.err.count("\n") == 1 and "internal error" not in result.err
    assert f"proxy 127.0.0.1:{proxy}: no complete answer to CONNECT" in result.err
    assert "--timeout" in result.err


def test_select_from_server_gives_up_on_a_trickling_server(cli, files):  # type: ignore[no-untyped-def]
    with hostile_server(files, trickle_after_handshake, tls=True) as port:
        result, took = timed(
            cli,
            *("select", "--keystore", str(files / "good.jks"), "--storepass", "changeit"),
            *("--from-server", f"127.0.0.1:{port}", "--timeout", str(DEADLINE)),
        )
    assert took < DEADLINE + SLACK, f"ran {took:.1f} s past a {DEADLINE} s deadline"
    assert result.status in (0, 1, 2)
    assert "internal error" not in result.err
