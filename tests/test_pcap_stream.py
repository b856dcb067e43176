"""`mtls-inspect pcap -` and `--follow`: real captures fed through a pipe (or a growing file) at the
pace the test chooses; a connection's line must come out while the input is still open."""

from __future__ import annotations

import gzip
import json
import os
import pty
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.pcap_stream_helpers import CAPTURES, ROOT, StreamRun, pcap_records

SEVERAL = CAPTURES / "several.pcap"
#: several.pcap: connection 1 is records 0-16 (its FINs are 14 and 15), connection 2 starts at 17
FIRST_END = 17
LINE_2 = (
    "#2  03:30:18  127.0.0.1:59010 → 127.0.0.1:44302  localhost  TLS 1.2  cert requested: yes  "
    "sent: empty  handshake_failure from server  error[client-cert-not-sent] (+1 more)"
)


def run_stream(*args: str, data: bytes) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "inspector", "pcap", *args],
        input=data,
        capture_output=True,
        cwd=ROOT,
        timeout=60,
    )
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode(), done.stderr.decode())


def json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines()]


def test_lines_and_summary_say_what_the_file_report_says() -> None:
    streamed = run_stream("-", data=SEVERAL.read_bytes())
    lines = streamed.stdout.splitlines()
    assert streamed.returncode == 1, streamed.stderr
    assert streamed.stderr == ""
    assert [line.split()[0] for line in lines[:4]] == ["#1", "#2", "#3", "#4"]
    assert lines[0].endswith("sent: CN=letstestcba  completed  ok")
    assert lines[1] == LINE_2
    assert lines[3].endswith("unknown_ca from server  error[server-rejected-client-cert] (+1 more)")
    assert lines[4:] == [
        "",
        "stdin: pcap, 53 packets, 4 TLS connection(s), 3 with errors",
        "4 errors, 1 warning, 0 info",
    ]
    whole = subprocess.run(
        [sys.executable, "-m", "inspector", "pcap", str(SEVERAL)], capture_output=True, text=True, cwd=ROOT
    )
    assert whole.stdout.splitlines()[-1] == lines[-1]


def test_json_lines_match_the_json_report_connection_for_connection() -> None:
    streamed = run_stream("-", "--json", data=SEVERAL.read_bytes())
    assert streamed.returncode == 1, streamed.stderr
    objects = json_lines(streamed.stdout)
    assert [o["type"] for o in objects] == ["connection"] * 4 + ["summary"]
    assert {o["schema"] for o in objects} == {"mtls-inspector/pcap-stream"}
    whole = json.loads(
        subprocess.run(
            [sys.executable, "-m", "inspector", "pcap", str(SEVERAL), "--json"],
            capture_output=True,
            text=True,
            cwd=ROOT,
        ).stdout
    )
    streamed_connections = [o["connection"] for o in objects[:4]]
    assert streamed_connections == whole["connections"]
    summary = objects[-1]
    assert summary["summary"] == whole["summary"] == {"error": 4, "warning": 1, "info": 0}
    assert summary["stopped"] is False
    assert summary["connections_failed"] == 3
    assert summary["capture"] == {**whole["capture"], "path": "stdin"}


def test_a_connection_is_printed_as_it_ends_while_the_pipe_is_open() -> None:
    """Connection 1's bytes arrive in 997-byte pieces (so pcap records are cut across reads);
    its line must come out before anything else is sent."""
    header, records = pcap_records(SEVERAL)
    first = header + b"".join(records[:FIRST_END])
    run = StreamRun("-")
    try:
        for at in range(0, len(first), 997):
            run.write(first[at : at + 997])
            time.sleep(0.002)
        line = run.next_line(timeout=20)
        assert line is not None and line.startswith("#1  03:30:15  127.0.0.1:38274 → 127.0.0.1:44300")
        assert run.proc.poll() is None  # still reading
        assert run.next_line(timeout=0.5) is None  # nothing else ended
        run.write(b"".join(records[FIRST_END:]))
        status, rest, err = run.finish()
    finally:
        run.kill()
    assert status == 1, err
    assert rest.splitlines()[0] == LINE_2
    assert rest.splitlines()[-1] == "4 errors, 1 warning, 0 info"


def test_pcapng_on_stdin_with_its_embedded_key_log() -> None:
    streamed = run_stream("-", data=(CAPTURES / "tls13-secrets.pcapng").read_bytes())
    out = streamed.stdout.splitlines()
    assert streamed.returncode == 0, streamed.stderr
    assert out[0].endswith("TLS 1.3  cert requested: yes  sent: CN=letstestcba  completed  ok")
    assert out[2] == "stdin: pcapng, 19 packets, 1 TLS connection(s), 0 with errors, key log: 1 session(s)"


