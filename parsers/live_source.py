"""Captures that never end: a pcap / pcapng arriving on a pipe, or a file still being written.

`StreamSource` is a `pcapfile.FrameSource` whose packets come from a file descriptor read with
`os.read` (what has arrived, never a wait for a full 1 MiB), parsed by the same code as a
capture file (`CaptureFile.read_from`). While it waits it calls `on_quiet` every `tick` seconds,
so the reader can close connections that went idle although nothing arrives; `stop()` (from a
signal handler) makes the next read raise `StreamStopped`, between two chunks, where the reader's
state is whole.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from parsers.flows import CaptureResult, FlowReader
from parsers.followed_file import FollowedFile
from parsers.gcpolicy import fewer_collections
from parsers.keylog import KeyLog
from parsers.pcapfile import CHUNK, GZIP_MAGIC, CaptureFile, CaptureFormatError, Chunk
from parsers.transcripts import TranscriptBuilder, TranscriptFn

DEFAULT_TICK = 0.5  # seconds between calls of on_quiet while nothing arrives
F_SETPIPE_SZ = 1031  # Linux: a larger pipe buffer, fewer wake-ups for a fast writer
PIPE_SIZE = 1 << 20


class StreamStopped(Exception):
    """The stream was stopped (Ctrl-C) between two chunks: close what is open and report."""


class _Restart(Exception):
    """The followed file was truncated or replaced: its new start is a new capture."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _nothing() -> None:
    return None


def _unsaid(reason: str) -> None:
    return None


@dataclass
class StreamSource(CaptureFile):
    """Packets from `fd` (stdin, a FIFO, or with `follow` a regular file that grows).

    `path` names the input in the report ("stdin" for `-`). At the end of a pipe the capture
    ends; a followed file has no end: it is polled every `tick` seconds until `stop()`.
    """

    fd: int = 0
    follow: bool = False
    tick: float = DEFAULT_TICK
    on_quiet: Callable[[], None] = field(default=_nothing)
    #: read end of a pipe that a signal handler writes to (signal.set_wakeup_fd): a wait ends at once
    wake_fd: int | None = None
    stopped: bool = False
    #: told why a followed file is read again from its start ("truncated", "replaced by a new file")
    on_restart: Callable[[str], None] = field(default=_unsaid)

    def stop(self) -> None:
        """Safe in a signal handler: only sets a flag; the next read raises StreamStopped."""
        self.stopped = True

    def chunks(self) -> Iterator[Chunk]:
        _enlarge_pipe(self.fd)
        reader = _FdReader(self)
        earlier = 0  # packets of the captures read before the file was truncated or replaced
        after: str | None = None
        try:
            while True:
                try:
                    yield from self._capture(reader, after)
                    return
                except _Restart as restart:  # the packet being read when it happened is lost
                    earlier += self.frames_read
                    self.frames_read, after = 0, restart.reason
                    self.on_restart(restart.reason)
        finally:
            self.frames_read += earlier

    def _capture(self, reader: _FdReader, after: str | None) -> Iterator[Chunk]:
        """One capture from its header on; `after`: why the file is read again (None the first time)."""
        try:
            head = reader.read(4)
            if not head:
                raise CaptureFormatError("nothing arrived (empty input)")
            if head[:2] == GZIP_MAGIC:
                raise CaptureFormatError(
                    "compressed (gzip) input cannot be streamed: decompress it first (zcat)"
                )
            yield from self.read_from(reader, head)
        except CaptureFormatError as exc:
            raise CaptureFormatError(f"{after}, then: {exc}" if after else str(exc)) from None


class _FdReader:
    """`read` / `read1` over a file descriptor, as `CaptureFile.read_from` reads them."""

    def __init__(self, source: StreamSource) -> None:
        self.source = source
        self.fd = source.fd
        self.waiting_for = [source.fd] if source.wake_fd is None else [source.fd, source.wake_fd]
        self.followed = FollowedFile(source.path, source.fd) if source.follow else None

    def read1(self, size: int) -> bytes:
        source, followed = self.source, self.followed
        while True:
            if source.stopped:
                raise StreamStopped
            if followed is not None:  # a regular file: always "readable"; at its end, wait and look again
                # looked at before each read: a file rewritten since the last one is never read
                # on as the old capture's continuation (a stat and a pread of its first bytes)
                reason = followed.changed() if followed.offset else None
                if reason is not None:
                    self._restart(followed, reason)
                data = followed.read(size)
                if data:
                    return data
                self._wait([] if source.wake_fd is None else [source.wake_fd])
            elif self.fd in self._wait(self.waiting_for) and not source.stopped:
                return os.read(self.fd, size)  # b"": the writer closed the pipe
            if not source.stopped:
                source.on_quiet()

    def read(self, size: int) -> bytes:
        parts: list[bytes] = []
        want = size
        while want > 0:
            data = self.read1(min(want, CHUNK))
            if not data:
                break
            parts.append(data)
            want -= len(data)
        return b"".join(parts)

    def _restart(self, followed: FollowedFile, reason: str) -> None:
        """Read from the new start; a new file takes the old one's place (and its closing)."""
        old = followed.fd
        if followed.restart(reason) != old:
            os.close(old)
            self.fd = self.source.fd = followed.fd
        raise _Restart(reason)

    def _wait(self, fds: list[int]) -> list[int]:
        """Up to one tick for input (or a signal's wake-up); the wake-up bytes are drained."""
        if not fds:
            time.sleep(self.source.tick)
            return []
        ready, _, _ = select.select(fds, [], [], self.source.tick)
        wake = self.source.wake_fd
        if wake is not None and wake in ready:
            with contextlib.suppress(BlockingIOError, InterruptedError):
                os.read(wake, 512)
        return ready


def _enlarge_pipe(fd: int) -> None:
    """A 1 MiB pipe buffer instead of 64 KiB when the input is a pipe (best effort)."""
    with contextlib.suppress(OSError):
        fcntl.fcntl(fd, F_SETPIPE_SZ, PIPE_SIZE)


@dataclass
class StreamResult:
    result: CaptureResult
    stopped: bool  # by stop() (Ctrl-C), not by the end of the input


def read_stream(
    source: StreamSource,
    keylog: KeyLog,
    on_transcript: TranscriptFn,
    idle: float,
    lean: bool = False,
) -> StreamResult:
    """parsers.capture.read_capture for input that may never end: each transcript goes to
    `on_transcript` as its connection ends (FIN both ways, RST, or `idle` seconds without a
    packet, in capture time or, while nothing arrives, in wall-clock time) and is not kept.
    Raises CaptureFormatError if the input is not a capture."""
    builder = TranscriptBuilder(keylog, on_transcript, lean)
    reader = FlowReader(source.path, builder.feed, keys_given=bool(len(keylog)), source=source, idle=idle)
    source.on_quiet = reader.quiet
    stopped = False
    with fewer_collections():
        try:
            result = reader.run()
        except StreamStopped:
            stopped = True
            result = reader.close()
    result.keylog_entries = len(keylog)
    return StreamResult(result, stopped)
