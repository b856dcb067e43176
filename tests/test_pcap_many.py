"""`pcap A B C…`, a directory, a quoted glob, a rotated set: several files read as one capture.

The sets are real captures (captures/*.pcap, made by real handshakes) cut into files every few
packets, as `tcpdump -C` cuts them; tests/live/test_pcap_rotated.py does it with tcpdump itself.
"""

from __future__ import annotations

import json
import os
import re
import struct
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from parsers.fileset import natural_key, open_set
from tests.conftest import CliResult

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "captures" / "several.pcap"


def split(capture: Path, every: int, names: Callable[[int], Path]) -> list[Path]:
    """Cut a little-endian pcap into files of `every` packets, as a rotation would."""
    data = capture.read_bytes()
    head, pos, count, written = data[:24], 24, 0, []
    out = None
    while pos + 16 <= len(data):
        size = 16 + struct.unpack_from("<I", data, pos + 8)[0]
        if count % every == 0:
            if out is not None:
                out.close()
            written.append(names(len(written)))
            out = written[-1].open("wb")
            out.write(head)
        assert out is not None
        out.write(data[pos : pos + size])
        pos += size
        count += 1
    if out is not None:
        out.close()
    return written


@pytest.fixture
def rotated(tmp_path: Path) -> list[Path]:
    """several.pcap (4 TLS connections, 53 packets) as mtls.pcap0 … mtls.pcap10."""
    d = tmp_path / "set"
    d.mkdir()
    files = split(SAMPLE, 5, lambda n: d / f"mtls.pcap{n}")
    assert len(files) == 11
    return files


PER_FILE = ("frame", "files")


def comparable(value: Any) -> Any:
    """Frame numbers count per file in a set, and a set says which files: the rest is equal."""
    if isinstance(value, dict):
        return {k: comparable(v) for k, v in value.items() if k not in PER_FILE}
    if isinstance(value, list):
        return [comparable(v) for v in value]
    if isinstance(value, str):  # "CertificateRequest from server at 0.001 s, frame 23"
        return re.sub(r"frame \d+", "frame N", value)
    return value


def test_a_directory_a_glob_and_a_list_read_as_the_whole_file(
    rotated: list[Path], cli: Callable[..., CliResult]
) -> None:
    whole = cli("pcap", str(SAMPLE), "--json").json()
    d = rotated[0].parent
    shuffled = [str(p) for p in reversed(rotated)]
    runs = [
        cli("pcap", str(d), "--json"),
        cli("pcap", str(d / "mtls.pcap*"), "--json"),
        cli("pcap", *shuffled, "--json"),
    ]
    assert [r.status for r in runs] == [1, 1, 1]
    assert runs[0].out == runs[1].out == runs[2].out
    got = runs[0].json()
    # time order, which here is natural name order too: mtls.pcap2 before mtls.pcap10
    assert [Path(f["path"]).name for f in got["capture"]["files"]] == [f"mtls.pcap{n}" for n in range(11)]
    assert [f["packets"] for f in got["capture"]["files"]] == [5] * 10 + [3]
    assert got["capture"]["packets"] == 53
    assert got["capture"]["tls_connections"] == whole["capture"]["tls_connections"] == 4
    assert comparable(got["connections"]) == comparable(whole["connections"])
    assert comparable(got["findings"]) != [] and len(got["findings"]) == len(whole["findings"])
    assert [c["files"] for c in got["connections"]] == [
        [str(d / "mtls.pcap0"), str(d / "mtls.pcap3")],
        [str(d / "mtls.pcap3"), str(d / "mtls.pcap5")],
        [str(d / "mtls.pcap5"), str(d / "mtls.pcap7")],
        [str(d / "mtls.pcap8"), str(d / "mtls.pcap10")],
    ]
    # each frame number counts from 1 in its own file (as Wireshark shows that file)
    frames = [e["frame"] for e in got["connections"][0]["events"]]
    assert max(frames) <= 5 and frames != sorted(frames)


