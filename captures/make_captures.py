"""Regenerate the sample captures in captures/ from real handshakes on loopback.

    python captures/make_captures.py            # needs root (tcpdump), openssl, editcap, mergecap

Each scenario starts `openssl s_server` on 127.0.0.1 (or ::1), captures with tcpdump on lo
(or `-i any`), and runs `openssl s_client`, writing NAME.pcap (0600) and the client's NSS key log
NAME.keys. Derived files: a pcapng with the secrets embedded (editcap --inject-secrets), a copy
re-segmented to a 1448-byte MSS with a reordered and a retransmitted segment (our pcap writer),
a truncated file, and several connections merged into one file. captures/README.md says what
each one shows.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.x509.oid import ExtendedKeyUsageOID

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tests import pki as P  # noqa: E402

BASE_PORT = 44300


@dataclass
class Scenario:
    name: str
    version: str  # "1.2" / "1.3": the server's version (and the client's unless client_version)
    client_cert: str | None = "acme"  # which client identity s_client presents
    server_args: list[str] = field(default_factory=list)
    client_args: list[str] = field(default_factory=list)
    ipv6: bool = False
    interface: str = "lo"
    send_chain: bool = True
    client_version: str | None = None
    resume: bool = False  # a second client run resumes the first one's session


SCENARIOS = [
    Scenario("tls12-success", "1.2"),
    Scenario("tls13-success", "1.3"),
    Scenario("tls12-no-client-cert", "1.2", client_cert=None),
    Scenario("tls13-certificate-required", "1.3", client_cert=None),
    Scenario("tls12-unknown-ca", "1.2", client_cert="partner"),
    Scenario("tls13-unknown-ca", "1.3", client_cert="partner"),
    Scenario("tls12-expired", "1.2", client_cert="expired"),
    Scenario("tls12-leaf-only", "1.2", send_chain=False),
    Scenario("tls12-sigalg-mismatch", "1.2", server_args=["-client_sigalgs", "ECDSA+SHA256"]),
    Scenario(
        "tls12-frag512", "1.2", server_args=["-max_send_frag", "512"], client_args=["-max_send_frag", "512"]
    ),
    Scenario("tls13-ipv6", "1.3", ipv6=True),
    Scenario("tls12-any-interface", "1.2", client_cert="partner", interface="any"),
    Scenario("tls12-empty-ca-list", "1.2", server_args=["-no_ca_names"]),
    Scenario("tls12-server-untrusted", "1.2", client_args=["-verify_return_error"]),
    Scenario("tls12-server-only-1.3", "1.3", client_version="1.2"),
    Scenario("tls13-hello-retry", "1.3", server_args=["-groups", "P-256"]),
    Scenario("tls12-resumed", "1.2", resume=True),
    Scenario("tls13-resumed", "1.3", resume=True),
]


def write_pki(d: Path) -> None:
    now = P.NOW
    server_root = P.issue("Partner Server Root", ca=True, org="Partner")
    server = P.issue("localhost", server_root, org="Partner", eku=[ExtendedKeyUsageOID.SERVER_AUTH])
    acme = P.make_pki(days=3650)
    partner = P.make_pki("stranger", org="Stranger", days=3650)
    expired = P.issue(
        "letstestcba-old",
        acme.intermediate,
        not_before=now - dt.timedelta(days=400),
        not_after=now - dt.timedelta(days=5),
    )
    files = {
        "server-root.pem": server_root.pem,
        "server.pem": server.pem,
        "server.key": server.key_pem,
        "acme-root.pem": acme.root.pem,
        "acme-inter.pem": acme.intermediate.pem,
        "acme.pem": acme.leaf.pem,
        "acme.key": acme.leaf.key_pem,
        "partner.pem": partner.leaf.pem,
        "partner.key": partner.leaf.key_pem,
        "partner-inter.pem": partner.intermediate.pem,
        "expired.pem": expired.pem,
        "expired.key": expired.key_pem,
    }
    for name, data in files.items():
        (d / name).write_bytes(data)


def wait_for(stream: object, needle: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = stream.readline()  # type: ignore[attr-defined]
        if needle in line:
            return
        if not line:
            time.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {needle!r}")


def run_scenario(s: Scenario, port: int, pki: Path, out: Path) -> None:
    host = "::1" if s.ipv6 else "127.0.0.1"
    pcap = out / f"{s.name}.pcap"
    keys = out / f"{s.name}.keys"
    for f in (pcap, keys):
        f.unlink(missing_ok=True)
    dump = subprocess.Popen(
        [
            "tcpdump",
            "-i",
            s.interface,
            "-U",
            "--immediate-mode",
            "-Z",
            "root",
            "-w",
            str(pcap),
            f"tcp port {port}",
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for(dump.stderr, "listening on")
    time.sleep(1.0)  # libpcap says "listening" a moment before packets really flow
    accept = f"[{host}]:{port}" if s.ipv6 else f"{host}:{port}"
    server = subprocess.Popen(
        [
            "openssl",
            "s_server",
            "-accept",
            accept,
            *(["-6"] if s.ipv6 else []),
            "-cert",
            "server.pem",
            "-key",
            "server.key",
            "-CAfile",
            "acme-root.pem",
            "-Verify",
            "3",
            "-verify_return_error",
            "-naccept",
            "2" if s.resume else "1",
            "-www",
            f"-tls{s.version.replace('.', '_')}",
            *s.server_args,
        ],
        cwd=pki,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    wait_for(server.stdout, "ACCEPT")
    client_cmd = [
        "openssl",
        "s_client",
        "-connect",
        accept,
        "-servername",
        "localhost",
        "-ign_eof",
        "-keylogfile",
        str(keys),
        "-CAfile",
        "acme-root.pem" if "untrusted" in s.name else "server-root.pem",
        f"-tls{(s.client_version or s.version).replace('.', '_')}",
        *s.client_args,
    ]
    if s.client_cert:
        client_cmd += ["-cert", f"{s.client_cert}.pem", "-key", f"{s.client_cert}.key"]
        if s.send_chain:
            inter = "partner-inter.pem" if s.client_cert == "partner" else "acme-inter.pem"
            client_cmd += ["-cert_chain", inter]
    runs = [["-sess_out", "session.pem"], ["-sess_in", "session.pem"]] if s.resume else [[]]
    for extra in runs:
        subprocess.run(
            [*client_cmd, *extra],
            cwd=pki,
            input="GET / HTTP/1.0\r\n\r\n",
            capture_output=True,
            text=True,
            timeout=20,
        )
    try:
        server.wait(timeout=5)
    except subprocess.TimeoutExpired:
        server.kill()
    time.sleep(0.3)
    dump.send_signal(signal.SIGINT)
    dump.wait(timeout=10)
    pcap.chmod(0o600)
    if keys.exists():
        keys.chmod(0o600)
    print(f"  {s.name}: {pcap.stat().st_size} bytes")


def derived(out: Path) -> None:
    from parsers.resegment import resegment

    # pcapng with the key log embedded as a Decryption Secrets Block
    subprocess.run(
        [
            "editcap",
            "--inject-secrets",
            f"tls,{out / 'tls13-success.keys'}",
            str(out / "tls13-success.pcap"),
            str(out / "tls13-secrets.pcapng"),
        ],
        check=True,
    )
    # realistic MSS, one segment delivered out of order, one retransmitted
    resegment(out / "tls12-success.pcap", out / "tls12-mss1448.pcap", mss=1448, reorder=True, retransmit=True)
    resegment(out / "tls13-success.pcap", out / "tls13-mss1448.pcap", mss=1448)
    # a file cut in the middle of a packet
    data = (out / "tls12-success.pcap").read_bytes()
    (out / "truncated.pcap").write_bytes(data[: len(data) * 2 // 3])
    # several connections in one file
    subprocess.run(
        [
            "mergecap",
            "-F",
            "pcap",
            "-w",
            str(out / "several.pcap"),
            str(out / "tls12-success.pcap"),
            str(out / "tls12-unknown-ca.pcap"),
            str(out / "tls13-certificate-required.pcap"),
            str(out / "tls12-no-client-cert.pcap"),
        ],
        check=True,
    )
    for f in out.iterdir():
        if f.suffix in (".pcap", ".pcapng", ".keys"):
            f.chmod(0o600)


def main() -> None:
    for tool in ("tcpdump", "openssl", "editcap", "mergecap"):
        if shutil.which(tool) is None:
            sys.exit(f"make_captures: {tool} is not installed (apt-get install tcpdump tshark)")
    if os.geteuid() != 0:
        sys.exit("make_captures: tcpdump needs root")
    only = set(sys.argv[1:])
    with tempfile.TemporaryDirectory() as tmp:
        pki = Path(tmp)
        write_pki(pki)
        for index, scenario in enumerate(SCENARIOS):
            if only and scenario.name not in only:
                continue
            run_scenario(scenario, BASE_PORT + index, pki, HERE)
    derived(HERE)


if __name__ == "__main__":
    main()
