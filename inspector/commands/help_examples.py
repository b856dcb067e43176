"""The examples that end every subcommand's --help: real commands on the sample files in
captures/, kept as written (argparse would re-wrap them into one paragraph)."""

from __future__ import annotations

import argparse
from typing import TypedDict

HEADING = "examples:"


class ExamplesFormatter(argparse.HelpFormatter):
    """Wraps the description as usual; prints the examples epilog line by line."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if text.startswith(HEADING):
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


class HelpKeywords(TypedDict):
    epilog: str
    formatter_class: type[argparse.HelpFormatter]


def examples(*commands: str, note: str = "") -> HelpKeywords:
    """Keyword arguments for `add_parser`: the examples epilog and the formatter that keeps it."""
    text = HEADING + "\n" + "".join(f"  {c}\n" for c in commands)
    return {"epilog": text + (f"\n{note}" if note else ""), "formatter_class": ExamplesFormatter}