def test_pcapng_blocks_cut_across_reads() -> None:
    """tls13-secrets.pcapng up to its second FIN (byte 18064 of 18164) in 61-byte pieces: the
    connection's line comes before the last block is sent."""
    data = (CAPTURES / "tls13-secrets.pcapng").read_bytes()
    run = StreamRun("-")
    try:
        for at in range(0, 18064, 61):
            run.write(data[at : min(at + 61, 18064)])
        line = run.next_line(timeout=20)
        assert line is not None and line.endswith("sent: CN=letstestcba  completed  ok")
        assert run.proc.poll() is None
        run.write(data[18064:])
        status, rest, err = run.finish()
    finally:
        run.kill()
    assert status == 0, err
    assert rest.splitlines()[1].startswith("stdin: pcapng, 19 packets, 1 TLS connection(s)")


def test_a_silent_connection_is_flushed_in_wall_clock_time() -> None:
    """tls12-success without its FINs, the pipe left open: with --idle 1 the connection is
    reported within seconds, marked idle, while the input is still open."""
    header, records = pcap_records(CAPTURES / "tls12-success.pcap")
    run = StreamRun("-", "--json", "--idle", "1")
    try:
        started = time.monotonic()  # before the write: the reader cannot have a packet earlier
        run.write(header + b"".join(records[:14]))
        line = run.next_line(timeout=20)
        waited = time.monotonic() - started
        assert line is not None
        assert run.proc.poll() is None
        status, rest, err = run.finish()
    finally:
        run.kill()
    assert waited >= 1.0
    connection = json.loads(line)["connection"]
    assert connection["outcome"] == "completed"
    assert [p["kind"] for p in connection["problems"]] == ["idle"]
    assert connection["problems"][0]["detail"].startswith("no packet for 1 s: reported as it stood")
    assert status == 0, err
    assert json.loads(rest)["capture"]["tls_connections"] == 1


@pytest.mark.parametrize(("idle", "closed_idle"), [("2", True), ("10", False)])
def test_idle_in_capture_time(idle: str, closed_idle: bool) -> None:
    """Connection 1 without its FINs, then three more over the next 5.5 s (capture time), all
    written at once: with --idle 2 connection 1 is closed as idle; with --idle 10 by the end."""
    header, records = pcap_records(SEVERAL)
    data = header + b"".join(records[:14] + records[FIRST_END:])
    streamed = run_stream("-", "--json", "--idle", idle, data=data)
    objects = json_lines(streamed.stdout)
    assert sorted(o["connection"]["index"] for o in objects[:-1]) == [1, 2, 3, 4]  # type: ignore[index]
    first = next(o["connection"] for o in objects if o.get("connection", {}).get("index") == 1)  # type: ignore[union-attr]
    assert [p["kind"] for p in first["problems"]] == (["idle"] if closed_idle else [])  # type: ignore[index]


def test_ctrl_c_reports_what_it_has_and_exits_130() -> None:
    header, records = pcap_records(SEVERAL)
    run = StreamRun("-")
    try:
        run.write(header + b"".join(records[:FIRST_END]))
        assert (run.next_line(timeout=20) or "").startswith("#1  ")
        run.write(b"".join(records[FIRST_END : FIRST_END + 7]))  # connection 2 up to the server's flight
        run.wait_taken()
        run.interrupt()
        status, rest, err = run.finish()
    finally:
        run.kill()
    assert status == 130, err
    assert err == ""
    lines = rest.splitlines()
    assert lines[0] == (
        "#2  03:30:18  127.0.0.1:59010 → 127.0.0.1:44302  localhost  TLS 1.2  cert requested: yes  "
        "sent: -  incomplete  no findings"
    )
    assert lines[-2] == "stdin: pcap, 24 packets, 2 TLS connection(s), 0 with errors; stopped by Ctrl-C"


def test_ctrl_c_before_any_packet() -> None:
    run = StreamRun("-")
    try:
        run.write(b"\xd4\xc3")  # half a magic number
        run.wait_taken()  # started and waiting for the rest
        run.interrupt()
        status, rest, err = run.finish()
    finally:
        run.kill()
    assert status == 130, err
    assert rest.splitlines() == [
        "",
        "stdin: no capture header read, 0 packets, 0 TLS connection(s), 0 with errors; stopped by Ctrl-C",
        "0 errors, 0 warnings, 0 info",
    ]


