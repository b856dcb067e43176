"""Where the lines outside the debug blocks that are worth reading may start.

The scanner asks, stretch by stretch between the entries it reads, for the first place in
[pos, stop) where LOOSE matches. Looking for LOOSE's words is most of a big log's scanning (13
words over hundreds of MB of hex dumps): one Aho-Corasick pass (the `ahocorasick-rs` library)
finds them all in each buffer at once; without the library, a bytes.find per word does the same,
slower. The answers are the same (tests/test_javalog_loose_words.py holds both to it).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from typing import Protocol

__all__ = ["LOOSE", "WORDS", "LooseFinder", "WordByWord", "loose_finder"]

#: Lines outside the debug blocks worth reading: exceptions, and what applications and HTTP
#: libraries print about TLS (Apache HttpClient, the JDK's JFR security events, nginx's 400 page).
LOOSE = re.compile(
    rb"Exception: |Exception$|Caused by: |No required SSL certificate|The SSL certificate error"
    rb"|HTTP(?:/[12](?:\.[01])?)? [1-5]\d\d\b|Secure session established"
    rb"|Enabled protocols: |Default protocols \(JDK\)"
    rb"|X509Certificate: Alg|TLSHandshake: |no cipher suites in common|peer not authenticated"
    rb"|Connecting to [\w.\-]+/[\d.]+:\d",
    re.MULTILINE,
)


#: Every alternative of LOOSE starts with one of these words: they are looked for, and the regex
#: confirms a match where one was found (the regex's own search is 50x slower than one pass of
#: an Aho-Corasick automaton for all of them, 2x slower than a bytes.find per word).
WORDS = (
    b"Exception",
    b"Caused by: ",
    b"No required SSL certificate",
    b"The SSL certificate error",
    b"HTTP",
    b"Secure session established",
    b"Enabled protocols: ",
    b"Default protocols (JDK)",
    b"X509Certificate: Alg",
    b"TLSHandshake: ",
    b"no cipher suites in common",
    b"peer not authenticated",
    b"Connecting to ",
)


class WordByWord:
    """LooseFinder without the automaton's library: one bytes.find pass per word (each word's next
    place is kept, so each byte is looked at once per word): 13 passes, ~30x slower."""

    def __init__(self, buf: bytes, limit: int) -> None:
        self.buf, self.limit = buf, limit
        count = len(WORDS)
        self.ahead = [-1] * count  # the word's next place, or -1: not in [searched from, upto)
        self.upto = [0] * count
        self.last = 0

    def find(self, pos: int, stop: int) -> int:
        """The first match of _LOOSE starting in [pos, stop) (-1: none); stop is a line start."""
        buf, limit, ahead, upto = self.buf, self.limit, self.ahead, self.upto
        if pos < self.last:  # not expected: everything looked for again
            ahead[:], upto[:] = [-1] * len(ahead), [0] * len(upto)
        self.last = pos
        while True:
            best = -1
            for i, word in enumerate(WORDS):
                at = ahead[i]
                if at < pos and (at != -1 or upto[i] < stop):
                    begin = pos if at != -1 else max(pos, upto[i] - len(word) + 1)
                    at = ahead[i] = buf.find(word, begin, stop)
                    upto[i] = stop
                if at != -1 and at < stop and (best == -1 or at < best):
                    best = at
            if best == -1 or LOOSE.match(buf, best, limit):
                return best
            pos = best + 1


class Finder(Protocol):
    def find(self, pos: int, stop: int) -> int: ...


def _overlaps() -> tuple[tuple[tuple[int, bytes], ...], ...]:
    """Per word, where another word (or itself) may start inside it: (offset, word). An automaton
    that reports matches without overlap resumes after each match's end and would miss those."""
    out = []
    for word in WORDS:
        out.append(
            tuple(
                (k, other)
                for k in range(1, len(word))
                for other in WORDS
                if other.startswith(word[k:]) or other in word[k:]
            )
        )
    return tuple(out)


_OVERLAPS = _overlaps()

try:
    from ahocorasick_rs import MATCHKIND_LEFTMOST_FIRST, BytesAhoCorasick

    # leftmost-first: the library's fast prefilter (SIMD) runs; the standard kind is 15x slower
    _AUTOMATON: BytesAhoCorasick | None = BytesAhoCorasick(list(WORDS), matchkind=MATCHKIND_LEFTMOST_FIRST)
except ImportError:  # the library is a dependency; a machine without its wheel reads on, slower
    _AUTOMATON = None


class LooseFinder:
    """Every place in buf[:limit] where a word starts, found in one pass of the automaton; each
    question is then a bisection."""

    def __init__(self, buf: bytes, limit: int, automaton: BytesAhoCorasick) -> None:
        self.buf, self.limit = buf, limit
        starts: list[int] = []
        extra = False
        for index, start, _end in automaton.find_matches_as_indexes(memoryview(buf)[:limit]):
            starts.append(start)
            for offset, other in _OVERLAPS[index]:
                if buf.startswith(other, start + offset) and start + offset + len(other) <= limit:
                    starts.append(start + offset)
                    extra = True
        self.starts = sorted(set(starts)) if extra else starts

    def find(self, pos: int, stop: int) -> int:
        """The first match of LOOSE starting in [pos, stop) (-1: none); stop is a line start."""
        starts, buf, limit = self.starts, self.buf, self.limit
        for i in range(bisect_left(starts, pos), len(starts)):
            at = starts[i]
            if at >= stop:
                return -1
            if LOOSE.match(buf, at, limit):
                return at
        return -1


def loose_finder(buf: bytes, limit: int) -> Finder:
    """The finder for one buffer of the scanner: the automaton's, or word by word without it."""
    if _AUTOMATON is None:
        return WordByWord(buf, limit)
    return LooseFinder(buf, limit, _AUTOMATON)
