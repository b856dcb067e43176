"""Driving `mtls-inspect pcap -` as a process: bytes in when the test says, lines out as they come."""

from __future__ import annotations

import fcntl
import os
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
CAPTURES = ROOT / "captures"


def pcap_records(path: Path) -> tuple[bytes, list[bytes]]:
    """A little-endian pcap's global header and its records (16-byte header + data), as stored."""
    data = path.read_bytes()
    assert data[:4] == b"\xd4\xc3\xb2\xa1", path
    header, pos, records = data[:24], 24, []
    while pos < len(data):
        incl = int.from_bytes(data[pos + 8 : pos + 12], "little")
        records.append(data[pos : pos + 16 + incl])
        pos += 16 + incl
    return header, records


class StreamRun:
    """`python -m inspector pcap ARGS` with a pipe on stdin (unless `stdin` is given)."""

    def __init__(self, *args: str, stdin: int | IO[bytes] | None = subprocess.PIPE) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "inspector", "pcap", *args],
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=ROOT,
        )
        self.pending = b""
        self.lines: list[str] = []

    def write(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def wait_taken(self, timeout: float = 60) -> None:
        """Until the reader has taken every byte written so far out of the pipe. It reads inside
        its Ctrl-C handling, and a chunk it took is judged before it reads again: a SIGINT sent
        after this sees all of it (a sleep instead raced with a slow start on a loaded machine)."""
        assert self.proc.stdin is not None
        fd = self.proc.stdin.fileno()
        deadline = time.monotonic() + timeout
        while struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]:
            assert self.proc.poll() is None, "the reader ended before it took its input"
            assert time.monotonic() < deadline, f"the reader took nothing for {timeout} s"
            time.sleep(0.005)

    def close_input(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()

    def next_line(self, timeout: float) -> str | None:
        """The next stdout line within `timeout` seconds, or None."""
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self.pending:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                return None
            more = os.read(fd, 65536)
            if not more:
                return None
            self.pending += more
        line, self.pending = self.pending.split(b"\n", 1)
        text = line.decode()
        self.lines.append(text)
        return text

    def interrupt(self) -> None:
        self.proc.send_signal(signal.SIGINT)

    def finish(self, timeout: float = 60) -> tuple[int, str, str]:
        """Exit status, the rest of stdout, stderr."""
        if self.proc.stdin is not None and not self.proc.stdin.closed:
            self.proc.stdin.close()
        self.proc.stdin = None  # communicate() must not flush a closed pipe
        out, err = self.proc.communicate(timeout=timeout)
        rest = (self.pending + out).decode()
        self.lines += rest.splitlines()
        return self.proc.returncode, rest, err.decode()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
