"""TLS over UDP is named, not read: this reader follows TCP, and a capture of DTLS or QUIC
handshakes must say how many packets it passed over (as tshark counts them), never read as an
empty capture with nothing to say. DTLS from real `openssl s_server -dtls1_2` and `s_client`
with client certificates on 127.0.0.1; OpenVPN over UDP is in test_pcap_openvpn.py."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether

from inspector.pki.throwaway import make_pki
from parsers.pcapfile import PcapWriter
from tests.servers import free_port

needs_capture = pytest.mark.skipif(
    shutil.which("tcpdump") is None or os.geteuid() != 0, reason="needs tcpdump and root to capture"
)


def tshark_count(capture: Path, display_filter: str, *decode_as: str) -> int:
    out = subprocess.run(
        ["tshark", "-r", str(capture), *decode_as, "-Y", display_filter, "-T", "fields", "-e",
         "frame.number"],
        capture_output=True, text=True, check=True, timeout=120,
    ).stdout  # fmt: skip
    return len(out.split())


@needs_capture
def test_a_dtls_handshake_with_client_certificates_is_named(cli: Any, tmp_path: Path) -> None:
    pki = make_pki("dtls.example")
    for name, pem in (("ca.pem", pki.root.pem), ("cert.pem", pki.leaf.pem), ("key.pem", pki.leaf.key_pem)):
        (tmp_path / name).write_bytes(pem)
    chain = tmp_path / "chain.pem"
    chain.write_bytes(pki.intermediate.pem)
    port = free_port()
    capture = tmp_path / "dtls.pcap"
    dump = subprocess.Popen(
        ["tcpdump", "-i", "lo", "-s", "0", "-U", "--immediate-mode", "-Z", "root", "-w", str(capture),
         f"udp port {port}"],
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert dump.stderr is not None and "listening on" in dump.stderr.readline()
    files = [
        "-cert",
        str(tmp_path / "cert.pem"),
        "-key",
        str(tmp_path / "key.pem"),
        "-cert_chain",
        str(chain),
    ]
    trust = ["-CAfile", str(tmp_path / "ca.pem")]
    server = subprocess.Popen(
        ["openssl", "s_server", "-dtls1_2", "-accept", f"127.0.0.1:{port}", "-Verify", "2", *files, *trust],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        time.sleep(1.0)  # a UDP server cannot be probed without being answered
        client = subprocess.run(
            ["openssl", "s_client", "-dtls1_2", "-connect", f"127.0.0.1:{port}", *files, *trust],
            input=b"Q\n", capture_output=True, timeout=30,
        )  # fmt: skip
        assert b"Protocol  : DTLSv1.2" in client.stdout  # the handshake completed
        time.sleep(0.5)
    finally:
        server.kill()
        server.wait(timeout=10)
        dump.send_signal(signal.SIGINT)
        dump.wait(timeout=10)
    packets = tshark_count(capture, "dtls")
    assert packets >= 8  # hello, cookie, hello again, both flights with certificates
    result = cli("pcap", str(capture), "--json")
    report = result.json()
    assert report["connections"] == []
    assert report["capture"]["problems"] == [f"{packets} packet(s) in DTLS not read"]
    assert result.codes() == ["capture-incomplete"]


#: the start of RFC 9001's sample client Initial (Appendix A.2): long header, QUIC v1, its
#: 8-byte connection id, token length 0, length 0x449e; padded to the 1,200 bytes a client
#: Initial must have
QUIC_INITIAL = bytes.fromhex("c000000001088394c8f03e5157080000449e") + bytes(1182)


def test_quic_handshake_packets_are_named(cli: Any, tmp_path: Path) -> None:
    capture = tmp_path / "quic.pcap"
    with capture.open("wb") as out:
        writer = PcapWriter(out)
        for i in range(3):
            frame = Ether() / IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=50000, dport=443) / QUIC_INITIAL
            writer.write(1.0 + i, bytes(frame))
        # a DNS query beside them is nobody's business
        dns = Ether() / IP(src="10.0.0.1", dst="10.0.0.53") / UDP(sport=50001, dport=53) / bytes(30)
        writer.write(5.0, bytes(dns))
    assert tshark_count(capture, "quic") == 3
    result = cli("pcap", str(capture), "--json")
    assert result.json()["capture"]["problems"] == ["3 packet(s) in QUIC not read"]
