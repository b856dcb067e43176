"""--truststore and its keytool-style password options, shared by log, probe and pcap. The chain
is judged by inspector/analysis/trust.py, which reads the truststore when it first needs it."""

from __future__ import annotations

from argparse import ArgumentParser, Namespace
from typing import TYPE_CHECKING

from inspector.commands.password_args import add_password_options, resolve_password

if TYPE_CHECKING:
    from inspector.analysis.trust import TruststoreSource

# The judging half (analysis/trust, java/trust, the trust rules: ~20 ms of imports) is imported
# when a --truststore is given: every log/probe/pcap run builds these options, few pass one.


def add_truststore_arguments(parser: ArgumentParser) -> None:
    """--truststore F with keytool-style password options (--truststore-pass-env/-file)."""
    parser.add_argument(
        "--truststore",
        metavar="F",
        help="the Java client's truststore (JKS, PKCS#12, PEM): judge the server's chain as Java's "
        "PKIX trust manager does",
    )
    add_password_options(parser, "truststore-pass", "truststore password")


def add_truststore_options(parser: ArgumentParser) -> None:
    """log's: --truststore F and its password, keytool-style; --host for endpoint identification."""
    add_truststore_arguments(parser)
    parser.add_argument(
        "--host", metavar="H", help="the host name the client connected to (default: the SNI in the log)"
    )


def truststore_source(args: Namespace) -> TruststoreSource | None:
    """The --truststore given (None without one); its password is asked when it is first read."""
    if not getattr(args, "truststore", None):
        return None
    from inspector.analysis.trust import TruststoreSource

    return TruststoreSource(
        args.truststore, lambda: resolve_password(args, "truststore-pass", "Enter truststore password: ")
    )
