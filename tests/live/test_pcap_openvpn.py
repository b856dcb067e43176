"""TLS inside OpenVPN over TCP, from real OpenVPN 2.6 peers on 127.0.0.1 (`--dev null`: no
tunnel device), captured by tcpdump: OpenVPN authenticates both ends with a mutual-TLS
handshake inside its control channel, and the capture must read it as tshark (told the port is
OpenVPN's) does — with `--tls-auth`'s HMAC in the packets too — and name what it cannot read
(`--tls-crypt`).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CliResult
from tests.servers import free_port

pytestmark = pytest.mark.skipif(
    shutil.which("openvpn") is None or shutil.which("tcpdump") is None or os.geteuid() != 0,
    reason="needs openvpn, tcpdump and root to capture",
)

TLS12 = ("--tls-version-max", "1.2")  # the certificates in the clear


@dataclass(frozen=True)
class Pki:
    dir: Path

    def __truediv__(self, name: str) -> Path:
        return self.dir / name


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    d = tmp_path_factory.mktemp("vpn-pki")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(d / "ca.key"), "-out",
             str(d / "ca.pem"), "-days", "30", "-subj", "/CN=VPN CA", "-addext",
             "basicConstraints=critical,CA:true", "-addext", "keyUsage=keyCertSign,cRLSign")  # fmt: skip
    for name, eku in (("server", "serverAuth"), ("client", "clientAuth")):
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(d / f"{name}.key"), "-out",
                 str(d / f"{name}.csr"), "-subj", f"/CN={name}")  # fmt: skip
        (d / f"{name}.ext").write_text(f"basicConstraints=CA:false\nextendedKeyUsage={eku}\n")
        _openssl("x509", "-req", "-in", str(d / f"{name}.csr"), "-CA", str(d / "ca.pem"), "-CAkey",
                 str(d / "ca.key"), "-CAcreateserial", "-out", str(d / f"{name}.pem"), "-days", "30",
                 "-extfile", str(d / f"{name}.ext"))  # fmt: skip
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(d / "rogue.key"), "-out",
             str(d / "rogue.pem"), "-days", "30", "-subj", "/CN=rogue client")  # fmt: skip
    subprocess.run(["openvpn", "--genkey", "secret", str(d / "ta.key")], check=True, capture_output=True)
    return Pki(d)


def _wait_for(log: Path, marks: tuple[str, ...], deadline: float) -> str:
    """The first of `marks` the log holds (polled until the deadline), or ""."""
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace") if log.exists() else ""
        for mark in marks:
            if mark in text:
                return mark
        time.sleep(0.05)
    return ""


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


@dataclass(frozen=True)
class Run:
    client_said: str  # "Initialization Sequence Completed" or how it ended
    server_log: str


def vpn_handshake(pki: Pki, out: Path, client_cert: str = "client", both: tuple[str, ...] = TLS12,
                  server_extra: tuple[str, ...] = (), client_extra: tuple[str, ...] = (),
                  udp: bool = False) -> Run:  # fmt: skip
    """One OpenVPN client connecting to one OpenVPN server over TCP, captured to `out`."""
    port = free_port()
    dump = subprocess.Popen(
        ["tcpdump", "-i", "lo", "-s", "0", "-U", "--immediate-mode", "-Z", "root", "-w", str(out),
         f"{'udp' if udp else 'tcp'} port {port}"],
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert dump.stderr is not None
    assert "listening on" in dump.stderr.readline()
    server_log, client_log = out.with_suffix(".server.log"), out.with_suffix(".client.log")
    common = ["--dev", "null", "--verb", "3", "--ca", str(pki / "ca.pem"), *both]
    procs: list[subprocess.Popen[bytes]] = []
    try:
        with server_log.open("wb") as log:
            procs.append(subprocess.Popen(
                ["openvpn", "--mode", "p2p", "--proto", "udp" if udp else "tcp-server", "--local",
                 "127.0.0.1", "--port", str(port), "--tls-server", "--dh", "none", "--cert",
                 str(pki / "server.pem"), "--key", str(pki / "server.key"), *common, *server_extra],
                stdout=log, stderr=subprocess.STDOUT,
            ))  # fmt: skip
        ready = "UDPv4 link local (bound)" if udp else "Listening for incoming TCP connection"
        assert _wait_for(server_log, (ready,), time.monotonic() + 15)
        with client_log.open("wb") as log:
            procs.append(subprocess.Popen(
                ["openvpn", "--proto", "udp" if udp else "tcp-client", "--remote", "127.0.0.1", str(port),
                 "--tls-client", "--cert", str(pki / f"{client_cert}.pem"), "--key",
                 str(pki / f"{client_cert}.key"), "--connect-retry-max", "1", *common, *client_extra],
                stdout=log, stderr=subprocess.STDOUT,
            ))  # fmt: skip
        done = ("Initialization Sequence Completed", "Connection reset", "TLS Error")
        said = _wait_for(client_log, done, time.monotonic() + 20)
        time.sleep(0.5)  # the last segments reach tcpdump
        return Run(said, server_log.read_text(errors="replace"))
    finally:
        for proc in reversed(procs):
            _stop(proc)
        dump.send_signal(signal.SIGINT)
        dump.wait(timeout=10)


def tshark_handshakes(capture: Path, port: int, *prefs: str) -> list[str]:
    """tshark's handshake message types per frame, told the port is OpenVPN's (and `prefs`)."""
    out = subprocess.run(
        ["tshark", "-r", str(capture), "-d", f"tcp.port=={port},openvpn", *prefs, "-Y", "tls.handshake",
         "-T", "fields", "-e", "tls.handshake.type"],
        capture_output=True, text=True, check=True, timeout=120,
    ).stdout  # fmt: skip
    return [t for line in out.split() for t in line.split(",")]


HANDSHAKE_NUMBERS = {
    "ClientHello": "1", "ServerHello": "2", "Certificate": "11", "ServerKeyExchange": "12",
    "CertificateRequest": "13", "ServerHelloDone": "14", "CertificateVerify": "15",
    "ClientKeyExchange": "16",
}  # fmt: skip


def read(cli: Any, capture: Path) -> tuple[CliResult, dict[str, Any]]:
    result: CliResult = cli("pcap", str(capture), "--json")
    return result, json.loads(result.out)


def ours(conn: dict[str, Any]) -> list[str]:
    """Our plaintext handshake messages, as tshark numbers them (Finished is encrypted)."""
    names = [str(e["message"]).split(" ")[0] for e in conn["events"]]
    return [HANDSHAKE_NUMBERS[n] for n in names if n in HANDSHAKE_NUMBERS]


def server_port(conn: dict[str, Any]) -> int:
    return int(str(conn["server"]).rsplit(":", 1)[1])


def test_a_vpn_client_certificate_read_from_inside_openvpn(cli: Any, pki: Pki, tmp_path: Path) -> None:
    capture = tmp_path / "vpn.pcap"
    run = vpn_handshake(pki, capture)
    assert run.client_said == "Initialization Sequence Completed"
    assert "VERIFY OK: depth=0, CN=client" in run.server_log  # the server's own word
    result, report = read(cli, capture)
    assert result.status == 0, result.err
    [conn] = report["connections"]
    assert (conn["version"], conn["cert_requested"], conn["client_cert"], conn["outcome"]) == (
        "TLS 1.2",
        "yes",
        "CN=client",
        "completed",
    )
    assert [p["detail"] for p in conn["problems"] if p["kind"] == "tunnel"] == [
        "TLS read from inside OpenVPN's control channel (over TCP)"
    ]
    assert "tls-in-tunnel" in conn["finding_codes"]
    # tshark reads the hellos (it does not put TLS split over several control packets back
    # together); the rest is checked against OpenVPN's own log above
    assert tshark_handshakes(capture, server_port(conn)) == ["1", "2"]
    assert ours(conn) == ["1", "2", "11", "12", "13", "14", "11", "16", "15"]


def test_tls_auth_hmac_is_passed_over(cli: Any, pki: Pki, tmp_path: Path) -> None:
    capture = tmp_path / "vpn-tls-auth.pcap"
    ta = str(pki / "ta.key")
    run = vpn_handshake(
        pki, capture, server_extra=("--tls-auth", ta, "0"), client_extra=("--tls-auth", ta, "1")
    )
    assert run.client_said == "Initialization Sequence Completed"
    _, report = read(cli, capture)
    [conn] = report["connections"]
    assert (conn["client_cert"], conn["outcome"]) == ("CN=client", "completed")
    tunnel = [p["detail"] for p in conn["problems"] if p["kind"] == "tunnel"]
    # OpenVPN 2.6's default --auth digest is SHA-1: a 20-byte HMAC
    assert tunnel == [
        "TLS read from inside OpenVPN's control channel (over TCP, --tls-auth HMAC of 20 bytes)"
    ]
    tls_auth = ("-o", "openvpn.tls_auth:TRUE", "-o", "openvpn.tls_auth_hmac_size:20")
    assert tshark_handshakes(capture, server_port(conn), *tls_auth) == ["1", "2"]
    assert ours(conn) == ["1", "2", "11", "12", "13", "14", "11", "16", "15"]
    assert "VERIFY OK: depth=0, CN=client" in run.server_log


def test_a_refused_vpn_client_is_diagnosed(cli: Any, pki: Pki, tmp_path: Path) -> None:
    """The server refuses a self-signed client certificate and closes without an alert (as
    OpenVPN does): the certificate the client sent and the server's silent close are said."""
    capture = tmp_path / "vpn-rogue.pcap"
    run = vpn_handshake(pki, capture, client_cert="rogue")
    assert "VERIFY ERROR: depth=0, error=self-signed certificate: CN=rogue client" in run.server_log
    result, report = read(cli, capture)
    assert result.status == 1
    first = report["connections"][0]
    assert first["client_cert"] == "CN=rogue client"
    assert first["outcome"] != "completed"
    assert "connection-reset" in first["finding_codes"]
    assert ours(first) == ["1", "2", "11", "12", "13", "14", "11", "16", "15"]


