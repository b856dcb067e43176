"""parsers.live_source on its own: a real pipe, a writer thread, the reader's quiet and stop paths."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from parsers.keylog import KeyLog
from parsers.live_source import StreamSource, read_stream
from parsers.model import Transcript
from tests.pcap_stream_helpers import CAPTURES, pcap_records


def test_quiet_pipe_closes_idle_connections_and_stop_ends_between_chunks() -> None:
    """tls12-success without its FINs, the pipe left open: nothing arrives any more, so the
    wall clock (on_quiet) closes the connection after --idle; stopping then ends the read with
    the summary of what was read."""
    header, records = pcap_records(CAPTURES / "tls12-success.pcap")
    read_end, write_end = os.pipe()
    source = StreamSource(Path("stdin"), fd=read_end, tick=0.05)
    seen: list[Transcript] = []

    def take(t: Transcript) -> None:
        seen.append(t)
        source.stop()  # as the SIGINT handler does

    writer = threading.Thread(target=os.write, args=(write_end, header + b"".join(records[:14])))
    writer.start()
    try:
        streamed = read_stream(source, KeyLog(), take, idle=0.3)
    finally:
        writer.join()
        os.close(write_end)
        os.close(read_end)
    assert streamed.stopped is True
    assert [t.index for t in seen] == [1]
    assert [(p.kind, p.detail) for p in seen[0].problems] == [
        (
            "idle",
            "no packet for 0.3 s: reported as it stood; later packets of it are read as a new connection",
        )
    ]
    result = streamed.result
    assert (result.format, result.frames, result.tls_connections) == ("pcap", 14, 1)


def test_the_end_of_the_pipe_is_the_end_of_the_capture() -> None:
    data = (CAPTURES / "several.pcap").read_bytes()
    read_end, write_end = os.pipe()

    def write_all() -> None:
        for at in range(0, len(data), 333):  # pcap records cut across reads
            os.write(write_end, data[at : at + 333])
        os.close(write_end)

    writer = threading.Thread(target=write_all)
    writer.start()
    seen: list[int] = []
    try:
        streamed = read_stream(
            StreamSource(Path("stdin"), fd=read_end), KeyLog(), lambda t: seen.append(t.index), 30
        )
    finally:
        writer.join()
        os.close(read_end)
    assert streamed.stopped is False
    assert seen == [1, 2, 3, 4]
    assert (streamed.result.frames, streamed.result.problems) == (53, [])
