"""Shell completion scripts and the manual page, written from the argument parser.

shtab writes bash and zsh, argparse-manpage the roff page; fish (which shtab does not write)
is generated here by walking the same parser. Arguments that name a file complete file names:
they are recognised by their metavar, the convention every command's options follow.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator

from inspector import __version__

#: metavars (and positional names) of arguments that take a path
FILE_METAVARS = frozenset({"F", "FILE", "PATH", "FILE.json", "OUT.html", "OUT.keys", "OUT.pcap", "KS", "OUT"})
FILE_POSITIONALS = frozenset({"file", "files", "document", "keystore"})


def _takes_file(action: argparse.Action) -> bool:
    if action.option_strings:
        return action.metavar in FILE_METAVARS
    return action.dest in FILE_POSITIONALS or action.metavar in FILE_METAVARS


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _help_of(sub: argparse._SubParsersAction[argparse.ArgumentParser], name: str) -> str:
    for choice in sub._choices_actions:
        if choice.dest == name:
            return choice.help or ""
    return ""


def completion_script(parser: argparse.ArgumentParser, shell: str) -> str:
    if shell == "fish":
        return "\n".join(_fish_lines(parser)) + "\n"
    import shtab

    for action in _all_actions(parser):
        if _takes_file(action):
            action.complete = shtab.FILE  # type: ignore[attr-defined]
    script: str = shtab.complete(parser, shell=shell)
    return script if script.endswith("\n") else script + "\n"


def _all_actions(parser: argparse.ArgumentParser) -> Iterator[argparse.Action]:
    yield from parser._actions
    for sub in _subcommands(parser).values():
        yield from _all_actions(sub)


def _fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _short_help(text: str | None) -> str:
    """fish shows one line: the help's first clause, argparse's %-escapes undone."""
    if not text or text == argparse.SUPPRESS:
        return ""
    one = " ".join(text.replace("%%", "%").split())
    return re.split(r"(?<=[a-z)]): |; |\. ", one, maxsplit=1)[0][:90]


def _fish_option(prog: str, condition: str, action: argparse.Action) -> str | None:
    if action.help == argparse.SUPPRESS:
        return None
    parts = [f"complete -c {prog}", f"-n {_fish_quote(condition)}"]
    for flag in action.option_strings:
        parts.append(f"-l {flag[2:]}" if flag.startswith("--") else f"-s {flag[1:]}")
    if action.nargs != 0:
        if action.choices:
            parts.append("-x -a " + _fish_quote(" ".join(str(c) for c in action.choices)))
        elif _takes_file(action):
            parts.append("-r -F")
        else:
            parts.append("-x")
    help_text = _short_help(action.help)
    if help_text:
        parts.append("-d " + _fish_quote(help_text))
    return " ".join(parts)


def _fish_lines(parser: argparse.ArgumentParser) -> Iterator[str]:
    prog = parser.prog
    subs = _subcommands(parser)
    sub_action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    yield f"# fish completion for {prog} {__version__}, generated from its argument parser"
    yield f"complete -c {prog} -f"
    top = "__fish_use_subcommand"
    for action in parser._actions:
        if action.option_strings:
            line = _fish_option(prog, top, action)
            if line:
                yield line
    for name in subs:
        described = _fish_quote(_short_help(_help_of(sub_action, name)))
        yield f"complete -c {prog} -n {top} -a {name} -d {described}"
    for name, sub in subs.items():
        condition = f"__fish_seen_subcommand_from {name}"
        for action in sub._actions:
            if action.option_strings:
                line = _fish_option(prog, condition, action)
                if line:
                    yield line
            elif action.choices:
                choices = _fish_quote(" ".join(str(c) for c in action.choices))
                yield f"complete -c {prog} -n {_fish_quote(condition)} -x -a {choices}"
            elif _takes_file(action):
                yield f"complete -c {prog} -n {_fish_quote(condition)} -F"


def manual_page(parser: argparse.ArgumentParser) -> str:
    from argparse_manpage.manpage import Manpage

    page = Manpage(parser)
    page.source = f"mtls-inspector {__version__}"
    page.manual = "mtls-inspector manual"
    page.description = parser.description
    text = str(page)
    return text if text.endswith("\n") else text + "\n"
