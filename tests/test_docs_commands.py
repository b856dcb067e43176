"""Every command shown in README.md and docs/*.md still prints what the page says.

Which blocks: a fenced block (```sh or ```) whose first line starts with `$ mtls-inspect` or
`$ VAR=value mtls-inspect`. Each `$ ` line is a command (a trailing `\\` continues it); the lines
up to the next `$ ` line are its output, as shown. A block is left out only when the line just
before its fence is `<!-- docs-test: skip REASON -->` (the reason is required and is the skip's
message).

How the output is compared: both the shown and the real output are normalised, then the shown
lines must match the real ones in order, exactly, except that
  - a line `...` stands for any number of lines (trimmed output), and
  - a line ending in `…` matches any line that starts with what precedes the `…`.
Normalised (the same regexes on both sides, see NORMALISE): ANSI colour codes; temporary paths
(/tmp/...); dates and times (2026-11-27, 14:15:34.085 UTC, ISO stamps); ports after 127.0.0.1,
::1 and localhost; seconds with 3-4 decimals (ladder times, "at 0.002 s") and the frame numbers
beside them and in "frame N" (a live peer's flight crosses in one segment or two); SHA-256 fingerprints;
byte counts "(N bytes"; the number of anchors in the JDK's cacerts and its path; runs of spaces
(table columns widen with a port's digits) and the length of table rules (---).

`$ ... > FILE` writes stdout to FILE (only stderr is then compared), for a later command of the
same block. Where it runs: in a temporary directory holding a link to captures/, so paths read as in the docs
(captures/...) and the files the commands write land there. Commands addressed to
127.0.0.1:8443 reach the sample server (captures/server.pem, trusting captures/acme-root.pem)
started for the test on a free port.
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from inspector.cli import main

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SAMPLE_PORT = "127.0.0.1:8443"
SKIP = re.compile(r"<!-- docs-test: skip (\S.*?) -->")
COMMAND = re.compile(r"^\$ (?:[A-Z_]+=\S+ )*mtls-inspect\b")

NORMALISE: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\x1b\[[0-9;]*m"), ""),
    (re.compile(r"/tmp/[^\s'\")]+"), "<tmp>"),
    (re.compile(r"/usr/lib/jvm/[^\s'\")]+"), "<jdk>"),
    (re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(\+00:00| UTC)?"), "<time>"),
    (re.compile(r"\d{4}-\d{2}-\d{2}"), "<date>"),
    (re.compile(r"(127\.0\.0\.1|localhost|::1\]?):\d+"), r"\1:<port>"),
    (re.compile(r"\b\d+\.\d{3,4}\b"), "<s>"),
    # a live peer's flight may cross in one TCP segment or two: its frame numbers vary by run
    (re.compile(r"(<s>\s+)\d+(\s)"), r"\1<frame>\2"),
    (re.compile(r"\bframe \d+\b"), "frame <n>"),
    (re.compile(r"\b[0-9a-f]{64}\b|\b(?:[0-9A-F]{2}:){31}[0-9A-F]{2}\b"), "<sha256>"),
    (re.compile(r"\(\d+ bytes"), "(<n> bytes"),
    (re.compile(r"\d+ anchors?"), "<n> anchors"),
    (re.compile(r"-{3,}"), "---"),
    (re.compile(r" {2,}"), " "),
]


def normalise(text: str) -> str:
    for pattern, replacement in NORMALISE:
        text = pattern.sub(replacement, text)
    return "\n".join(line.rstrip() for line in text.splitlines())


@dataclass(frozen=True)
class Shown:
    """One block: its commands, each with the output the page shows for it."""

    page: str
    line: int
    runs: tuple[tuple[str, str], ...]
    skip: str | None

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


def blocks(path: Path) -> Iterator[Shown]:
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        if not lines[i].startswith("```"):
            i += 1
            continue
        start = i
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        body = lines[start + 1 : end]
        if body and COMMAND.match(body[0]):
            marker = SKIP.search(lines[start - 1]) if start else None
            yield Shown(path.name, start + 2, tuple(_commands(body)), marker.group(1) if marker else None)
        i = end + 1


def _commands(body: list[str]) -> Iterator[tuple[str, str]]:
    k = 0
    while k < len(body):
        command = body[k][2:]
        while command.endswith("\\"):
            k += 1
            command = command[:-1] + body[k].strip()
        k += 1
        output = []
        while k < len(body) and not body[k].startswith("$ "):
            output.append(body[k])
            k += 1
        yield command, "\n".join(output)


def pattern_of(shown: str) -> re.Pattern[str]:
    parts = []
    for line in normalise(shown).split("\n"):
        if line == "...":
            parts.append(r"(?:[^\n]*\n)*?")
        elif line.endswith("…"):
            parts.append(re.escape(line[:-1].rstrip()) + r"[^\n]*\n")
        else:
            parts.append(re.escape(line) + r"\n")
    return re.compile("".join(parts))


ALL = [shown for page in PAGES for shown in blocks(page)]


def test_the_docs_show_commands_and_the_marker_is_documented() -> None:
    readme = [s for s in ALL if s.page == "README.md"]
    assert len(readme) >= 6
    # only the server that runs until stopped is left out, and the probe talks to the same one
    assert [s.runs[0][0].split()[1] for s in readme if s.skip] == ["serve"]
    words = [shlex.split(command) for s in ALL for command, _ in s.runs]
    commands = {w[w.index("mtls-inspect") + 1] for w in words}
    assert {"keystore", "pcap", "log", "select", "probe", "report"} <= commands


@pytest.fixture(scope="module")
def sample_server() -> Iterator[int]:
    from inspector.live.reference_server import ReferenceServer

    captures = ROOT / "captures"
    server = ReferenceServer(
        captures / "server.pem", captures / "server.key", [captures / "acme-root.pem"]
    ).start()
    yield server.port
    server.stop()


@pytest.mark.parametrize("shown", ALL, ids=[s.id for s in ALL])
def test_shown_command_prints_what_the_docs_say(
    shown: Shown, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    if shown.skip:
        pytest.skip(shown.skip)
    (tmp_path / "captures").symlink_to(ROOT / "captures")
    monkeypatch.chdir(tmp_path)
    for command, output in shown.runs:
        if SAMPLE_PORT in command:
            port = request.getfixturevalue("sample_server")
            command = command.replace(SAMPLE_PORT, f"127.0.0.1:{port}")
        real = run(command, tmp_path, monkeypatch)
        assert pattern_of(output).fullmatch(real), (
            f"{shown.id}: `{command}` no longer prints what the page shows; it prints:\n{real}"
        )


def run(command: str, here: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The command in-process: its stdout and stderr, normalised."""
    words = shlex.split(command)
    while words[0] != "mtls-inspect":
        key, _, value = words.pop(0).partition("=")
        monkeypatch.setenv(key, value)
    redirect = words.index(">") if ">" in words else None
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(words[1:redirect])
    assert status in (0, 1), (command, err.getvalue())
    if redirect is not None:  # `> FILE`: the file for a later command, only stderr is shown
        (here / words[redirect + 1]).write_text(out.getvalue())
        out = io.StringIO()
    return normalise(out.getvalue() + err.getvalue()) + "\n"


def test_the_comparison_can_fail() -> None:
    """Times, ports and dates are allowed to differ; words, codes and counts are not."""
    real = (
        normalise(
            "Probe 127.0.0.1:40111: TLSv1.3\n   0.0230      3  ClientHello  ───►\n"
            "  [0] CN=localhost  (2026-11-26 .. 2036-11-24)\n3 errors, 0 warnings, 0 info\n"
        )
        + "\n"
    )
    shown = "Probe 127.0.0.1:8443: TLSv1.3\n   0.0101      3  ClientHello  ───►\n"
    assert pattern_of(
        shown + "  [0] CN=localhost  (2027-01-01 .. 2037-01-01)\n3 errors, 0 warnings, 0 info"
    ).fullmatch(real)
    assert pattern_of(shown + "...\n3 errors, 0 warnings, 0 info").fullmatch(real)
    assert pattern_of(shown + "  [0] CN=loc…\n3 errors…").fullmatch(real)
    assert not pattern_of(shown + "...\n2 errors, 0 warnings, 0 info").fullmatch(real)
    assert not pattern_of(shown).fullmatch(real)  # lines left out without ... do not match
    assert not pattern_of(shown.replace("ClientHello", "ServerHello") + "...").fullmatch(real)
