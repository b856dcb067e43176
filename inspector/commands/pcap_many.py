"""`mtls-inspect pcap A B C…` (a directory, a quoted glob, a rotated set), serially or with
--workers N / --scheduler URL on Dask: the set's run, apart from the one-file path of pcap_cmd."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from inspector.errors import InputError

if TYPE_CHECKING:
    import datetime as dt

    from inspector.analysis.capture import Scope
    from inspector.analysis.many import PartRunner, SetConnectionFn, SetScan
    from inspector.findings import Finding
    from inspector.keystore.model import Keystore
    from parsers.keylog import KeyLog
    from parsers.model import Transcript

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


def scan_files(
    args: argparse.Namespace,
    keylog: KeyLog | None,
    store: Keystore | None,
    at: dt.datetime | None,
    scope: Scope,
    on_connection: SetConnectionFn,
    judge: Callable[[Transcript], list[Finding]] | None,
) -> SetScan:
    from inspector.analysis.many import open_capture_set, scan_set, serial_parts
    from inspector.keystore import read_bytes
    from inspector.render.progress import set_progress

    runner: PartRunner = serial_parts
    if args.workers is not None or args.scheduler:
        from inspector.analysis.cluster import dask_runner

        runner = dask_runner(args.workers, args.scheduler)
    capture_set = open_capture_set(args.file or [])
    keylog_text = read_bytes(Path(args.keylog)).decode("utf-8", "replace") if args.keylog else ""
    with set_progress(len(capture_set.members), capture_set.size) as show:
        done = [0, 0, 0]

        def on_part(part: object) -> None:
            from parsers.fileparts import FilePart

            assert isinstance(part, FilePart)
            done[0] += 1
            done[1] += part.size
            done[2] += len(part.connections)
            if show is not None:
                show(done[0], done[1], done[2])

        return scan_set(
            capture_set, runner, keylog, keylog_text, store, at, scope, on_connection, on_part, judge
        )
