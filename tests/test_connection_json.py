"""The pcap report's fast connection JSON (connection_json) is the dict form, encoded.

connection_json encodes each decoded message's shared parts once and splices strings; the
oracle is compact(connection_dict(...)), the form the probe and the pretty report use. Every
connection of every sample capture (with its key log where there is one, and with a keystore so
`selection` is there too) must come out the same, character for character, and so must a
connection whose SNI holds what would look like the splice's own markers.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from inspector.analysis.capture import Scope, load_keylog, scan_capture
from inspector.analysis.connection import ConnectionResult
from inspector.keystore import load_keystore
from inspector.render.connection_json import connection_dict, connection_json, event_dict, event_json
from inspector.render.json_out import compact
from parsers.model import ClientHello

CAPTURES = Path(__file__).resolve().parent.parent / "captures"
SAMPLES = sorted(p for p in CAPTURES.iterdir() if p.suffix in (".pcap", ".pcapng"))


def _judged(path: Path, with_store: bool) -> list[ConnectionResult]:
    keys = path.with_suffix(".keys")
    keylog = load_keylog(keys) if keys.exists() else None
    store = load_keystore(CAPTURES / "letstestcba.jks", "changeit", None) if with_store else None
    seen: list[ConnectionResult] = []
    scan_capture(path, keylog, store, None, Scope(), seen.append)
    return seen


@pytest.mark.parametrize("path", SAMPLES, ids=[p.name for p in SAMPLES])
def test_fast_json_equals_the_dict_form(path: Path) -> None:
    judged = _judged(path, with_store=path.name == "several.pcap")
    assert judged, f"{path.name}: no connection to compare"
    for j in judged:
        t = j.transcript
        for e in t.events:
            assert event_json(e) == compact(event_dict(e))
        # twice: the second time from the per-message memo
        for _ in range(2):
            assert connection_json(t, j.findings, j.selection) == compact(
                connection_dict(t, j.findings, j.selection)
            )


def test_fast_json_with_hostile_server_name() -> None:
    j = _judged(CAPTURES / "several.pcap", with_store=True)[0]
    assert j.selection is not None
    for name in ('"\\u0000events\\u0000"', '},"events":[', "\x00\ud800 \u2028\x1b[31m", '"\\'):
        t = j.transcript
        at = next(n for n, e in enumerate(t.events) if isinstance(e.message, ClientHello))
        hello = replace(t.events[at].message, server_name=name)
        t.replace_event(at, replace(t.events[at], message=hello))
        assert t.server_name == name
        text = connection_json(t, j.findings, j.selection)
        assert text == compact(connection_dict(t, j.findings, j.selection))
        assert text.count('"events":') == 1
