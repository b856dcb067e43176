"""javax.net.debug logs (JDK 8 to 25) read into the transcript model the pcap decoder produces.

`read_log(stream)` streams: handshakes come out as their thread moves on, the summary (what the
log holds, exceptions outside any handshake, key entries the key manager found) is complete once
the iterator is exhausted.
"""

from __future__ import annotations

import gzip
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from parsers.javalog.assemble import Assembler
from parsers.javalog.model import LoggedHandshake, LogSummary
from parsers.javalog.prefix import ByteSource, normalise
from parsers.javalog.scan import Entry, Scanner, ScanStats

__all__ = ["JavaLogReader", "LogSummary", "LoggedHandshake", "open_log", "read_log", "read_log_file"]


class EntrySource(Protocol):
    """What the reader needs of a scanner: its entries, then what it saw (a Scanner, or
    parsers.javalog.parallel's WorkerScanner)."""

    stats: ScanStats

    def entries(self) -> Iterator[Entry]: ...


class JavaLogReader:
    def __init__(self, scanner: EntrySource) -> None:
        self.scanner = scanner
        self.assembler = Assembler()

    @property
    def summary(self) -> LogSummary:
        return self.assembler.summary

    def handshakes(self) -> Iterator[LoggedHandshake]:
        for entry in self.scanner.entries():
            try:
                yield from self.assembler.feed(entry)
            except (
                ValueError,
                IndexError,
                KeyError,
                TypeError,
            ) as exc:  # a malformed block: data, not a crash
                self.assembler.summary.problems.append(
                    f"line {entry.line}: not understood ({type(exc).__name__}), skipped"
                )
        yield from self.assembler.finish()
        stats, summary = self.scanner.stats, self.assembler.summary
        summary.bytes, summary.lines = stats.bytes, stats.lines
        summary.debug_lines, summary.hex_dumps = stats.modern_lines, stats.hex_dumps
        summary.record_lines = stats.record_lines
        summary.binary = stats.nul_bytes or stats.undecodable
        modern, legacy = stats.modern_lines > 0, stats.jdk8_markers > 0
        summary.fmt = (
            "JDK 11+ and JDK 8"
            if modern and legacy
            else "JDK 11+"
            if modern
            else "JDK 8"
            if legacy or summary.handshakes
            else "none"
        )
        if stats.long_lines:
            summary.problems.append(f"{stats.long_lines} line(s) longer than 8 MB skipped")
        if stats.truncated_blocks:
            summary.problems.append(f"{stats.truncated_blocks} block(s) cut short (no closing ')')")


def read_log(stream: ByteSource) -> JavaLogReader:
    return JavaLogReader(Scanner(stream))


def read_log_file(name: str) -> JavaLogReader | None:
    """A reader of a large regular file that scans it in a worker process (the rest runs here, as
    read_log's); None: read_log it (a small file, a pipe, stdin, one core)."""
    from parsers.javalog.parallel import WorkerScanner, worker_context

    context = worker_context(Path(name)) if name != "-" else None
    return JavaLogReader(WorkerScanner(open_log(name), context)) if context is not None else None


def open_log(name: str) -> ByteSource:
    """A file (gzip recognised by its magic bytes, whatever its name) or '-' for stdin, made to
    read as the JVM wrote it: per-line prefixes, layouts, UTF-16, CRLF, ANSI and HTML escapes
    undone (parsers.javalog.prefix)."""
    if name == "-":
        raw = sys.stdin.buffer
        head = raw.peek(2)[:2] if hasattr(raw, "peek") else b""
        stream: ByteSource = gzip.GzipFile(fileobj=raw) if head == b"\x1f\x8b" else raw
    else:
        handle = Path(name).open("rb")  # noqa: SIM115 (returned to the caller, who closes it)
        magic = handle.peek(2)[:2]  # not read: a pipe (<(zcat ...)) cannot seek back
        stream = gzip.GzipFile(fileobj=handle) if magic == b"\x1f\x8b" else handle
    return normalise(stream)