def test_a_ring_buffer_that_wrapped_reads_in_time_order(
    tmp_path: Path, cli: Callable[..., CliResult]
) -> None:
    """tcpdump -W 6 wrapped: mtls.pcap0 … 2 hold the newest packets, mtls.pcap3 … 5 the oldest."""
    d = tmp_path / "ring"
    d.mkdir()
    files = split(SAMPLE, 9, lambda n: d / f"mtls.pcap{(n + 3) % 6}")
    assert [p.name for p in files] == [
        "mtls.pcap3",
        "mtls.pcap4",
        "mtls.pcap5",
        "mtls.pcap0",
        "mtls.pcap1",
        "mtls.pcap2",
    ]
    got = cli("pcap", str(d), "--json").json()
    assert [Path(f["path"]).name for f in got["capture"]["files"]] == [p.name for p in files]
    whole = cli("pcap", str(SAMPLE), "--json").json()
    assert comparable(got["connections"]) == comparable(whole["connections"])


def test_files_without_packets_go_last_in_natural_name_order(tmp_path: Path) -> None:
    header = SAMPLE.read_bytes()[:24]
    for name in ("x10.pcap", "x2.pcap"):
        (tmp_path / name).write_bytes(header)
    (tmp_path / "x1.pcap").write_bytes(SAMPLE.read_bytes())
    members = open_set([str(tmp_path)]).members
    assert [m.path.name for m in members] == ["x1.pcap", "x2.pcap", "x10.pcap"]
    assert [m.first_time is None for m in members] == [False, True, True]
    assert sorted(["a.pcap10", "a.pcap9", "a.pcap1"], key=lambda s: natural_key(Path(s))) == [
        "a.pcap1",
        "a.pcap9",
        "a.pcap10",
    ]


def test_text_report_names_each_connections_files(rotated: list[Path], cli: Callable[..., CliResult]) -> None:
    done = cli("pcap", str(rotated[0].parent))
    assert done.status == 1
    lines = done.out.splitlines()
    assert (
        lines[0].startswith("Capture set of 11 file(s) (") and "53 packets, 4 TLS connection(s)" in lines[0]
    )
    assert lines[1].split()[-1] == "file"
    rows = [line for line in lines[3:7]]
    assert [" ".join(r.split()[-3:]) for r in rows] == [
        "mtls.pcap0 … mtls.pcap3",
        "mtls.pcap3 … mtls.pcap5",
        "mtls.pcap5 … mtls.pcap7",
        "mtls.pcap8 … mtls.pcap10",
    ]


def test_jsonl_is_one_object_a_line(rotated: list[Path], cli: Callable[..., CliResult]) -> None:
    done = cli("pcap", str(rotated[0].parent), "--jsonl")
    assert done.status == 1
    records = [json.loads(line) for line in done.out.splitlines()]
    assert [r["record"] for r in records] == [
        "capture",
        "connection",
        "connection",
        "connection",
        "connection",
    ]
    assert records[0]["schema"] == "mtls-inspector/pcap-lines"
    assert records[0]["capture"]["tls_connections"] == 4
    assert records[0]["summary"]["error"] == 4
    assert [r["index"] for r in records[1:]] == [1, 2, 3, 4]
    assert [f["code"] for f in records[2]["findings"]] == records[2]["finding_codes"]
    assert records[4]["files"] == [str(rotated[8]), str(rotated[10])]


def test_html_names_the_files(rotated: list[Path], cli: Callable[..., CliResult], tmp_path: Path) -> None:
    page = tmp_path / "set.html"
    done = cli("pcap", str(rotated[0].parent), "--html", str(page))
    assert done.status == 1, done.err
    assert f"· in {rotated[3]} … {rotated[5]}" in page.read_text()


def test_a_non_capture_in_a_directory_is_skipped_and_named(
    rotated: list[Path], cli: Callable[..., CliResult]
) -> None:
    notes = rotated[0].parent / "notes.txt"
    notes.write_text("captured on the gateway\n")
    text = cli("pcap", str(rotated[0].parent))
    assert text.status == 1
    assert text.out.splitlines()[1] == (
        f"Skipped, not captures: {notes} (not a pcap or pcapng file (starts with 63 61 70 74))"
    )
    files = cli("pcap", str(rotated[0].parent), "--json").json()["capture"]["files"]
    assert files[-1] == {"path": str(notes), "skipped": "not a pcap or pcapng file (starts with 63 61 70 74)"}
    assert len(files) == 12


