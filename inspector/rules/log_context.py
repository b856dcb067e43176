"""What the log rules are handed (one handshake of a Java log, with the file's summary), and the
wire rules' context as a log words its evidence: log lines instead of capture frames."""

from __future__ import annotations

from dataclasses import dataclass

from inspector.findings import Evidence, Location
from inspector.rules.wire_context import WireContext
from parsers.javalog.model import LoggedHandshake, LogSummary
from parsers.model import HandshakeEvent


@dataclass(frozen=True)
class LogContext:
    logged: LoggedHandshake
    summary: LogSummary
    file: str

    def where(self) -> Location:
        return Location(file=self.file, connection=self.logged.transcript.index)

    def at(self, line: int, fact: str) -> Evidence:
        return Evidence(f"log line {line}", fact)


@dataclass(frozen=True)
class LogWireContext(WireContext):
    """The wire rules' context with evidence naming log lines instead of capture frames."""

    role: str = "client"  # the side that wrote the log

    def ev(self, event: HandshakeEvent | None, fact: str) -> Evidence:
        if event is None:
            return Evidence(f"handshake #{self.t.index}", fact)
        who = "client" if event.direction.value == "client" else "server"
        verb = "sent by" if who == self.role else "received from"
        where = f"log line {event.frame}" if event.frame is not None else "log"
        from parsers.model import event_label  # an alert this tool cannot name, said so

        return Evidence(f"{event_label(event)} {verb} the {who} ({where})", fact)
