"""Logs whose every line carries a collector's prefix (Kubernetes/CRI `2026-...Z stderr F `, a
syslog or journald stamp): the prefix is learned from the first debug line and stripped from
every line, so the blocks read as the JVM wrote them."""

from __future__ import annotations

import re
from typing import Protocol

SAMPLE = 1 << 16


class ByteSource(Protocol):
    """What the reader needs of a stream: a file, gzip, stdin or a wrapper of those."""

    def read(self, size: int = -1, /) -> bytes: ...


def learn_prefix(head: bytes) -> re.Pattern[bytes] | None:
    """A pattern for what precedes `javax.net.ssl|` on the first debug line (None: no prefix)."""
    at = head.find(b"javax.net.ssl|")
    if at <= 0:
        return None
    start = head.rfind(b"\n", 0, at) + 1
    prefix = head[start:at]
    if not prefix or len(prefix) > 200 or b"javax" in prefix:
        return None
    generic = re.sub(rb"\d+", rb"\\d+", re.escape(prefix))
    pattern = re.compile(rb"(?m)^" + generic)
    lines = head.count(b"\n") + 1
    if len(pattern.findall(head)) < max(2, lines // 2):  # not on most lines: an application's line
        return None
    return pattern


class PrefixStripped:
    """A binary stream with the learned prefix removed at every line start (C-speed re.sub)."""

    def __init__(self, raw: ByteSource, pattern: re.Pattern[bytes]) -> None:
        self.raw, self.pattern, self.rest = raw, pattern, b""

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size if size and size > 0 else 1 << 22)
        if not data:
            out, self.rest = self.rest, b""
            return self.pattern.sub(b"", out)
        data = self.rest + data
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            self.rest = data
            return self.read(size) if len(data) < (64 << 20) else self.pattern.sub(b"", data)
        self.rest = data[cut:]
        return self.pattern.sub(b"", data[:cut])
