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
    status = _flush_stdout(status)
    try:
        if sys.stderr is not None:
            sys.stderr.flush()
    except (OSError, ValueError):
        pass
    os._exit(status & 0xFF)


def _flush_stdout(status: int) -> int:
    """What stdout still buffers, written (argparse's --help is written only now): a reader that
    went away changes nothing, as at any write; a full disk is one line and status 2."""
    try:
        if sys.stdout is not None:
            sys.stdout.flush()
    except BrokenPipeError:
        pass
    except OSError as exc:
        _say(f"mtls-inspect: error: cannot write to standard output ({exc.strerror})")
        return ExitStatus.BAD_INPUT
    except ValueError:  # closed
        pass
    return status


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
    _say("mtls-inspect: interrupted")
    os._exit(ExitStatus.INTERRUPTED)


def _say(line: str) -> None:
    try:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):  # stderr closed or gone: the status says it
        pass
