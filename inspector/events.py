"""Typed access to a transcript's events: the message narrowed to its class in one place.

`Transcript.first(kind)` returns a `HandshakeEvent` whose `message` is the whole `Message`
union, so every caller used to repeat `isinstance(event.message, kind)` to reach its fields.
`Seen` pairs the event (time, direction, frame, label) with its message already narrowed.
(This belongs beside `Transcript` in parsers/model.py; it lives here while another change
owns that module.)
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from parsers.model import ALERT_NAMES, Alert, Direction, HandshakeEvent, Message, Transcript

M = TypeVar("M", bound=Message)


@dataclass(frozen=True, slots=True)
class Seen(Generic[M]):
    """One event and its message, typed as the class asked for."""

    event: HandshakeEvent
    message: M

    @property
    def direction(self) -> Direction:
        return self.event.direction

    @property
    def time(self) -> float:
        return self.event.time


def message_as(event: HandshakeEvent | None, kind: type[M]) -> M | None:
    """The event's message if it is a `kind`, else None."""
    if event is not None and isinstance(event.message, kind):
        return event.message
    return None


def seen_as(event: HandshakeEvent | None, kind: type[M]) -> Seen[M] | None:
    message = message_as(event, kind)
    return None if message is None or event is None else Seen(event, message)


def first(t: Transcript, kind: type[M], direction: Direction | None = None) -> Seen[M] | None:
    """The first `kind` message (from `direction`, if given)."""
    return seen_as(t.first(kind, direction), kind)


def every(
    events: Iterable[HandshakeEvent], kind: type[M], direction: Direction | None = None
) -> Iterator[Seen[M]]:
    """Each `kind` message among `events`, in order (from `direction`, if given)."""
    for event in events:
        if direction is not None and event.direction is not direction:
            continue
        seen = seen_as(event, kind)
        if seen is not None:
            yield seen


def any_of(events: Iterable[HandshakeEvent], kind: type[M], direction: Direction | None = None) -> bool:
    return next(every(events, kind, direction), None) is not None


def fatal_alert(t: Transcript) -> Seen[Alert] | None:
    """The first fatal alert, either way: where the handshake failed."""
    return next((s for s in every(t.messages(Alert), Alert) if s.message.fatal), None)


def alert_named(alert: Alert) -> bool:
    """Is the alert's description one this tool can name? Not for a description outside the
    registry (200), nor for a fatal 0: close_notify is a warning, and a Java log whose alert
    description the reader could not read (missing, "UNKNOWN ALERT (200)") arrives as a fatal 0."""
    if alert.encrypted:
        return True  # said as "encrypted alert": what is not known is said so
    if not alert.described:
        return False
    return alert.description in ALERT_NAMES and not (alert.fatal and alert.description == 0)


def alert_name(alert: Alert) -> str:
    """The alert's name for reports: never close_notify for one whose description is unknown."""
    if alert.encrypted:
        return "encrypted alert"
    if not alert.described:
        return "unknown alert (description not shown)"
    if alert.fatal and alert.description == 0:
        return "unknown alert"
    if alert.description not in ALERT_NAMES:
        return f"alert {alert.description} (unknown)"
    return ALERT_NAMES[alert.description]


def event_label(event: HandshakeEvent) -> str:
    """The event's label, with an alert named by `alert_name`."""
    m = event.message
    if isinstance(m, Alert):
        name = alert_name(m).removeprefix("alert ")  # "Alert 200 (unknown)"
        return f"Alert {name}" + ("" if m.encrypted or m.fatal else " (warning)")
    return event.label
