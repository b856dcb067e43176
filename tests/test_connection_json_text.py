"""The pcap report writes each connection's JSON as text directly (connection_text): it must be
what json.dumps makes of connection_dict, character for character, on every connection of every
sample capture (with its key log: the decrypted messages too), and for any scalar."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inspector.analysis.capture import Scope, load_keylog, scan_capture
from inspector.analysis.connection import ConnectionResult
from inspector.render import connection_json as CJ
from inspector.render.json_out import compact

CAPTURES = Path(__file__).resolve().parent.parent / "captures"
SAMPLES = sorted(p.name for p in [*CAPTURES.glob("*.pcap"), *CAPTURES.glob("*.pcapng")])


def judged_connections(path: Path) -> list[ConnectionResult]:
    keys = path.with_suffix(".keys")
    keylog = load_keylog(keys) if keys.exists() else None
    found: list[ConnectionResult] = []
    scan_capture(path, keylog, None, None, Scope(), found.append)
    return found


@pytest.mark.parametrize("name", SAMPLES)
def test_connection_text_is_the_dicts_json(name: str) -> None:
    connections = judged_connections(CAPTURES / name)
    for judged in connections:
        t = judged.transcript
        for event in t.events:
            assert CJ.event_text(event) == compact(CJ.event_dict(event))
        expected = compact(CJ.connection_dict(t, judged.findings, judged.selection))
        assert CJ.connection_text(t, judged.findings, judged.selection) == expected
        # the second time from the memo of shared messages: the same
        assert CJ.connection_text(t, judged.findings, judged.selection) == expected


def test_the_samples_hold_every_kind_of_event_member() -> None:
    """What the comparison above covers: certificates, requests, signatures, alerts."""
    members: set[str] = set()
    for name in SAMPLES:
        for judged in judged_connections(CAPTURES / name):
            for event in judged.transcript.events:
                members.update(CJ.event_dict(event))
    assert {"chain", "ca_names", "signature", "alert"} <= members


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),  # control characters, quotes, backslashes, surrogates, astral planes
)


@given(SCALARS)
def test_a_scalar_is_written_as_json_writes_it(value: object) -> None:
    assert CJ._scalar(value) == compact(value)  # type: ignore[arg-type]
    if isinstance(value, float) and not math.isfinite(value):
        assert CJ._scalar(value) in ("NaN", "Infinity", "-Infinity")
