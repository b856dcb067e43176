"""Start-up time of the commands a user runs most often without a capture.

    python benchmarks/bench_startup.py [--runs 7] [--against /path/to/other/checkout]

Times, alternating, `mtls-inspect --help`, `mtls-inspect keystore` on the sample keystore
(captures/letstestcba.jks) and `mtls-inspect probe` with that keystore against a closed port on
127.0.0.1 (everything a probe loads before its first packet: the exit status 2 and the one line
"connection refused" are checked). With `--against DIR`, the same commands from another checkout
(the main branch, say) run in the same alternation, so the two are compared at the same load.
Prints the median and range of wall time per command and tree.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks.common import byte_compile, timed_run  # noqa: E402

STORE = ROOT / "captures" / "letstestcba.jks"
STOREPASS = "changeit"  # the sample keystore's (captures/README.md)


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def commands(port: int) -> dict[str, tuple[list[str], tuple[int, ...], str]]:
    """name → (arguments after `python -m inspector`, exit statuses allowed, text expected)."""
    store = [str(STORE), "--storepass-env", "BENCH_STOREPASS"]
    return {
        "--help": (["--help"], (0,), "usage:"),
        "keystore": (["keystore", *store], (0, 1), "Keystore"),
        "probe (closed port)": (
            ["probe", f"127.0.0.1:{port}", "--keystore", *store, "--insecure"],
            (2,),
            "",
        ),
    }


def run_all(trees: list[Path], runs: int) -> dict[tuple[str, Path], list[float]]:
    """Each command in each tree `runs` times, alternating trees and commands."""
    env = {**os.environ, "BENCH_STOREPASS": STOREPASS}
    port = closed_port()
    times: dict[tuple[str, Path], list[float]] = {}
    for _ in range(runs):
        for name, (argv, ok, expect) in commands(port).items():
            for tree in trees:
                env["PYTHONPATH"] = str(tree)
                cmd = [sys.executable, "-m", "inspector", *argv]
                times.setdefault((name, tree), []).append(
                    timed_run(cmd, ok=ok, expect=expect, env=env, cwd=tree)
                )
    return times


def summary(times: dict[tuple[str, Path], list[float]]) -> list[str]:
    lines = []
    for (name, tree), spent in times.items():
        lines.append(
            f"start-up {name:<20} {tree.name:<14} median {statistics.median(spent) * 1000:4.0f} ms"
            f" ({min(spent) * 1000:.0f}-{max(spent) * 1000:.0f})"
        )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--against", type=Path, help="another checkout, timed in the same alternation")
    args = parser.parse_args()
    trees = [ROOT] + ([args.against.resolve()] if args.against else [])
    for tree in trees:
        byte_compile(tree)
    print(f"load average {os.getloadavg()[0]:.1f}; {args.runs} runs each, alternating")
    for line in summary(run_all(trees, args.runs)):
        print(line)
    print(f"load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
