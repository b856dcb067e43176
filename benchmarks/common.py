"""What every benchmark does the same way: byte-compile the package, and refuse fast failures."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def byte_compile(root: Path = ROOT) -> None:
    """A regular `pip install` byte-compiles the package; an editable one under
    PYTHONDONTWRITEBYTECODE=1 (this environment) would recompile it on every run (~20 ms)."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(root / "inspector"), str(root / "parsers")],
        check=True,
        capture_output=True,
    )


def timed_run(
    cmd: list[str], *, ok: tuple[int, ...] = (0,), expect: str = "", stdin: str = "", **options: object
) -> float:
    """Wall time of one run; a run that fails or does not print `expect` stops the benchmark
    (a fast failure must never pass for a fast tool)."""
    start = time.perf_counter()
    done = subprocess.run(
        cmd, input=stdin, capture_output=True, text=True, timeout=120, check=False, **options
    )  # type: ignore[call-overload]
    elapsed = time.perf_counter() - start
    if done.returncode not in ok or expect not in done.stdout:
        sys.exit(
            f"benchmark: {cmd[0]} failed (exit {done.returncode}, wanted {expect!r}):\n"
            f"{done.stdout[-400:]}{done.stderr[-400:]}"
        )
    return elapsed
