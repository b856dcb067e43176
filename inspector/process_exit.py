"""Ending the process: what Python's exit does that matters, without the teardown.

A run of `mtls-inspect` ends with scapy, cryptography (and with --workers, Dask) loaded; freeing
all of it at exit took 80-120 ms of a 0.35-0.45 s run (a capture of a few handshakes), and a
Ctrl-C in that time ended the process by SIGINT, with no line. What a normal exit does before
that teardown is done here, in the same order — other threads joined, atexit handlers run,
stdout and stderr flushed — and then the process ends at once. Files are written in `with`
blocks, temporary ones are unlinked at creation or removed by their atexit finalizers.
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
import threading
from typing import NoReturn

from inspector.errors import ExitStatus


def exit_now(status: int) -> NoReturn:
    """End the process with `status` (the report is out: what follows takes milliseconds)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _interrupted)
    shutdown = getattr(threading, "_shutdown", None)  # what Python's exit calls first
    if shutdown is not None:
        shutdown()  # non-daemon threads joined, thread-pool exits run
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):  # the reader went away, as at any write: not an error
            pass
    os._exit(status & 0xFF)


def status_of(exit: SystemExit) -> int:
    """The status `sys.exit(code)` would give (argparse exits so for --help and usage errors)."""
    code = exit.code
    if code is None:
        return ExitStatus.OK
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)  # sys.exit("message"): printed, status 1
    return 1


def _interrupted(_signum: int, _frame: object) -> None:
    """Ctrl-C while exiting: one line and 130 (a hung atexit handler can still be stopped)."""
    try:
        sys.stderr.write("mtls-inspect: interrupted\n")
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):
        pass
    os._exit(ExitStatus.INTERRUPTED)
