"""Report output made in the capture reader's worker process and kept in this one.

The worker (parsers.parallel.WorkerShare) judges some connections itself; the reports live in
this process, but were forked with it, so each has the same serial number there. While the
worker judges a connection, a report's `add` records its rendered piece under its serial
(`active`) instead of keeping it; this process `replay`s the pieces in the capture's order.
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

Pieces = list[tuple[int, object]]  # (report serial, rendered piece)


class Keeper(Protocol):
    def keep(self, piece: object) -> None: ...


_KEEPERS: weakref.WeakValueDictionary[int, Keeper] = weakref.WeakValueDictionary()
_SERIALS = itertools.count()
_recording: Pieces | None = None


def register(keeper: Keeper) -> int:
    serial = next(_SERIALS)
    _KEEPERS[serial] = keeper
    return serial


def active() -> Pieces | None:
    """The pieces being recorded now, or None: keep as usual."""
    return _recording


@contextmanager
def recording() -> Iterator[Pieces]:
    global _recording
    pieces: Pieces = []
    outer, _recording = _recording, pieces
    try:
        yield pieces
    finally:
        _recording = outer


def replay(pieces: Pieces) -> None:
    for serial, piece in pieces:
        _KEEPERS[serial].keep(piece)
