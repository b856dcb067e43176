"""Read a large capture with two cores: the same pipeline as read_capture, cut in two.

A worker process runs the stream half (parsers.flows: frames, TCP reassembly, record
boundaries, skipping bulk data) — what costs per packet — and ships its items
(parsers.boundary: plain records, cheap to pickle) in batches. This process meanwhile imports
scapy and runs the TLS half (parsers.transcripts: decryption, message decoding) and the rules.
Both halves are the very code a serial read runs, so the output is the same, byte for byte.

When this process falls behind (the pipe holds more than BACKLOG unread bytes as a connection
opens), the worker keeps that connection: it runs the TLS half for it too and hands it to
`seal` (the caller's: judge and render), and ships what `seal` made in the place of the
connection's `ConnectionClosed`, so this process takes every connection in the same order as
a serial read. The halves balance themselves whatever the load on either core.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import cast

from parsers import worker
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
    """Below this size a worker costs more than it saves."""
    return worker.min_parallel_bytes(16 << 20)


#: unread bytes in the pipe above which a connection opening now is kept by the worker
BACKLOG = 384 << 10

#: runs in the worker: a whole connection's Transcript → what this process needs of it (plain
#: values that pickle: the connection judged and rendered)
SealFn = Callable[[Transcript], object]
#: runs here, with what SealFn made, where the connection's Transcript would have been taken
SealedFn = Callable[[object], None]


@dataclass(frozen=True, slots=True)
class Sealed:
    """A connection the worker read to its end and sealed, in its place in the item stream."""

    value: object


@dataclass(frozen=True)
class Share:
    """Which connections the worker keeps: `every` N-th (1: all, 0: none), or None: whenever
    this process is behind (the default). MTLS_INSPECT_WORKER_SHARE=N fixes it (tests)."""

    seal: SealFn
    on_sealed: SealedFn
    every: int | None = None


def share_from_env(seal: SealFn, on_sealed: SealedFn) -> Share:
    given = os.environ.get("MTLS_INSPECT_WORKER_SHARE", "")
    return Share(seal, on_sealed, int(given) if given.isdigit() else None)


def _widen(pipe: Connection) -> int:
    """The backlog past which the worker keeps connections: BACKLOG, or less in a pipe that could
    not be widened (the worker must see this process behind before it blocks)."""
    return min(BACKLOG, worker.widen(pipe) * 3 // 8)


def _worker(
    pipe: Connection,
    path: Path,
    keys: KeyLog,
    progress: ProgressFn | None,
    share: Share | None,
    backlog: int,
) -> None:
    worker.deaf_to_interrupts()
    batch: list[Item | Sealed] = []
    size = 0

    def ship(item: Item | Sealed) -> None:
        nonlocal size
        batch.append(item)
        if type(item) is Record and item.body is not None:
            size += len(item.body)
        if len(batch) >= BATCH or size >= BATCH_BYTES:
            pipe.send(("items", as_wire(cast("list[Item]", batch))))  # Sealed passes as it is
            batch.clear()
            size = 0

    emit = ship if share is None else _Keeper(share, keys, ship, pipe, backlog).item
    try:
        try:
            with fewer_collections():
                result = FlowReader(path, emit, bool(len(keys)), progress).run()
            if batch:
                pipe.send(("items", as_wire(cast("list[Item]", batch))))  # Sealed passes as it is
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


class _Keeper:
    """The worker's side of the share: the connections it keeps go through its own TLS half
    and `seal`; the others' items are shipped as they are."""

    def __init__(
        self,
        share: Share,
        keys: KeyLog,
        ship: Callable[[Item | Sealed], None],
        pipe: Connection,
        backlog: int,
    ) -> None:
        self.share, self.ship, self.pipe, self.backlog = share, ship, pipe, backlog
        self.kept: set[int] = set()
        self.opened = 0
        self.builder = TranscriptBuilder(keys, self._sealed)

    def _sealed(self, t: Transcript) -> None:
        self.ship(Sealed(self.share.seal(t)))

    def wants_body(self, connection: int, from_server: bool, length: int) -> bool:
        """parsers.connection.BodyPolicy: for a connection kept here, as its TLS half says;
        for the others, every body the rule keeps (their TLS half is in the other process)."""
        return connection not in self.kept or self.builder.wants_body(connection, from_server, length)

    def _keep(self) -> bool:
        self.opened += 1
        every = self.share.every
        if every is None:
            return worker.backlog(self.pipe) > self.backlog
        return every > 0 and self.opened % every == 0

    def item(self, item: Item) -> None:
        kind = type(item)
        if kind is Record or kind is OpaqueRecords or kind is ConnectionClosed:
            number = item.connection  # type: ignore[union-attr]
            if number in self.kept:
                if kind is ConnectionClosed:
                    self.kept.discard(number)
                self.builder.feed(item)
                return
        elif kind is ConnectionOpened:
            if self._keep():
                self.kept.add(item.connection)  # type: ignore[union-attr]
                self.builder.feed(item)
                return
        elif kind is SecretsFound:
            self.builder.feed(item)  # both halves may need them
        self.ship(item)


def read_capture_parallel(
    path: Path,
    keylog: KeyLog | None,
    progress: ProgressFn | None,
    on_transcript: TranscriptFn,
    min_bytes: int | None = None,
    share: Share | None = None,
) -> CaptureResult:
    """Same contract as read_capture(..., on_transcript=...); reads serially for files under
    `min_bytes` (default: min_parallel_bytes()) or where fork is not available. With `share`,
    the connections the worker keeps reach `share.on_sealed` instead of `on_transcript`."""
    threshold = min_parallel_bytes() if min_bytes is None else min_bytes
    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    context = worker.fork_context()
    if context is None or size < threshold:
        return read_capture(path, keylog, progress, on_transcript)
    sealed: SealedFn = share.on_sealed if share is not None else _never
    keys = keylog if keylog is not None else KeyLog()
    builder = TranscriptBuilder(keys, on_transcript)
    receiver, sender = context.Pipe(duplex=False)
    backlog = _widen(sender)
    process = context.Process(
        target=_worker, args=(sender, path, keys, progress, share, backlog), daemon=True
    )
    try:
        worker.start_held(process)
        sender.close()
        with fewer_collections():
            while True:
                try:
                    kind, payload = receiver.recv()
                except EOFError:
                    raise CaptureFormatError("the capture reader stopped unexpectedly") from None
                if kind == "items":
                    feed = builder.feed
                    for item in cast("list[Item | Sealed]", from_wire(payload)):
                        if isinstance(item, Sealed):
                            sealed(item.value)
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
        worker.stop(process)


def _never(value: object) -> None:
    raise AssertionError("a sealed connection without a share")
