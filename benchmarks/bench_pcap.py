"""Time `mtls-inspect pcap` against tshark on a large capture of real handshakes.

    python benchmarks/bench_pcap.py [--handshakes 5000] [--bulk-mb 300] [--runs 3] [--regen]

The capture is generated once into benchmarks/out/ (needs root for tcpdump): a Python `ssl`
server on 127.0.0.1 requiring client certificates, a client making N real handshakes (most
with a client certificate, some without, some from an untrusted CA) mixed with bulk downloads,
captured with tcpdump while loopback's MTU is 1500 and GSO is off (realistic MSS;
both restored afterwards).
Then, alternating, it times
    mtls-inspect pcap F [--keylog K]          (the text report, as a user runs it)
    tshark -r F -Y "tls.handshake.type == 13" -T fields -e frame.number [-o tls.keylog_file:K]
and prints wall time, MB/s, the ratios and peak RSS (process tree, sampled from /proc).
Targets (issue 3): >= 3x faster than tshark without a key log, >= 2x with one, peak RSS < 150 MB.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
sys.path.insert(0, str(ROOT))
PORT = 45443


def _pki(d: Path) -> None:
    from cryptography.x509.oid import ExtendedKeyUsageOID

    from tests import pki as P

    acme = P.make_pki(days=3650)
    stranger = P.make_pki("stranger", org="Stranger", days=3650)
    server = P.issue("localhost", acme.intermediate, eku=[ExtendedKeyUsageOID.SERVER_AUTH])
    files = {
        "root.pem": acme.root.pem,
        "server.pem": server.pem + acme.intermediate.pem,
        "server.key": server.key_pem,
        "client.pem": acme.leaf.pem + acme.intermediate.pem,
        "client.key": acme.leaf.key_pem,
        "stranger.pem": stranger.leaf.pem,
        "stranger.key": stranger.leaf.key_pem,
    }
    for name, data in files.items():
        (d / name).write_bytes(data)


def _serve(d: Path, stop: threading.Event, bulk: bytes) -> None:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(d / "server.pem", d / "server.key")
    ctx.load_verify_locations(d / "root.pem")
    ctx.verify_mode = ssl.CERT_REQUIRED
    listener = socket.create_server(("127.0.0.1", PORT))
    listener.settimeout(0.5)
    while not stop.is_set():
        try:
            raw, _ = listener.accept()
        except TimeoutError:
            continue
        raw.settimeout(10)
        try:
            with ctx.wrap_socket(raw, server_side=True) as conn:
                request = conn.recv(64)
                size = int(request.split()[1]) if request.startswith(b"GET") else 0
                sent = 0
                while sent < size:
                    chunk = bulk[: min(len(bulk), size - sent)]
                    conn.sendall(chunk)
                    sent += len(chunk)
                conn.unwrap() if size == 0 else None
        except (ssl.SSLError, OSError, ValueError):
            pass
        finally:
            raw.close()
    listener.close()


def _client(d: Path, keylog: Path, handshakes: int, bulk_mb: int) -> None:
    contexts = {}
    for kind in ("good", "none", "stranger"):
        ctx = ssl.create_default_context(cafile=str(d / "root.pem"))
        ctx.keylog_filename = str(keylog)
        ctx.check_hostname = False
        if kind == "good":
            ctx.load_cert_chain(d / "client.pem", d / "client.key")
        elif kind == "stranger":
            ctx.load_cert_chain(d / "stranger.pem", d / "stranger.key")
        if kind != "good":
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2  # so the failure is visible unencrypted
        contexts[kind] = ctx
    bulk_every = max(1, handshakes // max(1, bulk_mb // 5))
    for i in range(handshakes):
        kind = "none" if i % 10 == 3 else "stranger" if i % 10 == 7 else "good"
        size = 5 << 20 if kind == "good" and i % bulk_every == 0 else 0
        try:
            with (
                socket.create_connection(("127.0.0.1", PORT), timeout=10) as raw,
                contexts[kind].wrap_socket(raw, server_hostname="localhost") as conn,
            ):
                conn.sendall(f"GET {size} HTTP/1.0\r\n\r\n".encode())
                got = 0
                while True:
                    data = conn.recv(1 << 16)
                    if not data:
                        break
                    got += len(data)
                    if got >= size:
                        break
        except (ssl.SSLError, OSError):
            pass


def generate(path: Path, keylog: Path, handshakes: int, bulk_mb: int) -> None:
    if os.geteuid() != 0 or shutil.which("tcpdump") is None:
        sys.exit("bench_pcap: generating the capture needs root and tcpdump")
    OUT.mkdir(parents=True, exist_ok=True)
    keylog.unlink(missing_ok=True)
    mtu = Path("/sys/class/net/lo/mtu").read_text().strip()
    gso = (
        subprocess.run(["ip", "-d", "link", "show", "lo"], capture_output=True, text=True, check=True)
        .stdout.split("gso_max_segs ")[1]
        .split()[0]
    )
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        _pki(d)
        stop = threading.Event()
        server = threading.Thread(target=_serve, args=(d, stop, os.urandom(1 << 20)), daemon=True)
        server.start()
        # MTU 1500 and no GSO: the capture sees real 1448-byte segments, as on a network
        subprocess.run(["ip", "link", "set", "lo", "mtu", "1500", "gso_max_segs", "1"], check=True)
        try:
            dump = subprocess.Popen(
                [
                    "tcpdump",
                    "-i",
                    "lo",
                    "-s",
                    "0",
                    "-B",
                    "262144",
                    "-U",
                    "--immediate-mode",
                    "-Z",
                    "root",
                    "-w",
                    str(path),
                    f"tcp port {PORT}",
                ],
                stderr=subprocess.PIPE,
                text=True,
            )
            assert dump.stderr is not None
            dump.stderr.readline()
            time.sleep(1.0)
            start = time.monotonic()
            _client(d, keylog, handshakes, bulk_mb)
            time.sleep(1.0)
            dump.send_signal(signal.SIGINT)
            _, err = dump.communicate(timeout=60)
        finally:
            subprocess.run(["ip", "link", "set", "lo", "mtu", mtu, "gso_max_segs", gso], check=True)
            stop.set()
            server.join(timeout=5)
    print(
        f"generated {path} ({path.stat().st_size >> 20} MiB) in {time.monotonic() - start:.0f} s;"
        f" tcpdump: {' / '.join(line for line in err.splitlines() if 'packets' in line)}"
    )
    path.chmod(0o600)


def _tree_rss_kb(pid: int) -> int:
    """RSS of a process and its children (our reader's worker): an upper bound, since pages
    shared after fork are counted twice."""
    pids = [pid]
    with contextlib.suppress(OSError):
        pids += [int(k) for k in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    total = 0
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def measure(cmd: list[str]) -> tuple[float, int]:
    """(wall seconds, peak RSS in MB of the process tree, sampled every 10 ms) of one run."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _tree_rss_kb(proc.pid))
        time.sleep(0.01)
    return time.perf_counter() - start, peak // 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--handshakes", type=int, default=5000)
    parser.add_argument("--bulk-mb", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--regen", action="store_true")
    parser.add_argument("--capture", type=Path, help="use this capture instead of generating")
    parser.add_argument("--keylog", type=Path)
    args = parser.parse_args()
    path = args.capture or OUT / "bench.pcap"
    keylog = args.keylog or OUT / "bench.keys"
    if args.capture is None and (args.regen or not path.exists()):
        generate(path, keylog, args.handshakes, args.bulk_mb)
    if shutil.which("tshark") is None:
        sys.exit("bench_pcap: tshark is not installed (apt-get install tshark)")
    script = Path(sysconfig.get_path("scripts")) / "mtls-inspect"
    ours = [str(script)] if script.exists() else [sys.executable, "-m", "inspector"]
    size_mb = path.stat().st_size / 1e6
    variants = [
        ("no key log", [], []),
        ("with key log", ["--keylog", str(keylog)], ["-o", f"tls.keylog_file:{keylog}"]),
    ]
    print(f"capture: {path} ({size_mb:.0f} MB)")
    for label, our_extra, their_extra in variants:
        if our_extra and not keylog.exists():
            continue
        mine, theirs = [], []
        for _ in range(args.runs):
            mine.append(measure([*ours, "pcap", str(path), *our_extra]))
            theirs.append(
                measure(
                    [
                        "tshark",
                        "-r",
                        str(path),
                        "-Y",
                        "tls.handshake.type == 13",
                        "-T",
                        "fields",
                        "-e",
                        "frame.number",
                        *their_extra,
                    ]
                )
            )
        m = statistics.median(w for w, _ in mine)
        t = statistics.median(w for w, _ in theirs)
        print(
            f"[{label}] mtls-inspect: {m:6.2f} s ({size_mb / m:6.1f} MB/s, peak "
            f"{max(r for _, r in mine)} MB) | tshark: {t:6.2f} s ({size_mb / t:6.1f} MB/s, peak "
            f"{max(r for _, r in theirs)} MB) | speed-up x{t / m:.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
