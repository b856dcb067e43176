"""`pcap --follow FILE` when the file is truncated, rewritten or replaced while it is followed (a
restarted `tcpdump -w`, logrotate's create or copytruncate): one line on stderr, as `tail -F`
says it, and the new capture read from its start. Real files changed under a running process;
every wait has a deadline."""

from __future__ import annotations

import os
import select
import time
from pathlib import Path

from tests.pcap_stream_helpers import CAPTURES, StreamRun, pcap_records

SEVERAL = CAPTURES / "several.pcap"
FIRST_END = 17  # several.pcap: connection 1 is records 0-16
OTHER = CAPTURES / "tls12-unknown-ca.pcap"


def stderr_line(run: StreamRun, timeout: float = 20) -> str | None:
    """The next stderr line within `timeout` seconds, or None."""
    assert run.proc.stderr is not None
    fd, got = run.proc.stderr.fileno(), b""
    deadline = time.monotonic() + timeout
    while not got.endswith(b"\n"):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return None
        more = os.read(fd, 1)
        if not more:
            return None
        got += more
    return got.decode().rstrip("\n")


def start(path: Path, data: bytes | None = None) -> StreamRun:
    """Following `path`, which holds `data` (several.pcap's first connection): its line is out."""
    header, records = pcap_records(SEVERAL)
    path.write_bytes(data if data is not None else header + b"".join(records[:FIRST_END]))
    run = StreamRun("--follow", str(path))
    first = run.next_line(timeout=30)
    assert first is not None and first.startswith("#1 "), first
    return run


def stop(run: StreamRun) -> tuple[int, list[str], str]:
    run.interrupt()
    status, rest, err = run.finish(timeout=30)
    return status, rest.splitlines(), err


def test_truncated_then_written_again_is_read_from_its_new_start(tmp_path: Path) -> None:
    """tcpdump restarted on the same file: it is emptied, a header written, then packets."""
    path = tmp_path / "live.pcap"
    header, records = pcap_records(SEVERAL)
    run = start(path)
    try:
        with path.open("wb") as out:  # O_TRUNC, as tcpdump -w opens it
            out.write(header)
        assert stderr_line(run) == f"mtls-inspect: {path}: truncated; reading it again from its start"
        with path.open("ab") as out:
            out.write(b"".join(records[FIRST_END:]))
        seen = [run.next_line(timeout=30) for _ in range(3)]
        assert [(line or "?").split()[0] for line in seen] == ["#2", "#3", "#4"]
        status, rest, err = stop(run)
    finally:
        run.kill()
    assert status == 130 and err == "", err
    # every packet counted once: 17 of the first capture, 36 of the second
    assert rest[-2] == f"{path}: pcap, 53 packets, 4 TLS connection(s), 3 with errors; stopped by Ctrl-C"


def test_rewritten_in_place_larger_is_not_read_as_a_continuation(tmp_path: Path) -> None:
    """The file rewritten from its start without ever being smaller than what was read: its first
    bytes changed, so it is a new capture (read on from the old offset, it would be garbage)."""
    path = tmp_path / "live.pcap"
    run = start(path, OTHER.read_bytes())  # one connection, rejected with unknown_ca
    rewritten = SEVERAL.read_bytes()
    assert len(rewritten) > path.stat().st_size
    try:
        fd = os.open(path, os.O_WRONLY)  # no O_TRUNC: the size never drops
        try:
            os.write(fd, rewritten)
        finally:
            os.close(fd)
        assert (
            stderr_line(run)
            == f"mtls-inspect: {path}: rewritten from its start; reading it again from its start"
        )
        seen = [run.next_line(timeout=30) for _ in range(4)]
        assert [(line or "?").split()[0] for line in seen] == ["#2", "#3", "#4", "#5"]
        assert seen[0] is not None and seen[0].endswith("sent: CN=letstestcba  completed  ok"), seen[0]
        status, rest, err = stop(run)
    finally:
        run.kill()
    assert status == 130 and err == ""
    assert rest[-2] == f"{path}: pcap, 65 packets, 5 TLS connection(s), 4 with errors; stopped by Ctrl-C"


def test_replaced_by_a_new_file_is_followed_there(tmp_path: Path) -> None:
    """logrotate's create: the file renamed away, a new one made at the path; the old one was
    read to its end first."""
    path = tmp_path / "live.pcap"
    header, records = pcap_records(SEVERAL)
    run = start(path)
    try:
        path.rename(tmp_path / "live.pcap.1")
        time.sleep(1.2)  # more than two polls with no file at the path: the old one is kept
        assert run.proc.poll() is None
        fresh = tmp_path / "fresh.pcap"
        fresh.write_bytes(header + b"".join(records[FIRST_END:]))
        fresh.rename(path)
        assert (
            stderr_line(run)
            == f"mtls-inspect: {path}: replaced by a new file; reading it again from its start"
        )
        seen = [run.next_line(timeout=30) for _ in range(3)]
        assert [(line or "?").split()[0] for line in seen] == ["#2", "#3", "#4"]
        status, rest, err = stop(run)
    finally:
        run.kill()
    assert status == 130 and err == ""
    assert rest[-2].startswith(f"{path}: pcap, 53 packets, 4 TLS connection(s)")


def test_truncated_and_continued_without_a_header_is_one_line(tmp_path: Path) -> None:
    """copytruncate under a writer that keeps its offset: the new start is a hole of zeros, not
    a capture header. One line naming what happened, exit 2."""
    path = tmp_path / "live.pcap"
    run = start(path)
    size = path.stat().st_size
    try:
        os.truncate(path, 0)
        assert stderr_line(run) == f"mtls-inspect: {path}: truncated; reading it again from its start"
        with path.open("r+b") as out:
            out.seek(size)
            out.write(b"\x01" * 64)  # the writer's next bytes, after a hole
        status, _, err = run.finish(timeout=30)
    finally:
        run.kill()
    assert status == 2
    assert err.splitlines()[0] == (
        f"mtls-inspect: error: {path}: truncated, then: not a pcap or pcapng file (starts with 00 00 00 00)"
        " — give a pcap or pcapng capture (tcpdump -U -w -)"
    )
