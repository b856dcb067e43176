"""How a run ends, attacked: a second Ctrl-C while the first is being handled, one dropped by
Python in a gc callback, and a run started with its standard output closed (>&-). Real
processes, real signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "captures" / "several.pcap"
LINE = "mtls-inspect: interrupted\n"

# A second Ctrl-C lands as the first one's line is written: stderr's write sends SIGINT to
# the process itself (once), and the first one comes with the report's first write.
SECOND_CTRL_C = """\
import os, signal, sys

def _handled_here():  # a Python call: where a pending signal's handler runs
    pass

class _Once:
    def __init__(self, stream, word):
        self.stream, self.word, self.sent = stream, word, False
    def write(self, text):
        written = self.stream.write(text)
        if not self.sent and self.word in text:
            self.sent = True
            os.kill(os.getpid(), signal.SIGINT)
            _handled_here()
        return written
    def __getattr__(self, name):
        return getattr(self.stream, name)

sys.stdout = _Once(sys.stdout, "")
sys.stderr = _Once(sys.stderr, "interrupted")
"""


def _env(extra_path: Path | None = None) -> dict[str, str]:
    paths = [str(extra_path)] if extra_path else []
    return {**os.environ, "PYTHONPATH": os.pathsep.join([*paths, str(ROOT)])}


def _pcap_with_hook(
    tmp_path: Path, hook: str, preexec_fn: Callable[[], object] | None = None
) -> subprocess.CompletedProcess[str]:
    """`pcap` of the sample in a process that runs `hook` at start-up (a sitecustomize)."""
    (tmp_path / "sitecustomize.py").write_text(hook)
    return subprocess.run(
        [sys.executable, "-m", "inspector", "pcap", str(SAMPLE)],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=120,
        check=False,
        preexec_fn=preexec_fn,
    )


def test_a_second_ctrl_c_during_the_first_ones_line_is_still_one_line_and_130(tmp_path: Path) -> None:
    # old: the second KeyboardInterrupt escaped _error's handler, then main's, then run's:
    # three lines, a traceback, and death by SIGINT (-2)
    run = _pcap_with_hook(tmp_path, SECOND_CTRL_C)
    assert (run.returncode, run.stderr) == (130, LINE)


def test_ctrl_c_bursts_to_the_process_group_are_one_line_and_130_or_the_report() -> None:
    """Three SIGINTs a millisecond apart (a double Ctrl-C) at moments all through a run and its
    end: old, about one run in six ended by a traceback and -2, or with two lines."""
    outcomes = []
    for delay in (0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6):
        proc = subprocess.Popen(
            [sys.executable, "-m", "inspector", "pcap", str(SAMPLE)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(),
            start_new_session=True,
        )
        _wait_until_it_catches_sigint(proc.pid)  # before, SIGINT kills it as any process
        time.sleep(delay)
        for _ in range(3):
            try:
                os.killpg(proc.pid, signal.SIGINT)
            except ProcessLookupError:
                break
            time.sleep(0.001)
        _, err = proc.communicate(timeout=120)
        outcomes.append((delay, proc.returncode, err))
    odd = [o for o in outcomes if o[1:] not in ((130, LINE), (1, ""))]
    assert odd == []


def _wait_until_it_catches_sigint(pid: int) -> None:
    """Until Python has its SIGINT handler (SigCgt in /proc): a loaded machine may take longer
    than the first delay to start the interpreter."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return  # ended
        caught = int(next(line.split()[1] for line in status.splitlines() if line.startswith("SigCgt:")), 16)
        if caught & (1 << (signal.SIGINT - 1)):
            return
        time.sleep(0.002)


def _closed_stdout(*argv: str) -> subprocess.CompletedProcess[str]:
    command = " ".join([sys.executable, "-m", "inspector", *argv])
    return subprocess.run(
        ["bash", "-c", f"{command} >&-"],
        capture_output=True,
        text=True,
        env={**_env(), "MTLS_TEST_STOREPASS": "changeit"},
        timeout=120,
        check=False,
    )


def test_a_report_to_a_closed_stdout_is_one_line_and_2() -> None:
    # old: "internal error: AttributeError: 'NoneType' object has no attribute 'write' (a bug
    # in mtls-inspect ...)" and 70
    line = "mtls-inspect: error: standard output is closed (>&-): send the report to a file or a pipe\n"
    jks = str(ROOT / "captures" / "letstestcba.jks")
    keystore = ["keystore", jks, "--storepass-env", "MTLS_TEST_STOREPASS"]
    for argv in (["pcap", str(SAMPLE)], ["pcap", str(SAMPLE), "--json"], keystore, ["explain", "--list"]):
        run = _closed_stdout(*argv)
        assert (run.returncode, run.stderr) == (2, line), argv


def test_version_and_usage_with_a_closed_stdout_are_as_before() -> None:
    # argparse writes to stderr when there is no stdout: unchanged
    assert (lambda r: (r.returncode, r.stderr))(_closed_stdout("--version")) == (0, "mtls-inspect 0.1.0\n")
    usage = _closed_stdout()
    assert usage.returncode == 2 and usage.stderr.startswith("usage: mtls-inspect")


def test_a_run_started_ignoring_sigint_still_ignores_it_while_exiting(tmp_path: Path) -> None:
    """nohup, or `cmd &` in a script: SIGINT is ignored, also during the exit's atexit handlers
    (old: exit_now installed its handler anyway; a SIGINT there ended the run 130)."""
    run = _pcap_with_hook(
        tmp_path,
        "import atexit, os, signal\natexit.register(lambda: os.kill(os.getpid(), signal.SIGINT))\n",
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    assert (run.returncode, run.stderr) == (1, "")
    assert run.stdout.endswith("4 errors, 1 warning, 0 info\n")


# A Ctrl-C raised inside a garbage-collector callback (Dask's scheduler and futures run such
# code): once the run has begun, a callback sends SIGINT to the process and runs on, so the
# handler's KeyboardInterrupt is raised inside it, where Python drops it
CTRL_C_IN_A_GC_CALLBACK = """\
import gc, os, signal
import inspector.cli

real_main = inspector.cli.main

def interrupted_in_a_callback(phase, info):
    gc.callbacks.remove(interrupted_in_a_callback)
    os.kill(os.getpid(), signal.SIGINT)
    for _ in range(1000):  # the handler runs here, inside the callback
        pass

def main(argv=None):
    gc.callbacks.append(interrupted_in_a_callback)
    gc.collect()
    return real_main(argv)

inspector.cli.main = main
"""


def test_a_ctrl_c_dropped_in_a_gc_callback_ends_the_run_with_one_line_and_130(tmp_path: Path) -> None:
    """Python prints such an interrupt as 'Exception ignored … KeyboardInterrupt' and goes on:
    old, 8 lines and the report (exit 1)."""
    run = _pcap_with_hook(tmp_path, CTRL_C_IN_A_GC_CALLBACK)
    assert (run.returncode, run.stdout, run.stderr) == (130, "", LINE)
