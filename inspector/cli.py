"""The `mtls-inspect` entry point: subcommands, exit statuses, one-line errors.

Heavy imports (scapy, pyOpenSSL) happen inside the commands that need them.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import importlib
import io
import os
import sys
import tempfile
from collections.abc import Sequence
from typing import NoReturn

from inspector import __version__
from inspector.system.errors import ExitStatus, InputError
from inspector.system.process_exit import catch_interrupts, exit_now, say_interrupted, say_line, status_of

#: a write failed for want of room: the disk, the user's quota, the largest file allowed
DEVICE_FULL = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})
#: in `--help` order; each is inspector/commands/<name>_cmd.py with add_parser(sub)
COMMANDS = ("keystore", "pcap", "log", "probe", "select", "serve", "demo", "explain", "report")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole parser, or with `only` one command's (what a run needs: importing the other
    commands costs ~0.1 s, a third of reading a small capture)."""
    parser = argparse.ArgumentParser(
        prog="mtls-inspect",
        description="Explains why an outbound mutual-TLS handshake failed.",
        epilog="Exit status: 0 no error findings, 1 error findings, 2 bad input or usage, "
        "70 a bug in mtls-inspect (rerun with --traceback and report it).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--traceback", action="store_true", help="show the Python traceback of an error")
    _add_colour_option(parser, "auto")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        if only in (None, name):
            importlib.import_module(f"inspector.commands.{name}_cmd").add_parser(sub)
    for command in sub.choices.values():  # also after the subcommand: `pcap F --color always`
        _add_colour_option(command, argparse.SUPPRESS)
    return parser


def _add_colour_option(p: argparse.ArgumentParser, default: str) -> None:
    from inspector.render.text import COLOUR_CHOICES

    p.add_argument(
        "--color",
        choices=COLOUR_CHOICES,
        default=default,
        help="colour severities and the failing step: auto (default) on a terminal unless NO_COLOR "
        "is set; never with --json",
    )


def _colour_stdout(args: argparse.Namespace) -> None:
    """Text reports on a terminal get colour; JSON and pipes never (unless --color always)."""
    from inspector.render.text import ColourStream, wants_colour

    if getattr(args, "json", False) or sys.stdout is None:
        return
    if wants_colour(args.color, sys.stdout, os.environ):
        sys.stdout = ColourStream(sys.stdout)


def run() -> NoReturn:
    """The `mtls-inspect` script and `python -m inspector`: main, then an exit without the
    interpreter's teardown (inspector.system.process_exit)."""
    catch_interrupts()
    try:
        try:
            status = main()
        except SystemExit as exc:  # argparse: --help, --version, usage errors
            status = status_of(exc)
        exit_now(status)
    except KeyboardInterrupt:  # the first Ctrl-C, after main's own handling, before exit_now's
        say_interrupted()
        exit_now(ExitStatus.INTERRUPTED)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:  # Ctrl-C (or the demo's SIGTERM) outside a command's own handling
        say_interrupted()
        return ExitStatus.INTERRUPTED


def _main(argv: Sequence[str] | None) -> int:
    if sys.stderr is None:  # started with stderr closed (2>&-): errors go nowhere, not to stdout
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 (lives as long as the process)
    parser = build_parser(_command_named(sys.argv[1:] if argv is None else argv))
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return ExitStatus.BAD_INPUT
    if sys.stdout is None:  # started with stdout closed (>&-): a report written is one line and 2
        sys.stdout = _ClosedStdout()
    plain = sys.stdout
    _colour_stdout(args)
    try:
        return _dispatch(args)
    finally:
        if sys.stdout is not plain:  # the colour wrapper: its last line out, then stdout as it was
            with contextlib.suppress(OSError, ValueError):
                sys.stdout.flush()
            sys.stdout = plain


class StdoutClosed(OSError):
    """A write to a standard output the run was started without."""


class _ClosedStdout(io.TextIOBase):
    """sys.stdout of a run started with it closed (Python leaves None: a report written was an
    AttributeError, 'internal error', 70). A run writing nothing there (--html) is not refused."""

    def write(self, _text: str) -> int:
        raise StdoutClosed(errno.EBADF, "standard output is closed")


def _dispatch(args: argparse.Namespace) -> int:
    try:
        return int(args.run(args))
    except InputError as exc:
        if args.traceback:
            raise
        _error(f"error: {exc.line()}")
        return ExitStatus.BAD_INPUT
    except KeyboardInterrupt:
        say_interrupted()
        return ExitStatus.INTERRUPTED
    except StdoutClosed:
        _error("error: standard output is closed (>&-): send the report to a file or a pipe")
        return ExitStatus.BAD_INPUT
    except BrokenPipeError:  # the reader went away before the report was written
        from inspector.render.emit import silence_stdout

        silence_stdout()
        return ExitStatus.OK
    except OSError as exc:
        if args.traceback:
            raise
        if exc.errno not in DEVICE_FULL:
            return _internal_error(exc)
        # what is written: the report, an --html page or a probe's --keylog/--capture, and the
        # temporary files a large capture set's merge parks its connections in
        from inspector.render.emit import silence_stdout

        silence_stdout()  # what stdout still buffers would fail again at exit
        _error(
            f"error: cannot write: {exc.strerror} — free space where the report, the --html page or "
            f"the temporary files ({tempfile.gettempdir()}; TMPDIR moves them) go, or write them elsewhere"
        )
        return ExitStatus.BAD_INPUT
    except Exception as exc:  # a bug: one line and its own status, never mistaken for bad input
        if args.traceback:
            raise
        return _internal_error(exc)


def _internal_error(exc: Exception) -> int:
    _error(
        f"internal error: {type(exc).__name__}: {_one_line(exc)} (a bug in mtls-inspect: rerun with "
        "--traceback and report it)"
    )
    return ExitStatus.INTERNAL_ERROR


def _command_named(argv: Sequence[str]) -> str | None:
    """The command a run names (the first argument that is not an option; the top-level
    options take no value), if it is one; else None (help, a typo: the whole parser answers)."""
    first = next((a for a in argv if not a.startswith("-")), None)
    return first if first in COMMANDS else None


def _error(message: str) -> None:
    """One line on stderr; a closed or broken stderr does not change the exit status. Messages
    quote input (a file's bytes, a server's answer): control characters are escaped, so the line
    stays one line and no terminal escape gets through."""
    from parsers.printable import escape_text

    say_line(f"mtls-inspect: {escape_text(message)}")


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).splitlines())
