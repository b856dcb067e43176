"""Ctrl-C during a two-process read, as a terminal sends it: to the whole process group, once
the reader's worker runs (shared by the capture and the log readers' tests)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def ctrl_c_while_the_worker_runs(argv: list[str], after: float = 0.3) -> tuple[int, str, bool]:
    """Run `mtls-inspect ARGV` with the worker forced for any size, send SIGINT to its group
    `after` seconds once the worker exists: (exit status, stderr, whether the worker is gone)."""
    env = {**os.environ, "MTLS_INSPECT_PARALLEL_MIN": "0"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "inspector", *argv],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,  # its own process group: Ctrl-C reaches the reader and its worker
    )
    deadline = time.monotonic() + 60
    while not _children(proc.pid) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert proc.poll() is None, "the read ended before the worker could be interrupted"
    worker = _children(proc.pid)[0]
    time.sleep(after)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    gone = not Path(f"/proc/{worker}").exists() or "zombie" in Path(f"/proc/{worker}/status").read_text()
    return proc.returncode, err, gone
