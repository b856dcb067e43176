"""Signatures checked from real traffic recorded at test time: openssl s_client (RSA PKCS#1,
RSA-PSS rsae and pss, ECDSA, Ed25519 client keys; TLS 1.2 and 1.3) and a real Java client whose
keystore entry pairs a certificate with another key, each against openssl s_server on
127.0.0.1, through a relay that records both directions as a pcap."""

from __future__ import annotations

import contextlib
import select
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from parsers.model import Direction, Endpoint
from parsers.stream import Chunk, write_pcap
from tests import pki as P
from tests.helpers import tls_bytes as TB
from tests.live.conftest import JAVA, PW, Files

ALERT_DECRYPT_ERROR = TB.alert_record(TB.DECRYPT_ERROR)


class Recorder:
    """A relay on 127.0.0.1 to `upstream`: one connection, both directions recorded in order."""

    def __init__(self, upstream: int) -> None:
        self.upstream = upstream
        self.chunks: list[Chunk] = []
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(1)
        self._listener.settimeout(20)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._relay, daemon=True)
        self._thread.start()

    def _relay(self) -> None:
        client, _ = self._listener.accept()
        server = socket.create_connection(("127.0.0.1", self.upstream), timeout=10)
        peers = {client: (server, Direction.CLIENT), server: (client, Direction.SERVER)}
        open_ = set(peers)
        deadline = time.monotonic() + 30
        while open_ and time.monotonic() < deadline:
            ready, _, _ = select.select(list(open_), [], [], 0.5)
            for sock in ready:
                data = sock.recv(65536)
                other, direction = peers[sock]
                if not data:
                    open_.discard(sock)
                    with contextlib.suppress(OSError):
                        other.shutdown(socket.SHUT_WR)
                    continue
                self.chunks.append((direction, time.time(), data))
                other.sendall(data)
        client.close()
        server.close()
        self._listener.close()

    def write(self, path: Path, chunks: list[Chunk] | None = None) -> Path:
        self._thread.join(timeout=35)
        chunks = self.chunks if chunks is None else chunks
        with path.open("wb") as handle:
            write_pcap(handle, chunks, Endpoint("127.0.0.1", 50123), Endpoint("127.0.0.1", 443), chunks[0][1])
        return path


def _client_key(kind: str, files: Files, d: Path) -> tuple[Path, Path]:
    """A client certificate (issued by the acme intermediate the server trusts) and its key."""
    cert_path, key_path = d / f"{kind}.pem", d / f"{kind}.key"
    if kind == "rsassa-pss":
        cert, p8 = P.rsa_pss_leaf("pss-client", files.acme.intermediate, d)
        (d / "pss.p8").write_bytes(p8)
        subprocess.run(
            ["openssl", "pkey", "-inform", "DER", "-in", "pss.p8", "-out", key_path.name],
            cwd=d,
            check=True,
            capture_output=True,
        )
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return cert_path, key_path
    key = {"rsa": lambda: P.new_key("rsa"), "ec": lambda: P.new_key("ec", 256)}.get(
        kind, ed25519.Ed25519PrivateKey.generate
    )()
    issued = P.issue(f"{kind}-client", files.acme.intermediate, key=key)  # type: ignore[arg-type]
    cert_path.write_bytes(issued.pem)
    key_path.write_bytes(issued.key_pem)
    return cert_path, key_path


def _openssl_handshake(  # type: ignore[no-untyped-def]
    s_server, files: Files, d: Path, kind: str, version: str, client_sigalgs: str | None
) -> tuple[Path, Path, Recorder]:
    """A real handshake (and one HTTP request) of openssl s_client with a `kind` client key
    against openssl s_server, recorded: the pcap, the client's key log, the recorder."""
    extra = ["-CAfile", "acme-root.pem"]
    if client_sigalgs:
        extra += ["-client_sigalgs", client_sigalgs]
    port = s_server(*extra, version=version)
    cert, key = _client_key(kind, files, d)
    recorder = Recorder(port)
    keys, chain = d / "keys.txt", d / "chain.pem"
    chain.write_bytes(files.acme.intermediate.pem)  # s_client sends -cert's first certificate only
    done = subprocess.run(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{recorder.port}", "-cert", str(cert),
         "-key", str(key), "-cert_chain", str(chain), "-keylogfile", str(keys),
         f"-tls{version.replace('.', '_')}", "-quiet"],
        input="GET / HTTP/1.0\r\n\r\n", capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert "HTTP/1.0 200 ok" in done.stdout, done.stderr[-500:]
    return recorder.write(d / "good.pcap"), keys, recorder


def _signatures(cli, pcap: Path, *extra: str) -> tuple[list[tuple[str, str, str, str]], list[str]]:  # type: ignore[no-untyped-def]
    result = cli("pcap", str(pcap), *extra, "--json")
    assert result.status in (0, 1), result.err
    (conn,) = result.json()["connections"]
    found = [
        (e["direction"], e["message"], e["signature_scheme"], e["signature"])
        for e in conn["events"]
        if "signature" in e
    ]
    return found, conn["finding_codes"]


