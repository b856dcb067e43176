"""The two-process reader gives the same report as the serial one, byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest

CAPTURES = Path(__file__).resolve().parent.parent / "captures"

CASES = [
    ("several.pcap", None),
    ("tls12-frag512.pcap", "tls12-frag512.keys"),
    ("tls13-mss1448.pcap", "tls13-success.keys"),
    ("tls13-certificate-required.pcap", "tls13-certificate-required.keys"),
    ("tls13-secrets.pcapng", None),
    ("tls12-mss1448.pcap", None),
    ("truncated.pcap", None),
    ("tls13-ipv6.pcap", "tls13-ipv6.keys"),
    ("tls13-hello-retry.pcap", "tls13-hello-retry.keys"),
]


#: which connections the reader's worker judges and renders itself: none, every one, every
#: other one (the default decides by how far behind this process is)
SHARES = ["0", "1", "2"]


@pytest.mark.parametrize("share", SHARES)
@pytest.mark.parametrize(("name", "keys"), CASES)
def test_parallel_equals_serial(cli, monkeypatch, name, keys, share):  # type: ignore[no-untyped-def]
    argv = ["pcap", str(CAPTURES / name)]
    if keys:
        argv += ["--keylog", str(CAPTURES / keys)]
    monkeypatch.setenv("MTLS_INSPECT_WORKER_SHARE", share)
    for form in (["--json"], []):
        monkeypatch.setenv("MTLS_INSPECT_PARALLEL_MIN", str(1 << 40))
        serial = cli(*argv, *form)
        monkeypatch.setenv("MTLS_INSPECT_PARALLEL_MIN", "0")
        parallel = cli(*argv, *form)
        assert serial.status in (0, 1)
        assert parallel.status == serial.status
        assert parallel.out == serial.out


@pytest.fixture(scope="module")
def many_connections(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """48 real handshakes (OpenSSL in memory), every other one TLS 1.3: without its key log,
    24 connections with only info findings, more than the report details (the order in which
    connections are taken then decides which are shown). Each then downloads 40 KB (three
    records of 16 KiB: with the key log, the third one's body is read by nobody)."""
    from benchmarks.certs_capture import write

    path = tmp_path_factory.mktemp("many") / "many.pcap"
    write(path, 48, servers=6, sans=20, intermediates=2, tls13_every=2, body=40_000)
    return path


TRUST = str(CAPTURES / "acme-root.pem")
STORE = ["--keystore", str(CAPTURES / "letstestcba.jks"), "--storepass-env", "SP"]


@pytest.mark.parametrize("share", ["1", "3"])
@pytest.mark.parametrize(
    "extra",
    [
        [],
        ["--json"],
        ["--all"],
        ["--connection", "7"],
        ["--host", "10.2.0.2"],
        ["--truststore", TRUST, "--server-ca", TRUST],  # judges forked with the worker
        [*STORE, "--json"],
        ["--keylog", "KEYS"],  # the capture's own key log: bodies kept as each TLS half asks
        ["--keylog", "KEYS", "--json", "--all"],
    ],
)
def test_worker_judging_connections_changes_nothing(cli, monkeypatch, many_connections, share, extra):  # type: ignore[no-untyped-def]
    keys = str(many_connections.with_suffix(".keys"))
    argv = ["pcap", str(many_connections), *(keys if arg == "KEYS" else arg for arg in extra)]
    monkeypatch.setenv("SP", "changeit")  # the sample keystore's password (captures/README.md)
    monkeypatch.setenv("MTLS_INSPECT_PARALLEL_MIN", str(1 << 40))
    serial = cli(*argv)
    monkeypatch.setenv("MTLS_INSPECT_PARALLEL_MIN", "0")
    monkeypatch.setenv("MTLS_INSPECT_WORKER_SHARE", share)
    parallel = cli(*argv)
    assert serial.status in (0, 1)
    assert serial.out.count("\n") > 10
    assert (parallel.status, parallel.out) == (serial.status, serial.out)
