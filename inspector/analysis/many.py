"""`pcap A B C…`, a directory, a glob, a rotated set: several capture files judged as one.

Each file is decoded on its own (parsers.fileparts.decode_part), here one after the other or on
a Dask cluster (inspector.analysis.cluster), and the parts are merged (parsers.stitch.merge):
connections cut by a rotation are joined, everything is numbered by the time it turned out to
be TLS. Both ways run the same two functions, so their reports are the same, connection for
connection. Connections are judged here, after the merge (the keystore and truststore are
this machine's files).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from inspector.analysis.capture import CaptureScan, Scope, _Tally
from inspector.analysis.connection import ConnectionResult, analyse_connection
from inspector.errors import InputError
from inspector.findings import Evidence, Finding, Location, make, sort_findings
from inspector.keystore.model import Keystore
from inspector.rules.wire_rules import INCOMPLETE
from parsers.keylog import KeyLog
from parsers.model import Transcript

if TYPE_CHECKING:
    from parsers.fileparts import FilePart
    from parsers.fileset import CaptureSet, SetMember
    from parsers.flows import CaptureResult

#: (judged connection, its files: where it began, and where it ended when that is another)
SetConnectionFn = Callable[[ConnectionResult, tuple[str, ...]], None]
#: called as each file's part arrives (in any order)
PartFn = Callable[["FilePart"], None]
#: decodes every member (rank = its place in the set), calling back as each part arrives;
#: returns the parts in rank order
PartRunner = Callable[[list["SetMember"], str, PartFn], list["FilePart"]]


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
class SetScan:
    scan: CaptureScan
    files: list[SetFile]
    joined: int  # connections that crossed a file boundary, joined into one
    skipped: list[tuple[str, str]]  # files of a named directory that are not captures, and why


def serial_parts(members: list[SetMember], keylog_text: str, on_part: PartFn) -> list[FilePart]:
    """The parts decoded here, one file after the other."""
    from parsers.fileparts import decode_part

    parts = []
    for rank, member in enumerate(members):
        part = decode_part(str(member.path), rank, keylog_text)
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
        raise InputError(
            str(exc), "give pcap or pcapng files, a directory of them, or a quoted glob"
        ) from None


def scan_set(
    capture_set: CaptureSet,
    run_parts: PartRunner,
    keylog: KeyLog | None,
    keylog_text: str,
    store: Keystore | None,
    at: dt.datetime | None,
    scope: Scope,
    on_connection: SetConnectionFn,
    on_part: PartFn | None = None,
    also_judge: Callable[[Transcript], list[Finding]] | None = None,
) -> SetScan:
    """Decode the set (with `run_parts`), merge it, judge each connection in `scope` and give it
    to `on_connection` in number order."""
    from parsers.flows import CaptureResult
    from parsers.stitch import merge

    members = list(capture_set.members)
    parts = run_parts(members, keylog_text, on_part or (lambda part: None))
    for part in parts:
        if part.error is not None:
            raise InputError(f"{part.path}: {part.error}", "give pcap or pcapng capture files")
    names = [str(m.path) for m in members]
    tally = _Tally()

    def take(t: Transcript, first: int, last: int) -> None:
        if tally.first_time is None or t.start_time < tally.first_time:
            tally.first_time = t.start_time
        if not scope.holds(t):
            return
        tally.selected += 1
        judged = analyse_connection(t, store, names[first], at)
        extra = also_judge(t) if also_judge is not None else []
        if extra:
            judged = replace(judged, findings=sort_findings([*judged.findings, *extra]))
        tally.count(judged.findings)
        on_connection(judged, (names[first],) if first == last else (names[first], names[last]))

    keys = keylog if keylog is not None else KeyLog()
    counts = merge(parts, keys, take)
    formats = sorted({f for f in counts.formats if f != "?"}) or ["?"]
    result = CaptureResult(
        path=members[0].path,
        format=" + ".join(formats),
        tls_connections=counts.tls_connections,
        problems=counts.problems,
        frames=counts.frames,
        tcp_connections=counts.tcp_connections,
        non_tls_connections=counts.non_tls_connections,
        undecodable_frames=counts.undecodable_frames,
        keylog_entries=len(keys),
        embedded_secrets=counts.embedded_secrets,
        first_time=min((p.first_time for p in parts if p.first_time is not None), default=None),
    )
    if scope.connection is not None and not tally.selected:
        raise InputError(
            f"{names[0]} …: no TLS connection #{scope.connection}",
            f"connections here: 1..{result.tls_connections}",
        )
    file_findings = _set_findings(result, names)
    tally.count(file_findings)
    files = [SetFile(p.path, p.format, p.size, p.frames, p.first_time, p.last_time) for p in parts]
    scan = CaptureScan(result, file_findings, tally.severities, tally.errors, tally.first_time)
    skipped = [(str(path), why) for path, why in capture_set.skipped]
    return SetScan(scan, files, counts.joined, skipped)


def _set_findings(result: CaptureResult, names: list[str]) -> list[Finding]:
    if not result.problems:
        return []
    return [
        make(
            INCOMPLETE,
            result.problems[0],
            location=Location(file=names[0] if len(names) == 1 else f"{names[0]} … {names[-1]}"),
            evidence=[Evidence("capture set", p) for p in result.problems[:6]],
            fix="capture again (tcpdump -s 0 -w FILE) and copy the files whole",
        )
    ]
