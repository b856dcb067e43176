"""Every subcommand's --help ends with two or three examples, and the examples that need only the
sample files in captures/ really run (exit 0 or 1, no error line): help that lies is worse than none."""

from __future__ import annotations

import argparse
import contextlib
import io
import shlex
from pathlib import Path

import pytest

from inspector.cli import build_parser, main

ROOT = Path(__file__).resolve().parent.parent


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def examples_of(help_text: str) -> list[str]:
    """The example lines (indented, after 'examples:', up to the first blank line)."""
    block = help_text.split("\nexamples:\n", 1)[1]
    return [line.strip() for line in block.split("\n\n", 1)[0].splitlines()]


def test_every_subcommand_ends_with_two_or_three_examples() -> None:
    found = subcommands()
    assert set(found) == {
        *("keystore", "pcap", "log", "probe", "select", "serve", "demo", "explain", "report"),
        *("completion", "man"),
    }
    for name, parser in found.items():
        text = parser.format_help()
        assert "\nexamples:\n" in text, name
        shown = examples_of(text)
        assert 2 <= len(shown) <= 3, (name, shown)
        assert all("mtls-inspect " in line for line in shown), (name, shown)
        assert any(f"mtls-inspect {name}" in line for line in shown), name
        # the examples are the last section: at most a one-paragraph note follows them
        tail = text.split("\nexamples:\n", 1)[1].split("\n\n")
        assert len(tail) <= 2 and not tail[-1].lstrip().startswith("-"), name


#: examples that need more than the sample files, and why they are not run here
NOT_RUN = {
    "demo": "starts its own server (tests/live/test_serve.py runs the demo)",
    "serve": "a server that runs until stopped (tests/test_docs_commands.py runs the sample server)",
    "8443": "needs the sample server running (tests/test_docs_commands.py runs it)",
    "java ": "needs the user's Java application",
    "|": "a pipeline (tests/test_html_report.py covers report from stdin)",
}


def runnable_examples(name: str) -> list[str]:
    parser = subcommands()[name]
    return [line for line in examples_of(parser.format_help()) if not any(m in line for m in NOT_RUN)]


@pytest.mark.parametrize("name", sorted(subcommands()))
def test_sample_file_examples_run(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A command's examples in order (report's second reads what its first wrote), from a
    directory holding captures/ (a link), so what an example writes lands in tmp_path."""
    (tmp_path / "captures").symlink_to(ROOT / "captures")
    monkeypatch.chdir(tmp_path)
    for line in runnable_examples(name):
        words = shlex.split(line.split("  #", 1)[0])
        while "=" in words[0]:
            key, _, value = words.pop(0).partition("=")
            monkeypatch.setenv(key, value)
        redirect = words.index(">") if ">" in words else None
        argv = words[1:redirect]
        assert words[0] == "mtls-inspect" and argv[0] in subcommands()
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = main(argv)
        assert status in (0, 1), (line, err.getvalue())
        assert "error:" not in err.getvalue() and out.getvalue(), line
        if redirect is not None:
            (tmp_path / words[redirect + 1]).write_text(out.getvalue())
    ran = {"keystore": 3, "pcap": 3, "log": 2, "probe": 0, "select": 2, "serve": 0, "demo": 0}
    ran |= {"explain": 2, "report": 2, "completion": 2, "man": 1}
    assert len(runnable_examples(name)) == ran[name]
