"""Nothing raw on a terminal, and no exit 70 from names or encodings :
file names holding terminal escapes or bytes that are not UTF-8, and a standard output that is
not UTF-8 (a Latin-1 locale, a Windows redirect in cp1252). Real processes, real encodings."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CAPTURES = ROOT / "captures"
ESC_NAME = "esc\x1b[31mred\x1b[0m"
OSC_NAME = "osc\x1b]0;TITLE\x07x"
LATIN1 = os.fsdecode(b"caf\xe9")  # 'caf\udce9': a Latin-1 name, as old zips and SMB shares give


def run(
    *argv: str | Path, encoding: str = "utf-8", cwd: Path | None = None
) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": encoding, "NO_COLOR": ""}
    return subprocess.run(
        [sys.executable, "-m", "inspector", *map(os.fsencode, argv)],
        capture_output=True,
        env=env,
        cwd=cwd,
        timeout=120,
        check=False,
    )


@pytest.fixture
def named(tmp_path: Path) -> Path:
    for stem in (ESC_NAME, OSC_NAME, LATIN1):
        shutil.copy(CAPTURES / "tls12-unknown-ca.pcap", tmp_path / f"{stem}.pcap")
        shutil.copy(CAPTURES / "java-nocert12.log", tmp_path / f"{stem}.log")
        shutil.copy(CAPTURES / "letstestcba.jks", tmp_path / f"{stem}.jks")
    return tmp_path


def _no_raw_controls(out: bytes) -> None:
    assert b"\x1b" not in out and b"\x07" not in out, out[:400]


@pytest.mark.parametrize("stem", [ESC_NAME, OSC_NAME])
def test_file_names_with_escapes_are_escaped_on_stdout(named: Path, stem: str) -> None:
    for argv, status in (
        (("pcap", f"{stem}.pcap"), 1),
        (("log", f"{stem}.log"), 1),
        (("keystore", f"{stem}.jks", "--storepass-env", "PW"), 1),
        (("pcap", "."), 1),
    ):
        os.environ["PW"] = "changeit"
        try:
            result = run(*argv, cwd=named)
        finally:
            del os.environ["PW"]
        assert result.returncode == status, (argv, result.stderr)
        _no_raw_controls(result.stdout)
        _no_raw_controls(result.stderr)
        assert b"\\1B" in result.stdout, argv


def test_a_file_name_that_is_not_utf8(named: Path) -> None:
    """Exit 70 (UnicodeEncodeError) before; the name's byte is shown as \\E9, and JSON carries it
    as the \\udce9 escape Python reads back as the same name."""
    for argv in (("pcap", f"{LATIN1}.pcap"), ("log", f"{LATIN1}.log"), ("pcap", ".")):
        result = run(*argv, cwd=named)
        assert result.returncode == 1, (argv, result.stderr)
        assert b"caf\\E9." in result.stdout, argv
        assert b"\\ED\\B3\\A9" not in result.stdout, argv  # the byte, not its surrogate's UTF-8
    doc = run("pcap", f"{LATIN1}.pcap", "--json", cwd=named)
    assert doc.returncode == 1, doc.stderr
    parsed = json.loads(doc.stdout)
    assert parsed["findings"][0]["location"]["file"] == f"{LATIN1}.pcap"
    bad = run("pcap", f"{LATIN1}.log", cwd=named)
    assert bad.returncode == 2
    assert bad.stderr.startswith(b"mtls-inspect: error: caf\\E9.log: not a pcap or pcapng file")


@pytest.mark.parametrize("encoding", ["latin-1", "cp1252", "ascii"])
def test_stdout_that_is_not_utf8(encoding: str) -> None:
    """Exit 70 after one line before; now the whole report, our arrows and rules in ASCII."""
    for argv in (
        ("pcap", CAPTURES / "several.pcap"),
        ("log", CAPTURES / "java-nocert12.log"),
        ("keystore", CAPTURES / "letstestcba.jks", "--storepass", "changeit"),
        ("explain", "client-cert-expired"),
    ):
        result = run(*argv, encoding=encoding)
        assert result.returncode in (0, 1), (argv, result.stderr)
        text = result.stdout.decode(encoding)  # every byte is of that encoding
        assert text.rstrip().endswith("info") or argv[0] == "explain", text[-300:]
        assert "→" not in text
    report = run("pcap", CAPTURES / "several.pcap", encoding=encoding).stdout.decode(encoding)
    assert "127.0.0.1:38274 -> 127.0.0.1:44300" in report
    err = run("pcap", CAPTURES / "java-nocert12.log", encoding=encoding)
    assert err.returncode == 2
    dash = "—" if encoding == "cp1252" else "--"  # cp1252 has the em dash, Latin-1 and ASCII do not
    assert err.stderr.decode(encoding).endswith(f" {dash} give a pcap or pcapng capture file\n")
