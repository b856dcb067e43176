"""Logs as people paste them, made to read as the JVM wrote them.

* a constant prefix on every line (Kubernetes/CRI `2026-...Z stderr F `, `kubectl logs --prefix`,
  `docker compose` `svc  | `, journald/syslog stamps, a web console's `  | `, a markdown indent):
  learned from the lines that hold JSSE output or an exception, stripped from every line;
* a logging framework's layout before each `javax.net.ssl|LEVEL|` header (log4j, logback, JUL,
  WildFly): the block lines after it carry no layout, so it is cut per line, before the header;
* UTF-16 (PowerShell's `>` writes UTF-16LE with a BOM), CRLF, ANSI colour codes, and the HTML
  escapes of text copied out of a web page (`&lt;CN=...&gt;`).

The sample read to learn all this is the first 64 KB; the rest streams through the same
transformations at C speed (re.sub over whole chunks, cut at line ends).
"""

from __future__ import annotations

import codecs
import html
import re
from collections.abc import Callable
from typing import Protocol

SAMPLE = 1 << 16


class ByteSource(Protocol):
    """What the reader needs of a stream: a file, gzip, stdin or a wrapper of those."""

    def read(self, size: int = -1, /) -> bytes: ...


#: Where a line's own content starts: JSSE output (JDK 11+ header, JDK 8 markers) or an exception.
_ANCHORS = (
    b"javax.net.ssl|",
    b"*** ",
    b"%% ",
    b"Caused by: ",
    b"Exception in thread",
    b"javax.net.ssl.SSL",
    b"matching alias",
    b"Warning: no suitable",
)
_LEVELS = rb"(?:TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|FATAL|SEVERE|FINE|FINER|FINEST|CONFIG|ALL)"
_HEADER_LEVELS = rb"(?:ALL|TRACE|DEBUG|INFO|WARNING|ERROR|FINE|FINER|FINEST|SEVERE|CONFIG)"
#: A layout before the JDK 11+ header, on the header lines only.
LAYOUT = re.compile(rb"(?m)^[^\n]{1,400}?(?=javax\.net\.ssl\|" + _HEADER_LEVELS + rb"\|)")
_ANSI = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")
_ESCAPED = re.compile(rb"&(?:lt|gt|amp|quot|#39|#x27|#34);")


def _generalise(prefix: bytes) -> bytes:
    """The prefix as a pattern: numbers, levels, bracketed names and runs of blanks may vary."""
    out = re.escape(prefix)
    out = re.sub(rb"\\\[[^\]\n]*\\\]", rb"\\[[^\\]\\n]*\\]", out)  # [thread], [pod/name/container]
    out = re.sub(rb"\\\([^)\n]*\\\)", rb"\\([^)\\n]*\\)", out)  # WildFly's (default task-1)
    out = re.sub(rb"\d+", rb"\\d+", out)
    out = re.sub(rb"(?<![A-Za-z])" + _LEVELS + rb"(?![A-Za-z])", _LEVELS, out)
    trail = prefix[len(prefix.rstrip(b" \t")) :]
    if trail:  # exactly these trailing blanks (the line's own indentation follows), or none at a line's end
        out = out[: len(out) - len(re.escape(trail))]
    out = re.sub(rb"(?:\\ |\\\t| |\t)+", rb"[ \\t]+", out)
    if trail:
        out += rb"(?:" + re.escape(trail) + rb"|[ \t]*(?=\r?$))"
    return out


