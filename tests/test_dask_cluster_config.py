"""Our LocalCluster's workers run with glibc's malloc as it comes, not as Dask's nanny sets it.

Dask puts MALLOC_TRIM_THRESHOLD_=65536 in its workers' environment; that also pins glibc's mmap
threshold, so each 1 MiB read of a capture became a fresh mmap faulted in page by page (+15 % CPU
per file on bench_many). A real LocalCluster (2 processes over TCP) is asked what its workers see.
"""

from __future__ import annotations

import os
from pathlib import Path

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


TRIM_CHECK = """
import json, sys
from dask.distributed import Client
from inspector.analysis.cluster import local_cluster
sys.path.insert(0, sys.argv[1])
from test_dask_cluster_config import _trim_threshold
with local_cluster(2) as cluster, Client(cluster) as client:
    print(json.dumps(sorted(map(str, client.run(_trim_threshold).values()))))
"""


def test_local_workers_keep_glibc_malloc_defaults() -> None:
    """Even in a process that has the setting: Dask's nanny leaves it in the environment of any
    process that started a cluster of its defaults (a notebook, this test run)."""
    import json
    import subprocess
    import sys

    run = subprocess.run(
        [sys.executable, "-c", TRIM_CHECK, str(Path(__file__).resolve().parent)],
        capture_output=True,
        text=True,
        env={**os.environ, "MALLOC_TRIM_THRESHOLD_": "65536"},
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert json.loads(run.stdout.strip().splitlines()[-1]) == ["None", "None"]


def test_our_workers_draw_no_malloc_warning(capsys: pytest.CaptureFixture[str]) -> None:
    # the warning --scheduler gives for workers started by Dask's defaults (tests/live/
    # test_pcap_rotated.py sees it) is not given for workers started as ours are
    from dask.distributed import Client

    from inspector.analysis.cluster import _warn_of_nanny_malloc, local_cluster

    with local_cluster(2) as cluster, Client(cluster) as client:
        _warn_of_nanny_malloc(client, cluster.scheduler_address)
        assert len(client.run(_trim_threshold)) == 2
    assert capsys.readouterr().err == ""


def _loaded() -> tuple[bool, int]:
    import gc
    import sys

    return (
        "parsers.scapy_tls" in sys.modules and "inspector.render.pcap" in sys.modules,
        gc.get_freeze_count(),
    )


PRELOAD_CHECK = """
import json, sys
from dask.distributed import Client
from inspector.analysis.cluster import dask_runner, local_cluster
from inspector.analysis.capture_set import WORKER_PRELOAD
sys.path.insert(0, sys.argv[1])
from test_dask_cluster_config import _loaded
dask_runner(2, None, WORKER_PRELOAD)  # starts the forkserver, loading WORKER_PRELOAD
with local_cluster(2) as cluster, Client(cluster) as client:
    print(json.dumps(sorted(client.run(_loaded).values())))
"""


def test_local_workers_start_with_the_decoder_loaded_and_frozen() -> None:
    # a fresh interpreter: the forkserver is started once per process, with the first preload
    import json
    import subprocess
    import sys
    from pathlib import Path

    here = str(Path(__file__).resolve().parent)
    run = subprocess.run(
        [sys.executable, "-c", PRELOAD_CHECK, here], capture_output=True, text=True, timeout=120, check=False
    )
    assert run.returncode == 0, run.stderr[-2000:]
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert len(seen) == 2
    for loaded, frozen in seen:
        assert loaded is True
        assert frozen > 10_000  # Dask and the decoder: ~100,000 objects


def test_a_dashboard_already_on_8787_changes_nothing_on_stderr(tmp_path: Path) -> None:
    """Dask users often have a dashboard on 8787; our scheduler's HTTP routes took the next port
    with a four-line UserWarning under the report. Now: any free port, nothing said."""
    import errno
    import socket
    import subprocess
    import sys

    from tests.helpers.capture_sets import build_set

    build_set(tmp_path / "set", [3, 3], {0})
    with socket.socket() as taken:
        try:
            taken.bind(("127.0.0.1", 8787))
            taken.listen()
        except OSError as exc:  # already taken: the case itself
            assert exc.errno == errno.EADDRINUSE
        run = subprocess.run(
            [sys.executable, "-m", "inspector", "pcap", str(tmp_path / "set"), "--workers", "2"],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
            timeout=120,
            check=False,
        )
    assert (run.returncode, run.stderr) == (0, "")
    assert run.stdout.startswith("Capture set of 2 file(s)")
