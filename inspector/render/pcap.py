"""The `pcap` report, text or JSON, assembled while the capture is read.

Each connection is rendered as it ends and only its output is kept (parked on disk past a few
MB): no transcript outlives its connection, so memory stays flat whatever the capture holds.
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

from inspector.findings import Severity, has_errors
from inspector.render import json_out, text
from inspector.render.connection_json import connection_dict
from inspector.render.json_out import JsonObject
from inspector.render.spool import Spool
from inspector.render.summary import COMPLETED, outcome
from inspector.render.transcript import CONNECTION_HEADERS, connection_block, connection_row

if TYPE_CHECKING:
    from inspector.analysis.capture import CaptureScan
    from inspector.analysis.connection import ConnectionResult
    from parsers.capture import CaptureResult

#: between the cells of a spooled row (cells are escaped text: no control character in them)
ROW_SEPARATOR = "\x1f"
INFO_BLOCKS_SHOWN = 20  # connections detailed for info findings alone; beyond, only counted
PRETTY_JSON_MAX = 50  # connections; beyond, compact JSON (pipe through jq to read it)


@dataclass(frozen=True)
class PcapView:
    """What the user asked to see."""

    json: bool = False
    full: bool = False  # --connection N: that connection in full
    show_all: bool = False  # --all: ladders of successful connections too


@dataclass(frozen=True, slots=True)
class Rendered:
    """One connection's share of a report, rendered (plain strings: it may cross processes)."""

    index: int
    json_connection: str | None  # --json
    json_findings: tuple[str, ...]
    row: str | None  # text: the table row, cells joined by ROW_SEPARATOR
    info_only: bool  # text: its findings are all info (detailed for the first few only)
    block: str | None  # text: its block, when it may be shown


#: Reports by serial number: a forked process renders for them and this one keeps the result
_REPORTS: weakref.WeakValueDictionary[int, PcapReport] = weakref.WeakValueDictionary()
_SERIALS = itertools.count()
#: while set (in the reader's worker process, parsers.parallel), `add` renders into it
_recording: list[tuple[int, Rendered]] | None = None


@contextmanager
def recording() -> Iterator[list[tuple[int, Rendered]]]:
    """Every PcapReport.add within renders into the list (report serial, piece) and keeps
    nothing: `replay` then keeps the pieces, in the other process (the reports were forked)."""
    global _recording
    pieces: list[tuple[int, Rendered]] = []
    outer, _recording = _recording, pieces
    try:
        yield pieces
    finally:
        _recording = outer


def replay(pieces: list[tuple[int, Rendered]]) -> None:
    for serial, piece in pieces:
        _REPORTS[serial].keep(piece)