def test_tls_1_3_inside_openvpn_is_read_as_far_as_it_is_plaintext(cli: Any, pki: Pki, tmp_path: Path) -> None:
    capture = tmp_path / "vpn13.pcap"
    assert vpn_handshake(pki, capture, both=()).client_said == "Initialization Sequence Completed"
    _, report = read(cli, capture)
    [conn] = report["connections"]
    assert conn["version"] == "TLS 1.3"
    assert ours(conn) == ["1", "2"] == tshark_handshakes(capture, server_port(conn))
    assert "handshake-encrypted-no-keylog" in conn["finding_codes"]


def test_openvpn_over_udp_is_named_not_read(cli: Any, pki: Pki, tmp_path: Path) -> None:
    """This reader follows TCP only: OpenVPN's control channel over UDP is counted and named
    (as tshark counts its `openvpn` frames), never a capture that reads as empty."""
    capture = tmp_path / "vpn-udp.pcap"
    assert vpn_handshake(pki, capture, udp=True).client_said == "Initialization Sequence Completed"
    frames = subprocess.run(
        ["tshark", "-r", str(capture), "-d", f"udp.port=={udp_port(capture)},openvpn", "-Y", "openvpn",
         "-T", "fields", "-e", "frame.number"],
        capture_output=True, text=True, check=True, timeout=120,
    ).stdout.split()  # fmt: skip
    result, report = read(cli, capture)
    assert report["connections"] == []
    assert f"{len(frames)} packet(s) in OpenVPN over UDP not read" in report["capture"]["problems"]
    assert "capture-incomplete" in result.codes()


def udp_port(capture: Path) -> int:
    out = subprocess.run(
        ["tshark", "-r", str(capture), "-c", "1", "-T", "fields", "-e", "udp.dstport"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    return int(out.split()[0])


def test_tls_crypt_is_named_as_sealed(cli: Any, pki: Pki, tmp_path: Path) -> None:
    """--tls-crypt encrypts the control channel with a key only the two ends hold: nothing of
    the handshake is read, and the report says so instead of "No findings"."""
    capture = tmp_path / "vpn-tls-crypt.pcap"
    ta = str(pki / "ta.key")
    run = vpn_handshake(pki, capture, server_extra=("--tls-crypt", ta), client_extra=("--tls-crypt", ta))
    assert run.client_said == "Initialization Sequence Completed"
    result, report = read(cli, capture)
    assert result.status == 0
    [conn] = report["connections"]
    assert conn["events"] == []
    assert [p["detail"] for p in conn["problems"] if p["kind"] == "tunnel"] == [
        "OpenVPN over TCP with --tls-crypt: its TLS handshake is encrypted and not read"
    ]
    assert conn["finding_codes"] == ["tls-in-tunnel"]
    assert "No findings" not in cli("pcap", str(capture)).out
