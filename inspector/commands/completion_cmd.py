"""`mtls-inspect completion bash|zsh|fish` and `mtls-inspect man`: shell completion and the
manual page, both generated from the argument parser itself, so they never fall behind it.

bash and zsh come from shtab, the page from argparse-manpage; shtab has no fish writer, so
the fish script is generated here from the same parser walk (render/completion.py)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from inspector.commands.help_examples import examples
from inspector.system.errors import ExitStatus

if TYPE_CHECKING:
    from inspector.commands import Subcommands

SHELLS = ("bash", "zsh", "fish")


def add_parser(sub: Subcommands) -> None:
    p = sub.add_parser(
        "completion",
        help="print the shell completion script (bash, zsh, fish)",
        description="Print a completion script generated from this program's own options. "
        "bash: add 'eval \"$(mtls-inspect completion bash)\"' to ~/.bashrc; zsh: save it as "
        "_mtls-inspect in a directory of $fpath; fish: save it as "
        "~/.config/fish/completions/mtls-inspect.fish.",
        **examples(
            "mtls-inspect completion bash > mtls-inspect.bash  # then: source mtls-inspect.bash",
            "mtls-inspect completion fish > mtls-inspect.fish",
        ),
    )
    p.add_argument("shell", choices=SHELLS, help="the shell to complete in")
    p.set_defaults(run=run_completion)
    m = sub.add_parser(
        "man",
        help="print the manual page (roff)",
        description="Print the manual page, generated from this program's own options.",
        **examples("mtls-inspect man | man -l -", "mtls-inspect man > mtls-inspect.1"),
    )
    m.set_defaults(run=run_man)


def run_completion(args: argparse.Namespace) -> int:
    from inspector.render.completion import completion_script
    from inspector.render.emit import emit

    script = completion_script(args.whole_parser(), args.shell)
    return emit(lambda out: out.write(script), ExitStatus.OK)


def run_man(args: argparse.Namespace) -> int:
    from inspector.render.completion import manual_page
    from inspector.render.emit import emit

    page = manual_page(args.whole_parser())
    return emit(lambda out: out.write(page), ExitStatus.OK)
