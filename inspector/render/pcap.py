"""The `pcap` report, text or JSON, assembled while the capture is read.

Each connection is rendered as it ends and only its output is kept (parked on disk past a few
MB): no transcript outlives its connection, so memory stays flat whatever the capture holds.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
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

    def add(self, judged: ConnectionResult) -> None:
        t, findings, view = judged.transcript, judged.findings, self.view
        if view.json:  # the connection table is text only
            self.json_connections.add(
                t.index, json_out.compact(connection_dict(t, findings, judged.selection))
            )
            for f in findings:
                self.json_findings.add(t.index, json_out.compact(json_out.finding_dict(f)))
            return
        self.rows.add(t.index, ROW_SEPARATOR.join(connection_row(t)))
        failed = has_errors(findings) or outcome(t) not in COMPLETED
        notable = failed or any(f.severity is not Severity.INFO for f in findings)
        if findings and not (view.full or view.show_all or notable):
            if self.info_shown >= INFO_BLOCKS_SHOWN:
                self.info_only += 1
                return
            self.info_shown += 1
        if view.full or view.show_all or notable or findings:
            self.blocks.add(t.index, connection_block(t, findings, judged.selection, view.full))

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
