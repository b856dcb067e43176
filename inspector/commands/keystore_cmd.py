"""`mtls-inspect keystore FILE`: entries, chains with link checks, findings."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from inspector.commands.help_examples import examples
from inspector.commands.html_args import add_html_options, check_html_args, write_page
from inspector.commands.keystore_many import add_set_options, is_set, run_set, window
from inspector.commands.keystore_repair import add_repair_options, run_repair
from inspector.commands.keystore_reply import add_reply_options, fail_status, run_reply
from inspector.commands.options import load_from_args, parse_date
from inspector.commands.password_args import add_keystore_password_options
from inspector.commands.server_args import add_server_options, judge_from_args, server_trust_from_args
from inspector.findings import sort_findings
from inspector.render import json_out
from inspector.render.emit import emit_text
from inspector.render.keystore import keystore_dict, keystore_text
from inspector.system.errors import InputError

if TYPE_CHECKING:
    from inspector.commands import Subcommands


def add_parser(sub: Subcommands) -> None:
    p = sub.add_parser(
        "keystore",
        help="inspect a JKS / JCEKS / PKCS#12 / PEM keystore",
        description="List the entries and chains of a keystore and explain what "
        "would break an outbound mutual-TLS call.",
        **examples(
            "STOREPASS=changeit mtls-inspect keystore captures/letstestcba.jks --storepass-env STOREPASS",
            "STOREPASS=changeit mtls-inspect keystore captures/guide/letstestcba.p12 --storepass-env "
            "STOREPASS --reply captures/guide/SignedServerCert.pem --ca captures/guide/root.pem "
            "captures/guide/intermediate.pem",
            "STOREPASS=changeit mtls-inspect keystore captures/letstestcba.jks --storepass-env "
            "STOREPASS --repair fixed.p12",
        ),
    )
    p.add_argument(
        "file",
        nargs="+",
        help="the keystore (type is read from its bytes, not its name); several, a directory or a "
        "quoted glob judge many in one run",
    )
    add_keystore_password_options(p)
    p.add_argument("--alias", help="focus on one entry")
    p.add_argument("--at", metavar="YYYY-MM-DD", help="judge validity at this date (default: now)")
    add_server_options(p)
    p.add_argument("--json", action="store_true", help="machine-readable output (schema v1)")
    add_html_options(p)
    add_reply_options(p)
    add_set_options(p)
    add_repair_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.repair is not None:
        return run_repair(args)
    if args.reply is not None:
        return run_reply(args)
    if args.csr is not None:
        raise InputError("--csr goes with --reply", "give the CA's reply with --reply FILE")
    if is_set(args):
        return run_set(args)
    from inspector.analysis.keystore import judge_keystore

    path = Path(args.file[0])
    at = parse_date(args.at)
    check_html_args(args)
    store = load_from_args(args, path)
    aliases = [e.alias for e in store.key_entries] + [t.alias for t in store.trusted_entries]
    if args.alias is not None and args.alias not in aliases:
        raise InputError(
            f"{path}: no entry with alias '{args.alias}'", f"aliases here: {', '.join(aliases) or '(none)'}"
        )
    findings = judge_keystore(store, at, window(args), args.alias)
    # --server-ca: the partner's server's verdict on each key entry's chain
    server_trust = server_trust_from_args(args)
    judged = []
    if server_trust is not None:
        judged = [
            judge_from_args(args, server_trust, e.chain, at, e.alias, str(path))
            for e in store.key_entries
            if e.chain and (args.alias is None or e.alias == args.alias)
        ]
        findings = sort_findings([*findings, *(f for j in judged for f in j.findings)])
    status = fail_status(findings, args.fail_on)
    payload: dict[str, json_out.JsonValue] = {"keystore": keystore_dict(store, at, args.alias)}
    if server_trust is not None:
        from inspector.render.server_verdicts import verdicts_json

        payload["server_verdicts"] = [item for j in judged for item in verdicts_json(j)]
    document = json_out.envelope("keystore", findings, **payload) if args.json or args.html else None
    report = ""
    if document is None or not args.json:
        from inspector.render.server_verdicts import verdicts_text

        report = keystore_text(store, findings, at, args.alias) + "".join(
            verdicts_text(j, with_findings=False) for j in judged
        )
    emit_text(json_out.dumps(document) if document is not None and args.json else report, status)
    if document is not None:  # after the report: the terminal ends with where the page is
        write_page(args, document)
    return status