def test_entries_that_are_not_files_are_skipped_and_named(
    rotated: list[Path], cli: Callable[..., CliResult]
) -> None:
    """A FIFO, a link to a device, a broken link in the directory: each listed with what it is
    (they were dropped unsaid), none read (a FIFO or /dev/zero would never end)."""
    folder = rotated[0].parent
    os.mkfifo(folder / "fifo.pcap")
    (folder / "zero.pcap").symlink_to("/dev/zero")
    (folder / "gone.pcap").symlink_to(folder / "nowhere.pcap")
    text = cli("pcap", str(folder))
    assert text.status == 1, text.err
    assert text.out.splitlines()[1] == (
        f"Skipped, not captures: {folder / 'fifo.pcap'} (a FIFO, not a regular file), "
        f"{folder / 'gone.pcap'} (a broken symbolic link), {folder / 'zero.pcap'} (a device, not a file)"
    )
    files = cli("pcap", str(folder), "--json").json()["capture"]["files"]
    assert [f.get("skipped") for f in files[-3:]] == [
        "a FIFO, not a regular file",
        "a broken symbolic link",
        "a device, not a file",
    ]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: [str(d / "mtls.pcap0"), str(d / "gone.pcap")], "{d}/gone.pcap: no such file"),
        (lambda d: [str(d / "mtls.pcap0"), str(d / "notes.txt")], "{d}/notes.txt: not a pcap or pcapng file"),
        (lambda d: [str(d / "nothing*.pcap")], "{d}/nothing*.pcap: no file matches this pattern"),
        (lambda d: [str(d / "mtls.pcap0"), str(d / "empty")], "{d}/empty: the file is empty"),
    ],
)
def test_a_named_file_that_cannot_be_read_is_one_line_and_exit_2(
    rotated: list[Path], cli: Callable[..., CliResult], make: Callable[[Path], list[str]], message: str
) -> None:
    d = rotated[0].parent
    (d / "notes.txt").write_text("not a capture")
    (d / "empty").write_bytes(b"")
    done = cli("pcap", *make(d), "--json")
    assert done.status == 2
    assert done.out == ""
    assert done.err.count("\n") == 1
    assert done.err.startswith("mtls-inspect: error: " + message.format(d=d)), done.err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], "--workers starts a local cluster"),
        (["--workers", "0"], "--workers 0: needs at least 1"),
        (["--json", "--jsonl"], "--json and --jsonl are two forms"),
    ],
)
def test_set_options_that_contradict_are_one_line(
    rotated: list[Path], cli: Callable[..., CliResult], args: list[str], message: str
) -> None:
    done = cli("pcap", str(rotated[0].parent), *args)
    assert (done.status, done.out, done.err.count("\n")) == (2, "", 1)
    assert message in done.err


def test_a_truncated_file_of_the_set_is_a_finding_naming_it(
    rotated: list[Path], cli: Callable[..., CliResult]
) -> None:
    cut = rotated[10]
    cut.write_bytes(cut.read_bytes()[:-7])
    got = cli("pcap", str(rotated[0].parent), "--json").json()
    incomplete = [f for f in got["findings"] if f["code"] == "capture-incomplete"]
    assert len(incomplete) == 1
    assert incomplete[0]["summary"].startswith("mtls.pcap10: file ends inside packet 3")


def test_past_the_cap_a_joined_connection_says_so(
    rotated: list[Path], cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    import parsers.fileparts

    monkeypatch.setattr(parsers.fileparts, "SHIP_CAP", 3000)
    got = cli("pcap", str(rotated[0].parent), "--json").json()
    limited = [c["index"] for c in got["connections"] if any(p["kind"] == "limit" for p in c["problems"])]
    assert limited == [1, 4]  # their server flights (certificate chains) pass 3000 bytes in a file
    monkeypatch.undo()
    got = cli("pcap", str(rotated[0].parent), "--json").json()
    assert not [c for c in got["connections"] if any(p["kind"] == "limit" for p in c["problems"])]


def _run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=60, env=env, cwd=ROOT, check=False
    )


def test_without_dask_workers_say_how_to_install_it(rotated: list[Path], tmp_path: Path) -> None:
    """A `dask` that cannot be imported, first on the path: the error names the extra."""
    fake = tmp_path / "nodask" / "dask"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('No module named dask')\n")
    env = {**os.environ, "PYTHONPATH": f"{fake.parent}{os.pathsep}{ROOT}"}
    done = _run(["-m", "inspector", "pcap", str(rotated[0].parent), "--workers", "2"], env)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == (
        "mtls-inspect: error: --workers and --scheduler need Dask, which is not installed"
        " — pip install 'mtls-inspector[cluster]'\n"
    )


