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
from collections.abc import Callable
from typing import NoReturn

from inspector.system.errors import ExitStatus

#: the line of an interrupted run, written once however many Ctrl-C arrive
INTERRUPTED_LINE = "mtls-inspect: interrupted"
_said_interrupted = False
_once = False  # set by catch_interrupts: a process of its own (main() in a test says it each run)


def catch_interrupts() -> None:
    """The first Ctrl-C raises KeyboardInterrupt (the command's own handling, then one line and
    130); any later one ends the process at once. With Python's handler a second Ctrl-C within
    milliseconds landed in the first one's handling or between main and `exit_now`: a second
    line, or a traceback and death by SIGINT (-2). A run started with SIGINT ignored keeps it so."""
    global _once
    _once = True
    if _on_main_thread() and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _first_interrupt)
        sys.unraisablehook = _DroppedInterrupt(sys.unraisablehook)


class _DroppedInterrupt:
    """sys.unraisablehook: a Ctrl-C raised inside a finalizer or a garbage-collector callback
    (Dask's futures have both) is dropped by Python, printed as 'Exception ignored … Keyboard-
    Interrupt' (8 lines) and the run goes on: here it ends the run as any second Ctrl-C does, one
    line and 130 (a command's own hook, as the Dask runner's, comes first while installed)."""

    def __init__(self, previous: Callable[[sys.UnraisableHookArgs], object]) -> None:
        self.previous = previous

    def __call__(self, report: sys.UnraisableHookArgs) -> None:
        if isinstance(report.exc_value, KeyboardInterrupt):
            _interrupted(signal.SIGINT, None)
        self.previous(report)


def _first_interrupt(_signum: int, _frame: object) -> None:
    signal.signal(signal.SIGINT, _interrupted)
    raise KeyboardInterrupt


def say_interrupted() -> None:
    """The interrupted line, unless already written (SIGINT held off meanwhile: a Ctrl-C landing
    between the write and the note would write it twice)."""
    global _said_interrupted
    held = _on_main_thread()
    if held:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        if not _said_interrupted:
            say_line(INTERRUPTED_LINE)
            _said_interrupted = _once
    finally:
        if held:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def exit_now(status: int) -> NoReturn:
    """End the process with `status` (the report is out: what follows takes milliseconds)."""
    if _on_main_thread() and signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:  # nohup: still so
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
        say_line(f"mtls-inspect: error: cannot write to standard output ({exc.strerror})")
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
    """Ctrl-C while exiting, or a second one: one line and 130 (a hung atexit handler can
    still be stopped)."""
    say_interrupted()
    os._exit(ExitStatus.INTERRUPTED)


def say_line(line: str) -> None:
    """One line on stderr; a closed or broken stderr changes nothing (the status says it)."""
    try:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    except (OSError, ValueError, AttributeError):  # stderr closed or gone: the status says it
        pass


def _on_main_thread() -> bool:
    """Signal handlers and masks are the main thread's: elsewhere they are left alone."""
    return threading.current_thread() is threading.main_thread()
