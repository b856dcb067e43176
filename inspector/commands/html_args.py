"""--html FILE and --redact, shared by keystore, pcap, probe, select and log: the report to attach
to a ticket, written beside the usual text (or JSON) on stdout.

The page is rendered from the command's own --json document (inspector/render/html), so it says
what `mtls-inspect report` would say of that JSON. Jinja2 is imported only when a page is written.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from inspector.system.errors import InputError
from inspector.system.private_files import check_output

if TYPE_CHECKING:
    from inspector.render.html.source import DocumentSource

OPTION = "--html"


def add_html_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        OPTION,
        metavar="OUT.html",
        help="also write the report as one self-contained HTML page (0600; an existing file is replaced)",
    )
    p.add_argument(
        "--redact",
        action="store_true",
        help="with --html: mask host names, IP and e-mail addresses with consistent pseudonyms",
    )


def check_html_args(args: argparse.Namespace) -> None:
    """Before the work starts: a capture is not read, nor a server probed, for a page that cannot
    be written. The writer replaces an existing report, so only links, directories and missing or
    read-only directories are refused."""
    if args.redact and not args.html:
        raise InputError("--redact masks names in the --html page", "give --html OUT.html too")
    if args.html:
        check_output(Path(args.html), OPTION, force=True)


def wants_html(args: argparse.Namespace) -> bool:
    return bool(args.html)


def document_of(write: Callable[[TextIO], object]) -> dict[str, Any]:
    """The JSON document a streaming writer produces, read back (a spool in memory)."""
    buffer = io.StringIO()
    write(buffer)
    document: dict[str, Any] = json.loads(buffer.getvalue())
    return document


def warm_up(args: argparse.Namespace) -> None:
    """With --html, load the page's template now. Called by `pcap` at its first connection, once
    the reader's worker runs: the main process waits on it now and then, and the page is
    otherwise begun after the last connection, when nothing runs beside it."""
    if args.html:
        from inspector.render.html.page import prepare

        prepare()


def write_page(args: argparse.Namespace, document: Mapping[str, Any] | DocumentSource) -> None:
    """Write the page and say so on stderr (stdout keeps the report, or valid JSON). The document
    goes through JSON first, so the page is exactly what `mtls-inspect report` makes of --json; a
    capture's (a `DocumentSource`) is read back from its report's spools, part by part."""
    if not args.html:
        return
    from inspector.render.html import write_html
    from inspector.render.html.source import DocumentSource

    plain = (
        document
        if isinstance(document, DocumentSource)
        else json.loads(json.dumps(document, ensure_ascii=False))
    )
    size = write_html(plain, args.html, redact=args.redact)
    note = ", redacted" if args.redact else ""
    print(f"mtls-inspect: wrote {args.html} ({size} bytes{note})", file=sys.stderr, flush=True)
