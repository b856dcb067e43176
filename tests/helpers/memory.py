"""Memory measured in a child process. pytest's own peak (`ru_maxrss` of this process) is the
highest of every test run before: a test that reads it can pass whatever the code under test
holds. A fresh interpreter's VmHWM (its own peak; `ru_maxrss` after exec keeps the parent's)
starts from nothing but its imports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
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
print(json.dumps({{"result": _result, "grown_mb": (_kb("VmHWM") - _before) / 1024}}))
"""


def peak_growth(setup: str, *args: str, timeout: float = 120) -> tuple[Any, float]:
    """Run `run(*args)` (defined by `setup`, which also does the imports) in a fresh Python:
    what it returned (JSON-able) and how far its peak RSS rose above its RSS before the call,
    in MB."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE.format(setup=setup), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.splitlines()[-1])
    return out["result"], float(out["grown_mb"])
