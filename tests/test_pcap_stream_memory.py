"""Memory stays flat however long `pcap -` runs: over 1 GB of copies of real captured handshakes
(and bulk data) through a pipe, the reader's resident memory sampled from /proc as it reads.

Runs in CI (part of the default suite): a few seconds (the bulk passes the fast path).
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.pcap_stream_helpers import ROOT

TOTAL_BYTES = 1_050_000_000  # a little over 1 GB
RSS_LIMIT_KB = 150 * 1024
GROWTH_LIMIT_KB = 8 * 1024  # between the first and the last third of the run


def rss_kb(pid: int) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return int(found.group(1)) if found else None


def test_a_gigabyte_through_a_pipe_in_flat_memory(tmp_path: Path) -> None:
    generator = subprocess.Popen(
        [sys.executable, "-m", "tests.pcap_stream_generator", "--bytes", str(TOTAL_BYTES)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    assert generator.stdout is not None
    report = tmp_path / "lines.txt"
    with report.open("wb") as out:
        reader = subprocess.Popen(
            [sys.executable, "-m", "inspector", "pcap", "-", "--idle", "1"],
            stdin=generator.stdout,
            stdout=out,
            stderr=subprocess.PIPE,
            cwd=ROOT,
        )
        generator.stdout.close()  # the reader holds the pipe now: its end is the generator's exit
        samples: list[int] = []

        def sample() -> None:
            while reader.poll() is None:
                value = rss_kb(reader.pid)
                if value is not None:
                    samples.append(value)
                time.sleep(0.02)

        sampler = threading.Thread(target=sample)
        started = time.monotonic()
        sampler.start()
        try:
            _, reader_err = reader.communicate(timeout=300)
            _, generator_err = generator.communicate(timeout=60)
        finally:
            for proc in (reader, generator):
                if proc.poll() is None:
                    proc.kill()
            sampler.join()
    elapsed = time.monotonic() - started
    assert generator.returncode == 0, generator_err.decode()
    assert reader.returncode == 1, reader_err.decode()  # the unknown-CA connections are errors
    assert reader_err == b""
    counts = dict(word.split("=") for word in generator_err.decode().split())
    success, no_fin, unknown_ca = int(counts["success"]), int(counts["no_fin"]), int(counts["unknown_ca"])
    total = success + no_fin + unknown_ca
    assert total > 1500

    lines = report.read_text().splitlines()
    verdicts = lines[:-3]
    assert len(verdicts) == total
    assert sum(line.endswith("  completed  ok") for line in verdicts) == success + no_fin
    assert (
        sum(
            line.endswith("unknown_ca from server  error[server-rejected-client-cert] (+1 more)")
            for line in verdicts
        )
        == unknown_ca
    )
    assert re.fullmatch(
        rf"stdin: pcap, \d+ packets, {total} TLS connection\(s\), {unknown_ca} with errors", lines[-2]
    ), lines[-2]

    # memory: bounded, and not growing from the first third of the run to the last
    assert len(samples) >= 30, (len(samples), elapsed)
    third = len(samples) // 3
    early, late = samples[third // 2 : third], samples[-third:]
    print(f"{TOTAL_BYTES / 1e6:.0f} MB in {elapsed:.1f} s; RSS kB: max {max(samples)}", end="")
    print(f", early {max(early)}, late {max(late)}")
    assert max(samples) < RSS_LIMIT_KB, max(samples)
    assert max(late) <= max(early) + GROWTH_LIMIT_KB, (max(early), max(late))
