"""`mtls-inspect pcap A B C…` (a directory, a quoted glob, a rotated set), serially or with
--workers N / --scheduler URL on Dask: the set's run, apart from the one-file path of pcap_cmd."""

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from inspector.system.errors import InputError

if TYPE_CHECKING:
    import datetime as dt

    from inspector.analysis.capture import CaptureScan, Scope
    from inspector.analysis.many import SetSummary
    from inspector.findings import Finding
    from inspector.keystore.model import Keystore
    from inspector.render.pcap import PcapReport, PcapView, Rendered
    from parsers.fileparts import FilePart
    from parsers.keylog import KeyLog
    from parsers.model import Endpoint, Transcript

    JudgeFn = Callable[[Transcript], list[Finding]]

GLOB_CHARS = "*?["


def add_set_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="decode the files on a local Dask cluster of N processes "
        "(pip install 'mtls-inspector[cluster]')",
    )
    p.add_argument(
        "--scheduler",
        metavar="tcp://HOST:8786",
        help="decode the files on an existing Dask cluster; its workers must see the files at the same paths",
    )
    p.add_argument(
        "--jsonl",
        action="store_true",
        help="JSON Lines: a header line, then one line per connection (for very large runs)",
    )


def is_set(args: argparse.Namespace) -> bool:
    """Several files, a directory, a glob, or a cluster asked for: the set's path."""
    files: list[str] = args.file or []
    if args.workers is not None or args.scheduler:
        return True
    if len(files) != 1:
        return len(files) > 1
    one = files[0]
    return Path(one).is_dir() or (any(c in one for c in GLOB_CHARS) and not Path(one).exists())


def check_set_args(args: argparse.Namespace) -> None:
    if args.workers is not None and args.scheduler:
        raise InputError("--workers starts a local cluster, --scheduler uses an existing one", "give one")
    if args.workers is not None and args.workers < 1:
        raise InputError(f"--workers {args.workers}: needs at least 1", "give --workers N with N >= 1")
    if args.jsonl and args.json:
        raise InputError("--json and --jsonl are two forms of the same report", "give one")


#: what decode_and_seal loads on its first call (a local Dask cluster's workers load it first)
WORKER_PRELOAD = (
    "inspector.commands.pcap_many",
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
    from inspector.render.pcap import render_connection

    t.index += STAND_IN
    judged = analyse_connection(t, store, file, recipe.at, also_judge=judge)
    counts = tuple(sum(1 for f in judged.findings if f.severity is s) for s in Severity)
    renders = tuple(render_connection(view, judged) for view in recipe.views)
    return Sealed(t.index, t.start_time, t.client, t.server, counts, has_errors(judged.findings), renders)


def decode_and_seal(path: str, rank: int, keylog_text: str, recipe: Recipe) -> FilePart:
    """The task a worker runs (on Dask, or here): decode the file, judge and render its whole
    connections there, so only compact records travel."""
    from parsers.fileparts import decode_part

    return decode_part(path, rank, keylog_text, lambda t: seal(t, recipe, path))


def scan_files(
    args: argparse.Namespace,
    keylog: KeyLog | None,
    store: Keystore | None,
    at: dt.datetime | None,
    scope: Scope,
    reports: tuple[PcapReport, ...],
    judge: JudgeFn | None,
) -> tuple[CaptureScan, SetSummary]:
    """Decode, merge, judge the set; each report gets every connection in `scope`, in order."""
    from inspector.analysis.capture import CaptureScan
    from inspector.analysis.many import PartRunner, PartTask, merge_set, open_capture_set, serial_parts
    from inspector.findings import Severity, has_errors
    from inspector.keystore import read_bytes
    from inspector.render.progress import set_progress
    from parsers.fileparts import decode_part, unpack
    from parsers.keylog import KeyLog
    from parsers.model import Transcript
    from parsers.stitch import PartSpool

    runner: PartRunner = serial_parts
    if args.workers is not None or args.scheduler:
        from inspector.analysis.cluster import dask_runner

        runner = dask_runner(args.workers, args.scheduler, WORKER_PRELOAD)
    capture_set = open_capture_set(args.file or [])
    keylog_text = read_bytes(Path(args.keylog)).decode("utf-8", "replace") if args.keylog else ""
    recipe = Recipe(tuple(r.view for r in reports), at)
    # the keystore and truststore are this machine's files: with them, connections are judged
    # here, after the merge; else where their file is decoded
    local = store is not None or judge is not None
    task: PartTask = decode_part if local else functools.partial(decode_and_seal, recipe=recipe)
    # each part's connections to disk as it arrives: the merge stays flat
    spool = PartSpool(len(capture_set.members))
    with set_progress(len(capture_set.members), capture_set.size) as show:
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