class PcapReport:
    """Takes each judged connection as it ends, keeps only its rendered output."""

    def __init__(self, view: PcapView) -> None:
        self.view = view
        self.rows = Spool()  # the connection table's rows, cells joined by ROW_SEPARATOR
        self.blocks = Spool()
        self.json_connections = Spool()
        self.json_findings = Spool()
        self.info_only = 0  # connections whose findings are all info: listed, not detailed
        self.info_shown = 0
        self.info_rendered = 0  # while recording: info-only blocks rendered in this process
        self.serial = next(_SERIALS)
        _REPORTS[self.serial] = self

    def add(self, judged: ConnectionResult) -> None:
        if _recording is None:
            self.keep(self.render(judged, self.info_shown < INFO_BLOCKS_SHOWN))
            return
        # Only the first INFO_BLOCKS_SHOWN info-only connections of the whole capture show
        # their block: those judged here are among the first INFO_BLOCKS_SHOWN judged here
        piece = self.render(judged, self.info_rendered < INFO_BLOCKS_SHOWN)
        self.info_rendered += piece.info_only and piece.block is not None
        _recording.append((self.serial, piece))

    def render(self, judged: ConnectionResult, info_block: bool) -> Rendered:
        """`info_block`: render the block of a connection with only info findings too."""
        t, findings, view = judged.transcript, judged.findings, self.view
        if view.json:  # the connection table is text only
            return Rendered(
                t.index,
                json_out.compact(connection_dict(t, findings, judged.selection)),
                tuple(json_out.compact(json_out.finding_dict(f)) for f in findings),
                None,
                False,
                None,
            )
        row = ROW_SEPARATOR.join(connection_row(t))
        failed = has_errors(findings) or outcome(t) not in COMPLETED
        notable = failed or any(f.severity is not Severity.INFO for f in findings)
        info_only = bool(findings) and not (view.full or view.show_all or notable)
        block = None
        if (view.full or view.show_all or notable or findings) and (info_block or not info_only):
            block = connection_block(t, findings, judged.selection, view.full)
        return Rendered(t.index, None, (), row, info_only, block)

    def keep(self, piece: Rendered) -> None:
        if piece.json_connection is not None:
            self.json_connections.add(piece.index, piece.json_connection)
            for text in piece.json_findings:
                self.json_findings.add(piece.index, text)
            return
        if piece.row is None:
            return
        self.rows.add(piece.index, piece.row)
        if piece.info_only:
            if self.info_shown >= INFO_BLOCKS_SHOWN:
                self.info_only += 1
                return
            self.info_shown += 1
        if piece.block is not None:
            self.blocks.add(piece.index, piece.block)

    def write(self, out: TextIO, scan: CaptureScan) -> None:
        if self.view.json:
            self.write_json(out, scan)
        else:
            self.write_text(out, scan)

    def write_json(self, out: TextIO, scan: CaptureScan) -> None:
        file_level = [json_out.compact(json_out.finding_dict(f)) for f in scan.file_findings]
        json_out.write_assembled(
            out,
            "pcap",
            {"capture": capture_dict(scan.result)},
            {
                "connections": self.json_connections.texts(),
                "findings": itertools.chain(file_level, self.json_findings.texts()),
            },
            scan.severities,
            pretty=len(self.json_connections) <= PRETTY_JSON_MAX,
        )

    def write_text(self, out: TextIO, scan: CaptureScan) -> None:
        result = scan.result
        keys = ""
        if result.keylog_entries:
            keys = f", key log: {result.keylog_entries} session(s)"
            if result.embedded_secrets:
                keys += " (embedded in the pcapng)"
        head = (
            f"Capture {result.path}: {result.format}, {result.frames} packets, "
            f"{result.tls_connections} TLS connection(s){keys}"
        )
        if result.non_tls_connections:
            head += f", {result.non_tls_connections} non-TLS TCP connection(s) ignored"
        base = scan.first_time or 0.0

        def rows() -> Iterator[list[str]]:  # read back from the spool, in connection order
            for joined in self.rows.texts():
                row = joined.split(ROW_SEPARATOR)
                yield [row[0], f"{float(row[1]) - base:.3f}", *row[2:]]

        out.write(head + "\n")
        if len(self.rows) <= text.LARGE_TABLE:
            out.write(text.table(list(rows()), CONNECTION_HEADERS) + "\n")
        else:  # two passes over the spool (widths, then lines): never every row in memory
            text.write_simple_table(out, rows, CONNECTION_HEADERS)
        if self.info_only:
            out.write(
                f"\n{self.info_only} more completed connection(s) have only info findings "
                "(e.g. TLS 1.3 without a key log): --all or --connection N shows them\n"
            )
        for f in scan.file_findings:
            out.write("\n" + text.finding(f) + "\n")
        for block in self.blocks.texts():
            out.write(block + "\n")
        out.write("\n" + text.counts_line(scan.severities) + "\n")


def capture_dict(result: CaptureResult) -> JsonObject:
    return {
        "path": str(result.path),
        "format": result.format,
        "packets": result.frames,
        "tcp_connections": result.tcp_connections,
        "tls_connections": result.tls_connections,
        "non_tls_connections": result.non_tls_connections,
        "keylog_sessions": result.keylog_entries,
        "embedded_secrets": result.embedded_secrets,
        "problems": result.problems,
    }
