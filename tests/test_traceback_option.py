"""`--traceback` where "rerun with --traceback" leads users: appended after the subcommand
(it was a usage error there, exit 2, "unrecognized arguments")."""

from __future__ import annotations

from pathlib import Path

import pytest

from inspector.cli import main
from inspector.system.errors import InputError


def test_traceback_after_the_subcommand(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "x.json"
    bad.write_text("{")
    argv = ["report", str(bad), "--html", str(tmp_path / "y.html")]
    assert main(argv) == 2
    assert capsys.readouterr().err.startswith(f"mtls-inspect: error: {bad}: not JSON")
    with pytest.raises(InputError):  # the traceback is shown: the error propagates
        main([*argv, "--traceback"])
    with pytest.raises(InputError):
        main(["--traceback", *argv])


def test_traceback_is_off_unless_given(tmp_path: Path) -> None:
    from inspector.cli import build_parser

    args = build_parser("pcap").parse_args(["pcap", "x.pcap"])
    assert args.traceback is False
    args = build_parser("pcap").parse_args(["pcap", "x.pcap", "--traceback"])
    assert args.traceback is True
