"""Transcript events: decoded messages → HandshakeEvents appended to a Transcript, with
consecutive opaque records of one direction folded into one event (a bulk transfer is
thousands of records; the fold is built lazily)."""

from __future__ import annotations

from dataclasses import dataclass

from parsers.model import Direction, EncryptedRecords, HandshakeEvent, Message, Transcript

MAX_SIZES = 64  # record sizes kept per folded run
#: events kept per transcript: a handshake has a few dozen; a connection of millions of tiny
#: records (hostile or broken) must not hold one object per record
MAX_EVENTS = 10_000
#: events kept across the transcripts of one reader's open connections (~200 bytes each): alone,
#: MAX_EVENTS per connection times thousands open would be gigabytes (a small compressed file
#: of connections sending thousands of alerts each), so a connection's share shrinks as more
#: are open, never below MIN_EVENTS (a handshake has a few dozen)
MAX_HELD_EVENTS = 500_000
MIN_EVENTS = 64


class EventBudget:
    """Shared by the writers of one reader (parsers.transcripts.TranscriptBuilder counts `open`)."""

    __slots__ = ("open",)

    def __init__(self) -> None:
        self.open = 0

    def cap(self) -> int:
        """Events one transcript may keep now."""
        share = MAX_HELD_EVENTS // self.open if self.open else MAX_EVENTS
        return MAX_EVENTS if share >= MAX_EVENTS else max(share, MIN_EVENTS)


@dataclass
class _OpaqueRun:
    direction: Direction
    time: float
    frame: int
    count: int
    sizes: list[int]


class TranscriptWriter:
    def __init__(self, transcript: Transcript) -> None:
        self.t = transcript
        self._run: _OpaqueRun | None = None
        self.dropped = 0  # events past the cap: counted, not kept
        self.budget: EventBudget | None = None  # set by a reader of many connections

    @property
    def cap(self) -> int:
        return MAX_EVENTS if self.budget is None else self.budget.cap()

    def emit(self, direction: Direction, message: Message, frame: int, time: float, encrypted: bool) -> None:
        if self._run is not None:
            self.flush()
        events = self.t.events
        if len(events) < MAX_EVENTS and (self.budget is None or len(events) < self.budget.cap()):
            events.append(HandshakeEvent(direction, time - self.t.start_time, message, frame, encrypted))
        else:
            self.dropped += 1

    def _append(self, event: HandshakeEvent) -> None:
        if len(self.t.events) < self.cap:
            self.t.events.append(event)
        else:
            self.dropped += 1

    def opaque(self, direction: Direction, length: int, frame: int, time: float) -> None:
        run = self._run
        if run is not None and run.direction is direction:
            run.count += 1
            if len(run.sizes) < MAX_SIZES:
                run.sizes.append(length)
            return
        self.flush()
        self._run = _OpaqueRun(direction, time, frame, 1, [length])

    def opaque_more(
        self, direction: Direction, count: int, lengths: tuple[int, ...], frame: int, time: float
    ) -> None:
        """`count` more opaque records (their first lengths given), as `opaque` once each."""
        run = self._run
        if run is None or run.direction is not direction:  # not after an opaque record: one by one
            for length in lengths:
                self.opaque(direction, length, frame, time)
            run = self._run
            assert run is not None
            run.count += count - len(lengths)
            return
        run.count += count
        room = MAX_SIZES - len(run.sizes)
        if room > 0:
            run.sizes.extend(lengths[:room])

    def flush(self) -> None:
        run = self._run
        if run is None:
            return
        self._run = None
        self._append(
            HandshakeEvent(
                run.direction,
                run.time - self.t.start_time,
                EncryptedRecords(run.count, tuple(run.sizes)),
                run.frame,
                True,
            )
        )
