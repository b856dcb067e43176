"""Read a large capture with two cores: the same pipeline as read_capture, cut in two.

A worker process runs the stream half (parsers.flows: frames, TCP reassembly, record
boundaries, skipping bulk data) — what costs per packet — and ships its items
(parsers.boundary: plain records, cheap to pickle) in batches. This process meanwhile imports
scapy and runs the TLS half (parsers.transcripts: decryption, message decoding) and the rules.
Both halves are the very code a serial read runs, so the output is the same, byte for byte.

With a `WorkerShare`, the worker also takes every Nth connection whole (its TLS half and the
caller's `judge`, e.g. the rules and the rendering), and ships the result where the
connection's ConnectionClosed would have gone: the caller's `take` then sees every connection
in the serial order. This balances the two cores (the TLS half, the rules and the report cost
this process more than the stream half costs the worker).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import ForkContext
from pathlib import Path
from typing import cast

from parsers.boundary import (
    ConnectionClosed,
    ConnectionOpened,
    Item,
    OpaqueRecords,
    Record,
    SecretsFound,
    as_wire,
    from_wire,
)
from parsers.capture import read_capture
from parsers.flows import CaptureResult, FlowReader, ProgressFn
from parsers.gcpolicy import fewer_collections
from parsers.keylog import KeyLog
from parsers.model import Transcript
from parsers.pcapfile import CaptureFormatError
from parsers.transcripts import TranscriptBuilder, TranscriptFn

# items per message through the pipe: small enough that the worker rarely waits for this
# process to take one, large enough that pickling is not per item
BATCH = 512
BATCH_BYTES = 256 << 10


def min_parallel_bytes() -> int:
    """Below this size a worker costs more than it saves (MTLS_INSPECT_PARALLEL_MIN overrides)."""
    return int(os.environ.get("MTLS_INSPECT_PARALLEL_MIN", 16 << 20))


@dataclass(frozen=True)
class WorkerShare:
    """Connections the worker takes whole: those whose number is a multiple of `every`."""

    every: int
    judge: Callable[[Transcript], object]  # in the worker; its result must pickle
    take: Callable[[object], None]  # in this process, in the serial order of the transcripts
    #: before the worker is forked: what both processes will need (imported once, not twice)
    warm: Callable[[], None] | None = None


@dataclass(frozen=True, slots=True)
class _Judged:
    """A worker-taken connection's result, in place of its ConnectionClosed."""

    result: object


def _worker(
    pipe: Connection,
    path: Path,
    keylog: KeyLog,
    progress: ProgressFn | None,
    share: WorkerShare | None,
) -> None:
    # Ctrl-C reaches the whole process group: the parent answers it (one line, exit 130) and
    # ends this worker; the worker itself must not print a traceback of its own
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    batch: list[Item | _Judged] = []
    size = 0

    def ship(item: Item | _Judged) -> None:
        nonlocal size
        batch.append(item)
        if type(item) is Record and item.body is not None:
            size += len(item.body)
        if len(batch) >= BATCH or size >= BATCH_BYTES:
            pipe.send(("items", as_wire(cast("list[Item]", batch))))  # a _Judged passes as it is
            batch.clear()
            size = 0

    emit: Callable[[Item], None] = ship
    if share is not None:
        emit = _sharing(share, keylog, ship)
    try:
        try:
            with fewer_collections():
                result = FlowReader(path, emit, bool(len(keylog)), progress).run()
            if batch:
                pipe.send(("items", as_wire(cast("list[Item]", batch))))
            pipe.send(("done", result))
        except CaptureFormatError as exc:
            pipe.send(("error", str(exc)))
        except (BrokenPipeError, ConnectionResetError):
            return  # the parent stopped reading (interrupted): nothing to say
        except Exception as exc:  # reported by the parent as one line, never a hang
            pipe.send(("crash", f"{type(exc).__name__}: {exc}"))
    except OSError:
        return  # the parent is gone
    finally:
        pipe.close()


def _sharing(
    share: WorkerShare, keylog: KeyLog, ship: Callable[[Item | _Judged], None]
) -> Callable[[Item], None]:
    """The worker's item router: a taken connection's items go to a TLS half here, its
    judged result is shipped where its ConnectionClosed would have gone; the rest is shipped."""
    builder = TranscriptBuilder(keylog, lambda t: ship(_Judged(share.judge(t))))
    taken: set[int] = set()
    feed = builder.feed

    def route(item: Item) -> None:
        if type(item) is Record or type(item) is OpaqueRecords:
            if item.connection in taken:
                feed(item)
                return
        elif type(item) is ConnectionOpened:
            if item.connection % share.every == 0:
                taken.add(item.connection)
                feed(item)
                return
        elif type(item) is ConnectionClosed:
            if item.connection in taken:
                taken.discard(item.connection)
                feed(item)  # ships its _Judged
                return
        elif type(item) is SecretsFound:
            feed(item)  # this half's key log grows too; the other half's when shipped
        ship(item)

    return route


def worker_share_every(default: int) -> int:
    """The worker takes every Nth connection whole (MTLS_INSPECT_WORKER_SHARE=N overrides;
    0: none)."""
    return int(os.environ.get("MTLS_INSPECT_WORKER_SHARE", default))


def read_capture_parallel(
    path: Path,
    keylog: KeyLog | None,
    progress: ProgressFn | None,
    on_transcript: TranscriptFn,
    min_bytes: int | None = None,
    share: WorkerShare | None = None,
) -> CaptureResult:
    """Same contract as read_capture(..., on_transcript=...); reads serially for files under
    `min_bytes` (default: min_parallel_bytes()) or where fork is not available. With `share`,
    the transcripts of the connections the worker takes do not reach `on_transcript`: their
    `share.judge` results reach `share.take` instead, in the same order."""
    threshold = min_parallel_bytes() if min_bytes is None else min_bytes
    try:
        size = path.stat().st_size
        context: ForkContext | None = multiprocessing.get_context("fork")
    except (OSError, ValueError):
        size, context = 0, None
    if context is None or size < threshold or (os.cpu_count() or 1) < 2:
        return read_capture(path, keylog, progress, on_transcript)
    keys = keylog if keylog is not None else KeyLog()
    builder = TranscriptBuilder(keys, on_transcript)
    if share is not None and share.every <= 0:
        share = None
    if share is not None and share.warm is not None:
        share.warm()
    receiver, sender = context.Pipe(duplex=False)
    worker = context.Process(target=_worker, args=(sender, path, keys, progress, share), daemon=True)
    worker.start()
    sender.close()
    try:
        with fewer_collections():
            while True:
                try:
                    kind, payload = receiver.recv()
                except EOFError:
                    raise CaptureFormatError("the capture reader stopped unexpectedly") from None
                if kind == "items":
                    if share is None:
                        builder.feed_all(from_wire(payload))
                        continue
                    feed, take = builder.feed, share.take
                    for item in cast("list[Item | _Judged]", from_wire(payload)):
                        if isinstance(item, _Judged):
                            take(item.result)
                        else:
                            feed(item)
                elif kind == "done":
                    result: CaptureResult = payload
                    result.keylog_entries = len(keys)
                    return result
                elif kind == "error":
                    raise CaptureFormatError(payload)
                else:
                    raise RuntimeError(f"capture reader failed: {payload}")
    finally:
        receiver.close()
        worker.join(timeout=0 if sys.exc_info()[0] is not None else 10)
        if worker.is_alive():  # interrupted, or it hangs: end it now, quietly (SIGTERM)
            worker.terminate()
            worker.join(timeout=5)
            if worker.is_alive():
                worker.kill()