@pytest.mark.parametrize(
    ("kind", "version", "client_sigalgs", "scheme"),
    [
        ("rsa", "1.2", "RSA+SHA256", "rsa_pkcs1_sha256"),
        ("rsa", "1.2", "rsa_pss_rsae_sha256", "rsa_pss_rsae_sha256"),
        ("ec", "1.2", "ECDSA+SHA256", "ecdsa_secp256r1_sha256"),
        ("rsassa-pss", "1.2", "rsa_pss_pss_sha256", "rsa_pss_pss_sha256"),
        ("rsa", "1.3", None, "rsa_pss_rsae_sha256"),
        ("ec", "1.3", None, "ecdsa_secp256r1_sha256"),
        ("rsassa-pss", "1.3", None, "rsa_pss_pss_sha256"),
        ("ed25519", "1.3", None, "ed25519"),
    ],
)
def test_good_handshakes_verify(cli, files, s_server, tmp_path, kind, version, client_sigalgs, scheme):  # type: ignore[no-untyped-def]
    pcap, keys, _ = _openssl_handshake(s_server, files, tmp_path, kind, version, client_sigalgs)
    found, codes = _signatures(cli, pcap, "--keylog", str(keys))
    server_message = "ServerKeyExchange" if version == "1.2" else "CertificateVerify"
    assert [(d, m, v) for d, m, _, v in found] == [
        ("server", server_message, "valid"),
        ("client", "CertificateVerify", "valid"),
    ]
    assert found[1][2] == scheme
    assert not {
        "client-signature-invalid",
        "client-signature-scheme-not-offered",
        "server-signature-invalid",
    } & set(codes)


def test_tls12_without_keys_still_checks_the_clear_signatures(cli, files, s_server, tmp_path):  # type: ignore[no-untyped-def]
    pcap, _, _ = _openssl_handshake(s_server, files, tmp_path, "ec", "1.2", None)
    found, _ = _signatures(cli, pcap)
    assert [v for *_, v in found] == ["valid", "valid"]


def test_tls13_without_keys_leaves_nothing_to_check(cli, files, s_server, tmp_path):  # type: ignore[no-untyped-def]
    pcap, _, _ = _openssl_handshake(s_server, files, tmp_path, "rsa", "1.3", None)
    assert _signatures(cli, pcap)[0] == []


def test_a_valid_signature_answered_with_decrypt_error_points_at_the_server(cli, files, s_server, tmp_path):  # type: ignore[no-untyped-def]
    """A real TLS 1.2 recording cut after the client's flight, the server's answer replaced by
    a decrypt_error alert: the signature verifies, so the finding says the client is right."""
    _, _, recorder = _openssl_handshake(s_server, files, tmp_path, "rsa", "1.2", "rsa_pss_rsae_sha256")
    kept: list[Chunk] = []
    for direction, when, data in recorder.chunks:
        kept.append((direction, when, data))
        if direction is Direction.CLIENT and TB.record(TB.CHANGE_CIPHER_SPEC, b"\x01") in data:
            break
    kept.append((Direction.SERVER, kept[-1][1] + 0.001, ALERT_DECRYPT_ERROR))
    pcap = recorder.write(tmp_path / "rejected.pcap", kept)
    found, codes = _signatures(cli, pcap)
    assert [v for *_, v in found] == ["valid", "valid"]
    assert "client-signature-invalid" not in codes and "server-rejected-client-cert" in codes
    result = cli("pcap", str(pcap), "--json")
    (rejected,) = [f for f in result.json()["findings"] if f["code"] == "server-rejected-client-cert"]
    assert "the client is right, look at the server" in rejected["summary"]
    assert "rsa_pss_rsae_sha256" in rejected["summary"]


def _mismatched_keystore(files: Files) -> Path:
    """A JKS whose entry holds the acme client certificate chain with the stranger's key."""
    path = files / "mismatch.jks"
    if not path.exists():
        chain = [files.acme.leaf.cert, files.acme.intermediate.cert, files.acme.root.cert]
        P.write_jks(path, PW, keys=[("letstestcba", files.stranger.leaf.key, chain)])
    return path


@pytest.mark.skipif(JAVA is None, reason="java is not on PATH: the Java wrong-key capture is skipped")
def test_java_signs_with_the_wrong_key(cli, files, s_server, java_oracle, tmp_path):  # type: ignore[no-untyped-def]
    """A real Java client sends the entry's certificate and signs with the entry's (other) key;
    openssl s_server answers decrypt_error; the capture proves the key is not the certificate's."""
    store = _mismatched_keystore(files)
    port = s_server("-CAfile", "acme-root.pem", version="1.2")
    recorder = Recorder(port)
    done = subprocess.run(
        [JAVA, "-cp", str(java_oracle.classpath), "ChooseAlias", str(store), PW, "127.0.0.1",
         str(recorder.port), "PKIX", "TLSv1.2"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert "ALIAS=" in done.stdout and "ALIAS=null" not in done.stdout, done.stdout + done.stderr[-500:]
    pcap = recorder.write(tmp_path / "java-wrong-key.pcap")
    found, codes = _signatures(cli, pcap)
    assert [(d, v) for d, _, _, v in found] == [("server", "valid"), ("client", "invalid")]
    assert {"client-signature-invalid", "server-rejected-client-cert"} <= set(codes)
    doc = cli("pcap", str(pcap), "--keystore", str(store), "--storepass", PW, "--json").json()
    (invalid,) = [f for f in doc["findings"] if f["code"] == "client-signature-invalid"]
    assert invalid["severity"] == "error"
    assert (
        "the keystore's entry 'letstestcba' holds this certificate with a private key" in invalid["summary"]
    )
    assert "keytool -importcert -alias letstestcba" in invalid["fix"]
    (alert,) = [e for e in doc["connections"][0]["events"] if e["message"].startswith("Alert")]
    assert alert["alert"]["name"] == "decrypt_error"
