"""parsers/scapy_tls.py imports scapy's TLS layer without reading routing tables or computing
DH groups. Hold that this changes nothing we rely on: the captured messages decode exactly as
after a plain import, and scapy's configuration is the same apart from the two route flags."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = r"""
import json, sys
from pathlib import Path
if sys.argv[1] == "plain":
    import scapy.layers.tls.handshake  # a plain import first: scapy_tls then changes nothing
from parsers import scapy_tls
from parsers.capture import read_capture
from parsers.keylog import KeyLog
from scapy.config import conf
from scapy.layers.tls.crypto import groups

decoded = []
for path in sorted(Path("captures").iterdir()):
    if path.suffix not in (".pcap", ".pcapng"):
        continue
    keys = KeyLog()
    if path.with_suffix(".keys").exists():
        keys.add_text(path.with_suffix(".keys").read_text())
    for t in read_capture(path, keys).transcripts:
        decoded.append(repr((path.name, t.events, t.problems)))
state = {
    "decoded": decoded,
    "crypto_valid": conf.crypto_valid,
    "crypto_valid_advanced": conf.crypto_valid_advanced,
    "routes": [len(conf.route.routes), len(conf.route6.routes)],
    "autoload": [conf.route_autoload, conf.route6_autoload],
    "groups_names": sorted(n for n in vars(groups) if not n.startswith("__")),
    "ffdh_groups": sorted(groups._ffdh_groups),
    "named_groups": sorted(groups._tls_named_groups.items()),
}
print(json.dumps(state))
"""


def _state(mode: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", "-c", PROBE, mode],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert done.stderr == ""
    state: dict[str, object] = json.loads(done.stdout)
    return state


def test_lean_import_decodes_as_a_plain_import_and_changes_only_what_it_says() -> None:
    plain, lean = _state("plain"), _state("lean")
    assert len(lean["decoded"]) > 20  # type: ignore[arg-type]
    assert lean["decoded"] == plain["decoded"]
    assert lean["crypto_valid"] is plain["crypto_valid"] is True
    assert lean["crypto_valid_advanced"] == plain["crypto_valid_advanced"]
    assert lean["named_groups"] == plain["named_groups"]
    # every name the groups module defines is there (its functions still work)
    assert lean["groups_names"] == plain["groups_names"]
    # the deliberate differences: no routing table read, no finite-field group computed
    assert plain["autoload"] == [True, True]
    assert lean["autoload"] == [False, False]
    assert lean["routes"] == [0, 0]
    assert plain["routes"][0] > 0  # type: ignore[index]  # loopback at least
    assert lean["ffdh_groups"] == []
    assert len(plain["ffdh_groups"]) == 13  # type: ignore[arg-type]
