"""`pcap -` and `pcap --follow FILE`: a capture that may never end, judged connection by connection.

Each connection is judged as it ends (parsers.live_source: FIN, RST, or idle) and handed on at
once; nothing of it is kept but counts, so memory stays flat however long the capture runs.
Ctrl-C stops the read between two chunks: the connections still open are judged as they stand
and the run ends with what it has.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import stat
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from inspector.analysis.capture import CaptureScan, Scope, Tally, file_findings
from inspector.analysis.connection import ConnectionResult, analyse_connection
from inspector.findings import Finding
from inspector.keystore.model import Keystore
from inspector.system.errors import InputError
from inspector.system.input_files import check_input
from parsers.keylog import KeyLog
from parsers.model import Transcript

if TYPE_CHECKING:
    from parsers.live_source import StreamSource

STDIN_NAME = "stdin"
PIPE_HINT = "pipe a capture in: tcpdump -U -w - port 443 | mtls-inspect pcap -"


@dataclass(frozen=True)
class StreamInput:
    """Where the packets come from: stdin (`path` None) or a file followed as it grows."""

    path: Path | None
    follow: bool
    idle: float

    @property
    def name(self) -> str:
        return STDIN_NAME if self.path is None else str(self.path)


@dataclass
class StreamScan:
    """The run's end: the same summary as a capture file's, and how the run ended."""

    scan: CaptureScan
    stopped: bool  # Ctrl-C, not the end of the input
    connections: int  # judged and shown (in scope)
    failed: int  # of those, with error findings


def check_stream_input(spec: StreamInput) -> None:
    """One line (InputError) for input that cannot be streamed, before anything is read."""
    if spec.path is None:
        if spec.follow:
            raise InputError(
                "--follow -: stdin is read as packets arrive anyway; --follow is for a FILE being written",
                "drop --follow, or give the file tcpdump writes (tcpdump -U -w FILE)",
            )
        try:
            mode = os.fstat(0).st_mode
        except OSError:
            raise InputError(f"{STDIN_NAME}: closed, nothing to read", PIPE_HINT) from None
        if os.isatty(0):
            raise InputError(f"{STDIN_NAME}: is a terminal, not a capture", PIPE_HINT)
        if stat.S_ISDIR(mode):
            raise InputError(f"{STDIN_NAME}: is a directory", PIPE_HINT)
        return
    check_input(spec.path, "give a .pcap or .pcapng file that tcpdump is writing", pipes=True)


def open_source(spec: StreamInput) -> StreamSource:
    from parsers.live_source import StreamSource

    if spec.path is None:
        return StreamSource(Path(STDIN_NAME), fd=0)
    try:
        fd = os.open(spec.path, os.O_RDONLY)  # a FIFO: waits for its writer, as `pcap FIFO` does
    except OSError as exc:
        raise InputError(f"{spec.path}: cannot read ({exc.strerror})", "check its permissions") from None
    follow = spec.follow and stat.S_ISREG(os.fstat(fd).st_mode)  # a FIFO is streamed as it is
    return StreamSource(spec.path, fd=fd, follow=follow)


def stream_capture(
    spec: StreamInput,
    keylog: KeyLog | None,
    store: Keystore | None,
    at: dt.datetime | None,
    scope: Scope,
    on_connection: Callable[[ConnectionResult], None],
    also_judge: Callable[[Transcript], list[Finding]] | None = None,
    on_restart: Callable[[str], None] | None = None,
) -> StreamScan:
    """Read until the input ends or Ctrl-C; each connection in `scope` is judged as it ends
    and given to `on_connection` (which should print it at once). `on_restart` is told why a
    followed file is read again from its start (truncated, replaced)."""
    from parsers.live_source import read_stream
    from parsers.pcapfile import CaptureFormatError

    counts = Tally()
    # stdin: findings name no file, so their advice reads `mtls-inspect pcap FILE ...` (a saved
    # capture), not a command that cannot run on a pipe
    where = None if spec.path is None else str(spec.path)

    def take(t: Transcript) -> None:
        counts.seen(t)
        if not scope.holds(t):
            return
        judged = analyse_connection(t, store, where, at, also_judge=also_judge)
        counts.judged(judged.findings)
        on_connection(judged)

    source = open_source(spec)
    if on_restart is not None:
        source.on_restart = on_restart
    try:
        with _stop_on_sigint(source):
            streamed = read_stream(source, keylog if keylog is not None else KeyLog(), take, spec.idle)
    except CaptureFormatError as exc:
        raise InputError(f"{spec.name}: {exc}", "give a pcap or pcapng capture (tcpdump -U -w -)") from None
    finally:
        if spec.path is not None:
            os.close(source.fd)
    result = streamed.result
    findings = file_findings(result, Path(spec.name))
    counts.count(findings)
    scan = CaptureScan(result, findings, counts.severities, counts.errors, counts.first_time)
    return StreamScan(scan, streamed.stopped, counts.selected, counts.failed)


@contextlib.contextmanager
def _stop_on_sigint(source: StreamSource) -> Iterator[None]:
    """Ctrl-C stops the read between two chunks (the report ends with what it has); a second
    Ctrl-C interrupts at once. A wake-up pipe ends a wait for input without delay."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    wake_read, wake_write = os.pipe()
    for fd in (wake_read, wake_write):
        os.set_blocking(fd, False)

    def on_sigint(signum: int, frame: object) -> None:
        if source.stopped:
            raise KeyboardInterrupt
        source.stop()

    previous = signal.signal(signal.SIGINT, on_sigint)
    previous_wake = signal.set_wakeup_fd(wake_write, warn_on_full_buffer=False)
    source.wake_fd = wake_read
    try:
        yield
    finally:
        signal.set_wakeup_fd(previous_wake)
        signal.signal(signal.SIGINT, previous)
        source.wake_fd = None
        os.close(wake_read)
        os.close(wake_write)
