"""Streaming scanner: finds the lines of a javax.net.debug log that matter, with their blocks.

Speed comes from never looking at the lines that do not matter in Python: one regex (anchored on
a newline, so the engine scans at C speed) finds the interesting JDK 11+ headers and JDK 8
markers; `bytes.find` finds exception lines; everything between (hex dumps, cipher-suite lists,
uninteresting blocks) is skipped without being decoded. The file is read in chunks, so memory
stays bounded whatever its size.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from enum import Enum

from parsers.javalog.loose_words import loose_finder
from parsers.javalog.prefix import ByteSource

CHUNK = 1 << 22
MAX_BLOCK = 4 << 20  # a block larger than this is not a block: the closing ")" was lost

_KEYWORDS = (
    rb"Produced|Consuming|Received alert|Fatal \(|No X\.509|No available|Unavailable auth"
    rb"|Negotiated protocol|found key for|matching alias|X509KeyManager class|handling exception"
    rb"|Invalid certificate_auth|WRITE: \S+ alert|Warning: no suitable|Plaintext after DECRYPTION"
    rb"|Ignore alias|adding as trusted cert"
)
MODERN = re.compile(
    rb"\njavax\.net\.ssl\|[A-Z]+\|[^\n]*?\|\d{4}-\d\d-\d\d [^|\n]*\|[^|\n]*\|(?:" + _KEYWORDS + rb")"
)
_JDK8 = (
    rb"\n(?:\*\*\* |%% |Warning: no suitable|found key for|matching alias"
    rb"|[^\n,\[]{1,80}, (?:RECV|SEND|WRITE|handling exception|fatal error)"
    rb"|,? ?(?:RECV|SEND) (?:TLS|SSL)v?[\d.]+ ALERT)"  # JDK 6/7 pasted with the thread name cut
)
#: JDK 8 (and 6/7) output without a `*** ` line in the paste: a single sentence is enough.
_JDK8_HINT = re.compile(
    rb"Warning: no suitable certificate|(?:RECV|SEND) (?:TLS|SSL)v?[\d.]+ ALERT|\nmatching alias: "
)
BOTH = re.compile(MODERN.pattern + rb"|" + _JDK8)
#: JDK 11+ only: the keywords alone (4x faster than matching each header); the line is checked after.
KEYWORD = re.compile(rb"\|(?:" + _KEYWORDS + rb")")
_HEADER = re.compile(
    r"javax\.net\.ssl\|([A-Z]+)\|(.*?)\|(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ ?[^|]*)\|([^|]*)\|(.*)"
)


class Kind(str, Enum):
    MODERN = "modern"  # a JDK 11+ `javax.net.ssl|...` line
    JDK8 = "jdk8"  # a JDK 8 marker line
    EXCEPTION = "exception"  # a line naming a Java exception, outside the debug blocks
    APP = "app"  # the application's own line that tells something (an HTTP answer, a TLS summary)


_FRAGMENT = re.compile(r"[a-z_]{1,40}\)?\.?")


def _loose_entry(raw: bytes, follow: bytes = b"") -> Entry | None:
    """The entry for a line outside the blocks: an exception, an application's line, or nothing
    (an indented line is a frame's text or a block's debug-only throwable). An exception wrapped
    onto the next line (its message, or the tail of a word) is joined back."""
    text = _decode(raw)
    stripped = text.strip()
    nxt = _decode(follow).strip() if follow else ""
    if nxt and "Exception" in text and not nxt.startswith(("at ", "Caused by", "...", "javax.net.ssl|")):
        if stripped.endswith(("Exception", "Exception:")):
            text = f"{text.rstrip().rstrip(':')}: {nxt}"
        elif _FRAGMENT.fullmatch(nxt) and stripped[-1:].isalpha():
            from parsers.javalog.blocks import ALERT_CODES

            word = (stripped.split()[-1] + nxt).strip(").")
            if word in ALERT_CODES and stripped.split()[-1] not in ALERT_CODES:  # an alert's name cut
                text = text.rstrip() + nxt
    stripped = text.strip()
    if "Exception" in text and not stripped.startswith("at "):
        # indented: a frame's text, or a block's throwable (debug info) the scanner did not open
        return Entry(Kind.EXCEPTION, 0, text) if text[:1] not in (" ", "\t") else None
    if stripped.startswith("at ") or stripped.startswith('"'):
        return None
    return Entry(Kind.APP, 0, text)


@dataclass(slots=True)
class Entry:
    kind: Kind
    line: int
    text: str
    block: list[str] = field(default_factory=list)
    level: str = ""
    thread_id: str = ""
    thread_name: str = ""
    stamp: str = ""
    truncated: bool = False


@dataclass
class ScanStats:
    bytes: int = 0
    lines: int = 0
    modern_lines: int = 0  # every javax.net.ssl| line, interesting or not
    jdk8_markers: int = 0
    hex_dumps: int = 0  # Raw read / Raw write / Plaintext blocks (javax.net.debug=all)
    record_lines: int = 0  # READ: / WRITE: record lines
    nul_bytes: bool = False
    undecodable: bool = False
    truncated_blocks: int = 0
    long_lines: int = 0  # lines over 8 MB, skipped


_CONTROLS = bytes([*(c for c in range(32) if c != 9), 127])
#: Control characters become '?' before decoding: a byte below 0x80 is never part of a UTF-8
#: sequence, and a table lookup on bytes is 10x a str.translate through a dict.
_CONTROL = bytes.maketrans(_CONTROLS, b"?" * len(_CONTROLS))
#: In blocks: line ends kept, CRs removed after decoding (as a separator of bad UTF-8 they count).
_BLOCK_CONTROL = bytes.maketrans(
    _CONTROLS.replace(b"\n", b"").replace(b"\r", b""), b"?" * (len(_CONTROLS) - 2)
)


def _decode(raw: bytes) -> str:
    """Text of one line; control characters (terminal escapes) become '?': never echoed raw."""
    return raw.rstrip(b"\r").translate(_CONTROL).decode("utf-8", "replace")


@functools.cache
def _first_lines(count: int) -> re.Pattern[bytes]:
    """The first `count` lines with their line ends (no match: fewer lines than that)."""
    return re.compile(rb"(?:[^\n]*\n){%d}" % count)


def _decode_lines(raw: bytes, limit: int) -> list[str]:
    """The first `limit` lines (-1: all) of a block, decoded in one go (per-line calls cost)."""
    if limit > 0:
        first = _first_lines(limit).match(raw)
        if first is not None:
            raw = raw[: first.end() - 1]
    return raw.translate(_BLOCK_CONTROL).decode("utf-8", "replace").replace("\r", "").split("\n")


#: How much of a block the assembler reads (-1: all); the others are skipped undecoded.
_WHOLE = (
    "Produced ClientHello",
    "Consuming ServerHello handshake",
    "Consuming HelloRetryRequest",
    "Consuming CertificateRequest",
    "Consuming server Certificate",
    "Consuming Certificate handshake",
    "Produced client Certificate handshake",
    "Produced client Certificate message",
    "Received alert",
    "Fatal (",
    "handling exception",
    "found key for",
    "adding as trusted cert",
    "Consuming ClientHello",
    "Produced ServerHello handshake",
    "Produced server Certificate",
    "Produced CertificateRequest",
    "Consuming client Certificate handshake",
    "Consuming client Certificate message",
)
_HEAD = ("Produced client CertificateVerify", "Produced CertificateVerify", "Plaintext after DECRYPTION")


def _block_limit(message: str) -> int:
    if message.startswith(_WHOLE):
        return -1
    if message.startswith("Plaintext after DECRYPTION"):
        return 24  # an HTTP answer's status line and, for nginx's 400, its <title>
    return 4 if message.startswith(_HEAD) else 0


_INDENTED_CLOSE = re.compile(rb"\n[ \t]+\)\r?\n")


class Scanner:
    def __init__(self, stream: ByteSource, chunk: int = CHUNK) -> None:
        self.stream = stream
        self.chunk = chunk
        self.stats = ScanStats()
        self._jdk8 = False

    def entries(self) -> Iterator[Entry]:
        buf = b"\n"
        line_at_1 = 1  # the line number of the line starting at buf[1]
        eof = False
        skipping = False  # inside a line longer than MAX_BLOCK: dropped up to its end
        while not eof:
            data = self.stream.read(self.chunk)
            if skipping and data:
                newline = data.find(b"\n")
                if newline == -1:
                    self.stats.bytes += len(data)
                    continue
                self.stats.bytes += newline + 1
                data, skipping, line_at_1 = data[newline + 1 :], False, line_at_1 + 1
                if not data:
                    continue
            if not data:
                eof = True
                if len(buf) == 1:
                    break
                if not buf.endswith(b"\n"):
                    buf += b"\n"
            else:
                self._count(data, first=len(buf) == 1 and line_at_1 == 1)
                buf += data
                if b"\n" not in data and len(buf) < MAX_BLOCK:
                    continue
            limit = len(buf) if eof else buf.rfind(b"\n") + 1
            keep, lines_before_keep = yield from self._scan(buf, limit, line_at_1, eof)
            line_at_1 = lines_before_keep
            if not eof and len(buf) - keep > 2 * MAX_BLOCK:  # a line that never ends: bounded memory
                self.stats.long_lines += 1
                tail = buf[keep:]
                cut = tail.rfind(b"\n")
                if cut != -1:
                    line_at_1 += tail.count(b"\n", 0, cut + 1)
                skipping = True
                buf = b"\n"
                continue
            buf = b"\n" + buf[keep:]
        self.stats.lines = line_at_1 - 1

    def _count(self, data: bytes, first: bool) -> None:
        stats = self.stats
        stats.bytes += len(data)
        if not stats.modern_lines:  # presence is what the summary needs: stop counting once seen
            stats.modern_lines = data.count(b"javax.net.ssl|")
        if not stats.hex_dumps:
            stats.hex_dumps = data.count(b"|Raw read (") + data.count(b"|Raw write (")
        if not stats.record_lines:
            stats.record_lines = data.count(b"|READ: ") + data.count(b"|WRITE: ")
        if first:
            head = data[:8192]
            stats.nul_bytes = b"\0" in head
            try:
                head.decode("utf-8")
            except UnicodeDecodeError as exc:
                stats.undecodable = exc.start < len(head) - 4
        if self._jdk8 or (stats.modern_lines and stats.bytes > 64 << 20):
            return  # JDK 8 markers are looked for in the first 64 MB of a JDK 11+ log only
        if b"\n*** " in data or data.startswith(b"*** ") or b"\n%% " in data:
            self._jdk8 = True
            stats.jdk8_markers = data.count(b"\n*** ") + data.startswith(b"*** ")
        elif not stats.modern_lines and _JDK8_HINT.search(data[: 1 << 20]):
            self._jdk8 = True
            stats.jdk8_markers = 1

    def _scan(
        self, buf: bytes, limit: int, line_at_1: int, eof: bool
    ) -> Generator[Entry, None, tuple[int, int]]:
        """Yield the entries of buf[:limit]; return where to keep from and that line's number."""
        pattern = BOTH if self._jdk8 else KEYWORD
        counted_pos, counted_line = 1, line_at_1

        def line_of(p: int) -> int:
            nonlocal counted_pos, counted_line
            counted_line += buf.count(b"\n", counted_pos, p)
            counted_pos = p
            return counted_line

        pos = 1
        search_from = 0
        loose = loose_finder(buf, limit)
        loose_from = pos  # where the lines outside the blocks are looked for next
        while True:
            m = pattern.search(buf, search_from, limit)
            keyword_at = -1
            if m is None:
                start = limit
            elif pattern is KEYWORD:  # a keyword after a '|': is it the message of a header line?
                start = buf.rfind(b"\n", 0, m.start()) + 1
                if start < pos or not buf.startswith(b"javax.net.ssl|", start):
                    search_from = m.end()
                    continue
                keyword_at = m.start() + 1 - start
            else:
                start = m.start() + 1
            while (at := loose.find(loose_from, start)) != -1:
                line_start = buf.rfind(b"\n", 0, at) + 1
                line_end = buf.find(b"\n", at, limit)
                if line_end == -1:
                    break
                if line_start >= pos:
                    after = buf.find(b"\n", line_end + 1, limit)
                    follow = buf[line_end + 1 : after] if after != -1 else b""
                    found = _loose_entry(buf[line_start:line_end], follow)
                    if found is not None:
                        found.line = line_of(line_start)
                        yield found
                loose_from = line_end
            if m is None:
                return self._keep(buf, limit, line_of)
            line_end = buf.find(b"\n", start, limit)
            if line_end == -1:
                return self._keep(buf, start, line_of)
            text = _decode(buf[start:line_end])
            if text.startswith("javax.net.ssl|"):
                entry, end = self._modern(buf, text, start, line_end, limit, eof, keyword_at)
            else:
                entry, end = self._legacy(buf, text, line_end, limit, eof)
            if entry is None and end == -1:  # the keyword was not where a header's message starts
                search_from = m.end() if m else limit
                continue
            if entry is None:  # the block runs past the buffer: read more first
                return self._keep(buf, start, line_of)
            entry.line = line_of(start)
            pos = end
            search_from = end - 1
            loose_from = max(loose_from, end)
            yield entry

    @staticmethod
    def _keep(buf: bytes, keep: int, line_of: Callable[[int], int]) -> tuple[int, int]:
        return keep, line_of(keep)

    def _block_end(self, buf: bytes, after: int, limit: int) -> int:
        """Position just past the block's closing `)` line; -1 if it is not in the buffer."""
        search = after
        while True:
            close = buf.find(b"\n)", search, limit)
            if close == -1:
                return -1
            tail = buf[close + 2 : close + 4]
            if tail[:1] == b"\n" or tail == b"\r\n":
                return close + 2 + (2 if tail == b"\r\n" else 1)
            search = close + 2

    def _modern(
        self, buf: bytes, text: str, start: int, line_end: int, limit: int, eof: bool, keyword_at: int = -1
    ) -> tuple[Entry | None, int]:
        m = _HEADER.match(text)
        if m is None:
            return Entry(Kind.MODERN, 0, text), line_end + 1
        if keyword_at >= 0 and len(text[: m.start(5)].encode()) != keyword_at:
            return None, -1
        level, thread, stamp, _caller, message = m.groups()
        tid, _, name = thread.partition("|")
        entry = Entry(Kind.MODERN, 0, message, level=level, thread_id=tid, thread_name=name, stamp=stamp)
        if not message.rstrip().endswith(" ("):
            return entry, line_end + 1
        entry.text = message.rstrip()[:-2]
        want = _block_limit(entry.text)
        end = self._block_end(buf, line_end, limit)
        next_header = buf.find(b"\njavax.net.ssl|", line_end, end if end != -1 else limit)
        if next_header != -1:  # an edited paste may indent the closing `)`: the block ends there
            indented = _INDENTED_CLOSE.search(buf, line_end, next_header + 1)
            if indented is not None:
                end, next_header = indented.end(), -1
        if next_header != -1:  # cut short (interleaved or truncated): the block ends there
            entry.block = _decode_lines(buf[line_end + 1 : next_header], want) if want else []
            entry.truncated = True
            self.stats.truncated_blocks += 1
            return entry, next_header + 1
        if end == -1:
            if not eof and limit - start < MAX_BLOCK:
                return None, start
            entry.truncated = True
            self.stats.truncated_blocks += 1
            entry.block = _decode_lines(buf[line_end + 1 : limit], 2000 if want < 0 else want) if want else []
            return entry, limit
        if want:
            body = buf[line_end + 1 : end]
            lines = _decode_lines(body, want)
            entry.block = lines[:-2] if want < 0 else lines
        return entry, end

    def _legacy(
        self, buf: bytes, text: str, line_end: int, limit: int, eof: bool
    ) -> tuple[Entry | None, int]:
        entry = Entry(Kind.JDK8, 0, text)
        if not text.startswith(("*** ", "found key for")):
            return entry, line_end + 1
        nxt = BOTH.search(buf, line_end, limit)
        if nxt is None and not eof and limit - line_end < MAX_BLOCK:
            return None, 0
        end = nxt.start() + 1 if nxt else limit
        entry.block = _decode_lines(buf[line_end + 1 : end], 5000)
        if entry.block and entry.block[-1] == "":
            entry.block.pop()
        return entry, end
