"""What is derived from one decoded message alone, made once per message object.

The decoder shares one object among the connections that sent the same bytes
(parsers.messages memoises certificates and certificate requests), and a dense capture repeats
a few of them thousands of times: the CA names a rule compares, the text a report writes. The
memo is keyed by the object's identity and keeps the object itself, so an id reused after the
object is freed never answers for another; it is emptied when full, so it stays bounded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class MessageMemo(Generic[K, V]):
    """`memo(message)`: make(message), made once per object while the memo holds it."""

    __slots__ = ("_entries", "_make", "_size")

    def __init__(self, make: Callable[[K], V], size: int = 4096) -> None:
        self._make = make
        self._size = size
        self._entries: dict[int, tuple[K, V]] = {}

    def __call__(self, message: K) -> V:
        hit = self._entries.get(id(message))
        if hit is not None and hit[0] is message:
            return hit[1]
        value = self._make(message)
        if len(self._entries) >= self._size:
            self._entries.clear()
        self._entries[id(message)] = (message, value)
        return value
