"""Read a large capture with two cores: a worker process walks the packets, the main one
interprets TLS and explains.

The worker does what costs per packet — frames, TCP reassembly, record boundaries, skipping
bulk data — and ships each finished connection's records (plain tuples of bytes: cheap to
pickle). This process meanwhile imports scapy, replays those records through the same
TlsConnection code (decryption, message decoding, memoised), and runs the rules. Connection
numbers come from the worker, so the output is the same as a serial read's, byte for byte
(a test checks it).
"""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path
from typing import Any

from parsers.capture import CaptureResult, ProgressFn, TranscriptFn, read_capture
from parsers.keylog import KeyLog
from parsers.model import Transcript
from parsers.pcapfile import CaptureFormatError
from parsers.tls import TlsConnection

BATCH = 32


def min_parallel_bytes() -> int:
    """Below this size a worker costs more than it saves (MTLS_INSPECT_PARALLEL_MIN overrides)."""
    return int(os.environ.get("MTLS_INSPECT_PARALLEL_MIN", 16 << 20))


def _worker(conn: Any, path: Path, keylog: KeyLog | None, progress: ProgressFn | None) -> None:
    batch: list[Transcript] = []
    shipped_secrets = 0
    reader_keylog = keylog if keylog is not None else KeyLog()

    def ship(t: Transcript) -> None:
        nonlocal shipped_secrets
        batch.append(t)
        if len(batch) >= BATCH:
            flush()

    def flush() -> None:
        nonlocal shipped_secrets
        if len(reader_keylog.secrets) != shipped_secrets:  # pcapng Decryption Secrets Blocks
            conn.send(("secrets", reader_keylog.secrets))
            shipped_secrets = len(reader_keylog.secrets)
        if batch:
            conn.send(("batch", batch[:]))
            batch.clear()

    try:
        result = read_capture(path, reader_keylog, progress, ship, record_only=True)
        flush()
        conn.send(("done", result))
    except CaptureFormatError as exc:
        conn.send(("error", str(exc)))
    except Exception as exc:  # reported by the parent as one line, never a hang
        conn.send(("crash", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


def read_capture_parallel(
    path: Path, keylog: KeyLog | None, progress: ProgressFn | None, on_transcript: TranscriptFn
) -> CaptureResult:
    """Same contract as read_capture(..., on_transcript=...); reads serially for small files
    or where fork is not available."""
    try:
        size = path.stat().st_size
        context: Any = multiprocessing.get_context("fork")
    except (OSError, ValueError):
        size, context = 0, None
    if context is None or size < min_parallel_bytes() or (os.cpu_count() or 1) < 2:
        return read_capture(path, keylog, progress, on_transcript)
    keys = keylog if keylog is not None else KeyLog()
    receiver, sender = context.Pipe(duplex=False)
    worker = context.Process(target=_worker, args=(sender, path, keylog, progress), daemon=True)
    worker.start()
    sender.close()
    try:
        while True:
            try:
                kind, payload = receiver.recv()
            except EOFError:
                raise CaptureFormatError("the capture reader stopped unexpectedly") from None
            if kind == "batch":
                for t in payload:
                    tls = TlsConnection(t, keys)
                    tls.replay(t.recorded or [])
                    t.recorded = None
                    tls.finish_tls()
                    on_transcript(t)
            elif kind == "secrets":
                keys.secrets.update(payload)
            elif kind == "done":
                result: CaptureResult = payload
                return result
            elif kind == "error":
                raise CaptureFormatError(payload)
            else:
                raise RuntimeError(f"capture reader failed: {payload}")
    finally:
        receiver.close()
        worker.join(timeout=10)
        if worker.is_alive():
            worker.kill()
