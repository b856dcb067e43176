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
@pytest.mark.parametrize("share", ["0", "1", "2"])  # the worker judges none, all, every other one
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


@pytest.mark.parametrize("share", ["1", "2"])
def test_info_only_blocks_past_the_budget_with_the_worker_judging(cli, monkeypatch, share):  # type: ignore[no-untyped-def]
    """Only the first INFO_BLOCKS_SHOWN info-only connections are detailed, in the capture's
    order, whichever process judged them."""
    from inspector.render import pcap

    monkeypatch.setattr(pcap, "INFO_BLOCKS_SHOWN", 1)
    monkeypatch.setenv("MTLS_INSPECT_WORKER_SHARE", share)
    argv = ["pcap", str(CAPTURES / "tls13-resumed.pcap")]
    monkeypatch.setenv("MTLS_INSPECT_PARALLEL_MIN", str(1 << 40))
    serial = cli(*argv)
    monkeypatch.setenv("MTLS_INSPECT_PARALLEL_MIN", "0")
    parallel = cli(*argv)
    assert "\n1 more completed connection(s) have only info findings" in serial.out
    assert serial.out.count("── connection #") == 1
    assert parallel.out == serial.out and parallel.status == serial.status
