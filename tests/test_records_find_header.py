"""records.find_header finds candidates with a regular expression; it must answer exactly what
checking every position with plausible_header answers (the definition)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from parsers.records import HEADER_SIZE, find_header, plausible_header

# bytes that make near-headers likely: content types, version bytes, lengths around the limit
NEAR = st.binary(max_size=24) | st.lists(
    st.sampled_from([0x13, 0x14, 0x17, 0x18, 0x03, 0x00, 0x04, 0x05, 0x48, 0x47, 0x49, 0xFF]), max_size=24
).map(bytes)


def _by_definition(data: bytes) -> int:
    for pos in range(len(data) - HEADER_SIZE + 1):
        if plausible_header(data, pos):
            return pos
    return -1


@settings(max_examples=400, deadline=None)  # Hypothesis times each example (200 ms) unless told not to
@given(NEAR)
def test_find_header_is_the_first_plausible_position(data: bytes) -> None:
    assert find_header(data) == _by_definition(data)


def test_find_header_examples() -> None:
    assert find_header(b"\x17\x03\x03\x40\x00") == 0
    assert find_header(b"\x17\x03\x03\x48\x01") == -1  # longer than TLS allows
    assert find_header(b"xx\x17\x03\x03\x48\x01\x16\x03\x01\x00\x05") == 7
    assert find_header(b"\x16\x03\x01\x00") == -1  # four bytes: not a whole header
