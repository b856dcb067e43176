"""Files we write that hold secrets (key logs, captures, reports): 0600, never through a link.

The checks run before the work does (a probe must not run for nothing because its key log cannot
be written), and the open refuses a symbolic link and, without --force, an existing file: a key
log written through a planted link, or over another file, is how secrets leak. With --force an
existing file is replaced, never written into: another user's file is refused before anything
is touched, and ours is replaced by renaming a new private file over it, so a hard link to it
(another name of the same file, perhaps someone else's) keeps its content."""

from __future__ import annotations

import contextlib
import errno
import io
import os
import stat
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
    if path.exists():
        _refuse_foreign(path, label)


def _refuse_foreign(path: Path, label: str) -> None:
    """Another user's file is not ours to replace, even in a directory we may write to."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return
    except OSError as exc:
        raise InputError(f"{label}: cannot read its owner ({exc.strerror})", "give another path") from None
    if stat.S_ISLNK(info.st_mode):
        raise InputError(f"{label}: is a symbolic link (not followed)", _REGULAR)
    if info.st_uid != os.geteuid():
        raise InputError(
            f"{label}: belongs to another user (uid {info.st_uid}): not replaced",
            "give a path of your own (a report holds partners' names: it is written owner-only)",
        )


def open_private(path: Path, option: str, force: bool) -> BinaryIO:
    """Open for writing, owner-only (0600). Without `force` a new file only; with it an existing
    file of ours is replaced when the handle closes (a new private file renamed over it: no
    truncated report if the run fails, no write through a hard link), another user's refused."""
    if force and (path.exists() or path.is_symlink()):
        _refuse_foreign(path, f"{option} {path}")
        return _Replacement(path, option)  # type: ignore[return-value]
    flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    flags |= os.O_TRUNC if force else os.O_EXCL
    fd = _open(path, flags, option)
    try:
        os.fchmod(fd, 0o600)
    except OSError as exc:
        os.close(fd)
        raise InputError(
            f"{option} {path}: cannot make it owner-only ({exc.strerror})", "give a path of your own"
        ) from None
    return os.fdopen(fd, "wb")


def _open(path: Path, flags: int, option: str) -> int:
    try:
        return os.open(path, flags, 0o600)
    except FileExistsError:
        raise InputError(f"{option} {path}: already exists", "give another name, or --force") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InputError(f"{option} {path}: is a symbolic link (not followed)", _REGULAR) from None
        if exc.errno == errno.EISDIR:
            raise InputError(f"{option} {path}: is a directory", "give a file name inside it") from None
        raise InputError(f"{option} {path}: cannot write ({exc.strerror})", "give another path") from None


class _Replacement(io.BufferedWriter):
    """A new private file beside `path`, renamed over it on a clean close, removed otherwise."""

    def __init__(self, path: Path, option: str) -> None:
        self._final, self._option = path, option
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
        for attempt in range(100):
            self._temp = path.with_name(f".{path.name}.{os.getpid()}.{attempt}.tmp")
            try:
                fd = os.open(self._temp, flags, 0o600)
                break
            except FileExistsError:
                continue
            except OSError as exc:
                raise InputError(
                    f"{option} {path}: cannot write beside it ({exc.strerror})", "give another path"
                ) from None
        else:
            raise InputError(f"{option} {path}: cannot write beside it", "give another path")
        super().__init__(io.FileIO(fd, "wb"))
        self._failed = False

    def __exit__(self, kind: object, *rest: object) -> None:
        self._failed = kind is not None
        super().__exit__(kind, *rest)  # type: ignore[arg-type]

    def close(self) -> None:
        if self.closed:
            return
        try:
            super().close()
        except OSError:
            self._failed = True
            raise
        finally:
            self._finish()

    def _finish(self) -> None:
        if self._failed:
            with _quiet():
                os.unlink(self._temp)
            return
        try:
            os.replace(self._temp, self._final)
        except OSError as exc:
            with _quiet():
                os.unlink(self._temp)
            raise InputError(
                f"{self._option} {self._final}: cannot replace it ({exc.strerror})", "give another path"
            ) from None


def _quiet() -> contextlib.AbstractContextManager[None]:
    return contextlib.suppress(OSError)
