"""Bounded inputs to options: a password file is read up to its first line and
never more than 64 KiB; --workers has a ceiling, said in one line before anything starts."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from inspector.commands.set_args import max_workers

ROOT = Path(__file__).resolve().parent.parent
CAPTURES = ROOT / "captures"


def run(*argv: str | Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "inspector", *map(str, argv)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
        input=None if stdin is None else stdin.decode(),
    )


def test_storepass_file_dev_zero_is_one_line_not_gigabytes() -> None:
    start = time.monotonic()
    result = run("keystore", CAPTURES / "letstestcba.jks", "--storepass-file", "/dev/zero")
    assert time.monotonic() - start < 20
    assert result.returncode == 2
    assert result.stderr == (
        "mtls-inspect: error: --storepass-file /dev/zero: no line end within its first 64 KiB: not a "
        "password file — give a file whose first line is the password\n"
    )


def test_password_files_are_read_to_their_first_line(tmp_path: Path) -> None:
    big = tmp_path / "pw"
    with big.open("wb") as handle:  # the password, then 8 MB the reader must not need
        handle.write(b"changeit\n")
        handle.write(b"x" * (8 << 20))
    result = run("keystore", CAPTURES / "letstestcba.jks", "--storepass-file", big)
    assert result.returncode == 1, result.stderr  # read (its findings: exit 1)
    assert "letstestcba" in result.stdout
    piped = run(
        "keystore", CAPTURES / "letstestcba.jks", "--storepass-file", "/dev/stdin", stdin=b"changeit\n"
    )
    assert piped.returncode == 1 and "letstestcba" in piped.stdout


def test_proxy_password_file_is_bounded_too() -> None:
    result = run(
        "probe",
        "127.0.0.1:9",
        "--proxy",
        "127.0.0.1:9",
        "--proxy-user",
        "u",
        "--proxy-pass-file",
        "/dev/zero",
    )
    assert result.returncode == 2
    assert "--proxy-pass-file /dev/zero: no line end within its first 64 KiB" in result.stderr


def test_workers_above_the_ceiling_is_one_line() -> None:
    start = time.monotonic()
    result = run("pcap", CAPTURES, "--workers", "100000")
    assert time.monotonic() - start < 20
    assert result.returncode == 2
    cpus = os.cpu_count() or 1
    assert result.stderr == (
        f"mtls-inspect: error: --workers 100000: more than {max_workers()} (4 per CPU here) would only "
        f"cost memory — give --workers {cpus} (one per CPU), or --scheduler for a real cluster\n"
    )
