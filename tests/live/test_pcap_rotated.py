"""A real `tcpdump -C` rotation of live mutual-TLS handshakes on 127.0.0.1, read as one capture:
serially, on a Dask LocalCluster of 2 worker processes over TCP, and through --scheduler.

Two tcpdumps watch the same traffic: one rotates every 1 MB (`-C 1 -W 9`: mtls.pcap0 …), one
writes a single file. Clients with the right certificate, none, or a stranger's fetch a 600 KB
file over TLS 1.2 and 1.3 from `openssl s_server -WWW -Verify`, so the bulk data pushes the
rotation through the middle of connections. The rotated set must read as the single file reads,
connection for connection (only frame numbers, which count per file, differ), and the
distributed runs must give the serial run's JSON, byte for byte.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CliResult
from tests.live.conftest import PW, Files
from tests.servers import free_port

pytestmark = pytest.mark.skipif(
    shutil.which("tcpdump") is None or os.geteuid() != 0, reason="needs tcpdump and root to capture"
)

CONNECTIONS = 12
BULK = 600_000


@dataclass
class Rotated:
    pattern: str  # the quoted glob of the rotated set
    files: list[Path]
    whole: Path
    keylog: Path


def _tcpdump(port: int, *output: str) -> subprocess.Popen[str]:
    dump = subprocess.Popen(
        ["tcpdump", "-i", "lo", "-s", "0", "-U", "-Z", "root", *output, f"tcp port {port}"],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert dump.stderr is not None
    line = dump.stderr.readline()
    assert "listening on" in line, line
    return dump


def _client(files: Files, port: int, n: int, keylog: Path) -> None:
    """TLS 1.3 on even n, 1.2 on odd; the certificate refused (1.2: visible without keys) on
    n % 6 == 1 (none) and 3 (a stranger's)."""
    kind = ("good", "none", "good", "stranger", "good", "good")[n % 6]
    ctx = ssl.create_default_context(cafile=str(files / "acme-root.pem"))
    ctx.check_hostname = False
    ctx.keylog_filename = str(keylog)
    if n % 2:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    pki = files.acme if kind == "good" else files.stranger
    if kind != "none":
        cert, key = files / f"{kind}-client.pem", files / f"{kind}-client.key"
        cert.write_bytes(pki.leaf.pem + pki.intermediate.pem)
        key.write_bytes(pki.leaf.key_pem)
        ctx.load_cert_chain(cert, key)
    try:
        with (
            socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
            ctx.wrap_socket(raw, server_hostname="localhost") as conn,
        ):
            conn.sendall(b"GET /bulk HTTP/1.0\r\n\r\n")
            while conn.recv(1 << 16):
                pass
    except (ssl.SSLError, OSError):
        pass  # the server refused the certificate: that is in the capture


@pytest.fixture(scope="module")
def rotated(files: Files, tmp_path_factory: pytest.TempPathFactory) -> Rotated:
    d = tmp_path_factory.mktemp("rotated")
    www = d / "www"
    www.mkdir()
    (www / "bulk").write_bytes(os.urandom(BULK))
    port = free_port()
    command = ["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-WWW", "-quiet", "-Verify", "3"]
    command += ["-cert", str(files / "server.pem"), "-cert_chain", str(files / "server.pem")]
    command += ["-key", str(files / "server.key"), "-verify_return_error"]
    command += ["-CAfile", str(files / "acme-root.pem")]
    server = subprocess.Popen(
        command,
        cwd=www,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    dumps: list[subprocess.Popen[str]] = []
    try:
        from tests.servers import wait_port

        wait_port(port)
        time.sleep(0.3)  # the probe's own connection, before the captures start
        dumps = [
            _tcpdump(port, "-C", "1", "-W", "9", "-w", str(d / "mtls.pcap")),
            _tcpdump(port, "-w", str(d / "whole.pcap")),
        ]
        time.sleep(0.5)
        for n in range(CONNECTIONS):
            _client(files, port, n, d / "keys.log")
        time.sleep(0.5)
    finally:
        for dump in dumps:
            dump.send_signal(signal.SIGINT)
            dump.wait(timeout=20)
        server.kill()
        server.wait(timeout=5)
    names = sorted(p.name for p in d.glob("mtls.pcap*"))
    return Rotated(str(d / "mtls.pcap*"), [d / n for n in names], d / "whole.pcap", d / "keys.log")


#: frame numbers count per file in a set; each tcpdump's socket stamps its own copy of a packet
#: (a microsecond apart at times): everything else must be equal
PER_CAPTURE = ("frame", "files", "time", "start_time")


def _comparable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items() if k not in PER_CAPTURE}
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    return value


def _seconds(iso: str) -> float:
    import datetime as dt

    return dt.datetime.fromisoformat(iso).timestamp()


def test_a_rotated_set_reads_as_the_single_file_does(rotated: Rotated, cli: Callable[..., CliResult]) -> None:
    assert len(rotated.files) >= 3, rotated.files  # the rotation really cut the traffic
    as_set = cli("pcap", rotated.pattern, "--json", "--keylog", str(rotated.keylog))
    whole = cli("pcap", str(rotated.whole), "--json", "--keylog", str(rotated.keylog))
    assert (as_set.status, whole.status) == (1, 1), as_set.err + whole.err
    got, want = as_set.json(), whole.json()
    assert [f["path"] for f in got["capture"]["files"]] == [str(p) for p in rotated.files]
    for key in ("packets", "tcp_connections", "tls_connections", "non_tls_connections"):
        assert got["capture"][key] == want["capture"][key], key
    assert got["capture"]["tls_connections"] == CONNECTIONS
    assert len(got["connections"]) == len(want["connections"]) == CONNECTIONS
    for mine, theirs in zip(got["connections"], want["connections"], strict=True):
        assert _comparable(mine) == _comparable(theirs), mine["index"]
        assert abs(_seconds(mine["start_time"]) - _seconds(theirs["start_time"])) < 0.001
    spanning = [c for c in got["connections"] if len(c["files"]) == 2]
    assert spanning, "no connection crossed a rotation: the test proves nothing"
    assert all(not any(p["kind"] == "mid-stream" for p in c["problems"]) for c in got["connections"])
    outcomes = [c["outcome"] for c in got["connections"]]
    assert outcomes.count("completed") == 8, outcomes
    assert {c["client_cert"] for c in got["connections"]} >= {"empty", "CN=stranger"}
    assert all(c["decrypted"] for c in got["connections"] if c["version"] == "TLS 1.3")
    # the text report names each connection's file(s)
    text = cli("pcap", rotated.pattern)
    first = spanning[0]
    names = " … ".join(Path(f).name for f in first["files"])
    row = next(line for line in text.out.splitlines() if line.startswith(f"{first['index']} "))
    assert row.rstrip().endswith(names), row


def test_a_local_cluster_of_two_processes_gives_the_serial_report(
    rotated: Rotated, cli: Callable[..., CliResult], files: Files, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real LocalCluster (scheduler and 2 worker processes over TCP), used through --scheduler
    as an existing cluster is; and --workers 2, which starts its own."""
    LocalCluster = pytest.importorskip("dask.distributed", reason="pip install '.[cluster]'").LocalCluster
    import dask

    keys = ("--keylog", str(rotated.keylog))
    serial = cli("pcap", rotated.pattern, "--json", *keys)
    # workers as Dask starts them by default (a --workers run earlier in this process changed
    # the default): the nanny gives them its malloc setting, and we say what it costs
    nanny_default = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": 65536}
    with (
        dask.config.set(nanny_default),
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        ) as cluster,
    ):
        address = cluster.scheduler_address
        assert address.startswith("tcp://127.0.0.1:")
        distributed = cli("pcap", rotated.pattern, "--json", "--scheduler", address, *keys)
        assert distributed.status == serial.status == 1, distributed.err
        assert distributed.out == serial.out
        assert distributed.err == (
            f"warning: --scheduler {address}: 2 of 2 Dask workers run with MALLOC_TRIM_THRESHOLD_=65536 "
            "(the Dask nanny's default), which makes each capture read there ~15 % slower; "
            "docs/scale.md says how to start them without it\n"
        )
        # with a keystore, the transcripts come back and are judged here: the same report
        store = ("--keystore", str(files / "good.jks"), "--storepass-env", "MTLS_TEST_STOREPASS")
        monkeypatch.setenv("MTLS_TEST_STOREPASS", PW)
        with_store = cli("pcap", rotated.pattern, "--json", *keys, *store)
        assert (
            cli("pcap", rotated.pattern, "--json", "--scheduler", address, *keys, *store).out
            == with_store.out
        )
        assert any("selection" in c for c in with_store.json()["connections"])
        # the files really were decoded in the two worker processes, not here
        from inspector.analysis.cluster import dask_runner
        from parsers.fileparts import decode_part
        from parsers.fileset import open_set

        members = list(open_set([rotated.pattern]).members)
        parts = dask_runner(None, address)(members, decode_part, "", lambda part: None)
        readers = {part.decoded_by for part in parts}
        assert len(readers) == 2 and f"{socket.gethostname()}:{os.getpid()}" not in readers, readers
        assert [part.rank for part in parts] == list(range(len(members)))
    # Dask's nanny left its setting in this process's environment: not for the tests after this
    if os.environ.pop("MALLOC_TRIM_THRESHOLD_", None) != "65536":
        raise AssertionError("Dask's nanny no longer sets MALLOC_TRIM_THRESHOLD_ in its parent")
    started = cli("pcap", rotated.pattern, "--json", "--workers", "2", *keys)
    assert started.out == serial.out, started.err
    lines = cli("pcap", rotated.pattern, "--jsonl", "--workers", "2", *keys).out.splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["record"] for r in records[: CONNECTIONS + 1]] == ["capture"] + ["connection"] * CONNECTIONS
    assert [r["index"] for r in records[1 : CONNECTIONS + 1]] == list(range(1, CONNECTIONS + 1))
    assert records[1]["files"] == serial.json()["connections"][0]["files"]
