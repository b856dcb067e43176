"""Writing the report: owner-only, never through a symbolic link, one clear error otherwise."""

from __future__ import annotations

import errno
import os
from pathlib import Path

from inspector.errors import InputError


def write_private(path: Path, data: bytes) -> int:
    """Reports name partners' hosts and CAs: 0600 like the probe's key log, and O_NOFOLLOW so a
    planted symlink cannot redirect the write."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InputError(f"{path}: is a symbolic link", "not following it; name a regular file") from exc
        if exc.errno == errno.EISDIR:
            raise InputError(f"{path}: is a directory", "name the HTML file to write") from exc
        raise InputError(f"{path}: cannot write ({exc.strerror})", "check the directory exists") from exc
    try:
        os.fchmod(fd, 0o600)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)
    return len(data)
