"""`pcap A B C…`, a directory, a glob, a rotated set: several capture files judged as one.

Each file is decoded on its own (a PartTask around parsers.fileparts.decode_part), here one
after the other or on a Dask cluster (inspector.analysis.cluster), and the parts are merged
(parsers.stitch.merge): connections cut by a rotation are joined, everything is numbered by the
time it turned out to be TLS. Both ways run the same two functions, so their reports are the
same, connection for connection.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from inspector.analysis.capture import incomplete_fix
from inspector.findings import Evidence, Finding, Location, make
from inspector.rules.visibility_rules import INCOMPLETE
from inspector.system.errors import InputError
from parsers.keylog import KeyLog

if TYPE_CHECKING:
    from parsers.fileparts import FilePart
    from parsers.fileset import CaptureSet, SetMember
    from parsers.flows import CaptureResult

#: called as each file's part arrives (in any order)
PartFn = Callable[["FilePart"], None]
#: (path, rank, key log text) → the file's part: what runs where the file lies
PartTask = Callable[[str, int, str], "FilePart"]
#: runs the task on every member (rank = its place in the set), calling back as each part
#: arrives; returns the parts in rank order
PartRunner = Callable[[list["SetMember"], PartTask, str, PartFn], list["FilePart"]]
#: (number in the set, rank of its first file, of its last, the Transcript or the sealed record)
ItemFn = Callable[[int, int, int, object], None]


@dataclass(frozen=True)
class SetFile:
    """One file of the set, as the report lists it."""

    path: str
    format: str
    size: int
    packets: int
    first_time: float | None
    last_time: float | None


@dataclass
class SetSummary:
    result: CaptureResult
    names: list[str]  # the files, by rank
    files: list[SetFile]
    joined: int  # connections that crossed a file boundary, joined into one
    skipped: list[tuple[str, str]]  # files of a named directory that are not captures, and why
    findings: list[Finding]  # file-level: problems met in the files


def serial_parts(
    members: list[SetMember], task: PartTask, keylog_text: str, on_part: PartFn
) -> list[FilePart]:
    """The parts made here, one file after the other."""
    parts = []
    for rank, member in enumerate(members):
        part = task(str(member.path), rank, keylog_text)
        on_part(part)
        parts.append(part)
    return parts


def open_capture_set(inputs: list[str]) -> CaptureSet:
    """The files named (files, directories, quoted globs), in time order; one line if any
    named file cannot be used."""
    from parsers.fileset import SetError, open_set

    try:
        return open_set(inputs)
    except SetError as exc:
        hint = "give pcap or pcapng files, a directory of them, or a quoted glob"
        raise InputError(str(exc), hint) from None


def merge_set(capture_set: CaptureSet, parts: list[FilePart], keylog: KeyLog, on_item: ItemFn) -> SetSummary:
    """Join the cut connections and hand every connection on, in number order."""
    from parsers.flows import CaptureResult
    from parsers.stitch import merge

    for part in parts:
        if part.error is not None:
            raise InputError(f"{part.path}: {part.error}", "give pcap or pcapng capture files")
    names = [str(m.path) for m in capture_set.members]
    counts = merge(parts, keylog, on_item)
    formats = sorted({f for f in counts.formats if f != "?"}) or ["?"]
    result = CaptureResult(
        path=capture_set.members[0].path,
        format=" + ".join(formats),
        tls_connections=counts.tls_connections,
        problems=counts.problems,
        frames=counts.frames,
        tcp_connections=counts.tcp_connections,
        non_tls_connections=counts.non_tls_connections,
        undecodable_frames=counts.undecodable_frames,
        keylog_entries=len(keylog),
        embedded_secrets=counts.embedded_secrets,
        first_time=min((p.first_time for p in parts if p.first_time is not None), default=None),
    )
    files = [SetFile(p.path, p.format, p.size, p.frames, p.first_time, p.last_time) for p in parts]
    skipped = [(str(path), why) for path, why in capture_set.skipped]
    return SetSummary(result, names, files, counts.joined, skipped, _set_findings(result, names))


def _set_findings(result: CaptureResult, names: list[str]) -> list[Finding]:
    if not result.problems:
        return []
    return [
        make(
            INCOMPLETE,
            result.problems[0],
            location=Location(file=names[0] if len(names) == 1 else f"{names[0]} … {names[-1]}"),
            evidence=[Evidence("capture set", p) for p in result.problems[:6]],
            fix=incomplete_fix(
                result.problems, "capture again (tcpdump -s 0 -w FILE) and copy the files whole"
            ),
        )
    ]
