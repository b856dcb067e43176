"""--html onto a file that is not ours to write into: another user's report is
refused before it is touched; a hard link's other name keeps its content; a `report` JSON with a
huge integer is one line, exit 2."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CAPTURE = ROOT / "captures" / "tls12-unknown-ca.pcap"


def run(*argv: str | Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "inspector", *map(str, argv)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_html_onto_another_users_file_is_refused_before_truncating(tmp_path: Path) -> None:
    shared = tmp_path / "shared.html"
    shared.write_text("the team's report\n")
    os.chown(shared, 65534, 65534)
    shared.chmod(0o666)
    result = run("pcap", CAPTURE, "--html", shared)
    assert result.returncode == 2, result.stderr
    assert result.stderr == (
        f"mtls-inspect: error: --html {shared}: belongs to another user (uid 65534): not replaced — "
        "give a path of your own (a report holds partners' names: it is written owner-only)\n"
    )
    assert result.stdout == ""  # refused before the capture was read
    assert shared.read_text() == "the team's report\n"
    assert shared.stat().st_uid == 65534


def test_html_through_a_hard_link_leaves_the_other_name_alone(tmp_path: Path) -> None:
    other = tmp_path / "other.txt"
    other.write_text("not a report\n")
    other.chmod(0o644)
    report = tmp_path / "report.html"
    os.link(other, report)
    result = run("pcap", CAPTURE, "--html", report)
    assert result.returncode == 1, result.stderr
    assert other.read_text() == "not a report\n"
    assert stat.S_IMODE(other.stat().st_mode) == 0o644
    assert report.read_text().startswith("<!doctype html>")
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    assert report.stat().st_ino != other.stat().st_ino
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.txt", "report.html"]  # no temp left


def test_report_of_json_with_a_huge_integer(tmp_path: Path) -> None:
    doc = tmp_path / "big.json"
    doc.write_text('{"schema": "mtls-inspector/pcap", "schema_version": 1, "x": ' + "9" * 4301 + "}")
    result = run("report", doc, "--html", tmp_path / "out.html")
    assert result.returncode == 2
    assert result.stderr == (
        f"mtls-inspect: error: {doc}: not JSON this tool reads (a number of more than 4300 digits) — "
        "give the output of --json\n"
    )
