"""A gzip-compressed capture read as a stream of its plain bytes, by the same pcap / pcapng reader.

A `.pcap.gz` must be read like the file it compresses (embedded key logs, truncation, every
check), so only the decompression differs. A gzip stream that stops early (an interrupted
download) or turns into something else is not an error that loses what came before: the bytes
decompressed so far are read, and the cut is said once, in the capture's words.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable
from typing import BinaryIO

#: told once when the compressed stream stops being readable: what went wrong, in a sentence
CutFn = Callable[[str], None]


class GzipStream:
    """`parsers.pcapfile.Readable` over a gzip file: `read`/`read1` give plain bytes and end
    (b"") where the compressed stream cannot be read further, after telling `on_cut` why."""

    def __init__(self, raw: BinaryIO, on_cut: CutFn) -> None:
        self.raw = raw
        self.on_cut = on_cut
        self.plain = 0  # bytes decompressed so far
        self.ended = False
        self._gzip = gzip.GzipFile(fileobj=raw, mode="rb")

    @property
    def compressed(self) -> int:
        """Compressed bytes consumed (where a progress bar stands in the file)."""
        try:
            return self.raw.tell()
        except (OSError, ValueError):
            return 0

    def read(self, size: int, /) -> bytes:
        """`size` bytes, fewer only where the stream ends: built from `read1` calls, so bytes
        decompressed before a cut are never lost with the exception."""
        first = self.read1(size)
        if len(first) == size or not first:
            return first
        parts = [first]
        got = len(first)
        while got < size:
            more = self.read1(size - got)
            if not more:
                break
            parts.append(more)
            got += len(more)
        return b"".join(parts)

    def read1(self, size: int, /) -> bytes:
        return self._guarded(self._gzip.read1, size)

    def _guarded(self, read: Callable[[int], bytes], size: int) -> bytes:
        if self.ended:
            return b""
        try:
            data = read(size)
        except EOFError:
            return self._cut("the gzip stream ends before its end marker (an interrupted copy or download)")
        except gzip.BadGzipFile as exc:
            text = str(exc)
            if text.startswith("CRC check failed") or text.startswith("Incorrect length"):
                return self._cut("the gzip stream's checksum does not match its content: the file is corrupt")
            if self.plain:
                return self._cut("bytes that are not gzip data follow the compressed capture")
            return self._cut(f"not a gzip stream this reader opens ({text})")
        except zlib.error:
            return self._cut("the gzip stream is corrupt (its compressed data cannot be decoded)")
        self.plain += len(data)
        if not data:
            self.ended = True
        return data

    def _cut(self, why: str) -> bytes:
        self.ended = True
        self.on_cut(f"{why}: read up to there, {self.plain} bytes of capture" if self.plain else why)
        return b""
