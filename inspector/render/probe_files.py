"""The probe's own artifacts, written beside its report: its key log and its bytes as a pcap
(parsers.stream writes the pcap it can read back), both 0600, new files unless --force, never
through a symbolic link."""

from __future__ import annotations

from pathlib import Path

from inspector.live.attempt import Attempt
from inspector.system.private_files import open_private
from parsers.stream import write_pcap


def save_artifacts(attempt: Attempt, keylog: str | None, capture: str | None, force: bool) -> None:
    """--keylog and --capture: the key log (NSS format, for tshark/Wireshark) and the pcap."""
    if keylog:
        with open_private(Path(keylog), "--keylog", force) as handle:
            handle.write(("\n".join(attempt.keylog) + "\n").encode())
    if capture:
        with open_private(Path(capture), "--capture", force) as handle:
            write_pcap(handle, attempt.chunks, attempt.client, attempt.server, attempt.start)
