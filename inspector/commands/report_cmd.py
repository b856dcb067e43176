"""`mtls-inspect report FILE.json --html OUT.html`: render a saved JSON document (from a CI job,
a colleague) as the self-contained HTML page, later and elsewhere."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from inspector.commands.help_examples import examples
from inspector.system.errors import ExitStatus, InputError

SCHEMA_PREFIX = "mtls-inspector/"
SUPPORTED_VERSION = 1


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "report",
        help="render a --json document as a self-contained HTML page",
        description="Render the JSON document of keystore, pcap, probe or select (--json) as one "
        "self-contained HTML file: the verdict, the handshake ladder, the CA names beside the chain, "
        "every certificate. It loads nothing from the network and holds no secret.",
        **examples(
            "mtls-inspect pcap captures/several.pcap --json > capture.json",
            "mtls-inspect report capture.json --html capture.html",
            "mtls-inspect pcap captures/several.pcap --json | mtls-inspect report - --html "
            "outside.html --redact",
            note="Exit status: 0 no error findings in the document, 1 error findings, 2 bad input.",
        ),
    )
    p.add_argument("document", metavar="FILE.json", help="a document written with --json ('-': stdin)")
    p.add_argument("--html", metavar="OUT.html", required=True, help="the page to write (0600)")
    p.add_argument(
        "--redact",
        action="store_true",
        help="replace host names, IP and e-mail addresses with consistent pseudonyms "
        "(see docs/html-report.md)",
    )
    p.set_defaults(run=run)


def load_document(name: str) -> dict[str, Any]:
    """The document, or one line naming the file and what is wrong with it."""
    try:
        text = sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InputError(f"{name}: no such file", "give the JSON written by --json") from exc
    except IsADirectoryError as exc:
        raise InputError(f"{name}: is a directory", "give the JSON written by --json") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: not UTF-8 text", "give the JSON written by --json") from exc
    except OSError as exc:
        raise InputError(f"{name}: cannot read ({exc.strerror})", "check the path and permissions") from exc
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{name}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
            "give the output of a command run with --json",
        ) from exc
    except RecursionError as exc:
        raise InputError(f"{name}: JSON nested too deeply", "give the output of --json") from exc
    if not isinstance(document, dict) or not str(document.get("schema", "")).startswith(SCHEMA_PREFIX):
        raise InputError(
            f'{name}: not an mtls-inspector document (no "schema": "mtls-inspector/...")',
            "give the output of keystore, pcap, probe or select run with --json",
        )
    version = document.get("schema_version")
    if version != SUPPORTED_VERSION:
        raise InputError(
            f"{name}: schema_version {json.dumps(version)[:20]} is not supported (this version reads "
            f"{SUPPORTED_VERSION})",
            "render it with the mtls-inspector version that wrote it",
        )
    return document


def has_errors(document: dict[str, Any]) -> bool:
    """Exit status as the command that wrote the document: errors, or Java sending nothing (select)."""
    findings = document.get("findings")
    findings = findings if isinstance(findings, list) else []
    errors = [f for f in findings if isinstance(f, dict) and f.get("severity") == "error"]
    if errors:
        return True
    selection = document.get("selection")
    if document.get("schema") == SCHEMA_PREFIX + "select" and isinstance(selection, dict):
        return not any(selection.get(k) for k in ("pkix", "sunx509", "pkix_possible", "sunx509_possible"))
    return False


def run(args: argparse.Namespace) -> int:
    document = load_document(args.document)
    from inspector.render.html import write_html

    size = write_html(document, args.html, redact=args.redact)
    print(f"wrote {args.html} ({size} bytes{', redacted' if args.redact else ''})")
    return ExitStatus.ERROR_FINDINGS if has_errors(document) else ExitStatus.OK
