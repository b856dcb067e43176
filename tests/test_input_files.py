"""Devices, FIFOs and sockets as inputs: one line, never a read without end ("no reads
from FIFOs or devices without a bound"); pipes still feed the streaming readers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LOG = ROOT / "captures" / "java-nocert12.log"


def one_line(result, name: str) -> str:  # type: ignore[no-untyped-def]
    assert result.status == 2, result.out
    line = result.err.strip()
    assert "\n" not in line and line.startswith(f"mtls-inspect: error: {name}: ")
    return line


@pytest.mark.parametrize(
    "argv",
    [
        ("keystore", "/dev/zero"),
        ("pcap", "/dev/zero"),
        ("log", "/dev/zero"),
        ("select", "--keystore", "/dev/zero", "--empty-ca-list"),
    ],
    ids=["keystore", "pcap", "log", "select-keystore"],
)
def test_a_device_is_refused_at_once(cli, argv) -> None:  # type: ignore[no-untyped-def]
    assert "is a device, not a file" in one_line(cli(*argv), "/dev/zero")


def test_a_fifo_keystore_is_refused_without_waiting_for_a_writer(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    fifo = tmp_path / "store.jks"
    os.mkfifo(fifo)
    assert "is a FIFO, not a file" in one_line(cli("keystore", str(fifo)), str(fifo))
    store = str(ROOT / "captures" / "letstestcba.jks")
    names = cli("select", "--keystore", store, "--storepass", "changeit", "--ca-names", str(fifo))
    assert "is a FIFO" in names.err and names.status == 2


def test_a_log_through_a_pipe_is_read_plain_or_gzip(tmp_path: Path) -> None:
    """`mtls-inspect log <(zcat client.log.gz)` hands over /dev/fd/N, a pipe that cannot seek."""
    expected = subprocess.run(
        [sys.executable, "-m", "inspector", "log", str(LOG), "--json"], capture_output=True, text=True
    )
    for producer in (["cat", str(LOG)], ["gzip", "-c", str(LOG)]):
        piped = subprocess.run(
            ["bash", "-c", f"{sys.executable} -m inspector log <({' '.join(producer)}) --json"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert piped.returncode == expected.returncode, piped.stderr
        assert piped.stdout.count('"code"') == expected.stdout.count('"code"') > 0


def test_a_log_on_stdin_from_a_device_is_one_line() -> None:
    """`log - < /dev/zero` read until killed (the binary-data verdict waits for the end of the
    input, which a device never gives); it is refused as a device given by its path is."""
    with open("/dev/zero", "rb") as zero:
        done = subprocess.run(
            [sys.executable, "-m", "inspector", "log", "-"],
            stdin=zero,
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=60,
        )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "mtls-inspect: error: stdin: is a device, not a file — "
        "give the log file the JVM's stderr was written to"
    ]
    assert done.stdout == ""
