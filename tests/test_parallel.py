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


@pytest.mark.parametrize(("name", "keys"), CASES)
def test_parallel_equals_serial(cli, monkeypatch, name, keys):  # type: ignore[no-untyped-def]
    argv = ["pcap", str(CAPTURES / name)]
    if keys:
        argv += ["--keylog", str(CAPTURES / keys)]
    for form in (["--json"], []):
        monkeypatch.setenv("MTLS_INSPECT_PARALLEL_MIN", str(1 << 40))
        serial = cli(*argv, *form)
        monkeypatch.setenv("MTLS_INSPECT_PARALLEL_MIN", "0")
        parallel = cli(*argv, *form)
        assert serial.status in (0, 1)
        assert parallel.status == serial.status
        assert parallel.out == serial.out
