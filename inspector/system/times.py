"""Capture and log timestamps as dates, whatever the file claims (a damaged pcapng block can say
the year 228111: datetime refuses it, and one such packet must not cost the report)."""

from __future__ import annotations

import datetime as dt

_EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_LATEST = dt.datetime(9999, 12, 31, 23, 59, 59, tzinfo=dt.timezone.utc)


def utc_from_timestamp(seconds: float) -> dt.datetime:
    """The UTC date of a Unix time, clamped to the years datetime can hold."""
    try:
        return dt.datetime.fromtimestamp(seconds, dt.timezone.utc)
    except (OverflowError, OSError, ValueError):
        return _LATEST if seconds > 0 else _EARLIEST
