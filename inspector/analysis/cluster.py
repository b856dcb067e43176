"""The parts of a capture set decoded on a Dask cluster: a local one (--workers N, processes on
this machine) or an existing one (--scheduler tcp://HOST:8786).

Each file is decoded where it lies: a worker opens the path it is given, so every worker must
see the files under the same path (a shared or replicated file system). What comes back is the
file's part (parsers.fileparts.FilePart): counts, one compact record per connection (judged and
rendered there, or its handshake transcript when the judging needs this machine's keystore or
truststore), and the frames of connections cut by the file's start or end — never bulk data.
Dask is an optional extra, imported only here.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import signal
import sys
import threading
import uuid
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from inspector.system.errors import InputError

if TYPE_CHECKING:
    from inspector.analysis.many import PartFn, PartRunner, PartTask
    from parsers.fileparts import FilePart
    from parsers.fileset import SetMember

INSTALL_HINT = "pip install 'mtls-inspector[cluster]'"
#: what Dask's nanny sets in its workers' environment (see LOCAL_CONFIG): costly for our reads
NANNY_MALLOC = "MALLOC_TRIM_THRESHOLD_"
#: our own LocalCluster's workers. forkserver: they start in 1.4 s instead of 2.1 s (spawn) and
#: stop at once. No statistical profiler (it feeds the dashboard, which is off), and the event
#: loop's periodic work once a second instead of every 20-500 ms: a decoding task is pure Python,
#: and each wake-up of the worker's event loop takes the GIL from it; on a busy machine each
#: hand-over waits for a CPU too (measured: 3x the task's CPU time in wall time, 1.1x with this).
#: And glibc's malloc as it comes: Dask's nanny sets MALLOC_TRIM_THRESHOLD_=65536 for its workers,
#: which also fixes glibc's mmap threshold at 128 KiB, so every 1 MiB read of a capture is a fresh
#: mmap, faulted in page by page and unmapped (bench_many: 83,000 page faults and +15 % CPU per
#: file; a worker of an existing cluster started that way pays it too: see docs/scale.md)
LOCAL_CONFIG = {
    "distributed.worker.multiprocessing-method": "forkserver",
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "1s",
    "distributed.worker.memory.monitor-interval": "1s",
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
}
CONNECT_TIMEOUT = "10s"


def dask_runner(workers: int | None, scheduler: str | None, preload: Sequence[str] = ()) -> PartRunner:
    """A PartRunner on Dask; raises InputError (one line) when Dask is not installed. `preload`:
    the modules the task needs, loaded in our LocalCluster's workers before their first task."""
    if not scheduler and importlib.util.find_spec("distributed") is not None:
        _start_forkserver(preload)
    try:
        import dask.distributed  # noqa: F401
    except ImportError:
        raise InputError(
            "--workers and --scheduler need Dask, which is not installed", INSTALL_HINT
        ) from None

    def run(members: list[SetMember], task: PartTask, keylog_text: str, on_part: PartFn) -> list[FilePart]:
        return _run(members, task, keylog_text, on_part, workers, scheduler)

    return run


def _start_forkserver(preload: Sequence[str]) -> None:
    """Start the process our local workers are forked from now, loading Dask and `preload` (the
    decoder, ~0.45 s) on the other core while this one loads Dask and starts the scheduler;
    every worker forked from it begins with all of it loaded (measured: the first task started
    ~0.3 s later, and took 0.45 s more than the others, when each worker loaded it itself).
    `preload` may end with parsers.gcfreeze: the workers' full collections then skip it all."""
    import multiprocessing
    from multiprocessing import forkserver

    if "forkserver" not in multiprocessing.get_all_start_methods():
        return  # Windows: Dask spawns its workers, each loading everything itself
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["distributed", *preload])
    # started ignoring SIGINT, which it keeps (Python installs no handler for an ignored signal):
    # Ctrl-C on the terminal reaches the whole process group, and the forkserver, still importing
    # the preload for a second or so, printed a KeyboardInterrupt traceback under our one line.
    # And without the nanny's malloc setting, which Dask leaves in the environment of a process
    # that started a cluster of its defaults (a notebook, a test run): glibc reads it once, at
    # the forkserver's start, and every worker forked from it would have paid the 15 %
    with _sigint(signal.SIG_IGN), _without_env(NANNY_MALLOC):
        forkserver.ensure_running()


@contextlib.contextmanager
def _without_env(name: str) -> Iterator[None]:
    """`name` out of this process's environment inside the block (for a child started there)."""
    value = os.environ.pop(name, None)
    try:
        yield
    finally:
        if value is not None:
            os.environ[name] = value


@contextlib.contextmanager
def _sigint(handler: Any) -> Iterator[bool]:
    """SIGINT handled by `handler` inside the block, as before after it; yields whether it is
    (signals reach the main thread only: elsewhere nothing changes)."""
    if threading.current_thread() is not threading.main_thread():
        yield False
        return
    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield True
    finally:
        signal.signal(signal.SIGINT, previous)


def local_cluster(workers: int) -> Any:
    """Our own LocalCluster: `workers` processes of one thread each, on 127.0.0.1, no dashboard."""
    import dask
    from dask.distributed import LocalCluster

    dask.config.set(LOCAL_CONFIG)
    _start_forkserver(())  # unless running: dask_runner starts it early, with the decoder loaded
    return LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        # no dashboard, but the scheduler serves a few HTTP routes anyway, on 8787 unless told:
        # where a Dask dashboard already runs (one of ours, or the user's), Dask printed a
        # four-line warning under our report and took the next free port; any free port, here
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
        silence_logs=logging.ERROR,
    )


