"""The fuzz harness (fuzz/run.py) in CI: a bounded number of mutated inputs per target, held to
the contract — a report (exit 0/1) or one stderr line naming the input (exit 2), no internal
error, no raw control character, no password, no input over the per-input time limit.
Longer runs: `python3 -m fuzz.run --seconds 600` (counts in the README's Reliability section)."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from fuzz import run as harness

RUNS = 40 if os.environ.get("CI") else 80


@pytest.fixture(scope="module")
def targets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, harness.Target]:
    return harness.targets(tmp_path_factory.mktemp("fuzz"))


@pytest.mark.parametrize(
    "name",
    [
        "pcap",
        "pcapng",
        "pcap-set",
        "keystore-jks",
        "keystore-unlocked",
        "keystore-pkcs12",
        "keystore-pem",
        "select-ca-names",
        "server-ca",
        "keylog",
        "log",
        "names-pcap",
        "names-log",
        "names-keystore",
        "encodings",
        "encodings-log",
        "peer-der",
    ],
)
def test_mutated_inputs_keep_the_contract(targets, name, tmp_path) -> None:  # type: ignore[no-untyped-def]
    tally = harness.fuzz(targets[name], 120.0, random.Random(name), tmp_path, max_runs=RUNS)
    assert tally.runs == RUNS
    assert tally.violations == []
    assert set(tally.statuses) <= {0, 1, 2}


@pytest.mark.parametrize("name", ["peer-probe", "peer-serve"])
def test_certificates_from_live_peers_keep_the_contract(targets, name, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A real TLS peer on 127.0.0.1 presents a certificate whose CN has a random tag and bytes
    (re-signed, so OpenSSL loads it): `probe` and `serve` end in a report, escaped."""
    tally = harness.fuzz(targets[name], 120.0, random.Random(name), tmp_path, max_runs=RUNS // 2)
    assert tally.runs == RUNS // 2
    assert tally.violations == []
    assert set(tally.statuses) <= ({0} if name == "peer-serve" else {0, 1})


def test_the_harness_catches_a_bug(targets, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A harness that cannot fail proves nothing: a RuntimeError planted in the JKS reader must
    be seen as a broken contract (exit 70, 'internal error'), not as bad input."""
    from inspector.keystore import jks_reader

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("planted")

    for name in dir(jks_reader):
        if name.startswith("read") and callable(getattr(jks_reader, name)):
            monkeypatch.setattr(jks_reader, name, broken)
    tally = harness.fuzz(targets["keystore-jks"], 60.0, random.Random(1), tmp_path, max_runs=10)
    assert tally.violations and all("internal error" in v for v in tally.violations)
    assert set(tally.statuses) == {70}


def test_findings_are_written_for_replay(tmp_path: Path) -> None:
    """Each violation leaves the input and the reason in fuzz/findings/ (replay with --replay)."""
    path = tmp_path / "x.pcap"
    path.write_bytes(b"")
    assert harness.check(path, 2, "", "mtls-inspect: error: x.pcap: empty\nsecond line\n") is not None
    assert harness.check(path, 2, "", "mtls-inspect: error: elsewhere: empty\n") is not None
    assert harness.check(path, 0, "CN=\x1b[31mred", "") is not None
    assert harness.check(path, 1, "report\n", "") is None
