"""`pcap`: read a capture, judge each connection as it ends, hand it on (memory stays flat)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from inspector.analysis.connection import ConnectionResult, analyse_connection
from inspector.findings import Evidence, Finding, Location, Severity, has_errors, make
from inspector.keystore.model import Keystore
from inspector.rules.visibility_rules import INCOMPLETE
from inspector.system.errors import InputError
from inspector.system.input_files import read_key_log
from parsers.budget import BUDGET_PROBLEM
from parsers.keylog import KeyLog
from parsers.model import Transcript

if TYPE_CHECKING:
    from parsers.capture import CaptureResult

#: Reports progress while reading: (bytes done, packets).
ProgressFn = Callable[[int, int], None]


@dataclass(frozen=True)
class Scope:
    """Which connections to report (--host, --port, --connection)."""

    host: str | None = None
    port: int | None = None
    connection: int | None = None

    def holds(self, t: Transcript) -> bool:
        if self.host and self.host not in (t.client.ip, t.server.ip):
            return False
        if self.port and self.port not in (t.client.port, t.server.port):
            return False
        return self.connection in (None, t.index)


@dataclass
class CaptureScan:
    """The whole capture: its reader's summary, file-level findings, counts over what was shown."""

    result: CaptureResult
    file_findings: list[Finding]
    severities: dict[str, int]
    errors: bool
    #: start of the earliest connection in the file (the table's times count from it)
    first_time: float | None


@dataclass
class Tally:
    """Counts over a capture's connections as they are judged (a file's, or a stream's)."""

    severities: dict[str, int] = field(default_factory=lambda: {s.value: 0 for s in Severity})
    errors: bool = False
    first_time: float | None = None  # of every connection, shown or not
    selected: int = 0  # connections judged (in scope)
    failed: int = 0  # of those, with error findings

    def seen(self, t: Transcript) -> None:
        if self.first_time is None or t.start_time < self.first_time:
            self.first_time = t.start_time

    def judged(self, findings: list[Finding]) -> None:
        self.selected += 1
        self.failed += has_errors(findings)
        self.count(findings)

    def took(self, judged: JudgedThere) -> None:
        """A connection judged in the reader's worker (`JudgedThere`): as seen, then judged."""
        if self.first_time is None or judged.start_time < self.first_time:
            self.first_time = judged.start_time
        if not judged.in_scope:
            return
        self.selected += 1
        self.failed += judged.errors
        for severity, count in zip(Severity, judged.severities, strict=True):
            self.severities[severity.value] += count
        self.errors = self.errors or judged.errors

    def count(self, findings: list[Finding]) -> None:
        for f in findings:
            self.severities[f.severity.value] += 1
        self.errors = self.errors or has_errors(findings)


@dataclass(frozen=True)
class JudgedThere:
    """A connection judged and rendered by the capture reader's worker: what the tally and the
    reports take of it (plain values: they cross a pipe)."""

    start_time: float
    in_scope: bool
    severities: tuple[int, ...]  # per Severity, in its order
    errors: bool
    rendered: object  # what the command's `render` made of it (None when out of scope)


@dataclass(frozen=True)
class Rendering:
    """How the command renders a judged connection (`render`, in whichever process judged it)
    and keeps what that made (`keep`, here, in connection order): with it, the capture reader's
    worker may judge and render connections itself when this process falls behind."""

    render: Callable[[ConnectionResult], object]
    keep: Callable[[object], None]


def capture_path(file: str | None, default: Path) -> Path:
    from inspector.system.input_files import check_input

    path = Path(file) if file else default
    check_input(path, "give a .pcap or .pcapng file", pipes=True)
    return path


def load_keylog(path: Path) -> KeyLog:
    keylog = KeyLog()
    keylog.add_text(read_key_log(path).decode("utf-8", "replace"))
    return keylog


def scan_capture(
    path: Path,
    keylog: KeyLog | None,
    store: Keystore | None,
    at: dt.datetime | None,
    scope: Scope,
    on_connection: Callable[[ConnectionResult], None],
    progress: ProgressFn | None = None,
    also_judge: Callable[[Transcript], list[Finding]] | None = None,
    rendering: Rendering | None = None,
) -> CaptureScan:
    """Read the capture (in two processes when it is large); each connection in `scope` is
    judged as it ends (by the wire rules, and `also_judge` — Java's trust with --truststore) and
    given to `on_connection`, then dropped. With `rendering`, a connection may instead be judged
    and rendered in the reader's worker and reach `rendering.keep` (on_connection is then
    render, then keep)."""
    from parsers.capture import CaptureFormatError
    from parsers.parallel import Share, read_capture_parallel, share_from_env

    tally = Tally()

    def take(t: Transcript) -> None:
        tally.seen(t)
        if not scope.holds(t):
            return
        judged = analyse_connection(t, store, str(path), at, also_judge=also_judge)
        tally.judged(judged.findings)
        on_connection(judged)

    def seal(t: Transcript) -> JudgedThere:  # in the worker
        if not scope.holds(t):
            return JudgedThere(t.start_time, False, (), False, None)
        assert rendering is not None
        judged = analyse_connection(t, store, str(path), at, also_judge=also_judge)
        severities = tuple(sum(1 for f in judged.findings if f.severity is s) for s in Severity)
        errors = has_errors(judged.findings)
        return JudgedThere(t.start_time, True, severities, errors, rendering.render(judged))

    def took(value: object) -> None:  # here, in the connection's turn
        assert isinstance(value, JudgedThere) and rendering is not None
        tally.took(value)
        if value.in_scope:
            rendering.keep(value.rendered)

    share: Share | None = share_from_env(seal, took) if rendering is not None else None
    try:
        result = read_capture_parallel(path, keylog, progress, take, share=share)
    except CaptureFormatError as exc:
        raise InputError(f"{path}: {exc}", "give a pcap or pcapng capture file") from None
    if scope.connection is not None and not tally.selected:
        raise InputError(
            f"{path}: no TLS connection #{scope.connection}", f"connections here: 1..{result.tls_connections}"
        )
    found = file_findings(result, path)
    tally.count(found)
    return CaptureScan(result, found, tally.severities, tally.errors, tally.first_time)


def file_findings(result: CaptureResult, path: Path) -> list[Finding]:
    if not result.problems:
        return []
    return [
        make(
            INCOMPLETE,
            f"{path.name}: {result.problems[0]}",
            location=Location(file=str(path)),
            evidence=[Evidence(str(path), p) for p in result.problems[:6]],
            fix=incomplete_fix(
                result.problems, "capture again (tcpdump -s 0 -w FILE) and copy the file whole"
            ),
        )
    ]


def incomplete_fix(problems: list[str], usual: str) -> str:
    """What to do about a capture's problems: the usual advice, unless the reader's memory
    budget dropped data (the file is whole: reading less of it at once is the remedy)."""
    if any(BUDGET_PROBLEM in p for p in problems):
        return (
            "the file may be whole: read the connections of interest alone (tcpdump -r FILE -w PART "
            "'host HOST and port PORT'), so their out-of-order data fits"
        )
    return usual
