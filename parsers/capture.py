"""A capture file → one Transcript per TLS connection, streaming, with bounded memory.

The pipeline's two halves joined in one process: parsers.flows (frames → TCP → records) hands
each item (parsers.boundary) straight to parsers.transcripts (records → Transcripts).
parsers.parallel runs the same two halves in two processes.
"""

from __future__ import annotations

from pathlib import Path

from parsers.flows import CaptureResult, FlowReader, ProgressFn
from parsers.gcpolicy import fewer_collections
from parsers.keylog import KeyLog
from parsers.model import Transcript
from parsers.pcapfile import CaptureFormatError
from parsers.transcripts import TranscriptBuilder, TranscriptFn

__all__ = ["CaptureFormatError", "CaptureResult", "ProgressFn", "TranscriptFn", "read_capture"]


def read_capture(
    path: Path,
    keylog: KeyLog | None = None,
    progress: ProgressFn | None = None,
    on_transcript: TranscriptFn | None = None,
    lean: bool = False,
) -> CaptureResult:
    """Decode every TLS connection in the file. Raises CaptureFormatError if nothing is readable.

    Connections are numbered in the order their first TLS record appears. With `on_transcript`,
    each transcript is handed over as soon as its connection ends and is not kept: memory then
    stays bounded by the connections open at one time, whatever the file size. `lean` reads
    CertificateRequest by hand too instead of through scapy (parsers/lean.py).
    Secrets embedded in a pcapng are added to `keylog`.
    """
    keylog = keylog if keylog is not None else KeyLog()
    finished: list[Transcript] = []
    builder = TranscriptBuilder(keylog, on_transcript or finished.append, lean)
    with fewer_collections():
        result = FlowReader(path, builder.feed, keys_given=bool(len(keylog)), progress=progress).run()
    result.keylog_entries = len(keylog)
    result.transcripts = sorted(finished, key=lambda t: t.index)
    return result
