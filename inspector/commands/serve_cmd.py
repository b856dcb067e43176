"""`mtls-inspect serve`: a reference mutual-TLS server that explains each client it sees."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from inspector.commands.help_examples import examples
from inspector.system.errors import ExitStatus, InputError

if TYPE_CHECKING:
    from inspector.commands import Subcommands


def add_parser(sub: Subcommands) -> None:
    p = sub.add_parser(
        "serve",
        help="run a reference mTLS server on 127.0.0.1 that explains why it accepts or refuses each client",
        description="A mutual-TLS server for reproducing a partner's server: "
        "what it trusts (--client-ca) and what it names (--ca-names) can differ.",
        **examples(
            "mtls-inspect serve --cert captures/server.pem --key captures/server.key --client-ca "
            "captures/acme-root.pem",
            "mtls-inspect serve --cert captures/server.pem --key captures/server.key --client-ca "
            "captures/acme-root.pem --no-ca-names --tls-version 1.2 --port 0",
        ),
    )
    p.add_argument("--cert", required=True, help="server certificate chain (PEM)")
    p.add_argument("--key", required=True, help="server private key (PEM)")
    p.add_argument(
        "--client-ca",
        action="append",
        default=[],
        metavar="F",
        help="CA certificates trusted for client certificates (repeatable)",
    )
    p.add_argument(
        "--ca-names",
        action="append",
        metavar="F",
        help="certificates whose subjects the CertificateRequest names (default: the --client-ca ones)",
    )
    p.add_argument("--no-ca-names", action="store_true", help="send an empty CA list")
    p.add_argument("--optional", action="store_true", help="ask for a certificate, do not require one")
    p.add_argument("--tls-version", choices=["1.2", "1.3"])
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8443, help="port (0: any free port)")
    p.add_argument("--max-connections", type=int, metavar="N", help="stop after N clients")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from inspector.live.reference_server import ReferenceServer

    paths = [Path(p) for p in [args.cert, args.key, *args.client_ca, *(args.ca_names or [])]]
    for path in paths:
        if not path.is_file():
            raise InputError(f"{path}: no such file", "give PEM files")
    if not args.client_ca:
        raise InputError("--client-ca is required", "give the CA(s) that issue client certificates")
    server = ReferenceServer(
        Path(args.cert),
        Path(args.key),
        [Path(p) for p in args.client_ca],
        [Path(p) for p in args.ca_names] if args.ca_names else None,
        args.optional,
        args.tls_version,
        args.host,
        args.port,
        log=lambda r: print(r.line(), flush=True),
        send_ca_names=not args.no_ca_names,
    )
    print(
        f"listening on {args.host}:{server.port} (client certificate "
        f"{'optional' if args.optional else 'required'})",
        flush=True,
    )
    try:
        server.serve_forever(args.max_connections)
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
    return ExitStatus.OK
