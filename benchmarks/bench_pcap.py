"""Time `mtls-inspect pcap` against tshark on the captures users bring, and print a summary.

    python benchmarks/bench_pcap.py [--small] [--dense] [--medium] [--startup] [--bulk] [--certs]
        [--runs 3] [--regen]

Without a choice it runs what the targets name — the sample captures, the dense capture, the
medium one and the start-up times — in about three minutes once the captures exist, and ends
with a SUMMARY: per capture and output, the medians of alternating runs, their ratio (ours /
tshark) against the target, peak RSS, and the load average before and after.
The large captures are generated once into benchmarks/out/ (root and tcpdump needed; loopback at
MTU 1500 with GSO off for real 1448-byte segments, restored afterwards): `--dense`, 8,400 real
handshakes to three `openssl s_server` with 1.5 % of the packets left out; `--bulk`, 5,000
handshakes among 300 MB of downloads. `--medium` (no root: benchmarks/certs_capture.py) is 60
real handshakes to 60 servers whose chains carry a 300-name leaf and three intermediates.
Each run is timed against
    tshark -n -r F -Y "tls.handshake.type == 13" -T fields -e tcp.stream ... [-o tls.keylog_file:K]
with wall time, CPU time (user + system, our worker included), MB/s and peak RSS (GNU time); a
run is refused unless both list the same CertificateRequests per connection.
Targets: dense >= 3x faster than tshark (text and --json, with and without key log), small
captures <= 2.0x tshark's time (median), peak RSS < 150 MB.
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
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
sys.path.insert(0, str(ROOT))
from benchmarks.common import byte_compile  # noqa: E402

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


def _loopback_settings() -> tuple[str, str]:
    """Loopback's MTU and gso_max_segs, to restore after the capture."""
    mtu = Path("/sys/class/net/lo/mtu").read_text().strip()
    shown = subprocess.run(["ip", "-d", "link", "show", "lo"], capture_output=True, text=True, check=True)
    return mtu, shown.stdout.split("gso_max_segs ")[1].split()[0]


def _start_tcpdump(path: Path, bpf: str) -> subprocess.Popen[str]:
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
            bpf,
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert dump.stderr is not None
    dump.stderr.readline()  # "listening on lo ...": capturing from here
    time.sleep(1.0)
    return dump


@contextlib.contextmanager
def bulk_site(d: Path) -> Iterator[Path]:
    """The bulk benchmarks' server (here and bench_many.py): a PKI in `d` and the Python `ssl`
    server on PORT, serving 1 MiB of random bytes per request, stopped on leaving."""
    _pki(d)
    stop = threading.Event()
    server = threading.Thread(target=_serve, args=(d, stop, os.urandom(1 << 20)), daemon=True)
    server.start()
    try:
        yield d
    finally:
        stop.set()
        server.join(timeout=5)


def ports_free(ports: range) -> None:
    """Stop unless every port is free on 127.0.0.1: another run generating at the same time
    (another checkout's benchmark) would answer our clients, and our tcpdump would capture its
    traffic too — a capture of two runs mixed, with certificates from the wrong CA."""
    for port in ports:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                sys.exit(
                    f"bench_pcap: port {port} is in use (another benchmark generating?): try again later"
                )


def generate(path: Path, keylog: Path, handshakes: int, bulk_mb: int) -> None:
    if os.geteuid() != 0 or shutil.which("tcpdump") is None:
        sys.exit("bench_pcap: generating the capture needs root and tcpdump")
    ports_free(range(PORT, PORT + 1))
    OUT.mkdir(parents=True, exist_ok=True)
    keylog.unlink(missing_ok=True)
    mtu, gso = _loopback_settings()
    with tempfile.TemporaryDirectory() as tmp, bulk_site(Path(tmp)) as d:
        # MTU 1500 and no GSO: the capture sees real 1448-byte segments, as on a network
        subprocess.run(["ip", "link", "set", "lo", "mtu", "1500", "gso_max_segs", "1"], check=True)
        try:
            dump = _start_tcpdump(path, f"tcp port {PORT}")
            start = time.monotonic()
            _client(d, keylog, handshakes, bulk_mb)
            time.sleep(1.0)
            dump.send_signal(signal.SIGINT)
            _, err = dump.communicate(timeout=60)
        finally:
            subprocess.run(["ip", "link", "set", "lo", "mtu", mtu, "gso_max_segs", gso], check=True)
    print(
        f"generated {path} ({path.stat().st_size >> 20} MiB) in {time.monotonic() - start:.0f} s;"
        f" tcpdump: {' / '.join(line for line in err.splitlines() if 'packets' in line)}"
    )
    path.chmod(0o600)


