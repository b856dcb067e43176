"""1,000 keystores of 3 entries in one run of `mtls-inspect keystore DIR`:
stores per second and the run's peak RSS.

Usage: python benchmarks/bench_keystore_set.py [--stores N] [--runs R] [--dir D]
The stores are the vendor guide's (a key entry with its chain, the root, the intermediate), made
by the real keytool once as PKCS#12 and once as JKS, then copied: half of each type. The run
writes --junit and --prometheus too, as a CI job would. Aim: >= 100 stores/s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "ServiceNow123"


def build(directory: Path, count: int) -> None:
    from tests import pki as P

    work = directory / "template"
    work.mkdir()
    p12 = P.keytool_guide(work, P.make_pki(), PASSWORD, store="guide.p12")
    P.keytool(
        "-importkeystore", "-srckeystore", "guide.p12", "-srcstorepass", PASSWORD, "-destkeystore",
        "guide.jks", "-deststoretype", "JKS", "-deststorepass", PASSWORD, "-noprompt", cwd=work,
    )  # fmt: skip
    templates = [p12, work / "guide.jks"]
    stores = directory / "stores"
    stores.mkdir()
    for i in range(count):
        template = templates[i % 2]
        shutil.copy(template, stores / f"client-{i:04d}{template.suffix}")


def run_once(stores: Path, out: Path, jobs: int) -> tuple[float, int, float]:
    """(seconds, peak RSS in KiB of the largest process, CPU seconds of all) of one run."""
    env = {**os.environ, "BENCH_STOREPASS": PASSWORD, "PYTHONPATH": str(ROOT)}
    script = str(Path(sysconfig.get_path("scripts")) / "mtls-inspect")
    cmd = [
        sys.executable, "-c",
        "import resource, subprocess, sys, time; t = time.perf_counter(); "
        "p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True); "
        "e = time.perf_counter() - t; "
        "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
        "print(p.returncode, e, u.ru_maxrss, u.ru_utime + u.ru_stime); "
        "sys.stderr.write(p.stderr[-400:])",
        script, "keystore", str(stores), "--storepass-env", "BENCH_STOREPASS",
        "--junit", str(out / "keystores.xml"), "--prometheus", str(out / "keystores.prom"),
        "--jobs", str(jobs),
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900, check=True)
    status, seconds, rss, cpu = done.stdout.split()
    if int(status) not in (0, 1):
        sys.exit(f"benchmark: the run failed (exit {status}): {done.stderr}")
    return float(seconds), int(rss), float(cpu)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stores", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dir", type=Path, help="keep the stores here (made when missing)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="passed to --jobs")
    args = parser.parse_args()
    from benchmarks.common import byte_compile

    byte_compile()
    base = args.dir or Path(tempfile.mkdtemp(prefix="bench-keystore-set-"))
    if not (base / "stores").is_dir():
        base.mkdir(parents=True, exist_ok=True)
        build(base, args.stores)
    count = len(list((base / "stores").iterdir()))
    times, peaks, cpus = [], [], []
    for _ in range(args.runs):
        seconds, rss, cpu = run_once(base / "stores", base, args.jobs)
        times.append(seconds)
        peaks.append(rss)
        cpus.append(cpu)
    best, median = min(times), statistics.median(times)
    print(f"{count} keystores of 3 entries (half PKCS#12, half JKS), {args.runs} runs")
    print(f"wall time: median {median:.2f} s, best {best:.2f} s")
    print(f"throughput: {count / median:.0f} stores/s (median), {count / best:.0f} stores/s (best)")
    cpu = statistics.median(cpus)
    print(f"CPU time: median {cpu:.2f} s, i.e. {count / cpu:.0f} stores per CPU-second (an idle core)")
    print(f"peak RSS: {max(peaks) / 1024:.0f} MiB (largest process)")
    load = os.getloadavg()[0]
    print(f"--jobs {args.jobs}; {os.cpu_count()} cores, load average {load:.1f}; {time.strftime('%Y-%m-%d')}")
    if args.dir is None:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
