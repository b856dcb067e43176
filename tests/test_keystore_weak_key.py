"""weak-key follows what a real server does: an RSA-1024 client certificate against openssl
s_server (OpenSSL 3, default security level, verifying clients) on 127.0.0.1."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests import pki as P
from tests.servers import accepted_port

OPENSSL = shutil.which("openssl")
PW = "changeit"
pytestmark = pytest.mark.skipif(OPENSSL is None, reason="openssl not on PATH")


def _handshake(tmp_path: Path, version: str) -> tuple[str, str]:
    """One client handshake against a verifying s_server; (server output, client output)."""
    assert OPENSSL is not None
    server = subprocess.Popen(
        [
            *(OPENSSL, "s_server", "-accept", "127.0.0.1:0", "-naccept", "1"),
            *("-cert", "server.pem", "-key", "server.key", "-CAfile", "ca.pem"),
            *("-Verify", "1", "-verify_return_error"),
        ],
        cwd=tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert server.stdout is not None
        seen: list[str] = []
        port = None
        while port is None:  # until it listens, on the port it picked
            line = server.stdout.readline()
            assert line, "".join(seen)
            seen.append(line)
            port = accepted_port(line)
        client = subprocess.run(
            [
                *(OPENSSL, "s_client", "-connect", f"127.0.0.1:{port}", "-cert", "client.pem"),
                *("-key", "client.key", "-CAfile", "ca.pem", f"-tls{version}"),
                *("-cipher", "DEFAULT:@SECLEVEL=0"),  # our client must be allowed to send it
            ],
            cwd=tmp_path,
            input="",
            capture_output=True,
            text=True,
            timeout=20,
        )
        out = "".join(seen) + server.communicate(timeout=20)[0]
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    return out, client.stdout + client.stderr


@pytest.mark.parametrize("version", ["1_2", "1_3"])
def test_rsa_1024_client_is_refused_by_openssl_3_and_reported_as_an_error(cli, tmp_path, version) -> None:  # type: ignore[no-untyped-def]
    ca = P.issue("Weak Test CA", ca=True)
    server = P.issue("localhost", ca, eku=None)
    client = P.issue("weak client", ca, key=P.new_key(size=1024))
    for stem, issued in (("ca", ca), ("server", server), ("client", client)):
        (tmp_path / f"{stem}.pem").write_bytes(issued.pem)
        (tmp_path / f"{stem}.key").write_bytes(issued.key_pem)
    server_out, client_out = _handshake(tmp_path, version)
    assert "EE certificate key too weak" in server_out
    if version == "1_2":
        assert "alert bad certificate" in client_out  # alert 42
    store = P.write_jks(tmp_path / "weak.jks", PW, keys=[("weak", client.key, [client.cert, ca.cert])])
    result = cli("keystore", str(store), "--storepass", PW, "--json")
    assert result.status == 1
    (weak,) = [f for f in result.json()["findings"] if f["code"] == "weak-key"]
    assert weak["severity"] == "error"
    assert "EE certificate key too weak" in weak["summary"] and "bad_certificate" in weak["summary"]
