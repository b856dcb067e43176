"""The server-stack oracle: real servers decide, the model must agree on every cell.

Each stack's real server (tests/live/server_stacks.py) is started once, trusting the catalogue's
client-CA bundle (tests/server_chains.py), at its defaults; every chain of the catalogue makes
one real handshake; the server's verdict and its log line are recorded. For every cell the
prediction (inspector.server_stacks.predict) must give the same verdict, and for a refusal its
`log_pattern` (the stack's own words) must be found in what the server logged for that
handshake. A stack that cannot run here is skipped with the reason."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

from inspector.pki.throwaway import issue
from inspector.server_stacks import Stack, StackVerdict, predict
from tests import server_chains as SC
from tests.live import server_stacks as S

ORACLE_STACKS = ("openssl", "nginx", "apache", "haproxy", "go", "node", "java")


@dataclass
class World:
    files: S.Files
    catalogue: SC.Catalogue


@dataclass(frozen=True)
class Cell:
    case: str
    accepted: bool
    detail: str
    log: str
    predicted: StackVerdict

    @property
    def agrees(self) -> bool:
        if self.accepted != self.predicted.accepted:
            return False
        if self.accepted or not self.predicted.log_pattern:
            return True
        return re.search(self.predicted.log_pattern, self.log) is not None and self.log_read

    @property
    def log_read(self) -> bool:
        """The log line, read by the reader `log` uses (parsers/serverlog): the stack's refusal,
        with the code the model predicted where the stack logs one (openssl, nginx, apache)."""
        from parsers.serverlog import read_server_log

        stack = self.predicted.stack.value
        events = [e for e in read_server_log(self.log).events if e.stack.value == stack]
        if not events:
            return False
        logged = [e.code for e in events if e.code is not None]
        if stack in ("openssl", "nginx", "apache") and self.predicted.code is not None and logged:
            return self.predicted.code in logged
        return True


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    d = tmp_path_factory.mktemp("stacks")
    catalogue = SC.build(d / "work")
    server = issue("localhost", None, eku=[ExtendedKeyUsageOID.SERVER_AUTH])
    (d / "server.pem").write_bytes(server.pem)
    for path, data in (
        (d / "server.key", server.key_pem),
        (
            d / "server.der",
            server.key.private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
        ),
    ):
        SC.write_private(path, data)
    (d / "trust.pem").write_bytes(SC.pem(catalogue.trust))
    for case in catalogue.cases:
        if case.key is None:
            continue
        (d / f"{case.name}.chain.pem").write_bytes(SC.pem(case.sent))
        key = d / f"{case.name}.key.pem"
        SC.write_private(key, SC.key_pem(case.key))
    files = S.Files(d, d / "server.pem", d / "server.key", d / "server.der", d / "trust.pem")
    return World(files, catalogue)


@pytest.fixture(scope="module")
def running(world: World) -> Iterator[S.Stacks]:
    with S.stacks(world.files) as stacks:
        yield stacks


def run_matrix(world: World, stacks: S.Stacks, stack: str) -> list[Cell]:
    try:
        server = getattr(stacks, stack)()
    except LookupError as e:
        pytest.skip(f"{stack}: {e}")
    S.settle(server)
    cells = []
    for case in world.catalogue.cases:
        d = world.files.d
        server.mark()
        at = dt.datetime.now(dt.timezone.utc)
        chain, key = (d / f"{case.name}.chain.pem", d / f"{case.name}.key.pem") if case.key else (None, None)
        outcome = S.handshake(server.port, chain, key)
        log = server.new_lines(0.1 if outcome.accepted else 2.0)
        (verdict,) = predict(case.sent, world.catalogue.trust, at, [Stack(stack)])
        cells.append(Cell(case.name, outcome.accepted, outcome.detail, log, verdict))
    return cells


def test_catalogue_size(world: World) -> None:
    assert len(world.catalogue.cases) >= 15
    assert len({c.name for c in world.catalogue.cases}) == len(world.catalogue.cases)


@pytest.mark.parametrize("stack", ORACLE_STACKS)
def test_prediction_matches_the_real_server(world: World, running: S.Stacks, stack: str) -> None:
    cells = run_matrix(world, running, stack)
    wrong = [c for c in cells if not c.agrees]
    for c in cells:
        mark = "ok " if c.agrees else "BAD"
        real = "accept" if c.accepted else "reject"
        print(
            f"{mark} {stack:8} {c.case:28} real={real:6} predicted={c.predicted.verdict.value:6} "
            f"says={c.predicted.stack_says!r}"
        )
    report = "\n".join(
        f"{c.case}: real {'accept' if c.accepted else 'reject'} ({c.detail}); predicted "
        f"{c.predicted.verdict.value}: {c.predicted.stack_says!r}; log: {c.log.strip()[-400:]!r}"
        for c in wrong
    )
    assert not wrong, f"{stack}: {len(wrong)} of {len(cells)} cells disagree:\n{report}"
    # the matrix is not trivial: every stack refuses some chains and accepts others
    assert any(c.accepted for c in cells) and not all(c.accepted for c in cells)


def test_probe_judges_the_chain_it_sent(world: World, running: S.Stacks, tmp_path: Path) -> None:
    """`probe --server-ca` against real nginx: the chain Java sends (two intermediates) is judged
    from the wire; nginx's own log says what the prediction says."""
    import json
    import os
    import subprocess
    import sys

    from tests.pki import write_jks

    try:
        server = running.nginx()
    except LookupError as e:
        pytest.skip(str(e))
    S.settle(server)
    case = world.catalogue.case("two-intermediates")
    assert case.key is not None
    store = write_jks(tmp_path / "client.jks", "changeit", keys=[("deep", case.key, list(case.sent))])
    server.mark()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "inspector",
            "probe",
            f"127.0.0.1:{server.port}",
            "--insecure",
            "--keystore",
            str(store),
            "--storepass-env",
            "SP",
            "--server-ca",
            str(world.files.trust),
            "--server-stack",
            "nginx",
            "--tls-version",
            "1.2",
            "--http-request",
            "/",
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "SP": "changeit"},
    )
    doc = json.loads(done.stdout)
    (verdict,) = doc["server_verdicts"]
    assert verdict["stack"] == "nginx" and verdict["verdict"] == "reject" and verdict["tested"] is True
    assert (
        verdict["stack_says"]
        == "client SSL certificate verify error: (20:unable to get local issuer certificate)"
    )
    assert "server-stack-rejects-chain" in {f["code"] for f in doc["findings"]}
    assert done.returncode == 1
    assert verdict["stack_says"] in server.new_lines(2.0)
