"""`keystore KS --reply FILE [--alias A] [--csr F] [--ca FILE...]`: the reply checked before import."""

from __future__ import annotations

import argparse
from pathlib import Path

from inspector.commands.options import load_from_args, parse_date
from inspector.findings import Finding, Severity
from inspector.render import json_out
from inspector.render.emit import emit_text
from inspector.system.errors import ExitStatus


def add_reply_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("check a CA reply before importing it")
    g.add_argument(
        "--reply",
        metavar="FILE",
        help="the CA's reply (PEM certificate or bundle, DER, PKCS#7 .p7b/.p7c): say what "
        "keytool -importcert will do with it, and the commands to run",
    )
    g.add_argument(
        "--csr", metavar="F", help="with --reply: the CSR sent to the CA (keytool -certreq's file)"
    )
    g.add_argument(
        "--ca",
        metavar="FILE",
        nargs="+",
        action="extend",
        help="CA certificates (root, intermediates) to complete the chain from, for --reply and --repair",
    )


def fail_status(findings: list[Finding], fail_on: str | None) -> ExitStatus:
    """1 when a finding reaches the --fail-on level (default: error), else 0."""
    worst = Severity.WARNING if fail_on == "warning" else Severity.ERROR
    bad = any(f.severity.rank <= worst.rank for f in findings)
    return ExitStatus.ERROR_FINDINGS if bad else ExitStatus.OK


def run_reply(args: argparse.Namespace) -> int:
    from inspector.analysis.reply import check_ca_reply
    from inspector.render.reply import reply_dict, reply_text

    path = Path(args.file[0] if isinstance(args.file, list) else args.file)
    store = load_from_args(args, path)
    check = check_ca_reply(
        store,
        Path(args.reply),
        args.alias,
        Path(args.csr) if args.csr else None,
        [Path(c) for c in args.ca or []],
        parse_date(args.at),
    )
    findings = check.findings
    status = fail_status(findings, getattr(args, "fail_on", None))
    if args.json:
        emit_text(
            json_out.dumps(json_out.envelope("keystore-reply", findings, reply=reply_dict(check))), status
        )
    else:
        emit_text(reply_text(check), status)
    return status
