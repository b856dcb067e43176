"""The lines outside the debug blocks are found the same with the Aho-Corasick library as word by
word (bytes.find), whatever the text: the library is the speed, word by word the reference."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parsers.javalog import loose_words as L
from parsers.javalog import open_log
from parsers.javalog.scan import Scanner

CAPTURES = Path(__file__).resolve().parent.parent / "captures"


def every_answer(finder: L.Finder, buf: bytes, stops: list[int]) -> list[int]:
    """The answers a scanner would get asking stretch by stretch, [previous answer + 1, stop)."""
    answers, pos = [], 0
    for stop in stops:
        while True:
            at = finder.find(pos, stop)
            answers.append(at)
            if at == -1:
                break
            pos = at + 1
        pos = max(pos, stop)
    return answers


def line_starts(buf: bytes) -> list[int]:
    return [i + 1 for i, byte in enumerate(buf) if byte == 0x0A] + [len(buf)]


PIECES = [
    *L.WORDS,
    b"Exception: javax.net.ssl.SSLHandshakeException: x",
    b"HTTP/1.1 403 ",
    b"HTTP/2 200",
    b"Connecting to host.example/10.0.0.1:443",
    b"Caused by: java.io.EOFException",
    b"Exceptio",  # then "no cipher suites in common": two words sharing an "n"
    b"Default protocols (JDK): [TLSv1.3]",
    b"\n",
    b"  0000: 16 03 03 00 41  ....A\n",
    b"n",
    b"x",
    b" ",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=60), st.data())
def test_the_automaton_and_word_by_word_agree(pieces: list[bytes], data: st.DataObject) -> None:
    buf = b"\n" + b"".join(pieces) + b"\n"
    starts = line_starts(buf)
    stops = [*sorted(set(data.draw(st.lists(st.sampled_from(starts), max_size=8)))), len(buf)]
    automaton = L._AUTOMATON
    if automaton is None:
        pytest.skip("ahocorasick-rs is not installed: only the word-by-word finder runs")
    fast = every_answer(L.LooseFinder(buf, len(buf), automaton), buf, stops)
    reference = every_answer(L.WordByWord(buf, len(buf)), buf, stops)
    assert fast == reference


def test_a_word_starting_inside_another_is_found() -> None:
    """An automaton that reports matches without overlap resumes after each match: a word that
    starts inside the previous one (the last "n" of "Exception" begins "no cipher suites...") is
    found through the overlap table, as word by word finds it."""
    assert (8, b"no cipher suites in common") in L._OVERLAPS[L.WORDS.index(b"Exception")]
    buf = b"\nxxExceptiono cipher suites in common\n"
    if L._AUTOMATON is None:
        pytest.skip("ahocorasick-rs is not installed")
    finder = L.LooseFinder(buf, len(buf), L._AUTOMATON)
    assert finder.starts == [3, 11]
    assert finder.find(0, len(buf)) == 11  # "Exception" followed by "o" is not LOOSE; the other is
    assert L.WordByWord(buf, len(buf)).find(0, len(buf)) == 11


@pytest.mark.parametrize("name", sorted(p.name for p in CAPTURES.glob("*.log")))
def test_the_scanner_reads_the_same_with_either_finder(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def scanned() -> list[tuple[str, int, str]]:
        return [(e.kind.value, e.line, e.text) for e in Scanner(open_log(str(CAPTURES / name))).entries()]

    fast = scanned()
    monkeypatch.setattr(L, "_AUTOMATON", None)
    reference = scanned()
    assert fast == reference
    if name != "nginx-error.log":  # a server's log: no Java lines at all
        assert len(reference) > 5
