"""Our LocalCluster's workers run with glibc's malloc as it comes, not as Dask's nanny sets it.

Dask puts MALLOC_TRIM_THRESHOLD_=65536 in its workers' environment; that also pins glibc's mmap
threshold, so each 1 MiB read of a capture became a fresh mmap faulted in page by page (+15 % CPU
per file on bench_many). A real LocalCluster (2 processes over TCP) is asked what its workers see.
"""

from __future__ import annotations

import os

import pytest

pytest.importorskip("dask.distributed")


def _trim_threshold() -> str | None:
    return os.environ.get("MALLOC_TRIM_THRESHOLD_")


def test_dask_would_set_the_trim_threshold() -> None:
    # the premise: without our override, Dask's nanny would set it (so the next test can fail);
    # read from Dask's own defaults file, since a run with --workers changes the live config
    from pathlib import Path

    import distributed
    import yaml

    defaults = yaml.safe_load((Path(distributed.__file__).parent / "distributed.yaml").read_text())
    assert defaults["distributed"]["nanny"]["pre-spawn-environ"]["MALLOC_TRIM_THRESHOLD_"] == 65536


def test_local_workers_keep_glibc_malloc_defaults() -> None:
    from dask.distributed import Client

    from inspector.analysis.cluster import local_cluster

    before = os.environ.get("MALLOC_TRIM_THRESHOLD_")
    with local_cluster(2) as cluster, Client(cluster) as client:
        seen = client.run(_trim_threshold)
    assert len(seen) == 2
    assert set(seen.values()) == {before}
