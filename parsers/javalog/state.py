"""What the readers of every JDK family share while a log is read: the open handshakes (one per
thread), the key manager's entries, the trust anchors, the summary and the exceptions outside any
handshake. The family readers (modern, legacy, loose) change it; `assemble` drives them."""

from __future__ import annotations

from dataclasses import dataclass, field

from parsers.javalog.building import Build
from parsers.javalog.closing import logged_handshake
from parsers.javalog.model import KeyEntryFact, LoggedHandshake, LogSummary, Thrown, TrustedAnchors
from parsers.javalog.times import Stamps

#: JDK 8 names the thread on record lines only: its one open handshake lives under this key.
JDK8_THREAD = "jdk8|?"


@dataclass
class Orphan:
    """An exception outside any handshake: its chain as printed, and the line of each element."""

    line: int
    chain: list[Thrown]
    thread: str | None
    lines: list[int]
    caused_only: bool = False  # begun by a `Caused by:` line (a paste of causes only)


class KeyLedger:
    """The key manager's entries (`found key for`), for the thread's next handshakes."""

    def __init__(self, summary: LogSummary) -> None:
        self.summary = summary
        self.by_thread: dict[str, list[KeyEntryFact]] = {}
        self.used: set[str] = set()
        self.seen: set[tuple[str, int, tuple[str, ...]]] = set()
        self.last_thread: str | None = None

    def add(self, thread: str, fact: KeyEntryFact) -> None:
        """A key manager's entry: for the thread's next handshakes, and once in the summary."""
        if thread in self.used:
            self.used.discard(thread)
            self.by_thread[thread] = []
        self.by_thread.setdefault(thread, []).append(fact)
        self.last_thread = thread
        seen = (fact.alias, fact.chain_length, fact.issuers)
        if seen not in self.seen:
            self.seen.add(seen)
            self.summary.key_entries.append(fact)

    def take(self, thread: str) -> list[KeyEntryFact]:
        """The entries a new handshake on `thread` starts with (its own, or the last thread's)."""
        keys = self.by_thread.get(thread) or self.by_thread.get(self.last_thread or "", [])
        self.used.add(thread)
        return list(keys)


@dataclass
class LogState:
    summary: LogSummary = field(default_factory=LogSummary)
    open: dict[str, Build] = field(default_factory=dict)
    next_index: int = 1
    last_thread: str | None = None
    orphans: list[Orphan] = field(default_factory=list)
    trusted: TrustedAnchors | None = None
    jdk8_names: set[str] = field(default_factory=set)
    stamps: Stamps = field(init=False)
    keys: KeyLedger = field(init=False)

    def __post_init__(self) -> None:
        self.stamps = Stamps(self.summary)
        self.keys = KeyLedger(self.summary)

    def new(self, thread: str, line: int, fmt: str, when: float | None) -> Build:
        build = Build(self.next_index, thread, line, fmt, when)
        build.key_entries = self.keys.take(thread)
        self.next_index += 1
        self.open[thread] = build
        return build

    def current(self, thread: str, line: int, fmt: str, when: float | None, message: bool = True) -> Build:
        """The thread's open handshake; a new one (begun before the log, if `message`) otherwise."""
        build = self.open.get(thread)
        if build is None:
            build = self.new(thread, line, fmt, when)
            build.started_mid = message
        return build

    def close(self, build: Build, at_end: bool) -> LoggedHandshake:
        if self.open.get(build.thread) is build:
            del self.open[build.thread]
        self.summary.handshakes += 1
        return logged_handshake(build, at_end, self.trusted, len(self.jdk8_names))
