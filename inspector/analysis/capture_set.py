"""A capture set (`pcap A B C…`, a directory, a glob, a rotated set) judged as one capture,
serially or on Dask (--workers N / --scheduler URL): each file decoded where it lies, its whole
connections judged and rendered there (`seal`), the parts merged in time order
(analysis/many.py, parsers/stitch.py). The command hands in the renderer and the progress
display, so this layer imports neither."""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from inspector.system.errors import InputError

if TYPE_CHECKING:
    import datetime as dt

    from inspector.analysis.capture import CaptureScan, Scope
    from inspector.analysis.connection import ConnectionResult
    from inspector.analysis.many import SetSummary
    from inspector.findings import Finding
    from inspector.keystore.model import Keystore
    from inspector.render.pcap import PcapReport, PcapView, Rendered
    from parsers.fileparts import FilePart
    from parsers.keylog import KeyLog
    from parsers.model import Endpoint, Transcript

    JudgeFn = Callable[[Transcript], list[Finding]]
    #: render.pcap.render_connection
    RenderFn = Callable[[PcapView, ConnectionResult], Rendered]
    #: render.progress.set_progress: (files, bytes) → a context giving the per-part callback
    ProgressFn = Callable[[int, int], AbstractContextManager[Callable[[int, int, int], None] | None]]

#: what decode_and_seal loads on its first call (a local Dask cluster's workers load it first)
WORKER_PRELOAD = (
    "inspector.analysis.capture_set",
    "inspector.analysis.connection",
    "inspector.render.pcap",
    "parsers.fileparts",
    "parsers.scapy_tls",
    "parsers.gcfreeze",
)

#: stand-in numbers, while a connection's number in the set is not yet known: 13 digits, which
#: no port, frame, length or time in a report has (and a 64-digit fingerprint has by chance once
#: in 10^12); the merge replaces them by the real numbers
STAND_IN = 7_000_000_000_000


@dataclass(frozen=True)
class Recipe:
    """What a worker needs to judge and render a connection as this run's reports will."""

    views: tuple[PcapView, ...]
    at: dt.datetime | None
    #: render.pcap.render_connection, handed in by the command (analysis never imports render):
    #: a module-level function, so a Recipe pickles for a Dask worker
    render: RenderFn


@dataclass(frozen=True)
class Sealed:
    """One connection judged and rendered (under a stand-in number): all the merge needs."""

    stand_in: int
    start_time: float
    client: Endpoint
    server: Endpoint
    severities: tuple[int, ...]  # per Severity, in its order
    errors: bool
    renders: tuple[Rendered, ...]  # one per report view


def seal(
    t: Transcript,
    recipe: Recipe,
    file: str,
    store: Keystore | None = None,
    judge: JudgeFn | None = None,
) -> Sealed:
    """Judge and render one connection under a stand-in number (its number here + STAND_IN)."""
    from inspector.analysis.connection import analyse_connection
    from inspector.findings import Severity, has_errors

    t.index += STAND_IN
    judged = analyse_connection(t, store, file, recipe.at, also_judge=judge)
    counts = tuple(sum(1 for f in judged.findings if f.severity is s) for s in Severity)
    renders = tuple(recipe.render(view, judged) for view in recipe.views)
    return Sealed(t.index, t.start_time, t.client, t.server, counts, has_errors(judged.findings), renders)


def decode_and_seal(path: str, rank: int, keylog_text: str, recipe: Recipe) -> FilePart:
    """The task a worker runs (on Dask, or here): decode the file, judge and render its whole
    connections there, so only compact records travel."""
    from parsers.fileparts import decode_part

    return decode_part(path, rank, keylog_text, lambda t: seal(t, recipe, path))


@dataclass(frozen=True)
class SetRequest:
    """What `pcap` asks of a capture set: its files and where to decode them."""

    files: list[str]
    keylog_path: str | None
    #: a local Dask cluster of this many processes, or an existing one at `scheduler`; else here
    workers: int | None
    scheduler: str | None


