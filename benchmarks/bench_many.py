"""Time `mtls-inspect pcap SET` serially against `--workers 2` (a local Dask cluster).

    python benchmarks/bench_many.py [--files 16] [--file-mb 300] [--traffic dense|bulk] [--runs 1] [--regen]
                                    [--set DIR]

The set is generated once into benchmarks/out/many/ (needs root, tcpdump, openssl), as a real
`tcpdump -C FILE_MB -W 99` rotation (connections cut by it) of live traffic on 127.0.0.1:
  dense (default): bench_pcap's dense traffic, 6,000 handshakes per file from 4 client processes
    to 3 `openssl s_server -WWW -Verify` (TLS 1.2 and 1.3; 5 % without a client certificate,
    5 % from an unknown CA), each fetching a file sized to fill the set;
  bulk: bench_pcap's Python `ssl` server and client, 3,000 handshakes and 5 MB downloads.
Each file is then rewritten to a 1448-byte MSS (parsers/resegment.py), so its packets are what a
network carries (loopback's 64 KB segments would flatter the per-packet cost; the loopback MTU
is left alone: the machine is shared).

Then, alternating, it times
    mtls-inspect pcap DIR --json                (serial: one process)
    mtls-inspect pcap DIR --json --workers 2    (LocalCluster, 2 worker processes)
refuses the run unless both JSON documents are equal, and prints wall time, MB/s, the CPU time
of the whole process tree (Dask's workers included) as MB per CPU-second and cores kept busy,
the speed-up, and the peak RSS of the merging process (VmHWM of the command's own process), with
the load average. Target: >= 1.7x with 2 workers on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
SET = ROOT / "benchmarks" / "out" / "many"
sys.path.insert(0, str(ROOT))
from benchmarks.bench_pcap import (  # noqa: E402
    DENSE_CLIENTS,
    DENSE_SERVERS,
    PORT,
    _client,
    _dense_client,
    bulk_site,
    start_dense_site,
)
from benchmarks.common import byte_compile  # noqa: E402


def use_set(directory: Path) -> None:
    """Generate into, and time, `directory` (several sets can be kept side by side)."""
    global SET
    SET = directory.resolve()


def _rotating(raw: Path, file_mb: int, bpf: str) -> subprocess.Popen[str]:
    rotation = ["-C", str(file_mb), "-W", "99", "-w", str(raw / "mtls.pcap")]
    dump = subprocess.Popen(
        ["tcpdump", "-i", "lo", "-s", "0", "-B", "262144", "-U", "-Z", "root", *rotation, bpf],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert dump.stderr is not None
    dump.stderr.readline()
    time.sleep(1.0)
    return dump


def _resegment_all(raw: Path, start: float) -> None:
    from parsers.resegment import resegment

    for path in sorted(raw.iterdir()):
        resegment(path, SET / path.name)
        path.unlink()
    raw.rmdir()
    total = sum(p.stat().st_size for p in SET.glob("mtls.pcap*"))
    print(
        f"generated {len(list(SET.glob('mtls.pcap*')))} files, {total >> 20} MiB in "
        f"{time.monotonic() - start:.0f} s into {SET}"
    )


def _fresh() -> Path:
    if os.geteuid() != 0 or shutil.which("tcpdump") is None or shutil.which("openssl") is None:
        sys.exit("bench_many: generating the set needs root, tcpdump and openssl")
    raw = SET / "raw"
    shutil.rmtree(SET, ignore_errors=True)
    raw.mkdir(parents=True)
    return raw


def generate_dense(files: int, file_mb: int, handshakes: int) -> None:
    """A busy gateway's day in small: `handshakes` real handshakes from DENSE_CLIENTS processes to
    DENSE_SERVERS `openssl s_server -WWW -Verify` (TLS 1.2 and 1.3, 5 % without a certificate,
    5 % from an unknown CA), each fetching a file sized so the set is about files x file_mb."""
    import multiprocessing

    raw = _fresh()
    start = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        sizes = 64
        # 98 % of the set in fetched bodies: with the protocols' own bytes, `files` files (the
        # last one partly filled), not a 17th of a few MB
        servers = start_dense_site(d, (files * file_mb * 10**6 * 98 // 100) // max(1, handshakes), sizes)
        time.sleep(0.5)
        dump = _rotating(raw, file_mb, f"tcp portrange {PORT + 1}-{PORT + DENSE_SERVERS}")
        try:
            share = -(-handshakes // DENSE_CLIENTS)
            jobs = [(d, SET / f"keys.{n}", n * share, share, sizes) for n in range(DENSE_CLIENTS)]
            with multiprocessing.get_context("fork").Pool(DENSE_CLIENTS) as pool:
                made = sum(pool.map(_dense_client, jobs))
            time.sleep(1.0)
        finally:
            dump.send_signal(signal.SIGINT)
            dump.communicate(timeout=60)
            for server in servers:
                server.terminate()
                server.wait(timeout=10)
    print(f"{made} handshakes made")
    _resegment_all(raw, start)


def generate(files: int, file_mb: int, handshakes: int) -> None:
    """Bulk: few handshakes, most of the bytes 5 MB downloads (bench_pcap's --bulk traffic)."""
    raw = _fresh()
    start = time.monotonic()

    with tempfile.TemporaryDirectory() as tmp, bulk_site(Path(tmp)) as d:
        dump = _rotating(raw, file_mb, f"tcp port {PORT}")
        try:
            # the loopback MSS is ~64 KB: after resegmenting, the files grow by ~4 % (headers)
            _client(d, SET / "keys.log", handshakes, int(files * file_mb * 1.1))
            time.sleep(1.0)
        finally:
            dump.send_signal(signal.SIGINT)
            dump.communicate(timeout=60)
    _resegment_all(raw, start)


class Run(NamedTuple):
    seconds: float
    cpu: float  # user + system seconds of the command and every process it waited for (workers)
    merger_mb: int  # peak RSS of the command's own process (VmHWM)
    out: str


def _hwm(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    except OSError:
        pass
    return 0


def _tree_cpu(root: int, seen: dict[int, float]) -> None:
    """CPU seconds so far of `root` and its descendants (Dask's workers are the forkserver's
    children, reaped by nobody we wait for), noted per pid in `seen`."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        cpu[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    for pid, used in cpu.items():
        walk = pid
        while walk not in (0, 1) and walk != root:
            walk = parents.get(walk, 0)
        if walk == root:
            seen[pid] = max(seen.get(pid, 0.0), used)


def measure(cmd: list[str]) -> Run:
    """Wall time, CPU time (wait4: the command's and its reaped descendants', the Dask workers
    included), output, and the merging process's peak RSS, sampled from /proc until it exits
    (VmHWM only grows: the last sample is the peak, give or take the last 50 ms)."""
    with tempfile.TemporaryFile("w+") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE, text=True)
        peak = 0
        tree: dict[int, float] = {}
        while True:
            _tree_cpu(proc.pid, tree)
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            peak = max(peak, _hwm(proc.pid))
            time.sleep(0.05)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        assert proc.stderr is not None
        err = proc.stderr.read()
        if proc.returncode not in (0, 1):
            sys.exit(f"bench_many: {' '.join(cmd)} failed (exit {proc.returncode}): {err[-400:]}")
        out.seek(0)
        # wait4: the command and what it reaped; the /proc samples: every process of its tree,
        # Dask's workers included (the last sample is up to 50 ms short)
        own = usage.ru_utime + usage.ru_stime
        return Run(elapsed, max(own, sum(tree.values())), peak, out.read())


def _spin(seconds: float) -> int:
    """Count for `seconds` of wall time: pure-Python work, like the decoder's."""
    end = time.perf_counter() + seconds
    count = 0
    while time.perf_counter() < end:
        count += 1
    return count


def parallel_capacity(workers: int, seconds: float = 2.0) -> float:
    """How many cores' worth of pure-Python work `workers` processes get right now, against one
    process alone: the most any speed-up can be on this machine at this moment (a shared or
    overcommitted machine gives less than its core count)."""
    import multiprocessing

    alone = _spin(seconds)
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        together = sum(pool.map(_spin, [seconds] * workers))
    return together / alone


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=16, help="files in the set (default 16)")
    parser.add_argument("--file-mb", type=int, default=300, help="rotation size, MB (default 300)")
    parser.add_argument("--traffic", choices=("dense", "bulk"), default="dense")
    parser.add_argument("--handshakes", type=int, default=0, help="default: 6000 per file dense, 3000 bulk")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--regen", action="store_true")
    parser.add_argument("--set", type=Path, default=SET, help=f"the set's directory (default {SET})")
    args = parser.parse_args()
    use_set(args.set)
    if args.regen or not any(SET.glob("mtls.pcap*")):
        make = generate_dense if args.traffic == "dense" else generate
        dense = args.traffic == "dense"
        make(args.files, args.file_mb, args.handshakes or (6000 * args.files if dense else 3000))
    if args.runs < 1:
        return 0  # --runs 0: generate only
    byte_compile()
    script = Path(sysconfig.get_path("scripts")) / "mtls-inspect"
    ours = [str(script)] if script.exists() else [sys.executable, "-m", "inspector"]
    files = sorted(SET.glob("mtls.pcap*"))
    size_mb = sum(p.stat().st_size for p in files) / 1e6
    load = os.getloadavg()
    print(
        f"{len(files)} files, {size_mb:.0f} MB; load average {load[0]:.2f} {load[1]:.2f}; runs: {args.runs}"
    )
    capacity = parallel_capacity(args.workers)
    print(f"{args.workers} busy processes get {capacity:.2f} cores' worth of work here (1 alone: 1.00)")
    serial: list[Run] = []
    spread: list[Run] = []
    for _ in range(args.runs):
        serial.append(measure([*ours, "pcap", str(SET), "--json"]))
        spread.append(measure([*ours, "pcap", str(SET), "--json", "--workers", str(args.workers)]))
    for a, b in zip(serial, spread, strict=True):
        if a.out != b.out:
            sys.exit("bench_many: REFUSED: --workers gave another JSON document than the serial run")
    connections = serial[0].out.count('"index":')
    print(f"connections: {connections}")
    for label, runs in ((" serial", serial), (f"--workers {args.workers}", spread)):
        wall = statistics.median(r.seconds for r in runs)
        cpu = statistics.median(r.cpu for r in runs)
        print(
            f"{label:<11} {wall:6.2f} s ({min(r.seconds for r in runs):.2f}-"
            f"{max(r.seconds for r in runs):.2f})"
            f" {size_mb / wall:6.1f} MB/s | CPU {cpu:6.2f} s, {size_mb / cpu:6.1f} MB per CPU-second,"
            f" {cpu / wall:4.2f} cores busy | merger peak RSS {max(r.merger_mb for r in runs)} MB"
        )
    s = statistics.median(r.seconds for r in serial)
    w = statistics.median(r.seconds for r in spread)
    print(f"speed-up x{s / w:.2f} (wall time); {args.workers} busy processes got x{capacity:.2f}")
    print(f"{args.workers} busy processes get {parallel_capacity(args.workers):.2f} cores' worth of work now")
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
