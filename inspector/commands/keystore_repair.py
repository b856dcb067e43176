"""`keystore KS --repair OUT [--ca FILE...] [--reply FILE] [--repair-type PKCS12|JKS] [--force]`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from inspector.system.errors import InputError

if TYPE_CHECKING:
    import datetime as dt

    from inspector.java.key_managers import Selection
    from inspector.keystore.model import Keystore


def add_repair_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("fix my keystore (a new file; the input is never changed)")
    g.add_argument(
        "--repair",
        metavar="OUT",
        help="write a corrected keystore to OUT (0600): the signed certificate under the key's alias, "
        "the chain completed and ordered leaf → root from the store, --reply and --ca files",
    )
    g.add_argument(
        "--repair-type",
        choices=("PKCS12", "JKS"),
        default="PKCS12",
        type=str.upper,
        help="the type written (default PKCS12, what keytool writes since Java 9)",
    )
    g.add_argument("--force", action="store_true", help="with --repair: replace OUT if it exists")
    g.add_argument(
        "--ca-names",
        metavar="F",
        help="with --repair: the server's CA names (PEM certificates or one DN per line): show what a "
        "Java client sends before and after",
    )
    g.add_argument(
        "--from-server",
        metavar="HOST:PORT",
        help="with --repair: read the CA names from the server's CertificateRequest (one handshake "
        "without a certificate; the server's own certificate is not judged)",
    )


def run_repair(args: argparse.Namespace) -> int:
    from inspector.analysis.repair import OutputType, repair
    from inspector.commands.keystore_many import window
    from inspector.commands.keystore_reply import fail_status
    from inspector.commands.options import load_from_args, parse_date
    from inspector.commands.password_args import resolve_password
    from inspector.pki.bundles import read_certificate_file
    from inspector.render import json_out
    from inspector.render.emit import emit_text
    from inspector.render.repair import repair_dict, repair_text
    from inspector.system.input_files import read_limited
    from inspector.system.private_files import check_output, open_private

    if len(args.file) != 1:
        raise InputError("--repair takes one keystore", "repair the stores one at a time")
    path, out = Path(args.file[0]), Path(args.repair)
    if out.resolve() == path.resolve() or (out.exists() and path.exists() and out.samefile(path)):
        raise InputError(
            f"--repair {out}: is the input keystore", "give a new file: the input is never overwritten"
        )
    check_output(out, "--repair", args.force)
    if args.ca_names and args.from_server:
        raise InputError("--ca-names and --from-server both name the CAs", "give one of them")
    at = parse_date(args.at)
    store = load_from_args(args, path)
    password = resolve_password(args, "storepass", None)
    if password is None or not store.integrity_checked:
        raise InputError(
            f"{path}: no store password",
            "a repair writes the keys again: give --storepass-env VAR or --storepass-file F",
        )
    extra = []
    for name in [*(args.ca or []), *([args.reply] if args.reply else [])]:
        option = "--reply" if name == args.reply else "--ca"
        content = read_certificate_file(
            read_limited(Path(name), 16 * 1024 * 1024, "a certificate file", "give PEM, DER or PKCS#7")
        )
        if not content.readable:
            raise InputError(
                f"{option} {name}: {content.problem or 'empty'}", "give certificates (PEM, DER or PKCS#7)"
            )
        extra += [(name, cert) for cert in content.certificates]
    result = repair(store, out, OutputType(args.repair_type), password, extra, at, window(args), args.alias)
    before_sel = after_sel = None
    if args.ca_names or args.from_server:
        before_sel, after_sel = _selections(args, store, result.after_store, at)
    with open_private(out, "--repair", args.force) as handle:
        handle.write(result.data)
    status = fail_status(result.after, args.fail_on)
    if args.json:
        document = json_out.envelope(
            "keystore-repair", result.after, repair=repair_dict(result, before_sel, after_sel)
        )
        emit_text(json_out.dumps(document), status)
    else:
        emit_text(repair_text(result, before_sel, after_sel), status)
    return status


def _selections(
    args: argparse.Namespace, before: Keystore, after: Keystore, at: dt.datetime
) -> tuple[Selection, Selection]:
    from inspector.analysis import ca_request
    from inspector.commands.java_args import COMMON_CERT_TYPES, COMMON_SIGALGS
    from inspector.java.key_managers import select

    if args.from_server:
        from inspector.live.attempt import Target
        from inspector.live.probe import parse_target

        host, port = parse_target(args.from_server)
        target = Target(host, port, None, None, 10.0, None, True, None)
        request = ca_request.from_server(target, args.from_server)
        return select(before, request, at), select(after, request, at)
    names = ca_request.names_from_file(Path(args.ca_names))
    request = ca_request.from_names(
        names,
        False,
        str(args.ca_names),
        signature_algorithms=COMMON_SIGALGS,
        certificate_types=COMMON_CERT_TYPES,
        assumed="assumed: what OpenSSL-based servers send (TLS 1.2)",
    )
    return select(before, request, at), select(after, request, at)