DENSE_SERVERS = 3  # `openssl s_server -WWW` serves one connection at a time: one per port
DENSE_CLIENTS = 4
DENSE_DROP = 0.015  # share of captured packets left out: connections the capture saw incompletely


def _dense_client(args: tuple[Path, Path, int, int, int]) -> int:
    """One client process: `count` real handshakes, each fetching one file (a few KB to 60 KB).
    Most present the right certificate; 5 % none, 5 % one from an unknown CA; about half are
    held to TLS 1.2."""
    d, keylog, first, count, sizes = args
    contexts: dict[tuple[str, bool], ssl.SSLContext] = {}
    for kind in ("good", "none", "stranger"):
        for tls12 in (False, True):
            ctx = ssl.create_default_context(cafile=str(d / "root.pem"))
            ctx.keylog_filename = str(keylog)
            ctx.check_hostname = False
            if kind != "none":
                ctx.load_cert_chain(
                    d / f"{'client' if kind == 'good' else 'stranger'}.pem", d / f"{kind}.key"
                )
            if tls12:
                ctx.maximum_version = ssl.TLSVersion.TLSv1_2
            contexts[kind, tls12] = ctx
    made = 0
    for i in range(first, first + count):
        kind = "none" if i % 20 == 3 else "stranger" if i % 20 == 13 else "good"
        port = PORT + 1 + i % DENSE_SERVERS
        try:
            with (
                socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
                contexts[kind, i % 7 < 3].wrap_socket(raw, server_hostname="localhost") as conn,
            ):
                conn.sendall(f"GET /f{i % sizes} HTTP/1.0\r\n\r\n".encode())
                while conn.recv(1 << 16):
                    pass
                made += 1
        except (ssl.SSLError, OSError):
            pass
    return made


def _drop_packets(source: Path, target: Path, share: float) -> tuple[int, int]:
    """Copy a pcap leaving out `share` of its packets (seeded): a capture that lost packets,
    so some connections are seen incompletely. The connections that lost a packet are listed
    in `target`.lost (`client → server` per line): there a reader that recovers after a gap
    (we do; tshark does not) may list a CertificateRequest tshark misses."""
    import random
    import struct

    pick = random.Random(12)
    kept = dropped = 0
    lost: set[str] = set()
    with source.open("rb") as src, target.open("wb") as out:
        header = src.read(24)
        order = "<" if header[:4] == b"\xd4\xc3\xb2\xa1" else ">"
        out.write(header)
        while True:
            record = src.read(16)
            if len(record) < 16:
                break
            data = src.read(struct.unpack(order + "IIII", record)[2])
            if pick.random() < share:
                dropped += 1
                lost.add(_client_to_server(data))
                continue
            out.write(record + data)
            kept += 1
    lost_file(target).write_text("".join(f"{c}\n" for c in sorted(lost)))
    return kept, dropped


def lost_file(capture: Path) -> Path:
    return capture.with_suffix(".lost")


def _client_to_server(frame: bytes) -> str:
    """`client → server` of an Ethernet / IPv4 / TCP frame to or from one of the dense servers."""
    ihl = (frame[14] & 0x0F) * 4
    src, dst = ".".join(map(str, frame[26:30])), ".".join(map(str, frame[30:34]))
    sport, dport = (
        int.from_bytes(frame[14 + ihl : 16 + ihl], "big"),
        int.from_bytes(frame[16 + ihl : 18 + ihl], "big"),
    )
    if PORT < sport <= PORT + DENSE_SERVERS:
        return f"{dst}:{dport} → {src}:{sport}"
    return f"{src}:{sport} → {dst}:{dport}"


