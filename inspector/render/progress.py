"""Progress on a terminal while a large capture is read (never in a pipe or a log)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

#: Below this size a capture reads too fast for progress to help.
SHOWN_FROM = 50 << 20


@contextmanager
def capture_progress(size: int) -> Iterator[Callable[[int, int], None] | None]:
    """A progress callback (bytes done, packets) for a capture of `size` bytes, or None; the
    line is cleared at the end, whatever happens."""
    try:
        yield _show(size) if sys.stderr.isatty() and size >= SHOWN_FROM else None
    finally:
        if sys.stderr.isatty():
            print("\r\033[K", end="", file=sys.stderr)


def _show(size: int) -> Callable[[int, int], None]:
    def show(done: int, frames: int) -> None:
        print(
            f"\r  {done / size:5.1%}  {done >> 20} of {size >> 20} MiB, {frames} packets",
            end="",
            file=sys.stderr,
            flush=True,
        )

    return show


@contextmanager
def set_progress(files: int, size: int) -> Iterator[Callable[[int, int, int], None] | None]:
    """Progress over a capture set (files done, bytes done, connections so far), on a terminal
    only; the line is cleared at the end, whatever happens."""
    try:
        yield _show_set(files, size) if sys.stderr.isatty() else None
    finally:
        if sys.stderr.isatty():
            print("\r\033[K", end="", file=sys.stderr)


def _show_set(files: int, size: int) -> Callable[[int, int, int], None]:
    def show(done: int, done_bytes: int, connections: int) -> None:
        share = done_bytes / size if size else 1.0
        print(
            f"\r  {share:5.1%}  {done} of {files} files, {done_bytes >> 20} of {size >> 20} MiB, "
            f"{connections} connections",
            end="",
            file=sys.stderr,
            flush=True,
        )

    return show