def test_follow_a_file_while_a_writer_appends(tmp_path: Path) -> None:
    header, records = pcap_records(SEVERAL)
    growing = tmp_path / "growing.pcap"
    growing.write_bytes(header + b"".join(records[:5]))
    parts = tmp_path / "parts"
    parts.write_bytes(b"".join(records[5:]))
    writer_code = (
        "import sys, time\n"
        "data = open(sys.argv[1], 'rb').read()\n"
        "with open(sys.argv[2], 'ab', buffering=0) as out:\n"
        "    for at in range(0, len(data), 1500):\n"
        "        out.write(data[at:at + 1500]); time.sleep(0.01)\n"
    )
    run = StreamRun("--follow", str(growing), stdin=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        writer = subprocess.run([sys.executable, "-c", writer_code, str(parts), str(growing)], timeout=60)
        assert writer.returncode == 0
        seen = [run.next_line(timeout=20) for _ in range(4)]
        assert [(line or "?").split()[0] for line in seen] == ["#1", "#2", "#3", "#4"]
        assert seen[1] == LINE_2
        assert run.proc.poll() is None  # --follow waits for more until Ctrl-C
        run.interrupt()
        status, rest, err = run.finish()
    finally:
        run.kill()
    assert status == 130, err
    assert rest.splitlines()[-2:] == [
        f"{growing}: pcap, 53 packets, 4 TLS connection(s), 3 with errors; stopped by Ctrl-C",
        "4 errors, 1 warning, 0 info",
    ]


def test_a_truncated_last_packet_is_a_finding() -> None:
    data = (CAPTURES / "tls12-success.pcap").read_bytes()[:10000]
    streamed = run_stream("-", data=data)
    assert streamed.returncode == 0, streamed.stderr
    assert (
        "warning[capture-incomplete]: stdin: file ends inside packet 11 (4353 of 9605 bytes present): "
        "truncated capture"
    ) in streamed.stdout


@pytest.mark.parametrize(
    ("args", "data", "message"),
    [
        (
            ["-"],
            b"GET / HTTP/1.1\r\n\x1b[31mred",
            "stdin: not a pcap or pcapng file (starts with 47 45 54 20)",
        ),
        (["-"], b"", "stdin: nothing arrived (empty input)"),
        (
            ["-"],
            gzip.compress(b"\xd4\xc3\xb2\xa1" * 9),
            "stdin: compressed (gzip) input cannot be streamed",
        ),
        (["-"], b"\xd4\xc3\xb2\xa1\x02\x00", "stdin: pcap global header is truncated"),
        (["-", "--follow"], b"", "--follow -: stdin is read as packets arrive anyway"),
        (["--follow", "/nonexistent/cap.pcap"], b"", "/nonexistent/cap.pcap: no such file"),
        (["--follow"], b"", "--follow needs the FILE being written"),
        (["-", "--html", "x.html"], b"", "--html needs the whole capture, not a stream (stdin)"),
        (["-", "-c", "1"], b"", "--connection needs the whole capture, not a stream (stdin)"),
        ([str(SEVERAL), "--idle", "5"], b"", "--idle applies to a stream (pcap - or --follow)"),
        (["-", "--workers", "2"], b"", "--workers needs the whole capture, not a stream (stdin)"),
        (["-", str(SEVERAL)], b"", "a stream is one input, not 2 (- "),
        (["--follow", str(SEVERAL), str(SEVERAL)], b"", "a stream is one input, not 2 ("),
    ],
    ids=[
        "garbage",
        "empty",
        "gzip",
        "short-header",
        "follow-stdin",
        "follow-missing",
        "follow-nothing",
        "html",
        "connection",
        "idle-file",
        "workers",
        "stdin-and-file",
        "follow-two",
    ],
)
def test_bad_stream_input_is_one_line(args: list[str], data: bytes, message: str) -> None:
    done = run_stream(*args, data=data)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith(f"mtls-inspect: error: {message}")
    assert done.stderr.count("\n") == 1 and " — " in done.stderr  # the line names the next step
    assert "\x1b" not in done.stderr


def test_jsonl_on_a_stream_is_its_json_lines() -> None:
    """--jsonl (the set's JSON Lines) on a stream is the stream's JSON, already a line each."""
    data = SEVERAL.read_bytes()
    assert run_stream("-", "--jsonl", data=data).stdout == run_stream("-", "--json", data=data).stdout


def test_a_terminal_on_stdin_is_refused() -> None:
    leader, follower = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "inspector", "pcap", "-"],
            stdin=follower,
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=60,
        )
    finally:
        os.close(leader)
        os.close(follower)
    assert done.returncode == 2
    assert done.stderr == (
        "mtls-inspect: error: stdin: is a terminal, not a capture — pipe a capture in: "
        "tcpdump -U -w - port 443 | mtls-inspect pcap -\n"
    )


@pytest.mark.parametrize(
    ("capture", "status"),
    [("tls12-unknown-ca", 1), ("tls13-success", 0)],
)
def test_a_reader_gone_at_once_leaves_the_findings_status(capture: str, status: int) -> None:
    """`pcap - | head -1`: the status is the findings' of what was judged, as for a file's report
    (it was 0, or 1 when the reader left only after the summary). Here the reader is gone before
    the first line: every write fails (EPIPE), the reading stops there."""
    keys = str(CAPTURES / f"{capture}.keys")
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        with (CAPTURES / f"{capture}.pcap").open("rb") as capture_file:
            run = subprocess.run(
                [sys.executable, "-m", "inspector", "pcap", "-", "--keylog", keys],
                stdin=capture_file,
                stdout=write_end,
                stderr=subprocess.PIPE,
                text=True,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
                timeout=60,
                check=False,
            )
    finally:
        os.close(write_end)
    assert (run.returncode, run.stderr) == (status, "")
