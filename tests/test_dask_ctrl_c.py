"""Ctrl-C during a run on Dask ends it (exit 130, one line), even when the interrupt lands in a
garbage-collector callback, where Python prints it as "Exception ignored" and drops it.

Dask's scheduler runs such a callback in our process; Ctrl-C 0.8-0.95 s after the start (while
the merging process loads the TLS decoder, collecting often) was dropped there, and the run went
on to its end (exit 1). Here a real SIGINT is delivered inside a real gc callback.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
from typing import Any

import pytest

from inspector.analysis.cluster import _CtrlC


def _interrupt_inside_a_collection() -> None:
    fired: list[bool] = []

    def callback(phase: str, _info: dict[str, Any]) -> None:
        if phase == "start" and not fired:
            fired.append(True)
            os.kill(os.getpid(), signal.SIGINT)  # the handler runs here, inside the callback
            for _ in range(1000):  # bytecode, so the pending signal is handled in the callback
                pass

    gc.callbacks.append(callback)
    try:
        gc.collect()
    finally:
        gc.callbacks.remove(callback)
    assert fired == [True]


def test_an_interrupt_dropped_in_a_gc_callback_is_raised_again() -> None:
    printed: list[type[BaseException]] = []  # what Python's hook would print as "Exception ignored"
    outer = sys.unraisablehook
    sys.unraisablehook = lambda report: printed.append(report.exc_type)
    try:
        with _CtrlC().installed() as ctrl_c:
            _interrupt_inside_a_collection()  # returns: Python dropped the KeyboardInterrupt
            assert ctrl_c.noted.is_set()
            with pytest.raises(KeyboardInterrupt):
                ctrl_c.check()
    finally:
        sys.unraisablehook = outer
    assert printed == []  # not printed as a traceback under our one line
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_an_interrupt_while_dask_starts_is_noted_not_raised() -> None:
    with _CtrlC().installed() as ctrl_c:
        ctrl_c.deferred = True
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(1000):
            pass
        ctrl_c.deferred = False
        with pytest.raises(KeyboardInterrupt):
            ctrl_c.check()


def test_without_dask_nothing_is_noted() -> None:
    with _CtrlC().installed() as ctrl_c:
        ctrl_c.check()  # no interrupt: no raise
    assert not ctrl_c.noted.is_set()
