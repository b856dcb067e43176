"""Ties scanner entries into handshakes: one open handshake per thread, closed by the next one.

A handshake is tied together by its thread (JDK 11+ prints the thread id and name on every line;
JDK 8 prints the name on record lines), never by adjacency, so interleaved threads and
application lines do not mix handshakes. A handshake is handed out as soon as its thread starts
the next one (or at the end of the log), which keeps memory bounded by the number of threads.
Each family of lines has its reader: `modern` (JDK 11+), `legacy` (JDK 6/7/8), `loose`
(exceptions and the application's lines outside the debug blocks); they share a `LogState`.
"""

from __future__ import annotations

from collections.abc import Iterator

from parsers.javalog import legacy, loose, modern
from parsers.javalog.model import JavaException, LoggedHandshake, LogSummary
from parsers.javalog.scan import Entry, Kind
from parsers.javalog.state import LogState

__all__ = ["Assembler"]


class Assembler:
    def __init__(self) -> None:
        self.state = LogState()

    @property
    def summary(self) -> LogSummary:
        return self.state.summary

    def feed(self, entry: Entry) -> Iterator[LoggedHandshake]:
        if entry.kind is Kind.MODERN:
            yield from modern.read(self.state, entry)
        elif entry.kind is Kind.JDK8:
            yield from legacy.read(self.state, entry)
        elif entry.kind is Kind.APP:
            loose.app_line(self.state, entry)
        else:
            loose.exception(self.state, entry)

    def finish(self) -> Iterator[LoggedHandshake]:
        state = self.state
        for build in sorted(state.open.values(), key=lambda b: b.index):
            yield state.close(build, at_end=True)
        state.open.clear()
        for o in state.orphans:
            state.summary.exceptions.append(JavaException(o.line, tuple(o.chain), o.thread, tuple(o.lines)))
