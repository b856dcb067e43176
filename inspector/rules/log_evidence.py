"""What a logged handshake shows, read the same way by the log rules and the trust rules: the
server's chain (with the log line that printed it) and every sentence of Java's failure."""

from __future__ import annotations

from parsers.javalog.model import LoggedHandshake
from parsers.model import Certificate, Direction


def server_chain(logged: LoggedHandshake) -> tuple[int | None, Certificate | None]:
    """The server's Certificate message and the log line it was printed at."""
    event = logged.transcript.first(Certificate, Direction.SERVER)
    if event is None or not isinstance(event.message, Certificate):
        return None, None
    return event.frame, event.message


def all_text(h: LoggedHandshake) -> list[tuple[int, str]]:
    """Java's failure in its own words, with their lines: the fatal alert, then the exception chain."""
    out: list[tuple[int, str]] = []
    if h.fatal is not None:
        out.append((h.fatal.line, h.fatal.reason))
    if h.exception is not None:
        out += [(h.exception.line, f"{c}: {m}") for c, m in h.exception.chain]
    return out
