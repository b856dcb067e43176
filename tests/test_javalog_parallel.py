"""A large log is scanned by a worker process: the report is the same as a serial read's, byte for
byte, and the worker's failures end as the serial read's would (one line, the same status)."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import pytest

from parsers.javalog import parallel, read_log_file
from parsers.javalog.parallel import WorkerScanner
from tests.helpers.interrupt import ctrl_c_while_the_worker_runs
from tests.test_parsers_interrupt import SIGINT_AS_THE_WORKER_STARTS

CAPTURES = Path(__file__).resolve().parent.parent / "captures"
LOGS = sorted(p.name for p in CAPTURES.glob("*.log"))
SERIAL, PARALLEL = str(1 << 40), "0"


def both(cli, monkeypatch, *argv: str):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MTLS_INSPECT_PARALLEL_MIN", SERIAL)
    serial = cli(*argv)
    monkeypatch.setenv("MTLS_INSPECT_PARALLEL_MIN", PARALLEL)
    return serial, cli(*argv)


@pytest.mark.parametrize("form", [[], ["--json"], ["--all"]])
@pytest.mark.parametrize("name", LOGS)
def test_parallel_equals_serial(cli, monkeypatch, name, form):  # type: ignore[no-untyped-def]
    """Every sample log, the server's log among them (not Java's: the other reader reads the
    file's head again)."""
    serial, parallel = both(cli, monkeypatch, "log", str(CAPTURES / name), *form)
    assert serial.status in (0, 1)
    assert serial.out.count("\n") > 5
    assert (parallel.status, parallel.out, parallel.err) == (serial.status, serial.out, serial.err)


def test_many_batches_and_a_gzip_file(cli, monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    """Logs one after the other, 40 times over: hundreds of batches through the pipe, and .gz."""
    body = b"".join((CAPTURES / name).read_bytes() for name in LOGS if name.startswith("java-")) * 40
    plain = tmp_path / "many.log"
    plain.write_bytes(body)
    packed = tmp_path / "many.log.gz"
    packed.write_bytes(gzip.compress(body, compresslevel=1))
    for path in (plain, packed):
        serial, parallel = both(cli, monkeypatch, "log", str(path), "--json")
        assert serial.status == 1
        assert serial.out.count('"index"') == 80  # two handshakes a copy
        assert (parallel.status, parallel.out) == (serial.status, serial.out)


def test_a_cut_gzip_file_is_the_same_one_line(cli, monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    packed = gzip.compress((CAPTURES / "java-nocert12.log").read_bytes() * 20)
    cut = tmp_path / "cut.log.gz"
    cut.write_bytes(packed[: len(packed) // 2])
    serial, parallel = both(cli, monkeypatch, "log", str(cut))
    assert serial.status == 2
    assert serial.err.startswith(f"mtls-inspect: error: {cut}: cannot read (")
    assert (parallel.status, parallel.out, parallel.err) == (serial.status, serial.out, serial.err)


class FailingScanner:
    """Runs in the worker (forked: the patch is inherited) and fails there."""

    error: BaseException = OSError("disk gone")

    def __init__(self, stream: object) -> None:
        self.stats = None

    def entries(self):  # type: ignore[no-untyped-def]
        raise self.error
        yield


def test_an_io_error_in_the_worker_is_an_input_error(cli, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(parallel, "Scanner", FailingScanner)
    monkeypatch.setenv("MTLS_INSPECT_PARALLEL_MIN", PARALLEL)
    result = cli("log", str(CAPTURES / "java-nocert12.log"))
    assert result.status == 2
    assert result.err.startswith(
        f"mtls-inspect: error: {CAPTURES / 'java-nocert12.log'}: cannot read (disk gone)"
    )


def test_a_bug_in_the_worker_is_a_bug(cli, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(FailingScanner, "error", KeyError("boom"))
    monkeypatch.setattr(parallel, "Scanner", FailingScanner)
    monkeypatch.setenv("MTLS_INSPECT_PARALLEL_MIN", PARALLEL)
    result = cli("log", str(CAPTURES / "java-nocert12.log"))
    assert result.status == 70
    assert "log reader failed: KeyError: 'boom'" in result.err


def test_which_inputs_get_a_worker(monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    """A regular file at or over the size; never stdin, a pipe or a smaller file."""
    log = str(CAPTURES / "java-nocert12.log")
    size = os.stat(log).st_size
    monkeypatch.setenv("MTLS_INSPECT_PARALLEL_MIN", str(size))
    reader = read_log_file(log)
    assert reader is not None and isinstance(reader.scanner, WorkerScanner)
    monkeypatch.setenv("MTLS_INSPECT_PARALLEL_MIN", str(size + 1))
    assert read_log_file(log) is None
    monkeypatch.setenv("MTLS_INSPECT_PARALLEL_MIN", PARALLEL)
    assert read_log_file("-") is None
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert read_log_file(str(fifo)) is None
    monkeypatch.delenv("MTLS_INSPECT_PARALLEL_MIN")
    assert parallel.min_parallel_bytes() == 8 << 20


def test_ctrl_c_during_a_parallel_read_is_one_line_and_130(tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "big.log"
    with path.open("wb") as out:
        chunk = (CAPTURES / "java-nocert12.log").read_bytes() * 200
        while out.tell() < 150 << 20:
            out.write(chunk)
    status, err, worker_gone = ctrl_c_while_the_worker_runs(["log", str(path)], after=0.2)
    assert (status, err, worker_gone) == (130, "mtls-inspect: interrupted\n", True)


def test_sigint_as_the_worker_starts_is_ignored_there(tmp_path):  # type: ignore[no-untyped-def]
    """A Ctrl-C reaching the worker before its first line could ignore it (sent by a hook that
    runs in the new process first) changes nothing: no traceback, the same report."""
    log = str(CAPTURES / "java-nocert12.log")
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "MTLS_INSPECT_PARALLEL_MIN": PARALLEL, "PYTHONPATH": str(root)}
    command = [sys.executable, "-m", "inspector", "log", log]
    plain = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    (tmp_path / "sitecustomize.py").write_text(SIGINT_AS_THE_WORKER_STARTS)
    env["PYTHONPATH"] = f"{tmp_path}{os.pathsep}{root}"
    hooked = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    assert (plain.returncode, plain.stderr) == (1, "")
    assert "no-suitable" in plain.stdout or plain.stdout.count("\n") > 10
    assert (hooked.returncode, hooked.stdout, hooked.stderr) == (1, plain.stdout, "")
