"""A Dask worker that dies while reading a file (killed, out of memory) ends in one line naming
the file and the next step (exit 2), not a traceback: a real LocalCluster whose worker process
exits in the middle of its task."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from inspector.system.errors import InputError

CAPTURES = Path(__file__).resolve().parent.parent / "captures"


def die(path: str, rank: int, keylog_text: str) -> object:
    """The task: the worker process ends at once, as one the kernel's OOM killer picked."""
    os._exit(9)


def test_a_dead_worker_is_one_line_naming_the_file() -> None:
    dask = pytest.importorskip("dask", reason="pip install '.[cluster]'")
    # distributed loaded first: its defaults join dask's config on import, and a config.set
    # made before would, on leaving, remove the whole "distributed" section it did not see —
    # every later --workers run in this process then ended in KeyError 'comm' (internal error)
    pytest.importorskip("dask.distributed", reason="pip install '.[cluster]'")
    from inspector.analysis.cluster import _run
    from parsers.fileset import SetMember

    member = SetMember(CAPTURES / "several.pcap", None, os.path.getsize(CAPTURES / "several.pcap"))
    allowed = dask.config.get("distributed.scheduler.allowed-failures")
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), pytest.raises(InputError) as caught:
        _run([member], die, "", lambda part: None, 1, None)
    assert dask.config.get("distributed.scheduler.allowed-failures") == allowed  # left as found
    assert str(caught.value) == (
        f"{CAPTURES / 'several.pcap'}: the Dask worker reading it died (killed, or out of memory) "
        "and the cluster gave up on the file"
    )
    assert caught.value.hint == "run again; give the workers more memory, or read the set without --workers"
