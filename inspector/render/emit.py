"""Writing a report to stdout, so that a reader who stops early (`| head -1`) changes nothing.

The exit status is the findings' (0 or 1) whether or not the whole report was read: a script
that pipes the report into `head` still learns that the handshake has errors.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Callable
from typing import TextIO


def emit(write: Callable[[TextIO], object], status: int) -> int:
    """Run `write` on stdout and return `status`, also when the reader went away."""
    try:
        write(sys.stdout)
        sys.stdout.flush()
    except BrokenPipeError:
        silence_stdout()
    return status


def emit_text(report: str, status: int) -> int:
    def write(out: TextIO) -> None:
        out.write(report + "\n")

    return emit(write, status)


def silence_stdout() -> None:
    """Point stdout at /dev/null: what is still buffered would fail again at exit and turn the
    exit status into 120 with a message on stderr."""
    with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
