"""Shared fixtures: a PKI made at test time and a way to run the CLI in-process."""

from __future__ import annotations

import json
import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from inspector.cli import main
from tests import pki as P

# The Ctrl-C tests send SIGINT to the CLI as a terminal does, and expect what a terminal's shell
# gives its commands: Python's own handler. Run from a script's background job (`cmd &` with no
# job control, nohup) pytest and every child it starts inherit SIGINT ignored, and those children
# slept through the signal (exit 0, not 130). So the suite starts from a terminal's disposition.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@dataclass
class CliResult:
    status: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    def codes(self) -> list[str]:
        return sorted(f["code"] for f in self.json()["findings"])

    def error_codes(self) -> list[str]:
        return sorted(f["code"] for f in self.json()["findings"] if f["severity"] == "error")


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    def run(*argv: str) -> CliResult:
        status = main(list(argv))
        captured = capsys.readouterr()
        return CliResult(status, captured.out, captured.err)

    return run


@pytest.fixture(scope="session")
def acme() -> P.Pki:
    return P.make_pki()


@pytest.fixture(scope="session")
def partner() -> P.Pki:
    return P.make_pki("partner-client", org="Partner")


needs_keytool = pytest.mark.skipif(
    P.KEYTOOL is None, reason="keytool (Java) is not on PATH: keytool flows skipped"
)
