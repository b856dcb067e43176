"""Text rendering shared by every command: findings in rustc style, tables, summaries."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from typing import Any

from inspector.findings import Finding, Severity


def table(rows: Sequence[Sequence[Any]], headers: Sequence[str]) -> str:
    from tabulate import tabulate

    return str(tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True))


def heading(text: str) -> str:
    return f"{text}\n{'=' * len(text)}"


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
        wrapped = textwrap.wrap(f.fix, width=96, subsequent_indent=" " * 12,
                                break_on_hyphens=False, break_long_words=False)
        lines.append("   = help: " + "\n".join(wrapped))
    return "\n".join(lines)


def summary_line(findings: Iterable[Finding]) -> str:
    counts = {s: 0 for s in Severity}
    for f in findings:
        counts[f.severity] += 1

    def plural(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"

    return ", ".join([plural(counts[Severity.ERROR], "error"),
                      plural(counts[Severity.WARNING], "warning"),
                      f"{counts[Severity.INFO]} info"])


def findings_block(findings: Sequence[Finding]) -> str:
    if not findings:
        return "No findings."
    return "\n\n".join(finding(f) for f in findings)
