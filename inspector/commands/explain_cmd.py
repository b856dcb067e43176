"""`mtls-inspect explain CODE` and the generated docs page of every finding code."""

from __future__ import annotations

import argparse
import difflib
from typing import TYPE_CHECKING

from inspector.commands.help_examples import examples
from inspector.system.errors import ExitStatus, InputError

if TYPE_CHECKING:
    from inspector.commands import Subcommands


def add_parser(sub: Subcommands) -> None:
    p = sub.add_parser(
        "explain",
        help="print the long explanation of a finding code",
        description="Explain a finding code; --list lists them all.",
        **examples(
            "mtls-inspect explain issuer-not-in-ca-list",
            "mtls-inspect explain --list",
        ),
    )
    p.add_argument("code", nargs="?", help="a finding code, e.g. chain-incomplete")
    p.add_argument("--list", action="store_true", help="list every code")
    p.add_argument("--markdown", action="store_true", help="print docs/findings.md")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from inspector.analysis.codes import finding_codes
    from inspector.render.emit import emit, emit_text
    from inspector.render.explain import code_list, code_text, markdown

    registry = finding_codes()
    if args.markdown:
        page = markdown(registry)
        return emit(lambda out: out.write(page), ExitStatus.OK)
    if args.list or not args.code:
        return emit_text(code_list(registry), ExitStatus.OK)
    if args.code not in registry:
        close = difflib.get_close_matches(args.code, list(registry), n=3)
        raise InputError(
            f"unknown finding code '{args.code}'",
            f"did you mean {', '.join(close)}?" if close else "see mtls-inspect explain --list",
        )
    return emit_text(code_text(registry[args.code]), ExitStatus.OK)
