"""A file followed as it grows (`pcap --follow`) that may be truncated or replaced under us.

Why: a restarted `tcpdump -w FILE` truncates the file and writes a new capture header;
logrotate either renames the file and creates a new one (another inode) or copies and truncates
it. A reader that only waits for the file to grow never sees the new capture. As `tail -F`
does, the file is looked at before each read: a size below what was read, another file at the
path, or first bytes that differ from those read means the reading starts again at the new
start. A file replaced at its path is noticed only at the end of the old one, so that one is
read to its end.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

#: how many of the file's first bytes are kept to notice a rewrite the size does not show
#: (the capture header and the first packet's header and time)
PREFIX = 4096


@dataclass
class FollowedFile:
    """The position in one followed file, and what its start looked like."""

    path: Path
    fd: int
    offset: int = 0
    prefix: bytes = field(default=b"", repr=False)

    def read(self, size: int) -> bytes:
        data = os.read(self.fd, size)
        if len(self.prefix) < PREFIX and data:
            self.prefix += data[: PREFIX - len(self.prefix)]
        self.offset += len(data)
        return data

    def changed(self) -> str | None:
        """Why the reading must start again (None: it need not)."""
        mine = os.fstat(self.fd)
        if mine.st_size < self.offset:
            return "truncated"
        if self.prefix and os.pread(self.fd, len(self.prefix), 0) != self.prefix:
            return "rewritten from its start"
        if mine.st_size > self.offset:  # the old file first, to its end
            return None
        try:
            now = os.stat(self.path)
        except OSError:  # moved away and not (yet) created again: keep the file we have
            return None
        if (now.st_ino, now.st_dev) != (mine.st_ino, mine.st_dev):
            return "replaced by a new file"
        return None

    def restart(self, reason: str) -> int:
        """Read again from the start (of the new file, when replaced). Returns the fd now read;
        closing the one replaced is the caller's."""
        if reason.startswith("replaced"):
            try:
                fd = os.open(self.path, os.O_RDONLY)
            except OSError:
                fd = -1  # gone again between the look and the open: keep the old one
            if fd >= 0:
                self.fd = fd
        os.lseek(self.fd, 0, os.SEEK_SET)
        self.offset, self.prefix = 0, b""
        return self.fd
