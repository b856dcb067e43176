"""Text rendering shared by every command: findings in rustc style, tables, summaries."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Mapping, Sequence

from inspector.findings import Finding, Severity

#: Above this many rows, lay the table out ourselves: tabulate takes ~40 µs a row (0.2 s for a
#: capture of 5,000 connections); the layout is the same ("simple", left-aligned, no numparse).
LARGE_TABLE = 500


def table(rows: Sequence[Sequence[str]], headers: Sequence[str]) -> str:
    if len(rows) > LARGE_TABLE:
        return simple_table([[str(c) for c in row] for row in rows], [str(h) for h in headers])
    from tabulate import tabulate

    return str(tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True))


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
        wrapped = textwrap.wrap(
            f.fix, width=96, subsequent_indent=" " * 12, break_on_hyphens=False, break_long_words=False
        )
        lines.append("   = help: " + "\n".join(wrapped))
    return "\n".join(lines)


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
