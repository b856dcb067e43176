"""The options of `pcap A B C…` (a directory, a quoted glob, a rotated set; --workers N /
--scheduler URL on Dask), and whether a run is a set's; the set's run is analysis/capture_set."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from inspector.system.errors import InputError

if TYPE_CHECKING:
    from inspector.findings import Finding
    from parsers.model import Transcript

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
    if args.workers is not None and args.workers > max_workers():
        raise InputError(
            f"--workers {args.workers}: more than {max_workers()} (4 per CPU here) would only cost memory",
            f"give --workers {os.cpu_count() or 1} (one per CPU), or --scheduler for a real cluster",
        )
    if args.jsonl and args.json:
        raise InputError("--json and --jsonl are two forms of the same report", "give one")


def max_workers() -> int:
    """The most local worker processes asked for: 4 per CPU (each is a Python process of ~20 MB
    and more; past the CPUs they only wait). A run never starts more than it has files."""
    return 4 * (os.cpu_count() or 1)
