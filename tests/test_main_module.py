"""`python -m inspector` (and the `mtls-inspect` script) end through inspector.system.process_exit: our
status, even after CPython's own Ctrl-C bookkeeping; what a normal exit does that matters, done."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from inspector import __version__

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


# what a normal exit does before its teardown: other threads finish, atexit handlers run, and
# what is buffered for stdout is written (here: a thread and a handler started before the run)
EXIT_DUTIES = """
import atexit, threading, time

def late_thread():
    time.sleep(0.3)
    print("thread done", flush=False)

def at_exit():
    print("atexit done", end="")

threading.Thread(target=late_thread).start()
atexit.register(at_exit)
"""


def test_exit_joins_threads_runs_atexit_handlers_and_flushes(tmp_path: Path) -> None:
    (tmp_path / "sitecustomize.py").write_text(EXIT_DUTIES)
    run = _run(["-m", "inspector", "--version"], [tmp_path, ROOT])
    assert (run.returncode, run.stderr) == (0, "")
    assert run.stdout.splitlines() == [f"mtls-inspect {__version__}", "thread done", "atexit done"]


def test_usage_errors_and_help_keep_argparse_statuses() -> None:
    usage = _run(["-m", "inspector", "--no-such-option"], [ROOT])
    assert usage.returncode == 2
    assert usage.stderr.splitlines()[-1] == "mtls-inspect: error: unrecognized arguments: --no-such-option"
    helped = _run(["-m", "inspector", "--help"], [ROOT])
    assert (helped.returncode, helped.stderr) == (0, "")
    assert helped.stdout.startswith("usage: mtls-inspect")


def test_sys_exit_statuses_as_python_gives_them(capsys: pytest.CaptureFixture[str]) -> None:
    from inspector.system.process_exit import status_of

    assert [status_of(SystemExit(code)) for code in (None, 0, 2, 130)] == [0, 0, 2, 130]
    assert capsys.readouterr().err == ""
    assert status_of(SystemExit("a message")) == 1
    assert capsys.readouterr().err == "a message\n"
