"""Text rendering shared by every command: findings in rustc style, tables, summaries."""

from __future__ import annotations

import io
import re
import textwrap
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from typing import TextIO

from inspector.findings import Finding, Severity

#: Above this many rows, lay the table out ourselves: tabulate takes ~40 µs a row (0.2 s for a
#: capture of 5,000 connections); the layout is the same ("simple", left-aligned, no numparse).
LARGE_TABLE = 500


def table(rows: Sequence[Sequence[str]], headers: Sequence[str]) -> str:
    cells = [[str(c) for c in row] for row in rows]
    titles = [str(h) for h in headers]
    if len(rows) > LARGE_TABLE or (all(map(_plain, titles)) and all(_plain(c) for row in cells for c in row)):
        return simple_table(cells, titles)
    from tabulate import tabulate  # ~20 ms to import (with wcwidth): only for cells that need it

    return str(tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True))


#: one column per character, nothing tabulate would strip or split: tabulate's layout is then
#: simple_table's (tests/test_cli.py holds them equal); wide or combining characters need wcwidth
_PLAIN = re.compile(r"(?:[!-~→](?:[ -~→]*[!-~→])?)?")


def _plain(cell: str) -> bool:
    return _PLAIN.fullmatch(cell) is not None


def write_simple_table(
    out: TextIO, rows: Callable[[], Iterable[Sequence[str]]], headers: Sequence[str]
) -> None:
    """simple_table's layout, written line by line from `rows()` called twice (widths, then the
    lines), so a table of any length is never held in memory."""
    widths = [len(h) + 2 for h in headers]
    for row in rows():
        for i, cell in enumerate(row):
            if len(cell) > widths[i]:
                widths[i] = len(cell)

    def line(cells: Sequence[str]) -> str:
        return "  ".join(cell.ljust(w) for cell, w in zip(cells, widths, strict=True)).rstrip()

    out.write(line(headers) + "\n" + "  ".join("-" * w for w in widths) + "\n")
    for row in rows():
        out.write(line(row) + "\n")


def simple_table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [len(h) + 2 for h in headers]  # tabulate: a header gets 2 columns of padding
    for row in rows:
        for i, cell in enumerate(row):
            if len(cell) > widths[i]:
                widths[i] = len(cell)

    def line(cells: Sequence[str]) -> str:
        return "  ".join(cell.ljust(w) for cell, w in zip(cells, widths, strict=True)).rstrip()

    out = [line(headers), "  ".join("-" * w for w in widths)]
    out += [line(row) for row in rows]
    return "\n".join(out)


def finding(f: Finding) -> str:
    """`error[code]: summary` / `--> where` / `= evidence:` / `= help:` (ruff/rustc style)."""
    lines = [f"{f.severity.value}[{f.code}]: {f.summary}"]
    where = f.location.describe()
    if where:
        lines.append(f"  --> {where}")
    for ev in f.evidence:
        lines.append(f"   = evidence: {ev.source}: {ev.fact}")
    if f.inference:
        lines.append("   = note: this is an inference from what the capture shows")
    if f.fix:
        lines.append(_help(f.fix))
    return "\n".join(lines)


@lru_cache(maxsize=1024)
def _help(fix: str) -> str:
    """The `= help:` lines: a capture repeats the same few fixes thousands of times, and
    textwrap costs ~25 µs a call."""
    wrapped = textwrap.wrap(
        fix, width=96, subsequent_indent=" " * 12, break_on_hyphens=False, break_long_words=False
    )
    return "   = help: " + "\n".join(wrapped)


def summary_line(findings: Iterable[Finding]) -> str:
    counts = {s.value: 0 for s in Severity}
    for f in findings:
        counts[f.severity.value] += 1
    return counts_line(counts)


def counts_line(counts: Mapping[str, int]) -> str:
    """`2 errors, 1 warning, 0 info` from counts by severity name."""

    def plural(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"

    return ", ".join(
        [
            plural(counts[Severity.ERROR.value], "error"),
            plural(counts[Severity.WARNING.value], "warning"),
            f"{counts[Severity.INFO.value]} info",
        ]
    )


def findings_block(findings: Sequence[Finding]) -> str:
    if not findings:
        return "No findings."
    return "\n\n".join(finding(f) for f in findings)


# -- colour on a terminal -------------------------------------------------------------------------
#: ANSI SGR sequences: severity words as rustc/ruff colour them, and the ladder's failing step
SGR = {"error": "\x1b[1;31m", "warning": "\x1b[1;33m", "info": "\x1b[1;36m", "fail": "\x1b[1;31m"}
RESET = "\x1b[0m"
COLOUR_CHOICES = ("auto", "always", "never")
_FINDING_HEAD = re.compile(r"^(\s*)(error|warning|info)(\[[a-z0-9-]+\])")
_COUNTS = re.compile(r"^(\d+) (errors?), (\d+) (warnings?), (\d+) info$")
FAILS_HERE = "✗ fails here"


def wants_colour(choice: str, stream: TextIO, environ: Mapping[str, str]) -> bool:
    """`always` and `never` as said; `auto`: a terminal, unless NO_COLOR is set (no-color.org:
    any non-empty value) or TERM is dumb. Never guessed for a pipe or a file."""
    if choice != "auto":
        return choice == "always"
    if environ.get("NO_COLOR") or environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def colour_line(line: str) -> str:
    """One report line with its severity word (and code), counts or failing step coloured.
    Only our own line shapes are matched; input text never starts a line (it is sanitised)."""
    head = _FINDING_HEAD.match(line)
    if head:
        indent, word, code = head.groups()
        return f"{indent}{SGR[word]}{word}{code}{RESET}{line[head.end() :]}"
    if line.rstrip().endswith(FAILS_HERE):
        return f"{SGR['fail']}{line}{RESET}"
    counts = _COUNTS.match(line)
    if counts:
        errors, e_word, warnings, w_word, infos = counts.groups()
        e = f"{errors} {e_word}"
        w = f"{warnings} {w_word}"
        e = f"{SGR['error']}{e}{RESET}" if errors != "0" else e
        w = f"{SGR['warning']}{w}{RESET}" if warnings != "0" else w
        return f"{e}, {w}, {infos} info"
    return line


class ColourStream(io.TextIOBase):
    """Stdout for a text report on a terminal: whole lines are coloured as they are written."""

    def __init__(self, target: TextIO) -> None:
        super().__init__()
        self._target = target
        self._partial = ""

    def write(self, text: str) -> int:
        lines = (self._partial + text).split("\n")
        self._partial = lines.pop()
        if lines:
            self._target.write("".join(colour_line(line) + "\n" for line in lines))
        return len(text)

    def flush(self) -> None:
        if self._partial:
            self._target.write(colour_line(self._partial))
            self._partial = ""
        self._target.flush()

    def fileno(self) -> int:
        return self._target.fileno()

    def isatty(self) -> bool:
        return self._target.isatty()

    def writable(self) -> bool:
        return True
