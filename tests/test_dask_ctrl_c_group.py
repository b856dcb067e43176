"""Ctrl-C as a terminal sends it — SIGINT to the whole process group: the CLI, Dask's forkserver
and its workers — during `pcap DIR --workers 2`: one line and 130 every time.
Before, 5 of 9 tries printed 11-61 lines of Dask tracebacks (the scheduler's 'Closed comm',
tornado's callback errors, the workers' heartbeat errors) above the line."""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("distributed") is None, reason="needs Dask (the cluster extra)"
)


def test_ctrl_c_to_the_process_group_is_one_line_every_time(tmp_path: Path) -> None:
    for i in range(300):
        shutil.copy(ROOT / "captures" / "several.pcap", tmp_path / f"c{i:03d}.pcap")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    seen = []
    for delay in (2.5, 4.0, 5.5, 7.0):
        proc = subprocess.Popen(
            [sys.executable, "-m", "inspector", "pcap", str(tmp_path), "--workers", "2"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            start_new_session=True,  # its own process group, as a terminal's job
        )
        time.sleep(delay)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=120)
        seen.append((delay, proc.returncode, err))
    interrupted = [(d, err) for d, status, err in seen if status == 130]
    assert interrupted, "every run ended before its Ctrl-C: nothing was tested"
    for delay, status, err in seen:
        if status == 130:
            assert err == "mtls-inspect: interrupted\n", f"Ctrl-C after {delay} s:\n{err}"
        else:
            assert status == 1 and "Traceback" not in err, (delay, status, err)
