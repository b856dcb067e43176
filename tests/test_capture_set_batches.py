"""The capture-set path: parts pickled in batches of PACK_BATCH, read back
from the spool through a pread reader per part, the forkserver our local workers come from.

The sets are a real handshake (captures/tls12-success.pcap) repeated on distinct client ports,
one second apart, cut into files holding 0, 1, 15, 16, 17, 33 … whole connections (either side
of a batch of 16), some files holding only the ends of connections another file began.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from parsers.fileparts import PACK_BATCH
from tests.conftest import CliResult
from tests.helpers.capture_sets import ROOT, build_set, comparable
from tests.helpers.memory import measure

SETS = {
    "batch-edges": ([0, 1, PACK_BATCH - 1, PACK_BATCH, PACK_BATCH + 1, 2 * PACK_BATCH + 1], {2}),
    "cut-everywhere": (
        [PACK_BATCH, 0, PACK_BATCH - 1, PACK_BATCH + 1, 2 * PACK_BATCH + 1, 1],
        {0, 1, 2, 3, 4},
    ),
    "only-cut-parts": ([PACK_BATCH, 0, 0, PACK_BATCH], {0, 1, 2}),
}


@pytest.mark.parametrize("name", sorted(SETS))
def test_a_set_reads_as_its_single_file_serially_and_on_workers(
    name: str, tmp_path: Path, cli: Callable[..., CliResult]
) -> None:
    whole, cuts = SETS[name]
    single, count = build_set(tmp_path / "set", whole, cuts)
    d = str(tmp_path / "set")
    one = cli("pcap", str(single), "--json")
    serial = cli("pcap", d, "--json")
    assert (one.status, serial.status) == (0, 0), serial.err
    assert len(serial.json()["connections"]) == count
    assert [c["index"] for c in serial.json()["connections"]] == list(range(1, count + 1))
    assert comparable(serial.json()["connections"]) == comparable(one.json()["connections"])
    assert serial.json()["summary"] == one.json()["summary"]
    pytest.importorskip("dask.distributed", reason="pip install '.[cluster]'")
    # twice in this process: the second run finds the forkserver the first one started
    for _ in range(2):
        workers = cli("pcap", d, "--json", "--workers", "2")
        assert (workers.status, workers.err) == (0, "")
        assert workers.json() == serial.json()
    for scope in (
        ["--connection", str(PACK_BATCH + 2)],
        ["--port", str(20000 + 2 * PACK_BATCH)],
        ["--jsonl"],
    ):
        assert cli("pcap", d, *scope, "--workers", "2").out == cli("pcap", d, *scope).out


def _forkserver_of(pid: int) -> int | None:
    """The multiprocessing forkserver among pid's children, once it is running."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return None
    for child in children:
        try:
            if b"forkserver" in Path(f"/proc/{child}/cmdline").read_bytes():
                return int(child)
        except OSError:
            continue
    return None


def test_ctrl_c_while_the_forkserver_loads_the_decoder_is_one_line(tmp_path: Path) -> None:
    """Ctrl-C reaches the terminal's whole process group: the forkserver, started early and
    importing Dask and the decoder for a second or so, printed a KeyboardInterrupt traceback."""
    pytest.importorskip("dask.distributed", reason="pip install '.[cluster]'")
    build_set(tmp_path / "set", [PACK_BATCH, PACK_BATCH], {0})
    proc = subprocess.Popen(
        [sys.executable, "-m", "inspector", "pcap", str(tmp_path / "set"), "--workers", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        start_new_session=True,  # its own process group, as a terminal's
    )
    deadline = time.monotonic() + 60
    while _forkserver_of(proc.pid) is None and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    assert proc.poll() is None, "ended before the forkserver started"
    time.sleep(0.1)  # it imports Dask, scapy and our decoder: ~1 s
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert (proc.returncode, err) == (130, "mtls-inspect: interrupted\n")


PCAP_JSON = """
from inspector.cli import main

def run(path):
    return main(["pcap", path, "--json"])
"""


def test_a_rotation_of_many_files_merges_in_bounded_memory(tmp_path: Path) -> None:
    """tcpdump -C … -W 1000 makes a thousand files: the merge reads every part at once, and a
    256 KiB read buffer for each held 230 MB more (peak 316 MB; ~90 MB with the buffers shared
    out of one budget, as before the per-part readers)."""
    build_set(tmp_path / "set", [1] * 1000, set())
    run = measure(PCAP_JSON, str(tmp_path / "set"))  # its own peak: see tests/helpers/memory.py
    assert run.result == 0
    assert len(json.loads(run.printed)["connections"]) == 1000
    assert run.peak_mb < 200, f"peak RSS {run.peak_mb:.0f} MB"
