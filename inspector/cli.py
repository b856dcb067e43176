"""The `mtls-inspect` entry point: subcommands, exit statuses, one-line errors.

Heavy imports (scapy, pyOpenSSL) happen inside the commands that need them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from inspector import __version__
from inspector.errors import ExitStatus, InputError

COMMANDS = ("keystore", "pcap", "explain")


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on usage errors already; keep its one-line message."""


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="mtls-inspect",
        description="Explains why an outbound mutual-TLS handshake failed.",
        epilog="Exit status: 0 no error findings, 1 error findings, 2 bad input or usage.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--traceback", action="store_true", help="show the Python traceback of an error")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    from inspector.commands import (
        demo_cmd,
        explain_cmd,
        keystore_cmd,
        log_cmd,
        pcap_cmd,
        probe_cmd,
        select_cmd,
        serve_cmd,
    )

    keystore_cmd.add_parser(sub)
    pcap_cmd.add_parser(sub)
    log_cmd.add_parser(sub)
    probe_cmd.add_parser(sub)
    select_cmd.add_parser(sub)
    serve_cmd.add_parser(sub)
    demo_cmd.add_parser(sub)
    explain_cmd.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return ExitStatus.BAD_INPUT
    try:
        return int(args.run(args))
    except InputError as exc:
        if args.traceback:
            raise
        print(f"mtls-inspect: error: {exc.line()}", file=sys.stderr)
        return ExitStatus.BAD_INPUT
    except KeyboardInterrupt:
        print("mtls-inspect: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return ExitStatus.OK
    except Exception as exc:  # an unexpected failure still gets one line, not a traceback
        if args.traceback:
            raise
        print(
            f"mtls-inspect: internal error: {type(exc).__name__}: {exc} "
            "(rerun with --traceback and report it)",
            file=sys.stderr,
        )
        return ExitStatus.BAD_INPUT