class _CtrlC:
    """Ctrl-C while Dask runs, made reliable. Dask runs a garbage-collector callback in this
    process, and a KeyboardInterrupt raised while it runs is printed and dropped: the run went
    on to its end and exited 1 (seen once in a few dozen tries). So the interrupt is also noted,
    and `check` raises it again at the next step. While a cluster starts or a client connects,
    it is only noted: interrupted half-way, the cluster could not be stopped, and Dask's exit
    handler printed two tracebacks under our one line trying to (Ctrl-C 0.5-0.7 s after the start)."""

    def __init__(self) -> None:
        self.noted = threading.Event()
        self.deferred = False
        self.previous_hook = sys.unraisablehook

    def __call__(self, _signum: int, _frame: object) -> None:
        self.noted.set()
        if not self.deferred:
            raise KeyboardInterrupt

    def check(self) -> None:
        if self.noted.is_set():
            raise KeyboardInterrupt

    def unraisable(self, report: Any) -> None:
        """sys.unraisablehook: an interrupt dropped in a callback is noted (and raised again by
        `check`), not printed as a traceback; anything else as before."""
        if isinstance(report.exc_value, KeyboardInterrupt):
            self.noted.set()
            return
        self.previous_hook(report)

    @contextlib.contextmanager
    def installed(self) -> Iterator[_CtrlC]:
        with _sigint(self) as catching:
            if not catching:
                yield self
                return
            self.previous_hook = sys.unraisablehook
            sys.unraisablehook = self.unraisable
            try:
                yield self
            finally:
                sys.unraisablehook = self.previous_hook


def _connect(workers: int | None, scheduler: str | None, ctrl_c: _CtrlC) -> tuple[Any, Any]:
    """A client, and the LocalCluster when we start one (else None); Ctrl-C meanwhile is noted."""
    from dask.distributed import Client

    cluster: Any = None
    ctrl_c.deferred = True
    try:
        if scheduler:
            return Client(scheduler, timeout=CONNECT_TIMEOUT), None
        cluster = local_cluster(workers or 1)
        client = Client(cluster)
        # the scheduler, here, times every garbage collection of this process in a callback (for
        # log lines we silence): one Python call per collection, and where Ctrl-C was dropped
        from distributed.gc import disable_gc_diagnosis

        disable_gc_diagnosis(force=True)
        return client, cluster
    except (OSError, TimeoutError) as exc:
        if cluster is not None:
            cluster.close()
        where = f"--scheduler {scheduler}" if scheduler else f"--workers {workers}"
        raise InputError(f"{where}: cannot reach the Dask cluster ({exc})", "check the address") from None
    finally:
        ctrl_c.deferred = False


def worker_malloc_setting() -> str | None:
    """Run on a worker: its glibc malloc setting inherited from Dask's nanny, if any."""
    return os.environ.get(NANNY_MALLOC)


def _warn_of_nanny_malloc(client: Any, scheduler: str) -> None:
    """One line on stderr when an existing cluster's workers run with the nanny's malloc setting:
    they decode ~15 % slower (docs/scale.md says how to start them without it). Our own
    LocalCluster's never do (LOCAL_CONFIG)."""
    from parsers.printable import escape_text

    settings = client.run(worker_malloc_setting, on_error="return")
    slow = [value for value in settings.values() if isinstance(value, str)]
    if slow:
        print(
            escape_text(
                f"warning: --scheduler {scheduler}: {len(slow)} of {len(settings)} Dask workers run "
                f"with {NANNY_MALLOC}={slow[0]} (the Dask nanny's default), which makes each capture "
                "read there ~15 % slower; docs/scale.md says how to start them without it"
            ),
            file=sys.stderr,
        )


def _run(
    members: list[SetMember],
    task: PartTask,
    keylog_text: str,
    on_part: PartFn,
    workers: int | None,
    scheduler: str | None,
) -> list[FilePart]:
    from dask.distributed import as_completed
    from distributed.scheduler import KilledWorker

    logging.getLogger("distributed").setLevel(logging.ERROR)
    with _CtrlC().installed() as ctrl_c:
        client, cluster = _connect(workers, scheduler, ctrl_c)
        run = uuid.uuid4().hex[:8]
        try:
            ctrl_c.check()  # Ctrl-C while the cluster started: now it can be stopped
            if scheduler:
                _warn_of_nanny_malloc(client, scheduler)
            text: Any = client.scatter(keylog_text, broadcast=True) if keylog_text else ""
            futures = [
                client.submit(task, str(m.path), rank, text, key=f"mtls-part-{run}-{rank}", pure=False)
                for rank, m in enumerate(members)
            ]
            parts: list[FilePart | None] = [None] * len(members)
            # while the workers decode, load the TLS decoder the merge needs for the connections
            # cut by a rotation: after the last part it would be ~0.2 s on the critical path
            import parsers.scapy_tls  # noqa: F401

            for future in as_completed(futures):
                try:
                    part: FilePart = future.result()
                except KilledWorker:
                    path = members[futures.index(future)].path
                    raise InputError(
                        f"{path}: the Dask worker reading it died (killed, or out of memory) and the "
                        "cluster gave up on the file",
                        "run again; give the workers more memory, or read the set without --workers",
                    ) from None
                except (OSError, TimeoutError) as exc:  # the scheduler went away mid-run
                    where = f"--scheduler {scheduler}" if scheduler else f"--workers {workers}"
                    raise InputError(
                        f"{where}: lost the Dask cluster ({exc})", "check it, run again"
                    ) from None
                future.release()
                parts[part.rank] = part
                on_part(part)
                ctrl_c.check()
            ctrl_c.check()
            return [p for p in parts if p is not None]
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
