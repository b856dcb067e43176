"""`mtls-inspect select`: which key entry a Java client sends for a given CertificateRequest."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from inspector.commands.help_examples import examples
from inspector.commands.html_args import add_html_options, check_html_args, write_page
from inspector.commands.java_args import (
    add_java_version_option,
    add_request_options,
    apply_java_version,
    assumed_request,
)
from inspector.commands.password_args import add_keystore_password_options
from inspector.commands.proxy_args import add_proxy_options, proxy_from_args
from inspector.commands.server_args import add_server_options, judge_from_args, server_trust_from_args
from inspector.system.errors import ExitStatus, InputError

if TYPE_CHECKING:
    from inspector.commands import Subcommands
    from inspector.java.key_managers import CaRequest


def add_parser(sub: Subcommands) -> None:
    p = sub.add_parser(
        "select",
        help="which key entry a Java client would send to a server",
        description="Simulate Java's SunX509 and PKIX key managers for a "
        "CertificateRequest, beside what OpenSSL/curl would send.",
        **examples(
            "STOREPASS=changeit mtls-inspect select --keystore captures/letstestcba.jks "
            "--storepass-env STOREPASS --ca-names captures/partner-ca-names.txt",
            "STOREPASS=changeit mtls-inspect select --keystore captures/letstestcba.jks "
            "--storepass-env STOREPASS --from-pcap captures/several.pcap",
            "STOREPASS=changeit mtls-inspect select --keystore captures/letstestcba.jks "
            "--storepass-env STOREPASS --from-server 127.0.0.1:8443   # a running serve",
            note="Exit status 1: a Java client would send an empty Certificate.",
        ),
    )
    p.add_argument("--keystore", required=True, metavar="F", help="the client's keystore")
    add_keystore_password_options(p)
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--ca-names",
        metavar="FILE",
        help="PEM certificates, or a text file "
        "with one DN per line (RFC 4514, e.g. CN=Partner Root,O=Partner)",
    )
    source.add_argument(
        "--from-pcap",
        metavar="F",
        help="take the CertificateRequest from a capture (see --connection, --keylog)",
    )
    source.add_argument(
        "--from-server",
        metavar="HOST:PORT",
        help="ask the server itself (one handshake without a certificate)",
    )
    source.add_argument("--empty-ca-list", action="store_true", help="a server naming no CA")
    p.add_argument(
        "--connection",
        "-c",
        type=int,
        metavar="N",
        help="with --from-pcap: the connection (default: the first with a request)",
    )
    p.add_argument("--keylog", metavar="F", help="with --from-pcap: key log for TLS 1.3")
    p.add_argument(
        "--tls-version",
        choices=["1.2", "1.3"],
        default=None,
        help="the TLS version of the request (default: as observed, else 1.2)",
    )
    p.add_argument("--ca-file", metavar="F", help="with --from-server: CA for the server")
    p.add_argument("--timeout", type=float, default=10.0, help="with --from-server (seconds)")
    add_proxy_options(p)
    p.add_argument("--at", metavar="YYYY-MM-DD", help="judge validity at this date")
    add_java_version_option(p)
    add_request_options(p)
    add_server_options(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    add_html_options(p)
    p.set_defaults(run=run)


def request_from_args(args: argparse.Namespace) -> CaRequest:
    """The request to choose for, from whichever source the options name."""
    from inspector.analysis import ca_request

    tls13 = args.tls_version == "1.3"
    if args.empty_ca_list:
        return ca_request.from_names([], tls13, "--empty-ca-list", **assumed_request(args, tls13))
    if args.ca_names:
        names = ca_request.names_from_file(Path(args.ca_names))
        return ca_request.from_names(names, tls13, str(args.ca_names), **assumed_request(args, tls13))
    if args.from_pcap:
        return ca_request.from_pcap(
            Path(args.from_pcap), Path(args.keylog) if args.keylog else None, args.connection
        )
    from inspector.live.attempt import Target
    from inspector.live.probe import parse_target

    host, port = parse_target(args.from_server)
    proxy, credentials = proxy_from_args(args)
    target = Target(
        host,
        port,
        None,
        args.tls_version,
        args.timeout,
        args.ca_file,
        True,
        None,
        proxy=proxy,
        proxy_credentials=credentials,
    )
    return ca_request.from_server(target, args.from_server)


def run(args: argparse.Namespace) -> int:
    from inspector.commands.options import load_from_args, parse_date
    from inspector.findings import has_errors
    from inspector.java.key_managers import select
    from inspector.render import json_out
    from inspector.render.emit import emit_text
    from inspector.render.selection import select_text, selection_dict
    from inspector.render.server_verdicts import verdicts_json, verdicts_text

    apply_java_version(args)
    if (args.sigalgs or args.cert_types) and not (args.ca_names or args.empty_ca_list):
        raise InputError(
            "--sigalgs/--cert-types describe an assumed request",
            "use them with --ca-names or --empty-ca-list (a live or captured request has its own)",
        )
    if (args.proxy or args.proxy_user) and not args.from_server:
        raise InputError(
            "--proxy goes with --from-server",
            "ask the server through the proxy: --from-server HOST:PORT --proxy PROXY:PORT",
        )
    check_html_args(args)
    server_trust = server_trust_from_args(args)
    store = load_from_args(args, Path(args.keystore))
    request = request_from_args(args)
    at = parse_date(args.at) if args.at else dt.datetime.now(dt.timezone.utc)
    sel = select(store, request, at)
    # nothing sent, or an entry chosen and then the handshake ended (no CertificateVerify)
    failed = sel.java_sends_nothing or sel.pkix_aborts is not None
    status = ExitStatus.ERROR_FINDINGS if failed else ExitStatus.OK
    # --server-ca: the partner's server's verdict on the chain Java sends
    server = None
    sent = (sel.pkix or sel.sunx509)[:1]
    entry = next((e for e in store.key_entries if sent and e.alias == sent[0]), None)
    if server_trust is not None:
        chain = entry.chain if entry is not None else ()  # Java sends nothing: an empty Certificate
        alias = entry.alias if entry is not None else None
        # the entry OpenSSL/curl send, when the CA names make Java send another (or none)
        configured = next((e for e in store.key_entries if e.alias == sel.openssl_sends and e.chain), None)
        other = (
            (configured.alias, configured.chain)
            if configured is not None and configured is not entry
            else None
        )
        server = judge_from_args(args, server_trust, chain, at, alias, str(args.keystore), other)
        if has_errors(server.findings):
            status = ExitStatus.ERROR_FINDINGS
    payload: dict[str, json_out.JsonValue] = {"selection": selection_dict(sel)}
    if server is not None:
        payload["server_verdicts"] = verdicts_json(server)
    document = (
        json_out.envelope("select", server.findings if server else [], **payload)
        if args.json or args.html
        else None
    )
    report = select_text(sel) + (verdicts_text(server) if server is not None else "")
    emit_text(json_out.dumps(document) if document is not None and args.json else report, status)
    if document is not None:  # after the report: the terminal ends with where the page is
        write_page(args, document)
    return status
