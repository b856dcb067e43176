"""Read a large log with two cores: the scanner in a worker process, everything after it here.

The scanner (reading, undoing a paste's prefixes, finding the few lines that matter among
hundreds of MB of hex dumps) is most of a big log's cost and needs nothing from what follows.
A forked worker runs it and ships its entries in batches, as plain tuples (cheap to pickle);
this process meanwhile ties them into handshakes and judges them. Both halves are the code a
serial read runs, in the same order, so the report is the same, byte for byte.
"""

from __future__ import annotations

import os
import pickle
import stat
import zlib
from collections.abc import Iterator
from multiprocessing.connection import Connection
from multiprocessing.context import ForkContext
from pathlib import Path
from typing import TypeAlias

from parsers import worker
from parsers.gcpolicy import fewer_collections
from parsers.javalog.prefix import ByteSource
from parsers.javalog.scan import Entry, Kind, Scanner, ScanStats

__all__ = ["WorkerScanner", "min_parallel_bytes", "worker_context"]

#: entries per message through the pipe: pickling is not per entry, and the parent's first batch
#: comes while it still imports the rules
BATCH = 256

#: an Entry on the wire: its fields in order, the block one string (None: no block)
WireEntry: TypeAlias = tuple[str, int, str, "str | None", str, str, str, str, bool]
_KINDS = {kind.value: kind for kind in Kind}


def min_parallel_bytes() -> int:
    """Below this size the worker costs more than it saves (~6 ms a MB scanned, ~10 ms a fork)."""
    return worker.min_parallel_bytes(8 << 20)


def _to_wire(e: Entry) -> WireEntry:
    block = "\n".join(e.block) if e.block else None  # a block's lines never hold a line end
    return (e.kind.value, e.line, e.text, block, e.level, e.thread_id, e.thread_name, e.stamp, e.truncated)


def _from_wire(w: WireEntry) -> Entry:
    kind, line, text, block, level, thread_id, thread_name, stamp, truncated = w
    lines = block.split("\n") if block is not None else []
    return Entry(_KINDS[kind], line, text, lines, level, thread_id, thread_name, stamp, truncated)


class WorkerScanner:
    """A Scanner's face (`entries()`, then `stats`) on a scan that runs in a worker process."""

    def __init__(self, stream: ByteSource, context: ForkContext) -> None:
        self.stream, self.context = stream, context
        self.stats = ScanStats()

    def entries(self) -> Iterator[Entry]:
        receiver, sender = self.context.Pipe(duplex=False)
        worker.widen(sender)
        process = self.context.Process(target=_scan_in_worker, args=(sender, self.stream), daemon=True)
        try:
            worker.start_held(process)
            sender.close()
            with fewer_collections():
                yield from self._received(receiver)
        finally:
            receiver.close()
            worker.stop(process)

    def _received(self, receiver: Connection) -> Iterator[Entry]:
        while True:
            try:
                kind, payload = pickle.loads(receiver.recv_bytes())
            except EOFError:
                raise OSError("the log reader stopped unexpectedly") from None
            if kind == "entries":
                for wired in payload:
                    yield _from_wire(wired)
            elif kind == "done":
                self.stats = payload
                return
            elif kind == "failed":  # the read's own error (a cut .gz, an I/O error): as a serial read
                raise payload
            else:
                raise RuntimeError(f"log reader failed: {payload}")


def _scan_in_worker(pipe: Connection, stream: ByteSource) -> None:
    worker.deaf_to_interrupts()

    def ship(kind: str, payload: object) -> None:
        pipe.send_bytes(pickle.dumps((kind, payload), protocol=pickle.HIGHEST_PROTOCOL))

    scanner = Scanner(stream)
    batch: list[WireEntry] = []
    try:
        try:
            with fewer_collections():
                for entry in scanner.entries():
                    batch.append(_to_wire(entry))
                    if len(batch) >= BATCH:
                        ship("entries", batch)
                        batch = []
            if batch:
                ship("entries", batch)
            ship("done", scanner.stats)
        except (BrokenPipeError, ConnectionResetError):
            return  # the parent stopped reading (interrupted, or a reader gone): nothing to say
        except (OSError, EOFError, ValueError, zlib.error) as exc:
            ship("failed", _picklable(exc))
        except Exception as exc:  # reported by the parent as a bug, never a hang
            ship("crash", f"{type(exc).__name__}: {exc}")
    except OSError:
        return  # the parent is gone
    finally:
        pipe.close()


def _picklable(exc: BaseException) -> BaseException:
    """The exception itself when it survives the pipe, else an OSError saying the same."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return OSError(str(exc))
    return exc


def worker_context(path: Path) -> ForkContext | None:
    """How to fork the scanner's worker for a regular file large enough to gain from it; None:
    scan it here (a small file, a pipe, stdin, one core)."""
    context = worker.fork_context()
    try:
        info = os.stat(path)
    except OSError:
        return None
    if context is None or not stat.S_ISREG(info.st_mode) or info.st_size < min_parallel_bytes():
        return None
    return context