def test_dask_is_imported_only_for_a_cluster(rotated: list[Path]) -> None:
    probe = (
        "import sys, contextlib, io\n"
        "from inspector.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    main(sys.argv[1:])\n"
        "print(sorted(m for m in ('dask', 'distributed', 'scapy') if m in sys.modules))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    help_run = _run(["-c", probe, "pcap", "--help"], env)
    assert help_run.stdout.splitlines()[-1] == "[]"
    serial = _run(["-c", probe, "pcap", str(rotated[0].parent)], env)
    assert serial.stdout.splitlines()[-1] == "['scapy']", serial.stderr


def test_with_a_keystore_connections_are_judged_after_the_merge(
    rotated: list[Path], cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The keystore is this machine's file: the set's transcripts come back and are judged here,
    with Java's choice, as the single file's are."""
    monkeypatch.setenv("STOREPASS", "changeit")
    store = ["--keystore", str(ROOT / "captures" / "letstestcba.jks"), "--storepass-env", "STOREPASS"]
    got = cli("pcap", str(rotated[0].parent), "--json", *store)
    whole = cli("pcap", str(SAMPLE), "--json", *store)
    assert (got.status, whole.status) == (1, 1), got.err
    assert sum("selection" in c for c in got.json()["connections"]) == 3
    assert comparable(got.json()["connections"]) == comparable(whole.json()["connections"])
    assert got.json()["summary"] == whole.json()["summary"]


def test_host_port_and_connection_select_within_the_set(
    rotated: list[Path], cli: Callable[..., CliResult]
) -> None:
    d = str(rotated[0].parent)
    by_port = cli("pcap", d, "--port", "44303", "--json").json()
    assert [c["index"] for c in by_port["connections"]] == [3]
    one = cli("pcap", d, "--connection", "4")
    assert one.status == 1
    assert "── connection #4: 127.0.0.1:52594 → 127.0.0.1:44304 (localhost) ──" in one.out
    assert "--> " + str(rotated[8]) + ", connection #4" in one.out
    assert "connection #7000000000004" not in one.out  # the stand-in number never shows
    missing = cli("pcap", d, "--connection", "9")
    assert (missing.status, missing.err.count("\n")) == (2, 1)
    assert "no TLS connection #9" in missing.err and "connections here: 1..4" in missing.err


def test_a_scheduler_nobody_listens_on_is_one_line(
    rotated: list[Path], cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("dask.distributed", reason="pip install '.[cluster]'")
    import inspector.analysis.cluster

    monkeypatch.setattr(inspector.analysis.cluster, "CONNECT_TIMEOUT", "1s")
    from tests.servers import free_port

    address = f"tcp://127.0.0.1:{free_port()}"
    done = cli("pcap", str(rotated[0].parent), "--scheduler", address)
    assert (done.status, done.out, done.err.count("\n")) == (2, "", 1)
    assert done.err.startswith(f"mtls-inspect: error: --scheduler {address}: cannot reach the Dask cluster")
    assert done.err.endswith("— check the address\n")


def test_a_cut_connection_known_as_tls_only_when_it_ends_is_joined(
    tmp_path: Path, cli: Callable[..., CliResult]
) -> None:
    """Found by fuzzing a set: a connection whose first TLS bytes are held after a gap (its
    ClientHello lost, a later flight out of order) is known to be TLS only when it is finished.
    Cut by a rotation, it came out twice (a whole one and a joined one), or as an internal
    error; it must come out once, as from the single file."""
    from parsers.pcapfile import CaptureFile, PcapWriter

    frames = list(CaptureFile(ROOT / "captures" / "tls12-success.pcap").frames())
    first, second = [0, 1, 2, 7], [12, 13, 14, 15, 16]  # the SYNs and a later flight; the end
    files = {"cut.pcap0": first, "cut.pcap1": second, "one.pcap": first + second}
    for name, picked in files.items():
        with (tmp_path / name).open("wb") as handle:
            writer = PcapWriter(handle)
            for i in picked:
                writer.write(frames[i].time, frames[i].data)
    one = cli("pcap", str(tmp_path / "one.pcap"), "--json")
    cut = cli("pcap", str(tmp_path / "cut.pcap0"), str(tmp_path / "cut.pcap1"), "--json")
    # 0: a warning (capture-incomplete) only; no connection-reset (no hello was
    # captured, and the client's last record is an alert)
    assert (cut.status, one.status) == (0, 0), cut.err
    assert cut.json()["capture"]["tls_connections"] == one.json()["capture"]["tls_connections"] == 1
    assert comparable(cut.json()["connections"]) == comparable(one.json()["connections"])
