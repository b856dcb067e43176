"""benchmarks/bench_pcap.py refuses a run whose report does not list tshark's
CertificateRequests per connection; hold the reading of both outputs and the refusal."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import bench_pcap as B

SEVERAL = Path(__file__).resolve().parent.parent / "captures" / "several.pcap"
TSHARK = shutil.which("tshark")


def _ours(*extra: str) -> str:
    cmd = [sys.executable, "-m", "inspector", "pcap", str(SEVERAL), *extra]
    return subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=120).stdout


@pytest.mark.skipif(TSHARK is None, reason="tshark is not installed (apt-get install tshark)")
def test_our_text_and_json_list_what_tshark_lists_and_a_missing_one_is_refused() -> None:
    assert TSHARK is not None
    cmd = [TSHARK, "-n", "-r", str(SEVERAL), "-Y", "tls.handshake.type == 13", "-T", "fields"]
    cmd += [arg for f in B.TSHARK_FIELDS for arg in ("-e", f)]
    theirs = B.tshark_requests(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
    assert sum(theirs.values()) == 3  # the three TLS 1.2 connections; the TLS 1.3 one is encrypted
    text = _ours()
    assert B.our_requests(text, json_output=False) == theirs
    assert B.our_requests(_ours("--json"), json_output=True) == theirs
    B._check("several", B.our_requests(text, False), theirs, set())  # passes
    first = next(line for line in text.splitlines() if line.startswith("1 ") and " yes " in line)
    skipped = text.replace(first, first.replace(" yes ", " no  ", 1))
    with pytest.raises(SystemExit, match="REFUSED"):
        B._check("several", B.our_requests(skipped, False), theirs, set())
    # one more than tshark: refused, unless that connection lost a packet
    more = B.our_requests(text, False) + B.our_requests(text, False)
    with pytest.raises(SystemExit, match="REFUSED"):
        B._check("several", more, theirs, set())
    B._check("several", more, theirs, set(more))
