"""A report written to a full disk (/dev/full: every write fails with ENOSPC) is one line and
status 2, not "internal error … a bug in mtls-inspect" (70) as it was."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CAPTURES = ROOT / "captures"
FULL = Path("/dev/full")

pytestmark = pytest.mark.skipif(not FULL.exists(), reason="no /dev/full here")

LINE = (
    "mtls-inspect: error: cannot write: No space left on device — free space where the report, the "
    f"--html page or the temporary files ({tempfile.gettempdir()}; TMPDIR moves them) go, or write "
    "them elsewhere\n"
)


def _to_full_disk(*argv: str) -> tuple[int, str]:
    with FULL.open("w") as full:
        run = subprocess.run(
            [sys.executable, "-m", "inspector", *argv],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT), "MTLS_TEST_STOREPASS": "changeit"},
            timeout=120,
            check=False,
        )
    return run.returncode, run.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ("pcap", str(CAPTURES / "several.pcap")),
        ("pcap", str(CAPTURES / "several.pcap"), "--json"),
        ("keystore", str(CAPTURES / "letstestcba.jks"), "--storepass-env", "MTLS_TEST_STOREPASS"),
        ("log", str(CAPTURES / "java-nocert12.log")),
        ("explain", "--list"),
    ],
    ids=["pcap", "pcap-json", "keystore", "log", "explain"],
)
def test_a_report_to_a_full_disk_is_one_line_and_2(argv: tuple[str, ...]) -> None:
    assert _to_full_disk(*argv) == (2, LINE)


def test_what_stdout_still_holds_at_exit_is_one_line_and_2(tmp_path: Path) -> None:
    # what is written only at exit: stdout buffered as for a regular file (/dev/full's own
    # buffer is a byte or so, so every write fails at once), and --version's line in it
    (tmp_path / "sitecustomize.py").write_text(
        "import io, sys\n"
        "sys.stdout = io.TextIOWrapper(io.BufferedWriter(io.FileIO(1, 'w', closefd=False), 1 << 16))\n"
    )
    with FULL.open("w") as full:
        run = subprocess.run(
            [sys.executable, "-m", "inspector", "--version"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])},
            timeout=60,
            check=False,
        )
    assert (run.returncode, run.stderr) == (
        2,
        "mtls-inspect: error: cannot write to standard output (No space left on device)\n",
    )
