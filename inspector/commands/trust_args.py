"""--truststore and its keytool-style password options, shared by log, probe and pcap: the
server's chain judged as the JDK's PKIX trust manager judges it (inspector/java/trust.py), as a
finding (inspector/rules/log_rules.py)."""

from __future__ import annotations

import datetime as dt
from argparse import ArgumentParser, Namespace
from pathlib import Path
from typing import TYPE_CHECKING

from inspector.commands.password_args import add_password_options, resolve_password
from inspector.system.errors import InputError

if TYPE_CHECKING:
    from cryptography import x509

    from inspector.findings import Finding
    from inspector.java.trust import Truststore
    from parsers.model import Transcript

# The judging half (java_trust, log_rules: ~20 ms of imports) is imported when a --truststore
# is given: every log/probe/pcap run builds these options, few pass one.


def add_truststore_arguments(parser: ArgumentParser) -> None:
    """--truststore F with keytool-style password options (--truststore-pass-env/-file)."""
    parser.add_argument(
        "--truststore",
        metavar="F",
        help="the Java client's truststore (JKS, PKCS#12, PEM): judge the server's chain as Java's "
        "PKIX trust manager does",
    )
    add_password_options(parser, "truststore-pass", "truststore password")


def truststore_from_args(args: Namespace) -> Truststore | None:
    if not getattr(args, "truststore", None):
        return None
    path = Path(args.truststore)
    if not path.exists():
        raise InputError(f"--truststore {path}: no such file", "check the path")
    from inspector.java.trust import load_truststore

    return load_truststore(path, resolve_password(args, "truststore-pass", "Enter truststore password: "))


def judge_from_args(args: Namespace, chain: list[x509.Certificate], host: str, label: str) -> Finding:
    """probe/pcap: the chain from the wire judged with --truststore, as one finding."""
    from inspector.findings import Location
    from inspector.java.trust import judge
    from inspector.rules.log_rules import chain_trust_finding

    store = truststore_from_args(args)
    assert store is not None
    verdict = judge(tuple(chain), store, host, dt.datetime.now(dt.timezone.utc))
    return chain_trust_finding(
        verdict, tuple(chain), Location(file=label), f"server Certificate from {label}"
    )


_LOADED: dict[str, Truststore] = {}


def judge_transcript(args: Namespace, t: Transcript, label: str, at: dt.datetime | None) -> list[Finding]:
    """pcap: the server chain of one connection judged with --truststore (loaded once)."""
    from inspector.findings import Location
    from inspector.java.trust import judge
    from inspector.rules.log_rules import chain_trust_finding
    from inspector.system.times import utc_from_timestamp
    from parsers.model import Certificate, Direction

    event = t.first(Certificate, Direction.SERVER)
    if event is None or not isinstance(event.message, Certificate) or not event.message.chain:
        return []
    store = _LOADED.get(args.truststore)
    if store is None:
        store = _LOADED[args.truststore] = truststore_from_args(args)  # type: ignore[assignment]
    assert store is not None
    when = at or utc_from_timestamp(t.start_time)
    verdict = judge(event.message.chain, store, t.server_name, when)
    frame = f", frame {event.frame}" if event.frame is not None else ""
    return [
        chain_trust_finding(
            verdict,
            event.message.chain,
            Location(file=label, connection=t.index),
            f"server Certificate at {event.time:.3f} s{frame}",
        )
    ]