def learn_prefix(head: bytes) -> re.Pattern[bytes] | None:
    """A pattern for the constant prefix of most lines (None: no prefix)."""
    lines = [line.rstrip(b"\r") for line in head.split(b"\n")[:4000]]
    nonempty = [line for line in lines if line.strip()]
    if len(nonempty) < 1:
        return None
    candidates: list[bytes] = []
    for line in lines:
        for anchor in _ANCHORS:
            at = line.find(anchor)
            if at > 0:
                prefix = line[:at]
                if b"javax" not in prefix and len(prefix) <= 200 and prefix not in candidates:
                    candidates.append(prefix)
                break
        if len(candidates) >= 8:
            break
    best: tuple[int, re.Pattern[bytes]] | None = None
    for prefix in candidates:
        exact = not prefix.strip()  # only blanks: that many, on every line
        pattern = re.compile(rb"(?m)^" + (re.escape(prefix) if exact else _generalise(prefix)))
        hits = sum(1 for line in nonempty if pattern.match(line))
        if exact:  # an indented paste: every line must carry the blanks
            if hits < len(nonempty):
                continue
        elif hits < max(2 if len(nonempty) > 2 else 1, (len(nonempty) + 1) // 2):
            continue  # not on most lines: an application's line, not a collector's prefix
        if best is None or hits > best[0]:
            best = (hits, pattern)
    return best[1] if best else None


def _utf16(head: bytes) -> str | None:
    """The UTF-16 codec a sample is written in (None: not UTF-16)."""
    if head.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le"
    if head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be"
    sample = head[:4096]
    if len(sample) >= 8:
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        if odd > len(sample) * 0.4 and even < len(sample) * 0.05:
            return "utf-16-le"
        if even > len(sample) * 0.4 and odd < len(sample) * 0.05:
            return "utf-16-be"
    return None


class Decoded:
    """A UTF-16 stream read as UTF-8 bytes (the BOM dropped)."""

    def __init__(self, raw: ByteSource, head: bytes, codec: str) -> None:
        self.raw, self.head = raw, head
        self.decoder = codecs.getincrementaldecoder(codec)("replace")
        self.first = True

    def read(self, size: int = -1) -> bytes:
        data, self.head = (self.head, b"") if self.head else (self.raw.read(size), b"")
        text = self.decoder.decode(data, final=not data)
        if self.first and text.startswith("\ufeff"):
            text = text[1:]
        self.first = False
        out = text.encode("utf-8")
        return out if out or not data else self.read(size)


class Transformed:
    """A binary stream with per-line transformations applied, chunk by chunk, at line ends."""

    def __init__(self, raw: ByteSource, steps: list[Callable[[bytes], bytes]]) -> None:
        self.raw, self.steps, self.rest = raw, steps, b""

    def _apply(self, data: bytes) -> bytes:
        for step in self.steps:
            data = step(data)
        return data

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size if size and size > 0 else 1 << 22)
        if not data:
            out, self.rest = self.rest, b""
            return self._apply(out)
        data = self.rest + data
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            self.rest = data
            return self.read(size) if len(data) < (64 << 20) else self._apply(data)
        self.rest = data[cut:]
        return self._apply(data[:cut]) or self.read(size)


_NEEDLE = b"javax.net.ssl|"
_HEADER_AT = re.compile(rb"javax\.net\.ssl\|" + _HEADER_LEVELS + rb"\|")


def cut_layouts(data: bytes) -> bytes:
    """What precedes a JSSE header on its line, cut (the same as LAYOUT.sub, found by bytes.find:
    headers at a line's start, the usual case, cost one find each)."""
    out: list[bytes] = []
    start = pos = 0
    while True:
        at = data.find(_NEEDLE, pos)
        if at == -1:
            break
        line_start = data.rfind(b"\n", 0, at) + 1
        if at > line_start and line_start >= start and _HEADER_AT.match(data, at):
            out.append(data[start:line_start])
            start = at
        pos = at + len(_NEEDLE)
    if not out:
        return data
    out.append(data[start:])
    return b"".join(out)


def _unescape(data: bytes) -> bytes:
    return html.unescape(data.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")


def normalise(stream: ByteSource) -> ByteSource:
    """The stream, made to read as the JVM wrote it (see the module's docstring)."""
    head = stream.read(SAMPLE)
    rest: ByteSource = _Prepend(head, stream)
    codec = _utf16(head)
    if codec is not None:
        rest = Decoded(stream, head, codec)
        head = rest.read(SAMPLE)
        rest = _Prepend(head, rest)
    steps: list[Callable[[bytes], bytes]] = []
    if b"\r\n" in head:
        steps.append(lambda d: d.replace(b"\r\n", b"\n"))
    if b"\x1b[" in head:
        steps.append(lambda d: _ANSI.sub(b"", d))
    if _ESCAPED.search(head) and (b"&lt;" in head or b"&gt;" in head or b"&quot;" in head):
        steps.append(_unescape)
    sample = head
    for step in steps:
        sample = step(sample)
    pattern = learn_prefix(sample)
    if pattern is not None:
        steps.append(lambda d: pattern.sub(b"", d))
        sample = pattern.sub(b"", sample)
    if LAYOUT.search(sample):
        steps.append(cut_layouts)
    return Transformed(rest, steps) if steps else rest


class _Prepend:
    """The sample read to learn the prefix, then the rest of the stream."""

    def __init__(self, head: bytes, stream: ByteSource) -> None:
        self.head, self.stream = head, stream

    def read(self, size: int = -1) -> bytes:
        if self.head:
            out, self.head = self.head, b""
            return out
        return self.stream.read(size)
