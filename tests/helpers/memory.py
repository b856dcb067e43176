"""Memory measured in a child process. pytest's own peak (`ru_maxrss` of this process) is the
highest of every test run before: a test that reads it can pass whatever the code under test
holds. A fresh interpreter's VmHWM (its own peak; `ru_maxrss` after exec keeps the parent's)
starts from nothing but its imports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

_PROBE = r"""
import json, re, sys
def _kb(field):
    return int(re.search(field + r":\s+(\d+) kB", open("/proc/self/status").read()).group(1))
{setup}
_before = _kb("VmRSS")
_result = run(*sys.argv[1:])
sys.stdout.flush()
print(json.dumps([_result, _before, _kb("VmHWM")]), file=sys.stderr)
"""


@dataclass(frozen=True)
class Measured:
    result: Any  # what run() returned
    grown_mb: float  # how far the peak rose above the RSS before the call
    peak_mb: float  # the process's own peak, imports included
    printed: str  # what it wrote on stdout


def measure(setup: str, *args: str, timeout: float = 120) -> Measured:
    """Run `run(*args)` (defined by `setup`, which also does the imports; it returns something
    JSON can hold) in a fresh Python, and say what its memory did."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE.format(setup=setup), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result, before_kb, peak_kb = json.loads(done.stderr.splitlines()[-1])
    return Measured(result, (peak_kb - before_kb) / 1024, peak_kb / 1024, done.stdout)
