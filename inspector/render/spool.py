"""Report pieces parked on disk past a few MB and read back in connection order.

A capture of 100,000 failed handshakes makes hundreds of MB of ladders and JSON; keeping them
in memory until the end would break the promise of flat memory whatever the file size. The index
of the pieces is three arrays of machine integers (24 bytes a piece), not Python objects: 500,000
connections cost 12 MB of index, where a dict of lists cost over 100 MB.
"""

from __future__ import annotations

import tempfile
from array import array
from collections.abc import Iterator

IN_MEMORY = 8 << 20
PENDING_MAX = 64 << 10


class Spool:
    def __init__(self) -> None:
        # SpooledTemporaryFile moves to a private (0600) temporary file past IN_MEMORY bytes
        self._file = tempfile.SpooledTemporaryFile(  # noqa: SIM115 (lives as long as the report)
            max_size=IN_MEMORY, mode="w+b"
        )
        self._keys = array("q")
        self._starts = array("q")
        self._sizes = array("q")
        self._end = 0
        # pieces not yet written: one write per ~64 KiB, not one seek and write per piece
        self._pending: list[bytes] = []
        self._pending_bytes = 0

    def add(self, key: int, text: str) -> None:
        data = text.encode("utf-8", "surrogatepass")  # a non-UTF-8 file name: shown on output
        self._keys.append(key)
        self._starts.append(self._end)
        self._sizes.append(len(data))
        self._end += len(data)
        self._pending.append(data)
        self._pending_bytes += len(data)
        if self._pending_bytes >= PENDING_MAX:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._file.seek(self._end - self._pending_bytes)
            self._file.write(b"".join(self._pending))
            self._pending.clear()
            self._pending_bytes = 0

    def __len__(self) -> int:
        """The number of pieces (one per connection where each connection adds one)."""
        return len(self._keys)

    def texts(self) -> Iterator[str]:
        """Every piece, by key order, then in the order added."""
        self._flush()
        keys = self._keys
        for i in sorted(range(len(keys)), key=keys.__getitem__):  # stable: order added kept
            self._file.seek(self._starts[i])
            yield self._file.read(self._sizes[i]).decode("utf-8", "surrogatepass")
