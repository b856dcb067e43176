"""The TLS half of the capture pipeline: boundary items (parsers.boundary) → Transcripts.

One TlsSession per open connection; a connection's Transcript is handed over when its
`ConnectionClosed` arrives, so memory is bounded by the connections open at one time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from parsers.boundary import ConnectionClosed, ConnectionOpened, Item, OpaqueRecords, Record, SecretsFound
from parsers.keylog import KeyLog
from parsers.model import Transcript
from parsers.tls import TlsSession

TranscriptFn = Callable[[Transcript], None]


class TranscriptBuilder:
    def __init__(self, keylog: KeyLog, on_transcript: TranscriptFn, lean: bool = False) -> None:
        self.keylog = keylog  # grows with secrets embedded in the capture
        self.on_transcript = on_transcript
        self.lean = lean
        self.sessions: dict[int, TlsSession] = {}

    def feed(self, item: Item) -> None:
        if type(item) is Record:  # the common case first: one per record
            self.sessions[item.connection].record(item)
        elif type(item) is OpaqueRecords:
            self.sessions[item.connection].opaque_records(item)
        elif isinstance(item, ConnectionOpened):
            transcript = Transcript(item.connection, item.client, item.server, item.start_time)
            self.sessions[item.connection] = TlsSession(transcript, self.keylog, self.lean)
        elif isinstance(item, ConnectionClosed):
            self.on_transcript(self.sessions.pop(item.connection).close(item.facts))
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
