"""`pcap -` on a live capture: real tcpdump on loopback, real handshakes against openssl s_server.

A connection's line must appear while tcpdump is still capturing (streaming, not at the end of
the input); Ctrl-C then ends the run with the summary and exit status 130.
"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live.conftest import Files
from tests.pcap_stream_helpers import StreamRun

pytestmark = pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump is not installed")


def handshake(port: int, cert: Path | None, key: Path | None) -> bool:
    """One real TLS 1.2 connection with this client certificate: a request, the answer, close.
    True if the server accepted it."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    if cert is not None:
        context.load_cert_chain(cert, key)
    try:
        with (
            socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
            context.wrap_socket(raw) as tls,
        ):
            tls.sendall(b"GET / HTTP/1.0\r\n\r\n")
            while tls.recv(65536):
                pass
        return True
    except (ssl.SSLError, ConnectionError):
        return False


def started_tcpdump(port: int, *output: str) -> subprocess.Popen[bytes]:
    """tcpdump -U on lo for this port, writing to `output` (`-w -`: its stdout, a pipe)."""
    proc = subprocess.Popen(
        ["tcpdump", "-U", "-n", "-i", "lo", "-s", "0", *output, f"tcp port {port}"],
        stdout=subprocess.PIPE if output[-1] == "-" else subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert proc.stderr is not None
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # "listening on lo, link-type EN10MB ..."
        if b"listening on" in proc.stderr.readline():
            return proc
    proc.kill()
    raise RuntimeError("tcpdump did not start")


@pytest.fixture
def client_files(files: Files) -> Iterator[dict[str, Path]]:
    paths = {
        "good.pem": files.acme.leaf.pem + files.acme.intermediate.pem,
        "good.key": files.acme.leaf.key_pem,
        "stranger.pem": files.stranger.leaf.pem + files.stranger.intermediate.pem,
        "stranger.key": files.stranger.leaf.key_pem,
    }
    for name, data in paths.items():
        (files / name).write_bytes(data)
    yield {name: files / name for name in paths}


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        proc.wait(timeout=10)


def test_tcpdump_piped_in_prints_each_connection_while_capturing(
    s_server: object, client_files: dict[str, Path]
) -> None:
    port = s_server("-CAfile", "acme-root.pem", version="1.2")  # type: ignore[operator]
    tcpdump = started_tcpdump(port, "-w", "-")
    run = StreamRun("-", "--idle", "30", stdin=tcpdump.stdout)
    assert tcpdump.stdout is not None
    tcpdump.stdout.close()  # ours; the reader holds its own
    try:
        assert handshake(port, client_files["good.pem"], client_files["good.key"])
        first = run.next_line(timeout=30)
        assert first is not None
        assert first.startswith("#1  ")
        assert f"→ 127.0.0.1:{port}  -  TLS 1.2  cert requested: yes  sent: CN=" in first
        assert first.endswith("  completed  ok")
        assert tcpdump.poll() is None and run.proc.poll() is None  # still capturing, still reading

        assert not handshake(port, client_files["stranger.pem"], client_files["stranger.key"])
        second = run.next_line(timeout=30)
        assert second is not None and second.startswith("#2  ")
        assert second.endswith("unknown_ca from server  error[server-rejected-client-cert] (+1 more)")
        assert tcpdump.poll() is None

        run.interrupt()
        status, rest, err = run.finish()
    finally:
        run.kill()
        stop(tcpdump)
    assert status == 130, err
    assert err == ""
    summary = rest.splitlines()
    assert summary[0] == ""
    assert summary[1].startswith("stdin: pcap, ")
    assert summary[1].endswith(" 2 TLS connection(s), 1 with errors; stopped by Ctrl-C")
    assert summary[2] == "1 error, 1 warning, 0 info"


def test_follow_the_file_tcpdump_is_writing(
    s_server: object, client_files: dict[str, Path], tmp_path: Path
) -> None:
    port = s_server("-CAfile", "acme-root.pem", version="1.3")  # type: ignore[operator]
    written = tmp_path / "live.pcap"
    tcpdump = started_tcpdump(port, "-w", str(written))
    run = StreamRun("--follow", str(written), stdin=subprocess.DEVNULL)
    try:
        assert handshake(port, client_files["good.pem"], client_files["good.key"])
        first = run.next_line(timeout=30)
        assert first is not None and first.startswith("#1  ")
        assert "  TLS 1.3  cert requested: ? (encrypted)  sent: ? (encrypted)  " in first
        assert tcpdump.poll() is None and run.proc.poll() is None
        run.interrupt()
        status, rest, err = run.finish()
    finally:
        run.kill()
        stop(tcpdump)
    assert status == 130, err
    assert rest.splitlines()[1].endswith(" 1 TLS connection(s), 0 with errors; stopped by Ctrl-C")


def test_the_reader_stops_cleanly_when_tcpdump_stops(s_server: object, client_files: dict[str, Path]) -> None:
    """tcpdump ends (SIGTERM): the pipe ends, the summary follows at once, exit by the findings.

    tcpdump is stopped once the connection's line is out: it hands packets on in blocks, the
    first ~1 s after it starts, and drops the block it holds when stopped. A 1 s sleep after the
    handshake won only by the handshake's own duration (with 0.95 s the connection was missing
    every time)."""
    port = s_server("-CAfile", "acme-root.pem", version="1.2")  # type: ignore[operator]
    tcpdump = started_tcpdump(port, "-w", "-")
    run = StreamRun("-", stdin=tcpdump.stdout)
    assert tcpdump.stdout is not None
    tcpdump.stdout.close()
    try:
        assert handshake(port, client_files["good.pem"], client_files["good.key"])
        first = run.next_line(timeout=30)
        assert first is not None and first.endswith("  completed  ok")
        stop(tcpdump)
        status, rest, err = run.finish(timeout=30)
    finally:
        run.kill()
        stop(tcpdump)
    assert status == 0, err
    lines = rest.splitlines()
    assert lines[-2].endswith(" 1 TLS connection(s), 0 with errors")
