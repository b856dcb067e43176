"""`mtls-inspect demo`: the most common puzzle, reproduced on 127.0.0.1 with a throwaway PKI.

"curl works, Java does not": the partner's server trusts the root and the issuing CA but names
only the root in its CertificateRequest; the client's key entry holds the leaf without the intermediate.
OpenSSL sends the leaf anyway and is accepted; a Java client matches issuers against the CA
names, finds none, and sends an empty Certificate.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
from collections.abc import Iterator
from typing import TYPE_CHECKING

from inspector.commands.help_examples import examples
from inspector.system.errors import ExitStatus

if TYPE_CHECKING:
    from inspector.commands import Subcommands


def add_parser(sub: Subcommands) -> None:
    p = sub.add_parser(
        "demo",
        help="reproduce 'curl works, Java does not' on 127.0.0.1 and explain it",
        description=__doc__,
        **examples(
            "mtls-inspect demo",
            "mtls-inspect demo --tls-version 1.2",
        ),
    )
    p.add_argument("--tls-version", choices=["1.2", "1.3"], default="1.3")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from inspector.analysis.demo import run_demo
    from inspector.render.demo import demo_text
    from inspector.render.emit import emit_text

    with _terminate_as_interrupt():  # SIGTERM still removes the throwaway keys and servers
        result = run_demo(args.tls_version)
    return emit_text(demo_text(result), ExitStatus.OK)


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """Python's default SIGTERM ends the process at once, skipping every `finally`: the demo's
    temporary directory (a private key) would stay behind. Turn it into KeyboardInterrupt, which
    unwinds (and the CLI reports as one line, exit 130)."""

    def interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread (the CLI called from a test's worker thread)
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
