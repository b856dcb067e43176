"""Report pieces parked on disk past a few MB and read back in connection order.

A capture of 100,000 failed handshakes makes hundreds of MB of ladders and JSON; keeping them
in memory until the end would break the promise of flat memory whatever the file size.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator

IN_MEMORY = 8 << 20


class Spool:
    def __init__(self) -> None:
        # SpooledTemporaryFile moves to a private (0600) temporary file past IN_MEMORY bytes
        self._file = tempfile.SpooledTemporaryFile(  # noqa: SIM115 (lives as long as the report)
            max_size=IN_MEMORY, mode="w+b"
        )
        self._where: dict[int, list[tuple[int, int]]] = {}
        self._end = 0

    def add(self, key: int, text: str) -> None:
        data = text.encode("utf-8")
        self._file.seek(self._end)
        self._file.write(data)
        self._where.setdefault(key, []).append((self._end, len(data)))
        self._end += len(data)

    def keys(self) -> list[int]:
        return sorted(self._where)

    def __len__(self) -> int:
        return len(self._where)

    def texts(self) -> Iterator[str]:
        """Every piece, by key order, then in the order added."""
        for key in sorted(self._where):
            for start, size in self._where[key]:
                self._file.seek(start)
                yield self._file.read(size).decode("utf-8")
