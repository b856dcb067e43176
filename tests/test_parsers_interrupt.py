"""Ctrl-C during a two-process read: exit 130 and one line, no traceback from the worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from parsers import framing
from parsers.pcapfile import PcapWriter
from tests.helpers import tls_bytes as TB

HELLO = TB.record(TB.HANDSHAKE, TB.client_hello(suites=[0x1301]), TB.TLS10)


def _many_connections(path: Path, count: int) -> None:
    with path.open("wb") as handle:
        writer = PcapWriter(handle)
        for i in range(count):
            client = f"10.{i // 62500}.{i // 250 % 250}.{i % 250 + 1}"
            for seq, flags, data in ((0, framing.SYN, b""), (1, framing.ACK | framing.PSH, HELLO)):
                packet = framing.tcp_packet(client, "10.200.0.1", 40000, 443, seq, 0, flags, data)
                writer.write(i * 1e-4, packet)


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def test_ctrl_c_during_a_parallel_read_is_one_line_and_130(tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "many.pcap"
    _many_connections(path, 40_000)
    env = {**os.environ, "MTLS_INSPECT_PARALLEL_MIN": "0"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "inspector", "pcap", str(path)],
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
    time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert err == "mtls-inspect: interrupted\n"
    assert not Path(f"/proc/{worker}").exists() or "zombie" in Path(f"/proc/{worker}/status").read_text()


# SIGINT reaching the worker as it starts, before its first line could ignore it (a terminal's
# Ctrl-C reaches the whole process group): sent by multiprocessing's after-fork hooks, which run
# in the new process first. The worker printed "Process ForkProcess-1: Traceback ...
# KeyboardInterrupt" and died; the run then ended with exit 2, "the capture reader stopped"
SIGINT_AS_THE_WORKER_STARTS = """
import os, signal
from multiprocessing import util

class Hook:
    pass

HOOK = Hook()
util.register_after_fork(HOOK, lambda _hook: os.kill(os.getpid(), signal.SIGINT))
"""


def test_sigint_as_the_worker_starts_is_ignored_there(tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "many.pcap"
    _many_connections(path, 2_000)
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "MTLS_INSPECT_PARALLEL_MIN": "0", "PYTHONPATH": str(root)}
    command = [sys.executable, "-m", "inspector", "pcap", str(path)]
    plain = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    (tmp_path / "sitecustomize.py").write_text(SIGINT_AS_THE_WORKER_STARTS)
    env["PYTHONPATH"] = f"{tmp_path}{os.pathsep}{root}"
    hooked = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    assert (plain.returncode, plain.stderr) == (0, "")
    assert "2000 TLS connection(s)" in plain.stdout
    assert (hooked.returncode, hooked.stdout, hooked.stderr) == (0, plain.stdout, "")
