"""A reader's second core: one forked worker process, started and stopped the same way by every
reader that splits its work in two (a capture: parsers.parallel; a log: parsers.javalog.parallel).

What they share is how the process lives: forked (it inherits the open files and the imported
code, so nothing is pickled to start it), deaf to Ctrl-C (the parent answers it with one line and
ends the worker), shipping through a widened pipe, ended quietly when the parent stops early.
"""

from __future__ import annotations

import array
import multiprocessing
import os
import signal
import sys
from multiprocessing.connection import Connection
from multiprocessing.context import ForkContext
from multiprocessing.process import BaseProcess

PIPE_SIZE = 1 << 20  # Linux's default pipe-max-size for unprivileged processes


def min_parallel_bytes(default: int) -> int:
    """The input size from which a reader splits its work (MTLS_INSPECT_PARALLEL_MIN overrides
    every reader's default: the tests set 0 to run the parallel path on small inputs)."""
    given = os.environ.get("MTLS_INSPECT_PARALLEL_MIN", "")
    return int(given) if given.isdigit() else default


def fork_context() -> ForkContext | None:
    """The fork start method, or None where there is none (or one core: a worker only costs)."""
    if (os.cpu_count() or 1) < 2:
        return None
    try:
        return multiprocessing.get_context("fork")
    except ValueError:
        return None


def widen(pipe: Connection) -> int:
    """A 1 MiB pipe instead of 64 KiB, so the worker reads on while the parent is busy (importing,
    judging); returns the pipe's size (64 KiB where it could not be widened: it works, slower)."""
    try:
        import fcntl

        fcntl.fcntl(pipe.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), PIPE_SIZE)
        return int(fcntl.fcntl(pipe.fileno(), getattr(fcntl, "F_GETPIPE_SZ", 1032)))
    except (ImportError, OSError):
        return 64 << 10


def backlog(pipe: Connection) -> int:
    """Bytes written to the pipe and not yet read by the parent (FIONREAD; 0 if unknown)."""
    try:
        import fcntl
        import termios

        count = array.array("i", [0])
        fcntl.ioctl(pipe.fileno(), termios.FIONREAD, count)
        return count[0]
    except (ImportError, OSError):
        return 0


def deaf_to_interrupts() -> None:
    """In the worker, first thing: Ctrl-C reaches the whole process group; the parent answers it
    (one line, exit 130) and ends this worker, which must not print a traceback of its own.
    SIGINT came blocked (start_held): one pending since the fork is dropped by the ignoring."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def start_held(worker: BaseProcess) -> None:
    """Fork the worker with SIGINT blocked, so that it starts blocked until the worker ignores
    it: a Ctrl-C landing in between printed the worker's KeyboardInterrupt traceback under our
    one line. Here a Ctrl-C meanwhile waits for the mask to be restored, then is raised."""
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, ())  # as it is
    try:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        worker.start()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def stop(worker: BaseProcess) -> None:
    """After the parent's last read (or its failure): wait for a worker that is finishing, end
    one that is not (interrupted, or it hangs) quietly: SIGTERM, then SIGKILL."""
    if worker.pid is not None:  # started (Ctrl-C may land before)
        worker.join(timeout=0 if sys.exc_info()[0] is not None else 10)
    if worker.is_alive():
        worker.terminate()
        worker.join(timeout=5)
        if worker.is_alive():
            worker.kill()
