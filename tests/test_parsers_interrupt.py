"""Ctrl-C during a two-process read: exit 130 and one line, no traceback from the worker."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from parsers import framing
from parsers.pcapfile import PcapWriter
from tests.helpers import tls_bytes as TB
from tests.helpers.interrupt import ctrl_c_while_the_worker_runs

HELLO = TB.record(TB.HANDSHAKE, TB.client_hello(suites=[0x1301]), TB.TLS10)


def _many_connections(path: Path, count: int) -> None:
    with path.open("wb") as handle:
        writer = PcapWriter(handle)
        for i in range(count):
            client = f"10.{i // 62500}.{i // 250 % 250}.{i % 250 + 1}"
            for seq, flags, data in ((0, framing.SYN, b""), (1, framing.ACK | framing.PSH, HELLO)):
                packet = framing.tcp_packet(client, "10.200.0.1", 40000, 443, seq, 0, flags, data)
                writer.write(i * 1e-4, packet)


def test_ctrl_c_during_a_parallel_read_is_one_line_and_130(tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "many.pcap"
    _many_connections(path, 40_000)
    status, err, worker_gone = ctrl_c_while_the_worker_runs(["pcap", str(path)])
    assert (status, err, worker_gone) == (130, "mtls-inspect: interrupted\n", True)


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
