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

    from inspector.analysis.capture import CaptureScan, Scope, Tally
    from inspector.analysis.connection import ConnectionResult
    from inspector.analysis.many import ItemFn, PartRunner, PartTask, SetSummary
    from inspector.findings import Finding
    from inspector.keystore.model import Keystore
    from inspector.render.pcap import PcapReport, PcapView, Rendered
    from parsers.fileparts import FilePart
    from parsers.fileset import CaptureSet
    from parsers.keylog import KeyLog
    from parsers.model import Endpoint, Transcript
    from parsers.stitch import PartSpool

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
    from inspector.analysis.capture import CaptureScan, Tally
    from inspector.analysis.many import merge_set, open_capture_set
    from inspector.system.input_files import read_key_log
    from parsers.fileparts import decode_part
    from parsers.keylog import KeyLog
    from parsers.stitch import PartSpool

    capture_set = open_capture_set(request.files)
    runner = _runner(request, len(capture_set.members))
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
    parts = _decode_parts(capture_set, runner, task, keylog_text, spool, progress)
    names = [str(m.path) for m in capture_set.members]
    tally = Tally()
    take = _take_connections(names, recipe, store, judge, scope, reports, tally)
    try:
        summary = merge_set(capture_set, parts, keylog if keylog is not None else KeyLog(), take)
    finally:
        spool.close()
    if scope.connection is not None and not tally.selected:
        raise InputError(
            f"{names[0]} …: no TLS connection #{scope.connection}",
            f"connections here: 1..{summary.result.tls_connections}",
        )
    tally.count(summary.findings)  # the file-level findings count too
    scan = CaptureScan(summary.result, summary.findings, tally.severities, tally.errors, tally.first_time)
    return scan, summary


def _runner(request: SetRequest, files: int) -> PartRunner:
    """Here, one file after the other; or on Dask when asked for workers or a scheduler (never
    more local workers than there are files to decode)."""
    from inspector.analysis.many import serial_parts

    if request.workers is None and not request.scheduler:
        return serial_parts
    from inspector.analysis.cluster import dask_runner

    workers = None if request.workers is None else min(request.workers, max(1, files))
    return dask_runner(workers, request.scheduler, WORKER_PRELOAD)


def _decode_parts(
    capture_set: CaptureSet,
    runner: PartRunner,
    task: PartTask,
    keylog_text: str,
    spool: PartSpool,
    progress: ProgressFn,
) -> list[FilePart]:
    """Every file decoded by the runner, each part spooled (and the progress shown) as it arrives."""
    with progress(len(capture_set.members), capture_set.size) as show:
        done = [0, 0, 0]  # files, bytes, connections

        def on_part(part: FilePart) -> None:
            done[0] += 1
            done[1] += part.size
            done[2] += part.packed_count
            spool.keep(part)
            if show is not None:
                show(done[0], done[1], done[2])

        return runner(list(capture_set.members), task, keylog_text, on_part)


def _take_connections(
    names: list[str],
    recipe: Recipe,
    store: Keystore | None,
    judge: JudgeFn | None,
    scope: Scope,
    reports: tuple[PcapReport, ...],
    tally: Tally,
) -> ItemFn:
    """The merge's callback: each connection sealed (judged here, when it was not where its file
    was decoded), counted in `tally` when in scope and handed to every report under its number."""
    from inspector.findings import Severity
    from parsers.fileparts import unpack
    from parsers.model import Transcript

    def take(number: int, first: int, last: int, item: object) -> None:
        if isinstance(item, bytes):
            item = unpack(item)
            item.index = number
        if isinstance(item, Transcript):
            item = seal(item, recipe, names[first], store, judge)
        assert isinstance(item, Sealed)
        if tally.first_time is None or item.start_time < tally.first_time:
            tally.first_time = item.start_time
        if not _in_scope(scope, item, number):
            return
        tally.selected += 1
        for severity, count in zip(Severity, item.severities, strict=True):
            tally.severities[severity.value] += count
        tally.errors = tally.errors or item.errors
        files = (names[first],) if first == last else (names[first], names[last])
        for report, rendered in zip(reports, item.renders, strict=True):
            report.keep(rendered.renumbered(item.stand_in, number), files)

    return take


def _in_scope(scope: Scope, item: Sealed, number: int) -> bool:
    """Scope.holds, on a sealed record."""
    if scope.host and scope.host not in (item.client.ip, item.server.ip):
        return False
    if scope.port and scope.port not in (item.client.port, item.server.port):
        return False
    return scope.connection in (None, number)
