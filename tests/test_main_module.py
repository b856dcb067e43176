"""`python -m inspector` exits with our status, even after CPython's own Ctrl-C bookkeeping."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Ctrl-C landing while a string exec runs (dataclasses and namedtuple build their methods with
# one: any import may be running one): the interrupt is handled by our CLI, one line and 130
INTERRUPTED_IN_A_STRING_EXEC = """
import inspector.cli

def interrupted(argv):
    exec("raise KeyboardInterrupt")

inspector.cli._main = interrupted
"""

SCRATCH = """
import sys
try:
    exec("raise KeyboardInterrupt")
except KeyboardInterrupt:
    print("handled", file=sys.stderr)
sys.exit(130)
"""


def _run(args: list[str], path: list[Path]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(p) for p in path)}
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=env, timeout=60, check=False
    )


def test_cpython_kills_a_module_run_whose_string_exec_was_interrupted(tmp_path: Path) -> None:
    """The behaviour worked around (if CPython changes it, the workaround can go)."""
    (tmp_path / "scratch.py").write_text(SCRATCH)
    run = _run(["-m", "scratch"], [tmp_path])
    assert (run.returncode, run.stderr) == (-2, "handled\n")


def test_interrupted_in_a_string_exec_exits_130_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "sitecustomize.py").write_text(INTERRUPTED_IN_A_STRING_EXEC)
    run = _run(["-m", "inspector", "keystore", "unused.jks"], [tmp_path, ROOT])
    assert (run.returncode, run.stdout, run.stderr) == (130, "", "mtls-inspect: interrupted\n")