def start_dense_site(d: Path, bytes_per_handshake: int, sizes: int) -> list[subprocess.Popen[bytes]]:
    """The dense benchmarks' servers (here and bench_many.py): a PKI in `d`, DENSE_SERVERS
    `openssl s_server -WWW -Verify` on 127.0.0.1 naming four CAs, serving `sizes` files sized
    so that a handshake plus its download is about `bytes_per_handshake`."""
    from tests import pki as P

    _pki(d)
    (d / "good.key").write_bytes((d / "client.key").read_bytes())
    others = [P.make_pki(f"other{n}", org=f"Other {n}", days=3650).root.pem for n in range(3)]
    (d / "named.pem").write_bytes((d / "root.pem").read_bytes() + b"".join(others))
    www = d / "www"
    www.mkdir()
    per_file = max(1024, bytes_per_handshake - 6000)
    for n in range(sizes):
        (www / f"f{n}").write_bytes(os.urandom(max(512, int(per_file * (0.2 + 1.6 * n / sizes)))))
    servers = []
    for n in range(DENSE_SERVERS):
        command = ["openssl", "s_server", "-accept", f"127.0.0.1:{PORT + 1 + n}", "-WWW", "-quiet"]
        command += ["-cert", str(d / "server.pem"), "-cert_chain", str(d / "server.pem")]
        command += ["-key", str(d / "server.key"), "-Verify", "3", "-CAfile", str(d / "named.pem")]
        servers.append(
            subprocess.Popen(
                [*command, "-verify_quiet"],
                cwd=www,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
    return servers


def generate_dense(path: Path, keylog: Path, handshakes: int, target_mb: int) -> None:
    """A handshake-dense capture, as a busy gateway's: `handshakes` real handshakes from
    DENSE_CLIENTS processes to DENSE_SERVERS `openssl s_server`s naming four CAs, TLS 1.2 and
    1.3 mixed, each connection fetching a file so the capture is ~target_mb; then DENSE_DROP of
    the packets left out."""
    import multiprocessing

    if os.geteuid() != 0 or shutil.which("tcpdump") is None or shutil.which("openssl") is None:
        sys.exit("bench_pcap: generating the capture needs root, tcpdump and openssl")
    ports_free(range(PORT + 1, PORT + 1 + DENSE_SERVERS))
    OUT.mkdir(parents=True, exist_ok=True)
    keylog.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        sizes = 64
        servers = start_dense_site(d, (target_mb << 20) // max(1, handshakes), sizes)
        raw = path.with_suffix(".raw.pcap")
        mtu, gso = _loopback_settings()
        subprocess.run(["ip", "link", "set", "lo", "mtu", "1500", "gso_max_segs", "1"], check=True)
        try:
            dump = _start_tcpdump(raw, f"tcp portrange {PORT + 1}-{PORT + DENSE_SERVERS}")
            start = time.monotonic()
            share = -(-handshakes // DENSE_CLIENTS)
            keylogs = [keylog.with_suffix(f".{n}") for n in range(DENSE_CLIENTS)]
            jobs = [(d, keylogs[n], n * share, share, sizes) for n in range(DENSE_CLIENTS)]
            with multiprocessing.get_context("fork").Pool(DENSE_CLIENTS) as pool:
                made = sum(pool.map(_dense_client, jobs))
            time.sleep(1.0)
            dump.send_signal(signal.SIGINT)
            _, err = dump.communicate(timeout=60)
        finally:
            subprocess.run(["ip", "link", "set", "lo", "mtu", mtu, "gso_max_segs", gso], check=True)
            for server in servers:
                server.terminate()
                server.wait(timeout=10)
        keylog.write_bytes(b"".join(k.read_bytes() for k in keylogs if k.exists()))
        for k in keylogs:
            k.unlink(missing_ok=True)
    kept, dropped = _drop_packets(raw, path, DENSE_DROP)
    raw.unlink()
    print(
        f"generated {path} ({path.stat().st_size >> 20} MiB, {made} handshakes completed, {kept} packets,"
        f" {dropped} left out) in {time.monotonic() - start:.0f} s;"
        f" tcpdump: {' / '.join(line for line in err.splitlines() if 'packets' in line)}"
    )
    path.chmod(0o600)


TSHARK_FIELDS = ["tcp.stream", "ip.src", "ipv6.src", "tcp.srcport", "ip.dst", "ipv6.dst", "tcp.dstport"]


def _endpoint(ip4: str, ip6: str, port: str) -> str:
    return f"{ip4}:{port}" if ip4 else f"[{ip6}]:{port}"


def tshark_requests(out: str) -> Counter[str]:
    """Connections with a CertificateRequest, per `client → server`, from tshark's listing (one
    row per frame carrying one, sent by the server)."""
    streams: dict[str, str] = {}
    for line in out.splitlines():
        cols = line.split("\t")
        if len(cols) != len(TSHARK_FIELDS) or not cols[0].isdigit():
            continue
        stream, s4, s6, sport, c4, c6, cport = cols
        streams[stream] = f"{_endpoint(c4, c6, cport)} → {_endpoint(s4, s6, sport)}"
    return Counter(streams.values())


def our_requests(out: str, json_output: bool) -> Counter[str]:
    """The same count from our report: the text table's `cert requested` column ("yes"), or
    the JSON connections with a CertificateRequest event."""
    import json

    found: Counter[str] = Counter()
    if json_output:
        for c in json.loads(out)["connections"]:
            if any(e["message"] == "CertificateRequest" for e in c["events"]):
                found[f"{c['client']} → {c['server']}"] += 1
        return found
    column = -1
    for line in out.splitlines():
        if column < 0 and "cert requested" in line and line.startswith("#"):
            column = line.index("cert requested")
            continue
        if column < 0 or not line[:1].isdigit():
            if column >= 0 and not line.strip():
                break  # the table ends at the first empty line
            continue
        fields = line.split()
        if line[column : column + 3] == "yes":
            found[f"{fields[2]} → {fields[4]}"] += 1
    return found


class Run(NamedTuple):
    seconds: float
    peak_mb: int  # the largest process (ru_maxrss: our reader's worker included)
    out: str
    cpu: float  # user + system seconds, children included (our reader's worker): steadier than
    # wall time on a shared machine, where a second process may not find a free core


def measure(cmd: list[str], ok: tuple[int, ...] = (0, 1)) -> Run:
    """Wall time, CPU time, peak RSS and output of one run; its output goes to a file, as a user's would.
    The peak comes from GNU time, a small parent: a child forked from this process would count
    this process's own peak (ru_maxrss survives fork and exec)."""
    gnu_time = Path("/usr/bin/time")
    if not gnu_time.exists():
        sys.exit("bench_pcap: needs GNU time for peak RSS (apt-get install time)")
    with tempfile.TemporaryFile("w+") as out, tempfile.NamedTemporaryFile("r") as rss:
        start = time.perf_counter()
        done = subprocess.run(
            [str(gnu_time), "-q", "-f", "%M %U %S", "-o", rss.name, *cmd],
            stdout=out,
            stderr=subprocess.DEVNULL,
        )
        elapsed = time.perf_counter() - start
        out.seek(0)
        text = out.read()
        peak_kb, user, system = rss.read().split()[-3:]
    if done.returncode not in ok:
        sys.exit(f"bench_pcap: {' '.join(cmd)} failed (exit {done.returncode})")
    return Run(elapsed, int(peak_kb) // 1024, text, float(user) + float(system))


def _check(label: str, ours: Counter[str], theirs: Counter[str], lost: set[str]) -> None:
    """Refuse a run that does not list the CertificateRequests tshark lists, per connection:
    speed must never come from skipping work. Only on a connection that lost a packet may we
    list one more (we resume at the next record after a gap; tshark does not)."""
    missing = theirs - ours
    extra = {c: n for c, n in (ours - theirs).items() if c not in lost}
    if missing or extra:
        sys.exit(
            f"bench_pcap: REFUSED [{label}]: we list {sum(ours.values())} connection(s) with a "
            f"CertificateRequest, tshark {sum(theirs.values())}; tshark's we miss: "
            f"{sorted(missing.items())[:5]}; ours tshark does not list (no packet lost): "
            f"{sorted(extra.items())[:5]}"
        )


class Row(NamedTuple):
    """One capture, one output form, with or without its key log: medians of alternating runs."""

    label: str
    form: str
    keys: bool
    ours: float  # wall seconds, median
    tshark: float
    peak_ours: int  # MB, the largest process of any run
    peak_tshark: int

    @property
    def ratio(self) -> float:
        return self.ours / self.tshark


def bench(
    label: str, path: Path, keylog: Path | None, runs: int, ours: list[str], ports: range
) -> list[tuple[str, Row]]:
    """Alternating runs of ours (text, --json) and tshark on one capture: one line per output.
    tshark is told that `ports` are TLS (else a client port that is some registered service's,
    44322 pmproxy, makes it dissect that connection as that service)."""
    size_mb = path.stat().st_size / 1e6
    our_extra = ["--keylog", str(keylog)] if keylog else []
    their_extra = ["-o", f"tls.keylog_file:{keylog}"] if keylog else []
    tshark = ["tshark", "-n", "-r", str(path), "-Y", "tls.handshake.type == 13", "-T", "fields"]
    tshark += [arg for f in TSHARK_FIELDS for arg in ("-e", f)] + their_extra
    tshark += [arg for port in ports for arg in ("-d", f"tcp.port=={port},tls")]
    mine: dict[str, list[Run]] = {"text": [], "json": []}
    theirs: list[Run] = []
    for _ in range(runs):
        theirs.append(measure(tshark, (0, 2)))  # 2: "cut short in the middle of a packet"
        for form, extra in (("text", []), ("json", ["--json"])):
            mine[form].append(measure([*ours, "pcap", str(path), *our_extra, *extra]))
    expected = tshark_requests(theirs[0].out)
    lost = set(lost_file(path).read_text().split("\n")) if lost_file(path).exists() else set()
    lines: list[tuple[str, Row]] = []
    t = statistics.median(r.seconds for r in theirs)
    tcpu = statistics.median(r.cpu for r in theirs)
    for form, done in mine.items():
        for r in done:
            _check(f"{label}, {form}", our_requests(r.out, form == "json"), expected, lost)
        m = statistics.median(r.seconds for r in done)
        spread = f"{min(r.seconds for r in done):.2f}-{max(r.seconds for r in done):.2f}"
        cpu = statistics.median(r.cpu for r in done)
        line = (
            f"{label:<34} {form:<4} {'key log' if keylog else 'no keys':<7} {sum(expected.values()):>5} CR | "
            f"ours {m:6.2f} s ({spread}) cpu {cpu:5.2f} s {size_mb / m:6.1f} MB/s "
            f"{max(r.peak_mb for r in done):4d} MB | "
            f"tshark {t:6.2f} s cpu {tcpu:5.2f} s {size_mb / t:6.1f} MB/s "
            f"{max(r.peak_mb for r in theirs):4d} MB | "
            f"ratio {m / t:4.2f} (x{t / m:.2f} faster), cpu ratio {cpu / tcpu:4.2f}"
        )
        peak = max(r.peak_mb for r in done)
        lines.append((line, Row(label, form, keylog is not None, m, t, peak, max(r.peak_mb for r in theirs))))
    return lines


MEDIUM = {"connections": 60, "servers": 60, "sans": 300, "intermediates": 3, "tls13_every": 3}
TARGETS = {"dense": 1 / 3, "small": 2.0}  # ratio ours / tshark: at most


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="the sample captures (captures/*.pcap*)")
    parser.add_argument("--bulk", action="store_true", help="5,000 handshakes among 300 MB of bulk data")
    parser.add_argument(
        "--dense", action="store_true", help="8,000+ handshakes in ~300 MB, 1.5 %% packets lost"
    )
    parser.add_argument(
        "--medium",
        action="store_true",
        help="a medium capture full of certificates: 60 handshakes to 60 servers, chains of a"
        " 300-SAN leaf and 3 intermediates, every 3rd TLS 1.3 (~1.1 MB)",
    )
    parser.add_argument(
        "--certs",
        action="store_true",
        help="a larger one: 400 handshakes, 40 servers, 300-SAN leaves (~6 MB)",
    )
    parser.add_argument("--startup", action="store_true", help="start-up: --help, keystore, probe")
    parser.add_argument("--handshakes", type=int, default=0, help="default 5000 (bulk), 8400 (dense)")
    parser.add_argument("--bulk-mb", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--regen", action="store_true")
    parser.add_argument("--capture", type=Path, help="time this capture instead")
    parser.add_argument("--keylog", type=Path)
    return parser.parse_args()


def _jobs(args: argparse.Namespace) -> list[tuple[str, Path, Path | None, range]]:
    """(label, capture, key log, ports tshark is told are TLS), generating what is missing."""
    jobs: list[tuple[str, Path, Path | None, range]] = []
    if args.capture:
        jobs += [(args.capture.name, args.capture, None, range(0))]
        jobs += [(args.capture.name, args.capture, args.keylog, range(0))] if args.keylog else []
    if args.small:
        for sample in sorted((ROOT / "captures").glob("*.pcap*")):
            keys = sample.with_suffix(".keys")
            has_keys = keys.exists() and any(
                not line.startswith("#") for line in keys.read_text().splitlines() if line.strip()
            )
            jobs.append((f"small {sample.name}", sample, keys if has_keys else None, range(0)))
    from benchmarks.certs_capture import write as write_certs

    for kind, wanted, shape in (
        ("medium", args.medium, MEDIUM),
        ("certs", args.certs, {"connections": args.handshakes or 400, "servers": 40, "sans": 300}),
    ):
        if wanted:
            path = OUT / f"{kind}.pcap"
            if args.regen or not path.exists():
                OUT.mkdir(exist_ok=True)
                write_certs(path, **shape)
            keys = path.with_suffix(".keys")
            jobs += [
                (f"{kind} {path.name}", path, None, range(0)),
                (f"{kind} {path.name}", path, keys, range(0)),
            ]
    for kind, wanted, make, default, ports in (
        ("bulk", args.bulk, lambda p, k, n: generate(p, k, n, args.bulk_mb), 5000, range(PORT, PORT + 1)),
        (
            "dense",
            args.dense,
            lambda p, k, n: generate_dense(p, k, n, args.bulk_mb),
            8400,
            range(PORT + 1, PORT + 1 + DENSE_SERVERS),
        ),
    ):
        if not wanted:
            continue
        stem = "bench" if kind == "bulk" else kind
        path, keylog = OUT / f"{stem}.pcap", OUT / f"{stem}.keys"
        if args.regen or not path.exists():
            make(path, keylog, args.handshakes or default)
        jobs += [(f"{kind} {path.name}", path, None, ports), (f"{kind} {path.name}", path, keylog, ports)]
    return jobs


def summary(rows: list[Row]) -> list[str]:
    """One line per capture kind and output form: the ratio (ours / tshark) of the medians,
    with and without key log, and the targets where there are some."""
    lines = []
    small = [r.ratio for r in rows if r.label.startswith("small ")]
    if small:
        verdict = "met" if statistics.median(small) <= TARGETS["small"] else "NOT met"
        lines.append(
            f"small: {len(small)} sample runs, ratio median {statistics.median(small):.2f}"
            f" (range {min(small):.2f}-{max(small):.2f}); target <= {TARGETS['small']:.1f}: {verdict};"
            f" peak RSS {max(r.peak_ours for r in rows if r.label.startswith('small '))} MB"
        )
    for r in rows:
        if r.label.startswith("small "):
            continue
        kind = r.label.split()[0]
        target = TARGETS.get(kind)
        verdict = ""
        if target is not None:
            verdict = f"; target >= {1 / target:.0f}x faster: {'met' if r.ratio <= target else 'NOT met'}"
        lines.append(
            f"{r.label:<20} {r.form:<4} {'key log' if r.keys else 'no keys':<7}: ours {r.ours:.2f} s,"
            f" tshark {r.tshark:.2f} s, ratio {r.ratio:.2f} ({1 / r.ratio:.2f}x faster){verdict};"
            f" peak RSS {r.peak_ours} / {r.peak_tshark} MB"
        )
    return lines


def main() -> int:
    args = _parse()
    if shutil.which("tshark") is None:
        sys.exit("bench_pcap: tshark is not installed (apt-get install tshark)")
    if not (
        args.small or args.bulk or args.dense or args.medium or args.certs or args.capture or args.startup
    ):
        # the default: what the targets name, in about three minutes once the captures exist
        args.small = args.dense = args.medium = args.startup = True
    byte_compile()
    script = Path(sysconfig.get_path("scripts")) / "mtls-inspect"
    ours = [str(script)] if script.exists() else [sys.executable, "-m", "inspector"]
    jobs = _jobs(args)
    if args.runs < 1:
        return 0  # --runs 0: generate only
    before = os.getloadavg()
    print(f"load average {before[0]:.1f} {before[1]:.1f}; {args.runs} run(s) each, median (range)")
    rows: list[Row] = []
    for label, path, keylog, ports in jobs:
        for line, row in bench(label, path, keylog, args.runs, ours, ports):
            print(line, flush=True)
            rows.append(row)
    startup: list[str] = []
    if args.startup:
        from benchmarks import bench_startup

        startup = bench_startup.summary(bench_startup.run_all([ROOT], max(3, args.runs)))
    after = os.getloadavg()
    print("\nSUMMARY (ratio = ours / tshark, medians of alternating runs)")
    for line in summary(rows) + startup:
        print("  " + line)
    print(f"load average before {before[0]:.1f}, after {after[0]:.1f} (1 min); {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
