"""Files we write that hold secrets (key logs, captures, reports): 0600, never through a link.

The checks run before the work does (a probe must not run for nothing because its key log cannot
be written), and the open refuses a symbolic link and, without --force, an existing file: a key
log written through a planted link, or over another file, is how secrets leak."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import BinaryIO

from inspector.system.errors import InputError

_REGULAR = "give the path of a regular file"


def check_output(path: Path, option: str, force: bool) -> None:
    """One line naming `option PATH` and what to do, if PATH cannot be written as a new private file."""
    label = f"{option} {path}"
    if path.is_symlink():
        raise InputError(f"{label}: is a symbolic link (not followed)", _REGULAR)
    if path.is_dir():
        raise InputError(f"{label}: is a directory", "give a file name inside it")
    parent = path.parent
    if not parent.exists():
        raise InputError(
            f"{label}: directory {parent} does not exist", "create it first, or give another path"
        )
    if not parent.is_dir():
        raise InputError(f"{label}: {parent} is not a directory", "give a path inside a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"{label}: directory {parent} is not writable", "give a path you can write")
    if path.exists() and not force:
        raise InputError(f"{label}: already exists", "give another name, or --force to overwrite it")
    if path.exists() and not path.is_file():
        raise InputError(f"{label}: is not a regular file", "give the path of a regular file")


def open_private(path: Path, option: str, force: bool) -> BinaryIO:
    """Open for writing, owner-only (0600) even when --force replaces an existing file."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    flags |= os.O_TRUNC if force else os.O_EXCL
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise InputError(f"{option} {path}: already exists", "give another name, or --force") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InputError(f"{option} {path}: is a symbolic link (not followed)", _REGULAR) from None
        if exc.errno == errno.EISDIR:
            raise InputError(f"{option} {path}: is a directory", "give a file name inside it") from None
        raise InputError(f"{option} {path}: cannot write ({exc.strerror})", "give another path") from None
    os.fchmod(fd, 0o600)
    return os.fdopen(fd, "wb")
