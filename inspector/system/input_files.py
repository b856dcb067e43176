"""Input files we read: regular files, or — for the streaming readers — pipes; never a device.

`keystore /dev/zero` read forever and `keystore FIFO` waited forever; a terminal or a device is
never what the user meant. Whole-file readers (keystores, CA names, key logs) take regular files
only and read at most their limit; the streaming readers (captures, Java logs) also take a FIFO
(`mtls-inspect log <(zcat client.log.gz)` passes /dev/fd/63, a pipe) and stream it."""

from __future__ import annotations

import os
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


def check_stdin(hint: str) -> None:
    """`- < /dev/zero`: stdin redirected from a device would be read forever; one line, as for a
    device given by its path. A terminal stays allowed (a log pasted, ended with Ctrl-D)."""
    try:
        mode = os.fstat(0).st_mode
    except OSError:  # closed: the reader says there is nothing
        return
    if (stat.S_ISCHR(mode) or stat.S_ISBLK(mode)) and not os.isatty(0):
        raise InputError("stdin: is a device, not a file", hint)


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


#: key logs and CA-name files: text a person or a client wrote, never larger than this
MAX_SMALL_INPUT = 64 * 1024 * 1024


def read_key_log(path: Path) -> bytes:
    """An NSS key log (SSLKEYLOGFILE), with a hint about key logs — not about keystores."""
    return read_limited(
        path,
        MAX_SMALL_INPUT,
        "a key log",
        "give the NSS key log (SSLKEYLOGFILE) the client wrote for this capture",
    )


def read_ca_names(path: Path) -> bytes:
    """--ca-names: PEM certificates or one DN per line."""
    return read_limited(
        path,
        MAX_SMALL_INPUT,
        "a CA-name file",
        "give the CA certificates (PEM) or one DN per line, as the server's CertificateRequest names them",
    )
