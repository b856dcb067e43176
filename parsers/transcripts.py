"""The TLS half of the capture pipeline: boundary items (parsers.boundary) → Transcripts.

One TlsSession per open connection; a connection's Transcript is handed over when its
`ConnectionClosed` arrives, so memory is bounded by the connections open at one time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from parsers.boundary import ConnectionClosed, ConnectionOpened, Item, OpaqueRecords, Record, SecretsFound
from parsers.events import EventBudget
from parsers.keylog import KeyLog
from parsers.model import Direction, Problem, Transcript
from parsers.tls import Abandoned, TlsSession

TranscriptFn = Callable[[Transcript], None]
HANDSHAKE = 22
#: bytes of unfinished handshake messages held across every open connection. One may hold up to
#: handshake.MAX_HANDSHAKE_MESSAGE per direction, so thousands of connections each left inside
#: a megabyte message (a few MB compressed) would hold gigabytes: past this, the messages waiting
#: longest are given up on (said on their connection) until a quarter of it is free again
HANDSHAKE_BUDGET = 64 << 20


class TranscriptBuilder:
    def __init__(self, keylog: KeyLog, on_transcript: TranscriptFn, lean: bool = False) -> None:
        self.keylog = keylog  # grows with secrets embedded in the capture
        self.on_transcript = on_transcript
        self.lean = lean
        self.sessions: dict[int, TlsSession] = {}
        #: connections holding part of a handshake message: bytes held, least recently fed first
        self.held_by: dict[int, int] = {}
        self.held = 0
        self.events = EventBudget()  # events kept across the open transcripts

    def feed(self, item: Item) -> None:
        if type(item) is Record:  # the common case first: one per record
            session = self.sessions[item.connection]
            session.record(item)
            if item.header[0] == HANDSHAKE:
                self._held(item.connection, session)
        elif type(item) is OpaqueRecords:
            self.sessions[item.connection].opaque_records(item)
        elif isinstance(item, ConnectionOpened):
            transcript = Transcript(item.connection, item.client, item.server, item.start_time)
            session = self.sessions[item.connection] = TlsSession(transcript, self.keylog, self.lean)
            session.writer.budget = self.events
            self.events.open = len(self.sessions)
        elif isinstance(item, ConnectionClosed):
            self.held -= self.held_by.pop(item.connection, 0)
            closed = self.sessions.pop(item.connection)
            self.events.open = len(self.sessions)
            self.on_transcript(closed.close(item.facts))
        elif isinstance(item, SecretsFound):
            self.keylog.add_text(item.text)

    def wants_body(self, connection: int, from_server: bool, length: int) -> bool:
        """The stream half in this process asks before copying an application_data body
        (parsers.connection.BodyPolicy): a body the session will not read is never copied."""
        session = self.sessions.get(connection)
        return session is None or not session.skips_body(from_server, length)

    def feed_all(self, items: Iterable[Item]) -> None:
        for item in items:
            self.feed(item)

    def _held(self, index: int, session: TlsSession) -> None:
        """After a handshake record: what the connection holds of unfinished messages."""
        held = sum(len(side.handshake.buffer) for side in session.sides.values())
        before = self.held_by.pop(index, 0)
        if held:
            self.held_by[index] = held
        self.held += held - before
        if self.held > HANDSHAKE_BUDGET:
            self._give_up()

    def _give_up(self) -> None:
        """Drop the unfinished messages fed least recently until a quarter of the budget is free."""
        while self.held > HANDSHAKE_BUDGET * 3 // 4 and self.held_by:
            index = next(iter(self.held_by))
            self.held -= self.held_by.pop(index)
            session = self.sessions[index]
            for direction, side in session.sides.items():
                if side.handshake.buffer:
                    _given_up(session, direction, len(side.handshake.buffer))
                    side.handshake = Abandoned()


def _given_up(session: TlsSession, direction: Direction, size: int) -> None:
    session.t.problems.append(
        Problem(
            "gap",
            f"an unfinished handshake message ({size} bytes so far) given up on, and the rest of "
            "this direction's handshake with it: the unfinished messages of every open connection "
            f"outgrew the reader's memory budget ({HANDSHAKE_BUDGET >> 20} MiB)",
            direction,
            session.frame,
        )
    )
