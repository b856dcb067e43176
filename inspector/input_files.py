"""Input files we read: regular files, or — for the streaming readers — pipes; never a device.

`keystore /dev/zero` read forever and `keystore FIFO` waited forever; a terminal or a device is
never what the user meant. Whole-file readers (keystores, CA names, key logs) take regular files
only and read at most their limit; the streaming readers (captures, Java logs) also take a FIFO
(`mtls-inspect log <(zcat client.log.gz)` passes /dev/fd/63, a pipe) and stream it."""

from __future__ import annotations

import stat
from pathlib import Path

from inspector.system.errors import InputError


def check_input(path: Path, hint: str, pipes: bool = False) -> None:
    """One line when `path` is missing, a directory, a device, a socket or (unless `pipes`) a FIFO."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise InputError(f"{path}: no such file", "check the path") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})", "check the path and permissions") from None
    if stat.S_ISDIR(mode):
        raise InputError(f"{path}: is a directory", hint)
    if stat.S_ISREG(mode) or (pipes and stat.S_ISFIFO(mode)):
        return
    kind = "a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
    raise InputError(f"{path}: is {kind}, not a file", hint)


def read_limited(path: Path, limit: int, what: str, hint: str) -> bytes:
    """A regular file's bytes, at most `limit` of them (a file still growing cannot exceed it)."""
    check_input(path, hint)
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})", "check permissions") from None
    if len(data) > limit:
        raise InputError(f"{path}: more than {limit // (1024 * 1024)} MB is too large for {what}", hint)
    return data
