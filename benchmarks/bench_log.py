"""Time `mtls-inspect log` on a large javax.net.debug=all log of real handshakes.

    python benchmarks/bench_log.py [--mb 200] [--threads 16] [--runs 3] [--regen]

The log is generated once into benchmarks/out/: a real Java client (the system `java`) plays four
scenarios (TLS 1.3 and 1.2 success, no suitable certificate, untrusted server) against openssl
s_server on 127.0.0.1 with -Djavax.net.debug=all; those logs are then replayed by many threads
(thread ids and names rewritten, entries interleaved round-robin as concurrent threads write them,
application log lines in between) up to the size asked. Then it times the text report, as a user
runs it, and prints MB/s and the peak RSS of the process.
Targets: >= 120 MB/s, peak RSS < 150 MB, streaming.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
sys.path.insert(0, str(ROOT))

from benchmarks.common import byte_compile  # noqa: E402

TEMPLATES = ("success13", "success12", "nocert12", "untrusted12")


def real_logs(work: Path) -> dict[str, list[str]]:
    """One `all` log per template scenario, from the real Java client."""
    from tests.javalog import scenarios as S

    S.build_files(work)
    classes = work / "classes"
    S.compile_client(None, classes)
    chosen = [s for s in S.SCENARIOS if s.name in TEMPLATES]
    with S.servers(work) as ports:
        verdicts = S.run_java("java", classes, "all", work, ports, work / "logs", chosen)
    if len(verdicts) != len(TEMPLATES):
        sys.exit(f"benchmark: the Java client did not play every scenario: {verdicts}")
    return {name: (work / "logs" / f"{name}.log").read_text().splitlines() for name in TEMPLATES}


def entries(lines: list[str]) -> list[list[str]]:
    """Split a log into entries (a javax.net.ssl line with its block / its trailing lines)."""
    out: list[list[str]] = []
    for line in lines:
        if line.startswith("javax.net.ssl|") or not out:
            out.append([line])
        else:
            out[-1].append(line)
    return out


def generate(path: Path, mb: int, threads: int) -> int:
    """Write the big log; returns how many handshakes it holds: the ClientHellos written (a
    template begun in the last round may have written only its key manager's lines)."""
    with tempfile.TemporaryDirectory() as tmp:
        templates = {name: entries(lines) for name, lines in real_logs(Path(tmp)).items()}
        shutil.copy(Path(tmp) / "trust-acme.jks", OUT / "trust.jks")
    order = list(TEMPLATES)
    target = mb << 20
    written = 0
    handshakes = started = 0
    queues: list[list[list[str]]] = [[] for _ in range(threads)]
    counters = [0] * threads
    with path.open("w") as out:
        while written < target:
            for t in range(threads):
                if not queues[t]:
                    name = order[(counters[t] + t) % len(order)]
                    counters[t] += 1
                    started += 1
                    tid = f"{0x40 + t:02X}"
                    queues[t] = [
                        [line.replace("|10|main|", f"|{tid}|pool-1-thread-{t + 1}|") for line in entry]
                        for entry in templates[name]
                    ]
                entry = queues[t].pop(0)
                handshakes += "|Produced ClientHello" in entry[0]
                text = "\n".join(entry) + "\n"
                out.write(text)
                written += len(text)
            out.write(
                f"2026-11-27 13:16:52,984 INFO  [worker-{started % 7}] c.e.Billing - invoice {written}\n"
            )
    return handshakes


def run_once(path: Path) -> tuple[float, float, int, str]:
    """Wall time, CPU time (user + sys: what an idle machine's wall time would be), peak RSS."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "inspector",
            "log",
            str(path),
            "--truststore",
            str(OUT / "trust.jks"),
            "--truststore-pass-env",
            "TRUST_PW",
        ],
        env={**os.environ, "TRUST_PW": "changeit"},
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        sys.exit(f"benchmark: mtls-inspect log failed (exit {done.returncode}): {done.stderr[-400:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu, after.ru_maxrss, done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--regen", action="store_true")
    args = parser.parse_args()
    if shutil.which("java") is None or shutil.which("javac") is None:
        sys.exit("benchmark: needs java and javac (the log is made by a real Java client)")
    OUT.mkdir(exist_ok=True)
    path = OUT / f"java-all-{args.mb}mb.log"
    count_file = path.with_suffix(".count")
    if args.regen or not path.exists() or not count_file.exists():
        print(f"generating {path} ...", file=sys.stderr)
        count_file.write_text(str(generate(path, args.mb, args.threads)))
    expected = int(count_file.read_text())
    byte_compile()
    size = path.stat().st_size
    times, cpus = [], []
    rss = 0
    for _ in range(args.runs):
        elapsed, cpu, rss, report = run_once(path)
        times.append(elapsed)
        cpus.append(cpu)
        head = report.splitlines()[0]
        if f"{expected} handshake(s)" not in head:
            sys.exit(f"benchmark: expected {expected} handshakes, the report says: {head}")
    best, median = min(times), statistics.median(times)
    print(
        f"log: {size / 1e6:.0f} MB, {expected} handshakes across {args.threads} threads (javax.net.debug=all)"
    )
    print(f"mtls-inspect log: best {best:.2f} s, median {median:.2f} s over {args.runs} runs")
    print(f"throughput: {size / 1e6 / best:.0f} MB/s (best), {size / 1e6 / median:.0f} MB/s (median)")
    print(
        f"CPU time: best {min(cpus):.2f} s = {size / 1e6 / min(cpus):.0f} MB/s per CPU second "
        f"(load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
    )
    print(f"peak RSS: {rss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
