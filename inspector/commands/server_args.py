"""--server-ca and --server-stack, shared by select and keystore: the partner's
server's verdict on the chain the client sends, per server stack."""

from __future__ import annotations

import datetime as dt
from argparse import ArgumentParser, Namespace
from pathlib import Path
from typing import TYPE_CHECKING

from inspector.commands.password_args import add_password_options, resolve_password

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from cryptography import x509

    from inspector.analysis.server_chains import ServerChains
    from inspector.analysis.server_verdicts import ServerJudgement
    from inspector.findings import Finding
    from parsers.model import Transcript

STACK_NAMES = ("openssl", "nginx", "apache", "haproxy", "go", "node", "java", "envoy")


def add_server_options(parser: ArgumentParser) -> None:
    parser.add_argument(
        "--server-ca",
        metavar="FILE",
        help="the partner's server's client-CA material (PEM bundle, JKS/PKCS#12 truststore, or a "
        "directory): predict each server stack's verdict on the chain the client sends",
    )
    parser.add_argument(
        "--server-stack",
        choices=STACK_NAMES,
        help="with --server-ca: the partner's server stack (default: a table of all)",
    )
    add_password_options(parser, "server-ca-pass", "password of a --server-ca keystore")


def server_trust_from_args(args: Namespace) -> list[x509.Certificate] | None:
    if not getattr(args, "server_ca", None):
        if getattr(args, "server_stack", None):
            from inspector.system.errors import InputError

            raise InputError(
                f"--server-stack {args.server_stack} needs --server-ca",
                "give the partner's client-CA file: --server-ca FILE (PEM bundle, JKS/PKCS#12, "
                "or a directory)",
            )
        return None
    from inspector.analysis.server_verdicts import load_server_ca

    return load_server_ca(Path(args.server_ca), resolve_password(args, "server-ca-pass", None))


def transcript_judge(
    args: Namespace, trust: list[x509.Certificate], at: dt.datetime | None, label: str
) -> tuple[Callable[[Transcript], list[Finding]], ServerChains]:
    """pcap: the client Certificate of each connection (when it is readable) judged by the
    server stacks, as findings of that connection; the verdicts kept per distinct chain."""
    from dataclasses import replace

    from inspector.analysis.capture_set import STAND_IN
    from inspector.analysis.server_chains import ServerChains
    from inspector.server_stacks import Stack

    stack = Stack(args.server_stack) if args.server_stack else None
    chains = ServerChains(trust, str(args.server_ca), stack, at)

    def judge(t: Transcript) -> list[Finding]:
        index = t.index % STAND_IN  # a set's connection is judged under a stand-in number
        found = chains.judge(t, index)
        return [replace(f, location=replace(f.location, file=label, connection=t.index)) for f in found]

    return judge, chains


def judge_from_args(
    args: Namespace,
    trust: list[x509.Certificate],
    chain: list[x509.Certificate] | tuple[x509.Certificate, ...],
    at: dt.datetime,
    alias: str | None,
    keystore: str | None = None,
    other: tuple[str, Sequence[x509.Certificate]] | None = None,
) -> ServerJudgement:
    from inspector.analysis.server_verdicts import judge
    from inspector.server_stacks import Stack

    stack = Stack(args.server_stack) if args.server_stack else None
    return judge(list(chain), trust, str(args.server_ca), at, stack, alias, keystore, other)