def scan_set(
    request: SetRequest,
    keylog: KeyLog | None,
    store: Keystore | None,
    at: dt.datetime | None,
    scope: Scope,
    reports: tuple[PcapReport, ...],
    judge: JudgeFn | None,
    render: RenderFn,
    progress: ProgressFn,
) -> tuple[CaptureScan, SetSummary]:
    """Decode, merge, judge the set; each report gets every connection in `scope`, in order."""
    from inspector.analysis.capture import CaptureScan
    from inspector.analysis.many import PartRunner, PartTask, merge_set, open_capture_set, serial_parts
    from inspector.findings import Severity, has_errors
    from inspector.system.input_files import read_key_log
    from parsers.fileparts import decode_part, unpack
    from parsers.keylog import KeyLog
    from parsers.model import Transcript
    from parsers.stitch import PartSpool

    runner: PartRunner = serial_parts
    if request.workers is not None or request.scheduler:
        from inspector.analysis.cluster import dask_runner

        runner = dask_runner(request.workers, request.scheduler, WORKER_PRELOAD)
    capture_set = open_capture_set(request.files)
    keylog_text = (
        read_key_log(Path(request.keylog_path)).decode("utf-8", "replace") if request.keylog_path else ""
    )
    recipe = Recipe(tuple(r.view for r in reports), at, render)
    # the keystore and truststore are this machine's files: with them, connections are judged
    # here, after the merge; else where their file is decoded
    local = store is not None or judge is not None
    task: PartTask = decode_part if local else functools.partial(decode_and_seal, recipe=recipe)
    # each part's connections to disk as it arrives: the merge stays flat
    spool = PartSpool(len(capture_set.members))
    with progress(len(capture_set.members), capture_set.size) as show:
        done = [0, 0, 0]

        def on_part(part: FilePart) -> None:
            done[0] += 1
            done[1] += part.size
            done[2] += part.packed_count
            spool.keep(part)
            if show is not None:
                show(done[0], done[1], done[2])

        parts = runner(list(capture_set.members), task, keylog_text, on_part)
    names = [str(m.path) for m in capture_set.members]
    severities = [0] * len(Severity)
    errors = False
    first_time: float | None = None
    selected = 0

    def take(number: int, first: int, last: int, item: object) -> None:
        nonlocal errors, first_time, selected
        if isinstance(item, bytes):
            item = unpack(item)
            item.index = number
        if isinstance(item, Transcript):
            item = seal(item, recipe, names[first], store, judge)
        assert isinstance(item, Sealed)
        if first_time is None or item.start_time < first_time:
            first_time = item.start_time
        if not _in_scope(scope, item, number):
            return
        selected += 1
        for n, count in enumerate(item.severities):
            severities[n] += count
        errors = errors or item.errors
        files = (names[first],) if first == last else (names[first], names[last])
        for report, rendered in zip(reports, item.renders, strict=True):
            report.keep(rendered.renumbered(item.stand_in, number), files)

    try:
        summary = merge_set(capture_set, parts, keylog if keylog is not None else KeyLog(), take)
    finally:
        spool.close()
    if scope.connection is not None and not selected:
        raise InputError(
            f"{names[0]} …: no TLS connection #{scope.connection}",
            f"connections here: 1..{summary.result.tls_connections}",
        )
    counts = {s.value: severities[n] for n, s in enumerate(Severity)}
    for f in summary.findings:
        counts[f.severity.value] += 1
    errors = errors or has_errors(summary.findings)
    scan = CaptureScan(summary.result, summary.findings, counts, errors, first_time)
    return scan, summary


def _in_scope(scope: Scope, item: Sealed, number: int) -> bool:
    """Scope.holds, on a sealed record."""
    if scope.host and scope.host not in (item.client.ip, item.server.ip):
        return False
    if scope.port and scope.port not in (item.client.port, item.server.port):
        return False
    return scope.connection in (None, number)
