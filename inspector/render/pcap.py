"""The `pcap` report, text or JSON, assembled while the capture is read.

Each connection is rendered as it ends and only its output is kept (parked on disk past a few
MB): no transcript outlives its connection, so memory stays flat whatever the capture holds.
"""

from __future__ import annotations

import functools
import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePath
from typing import TYPE_CHECKING, TextIO

from inspector import __version__
from inspector.findings import Severity, has_errors
from inspector.render import json_out, text
from inspector.render.connection_json import connection_text
from inspector.render.json_out import JsonObject
from inspector.render.spool import Spool
from inspector.render.summary import COMPLETED, outcome
from inspector.render.transcript import CONNECTION_HEADERS, connection_block, connection_row
from inspector.system.times import utc_from_timestamp
from parsers.printable import escape_text

if TYPE_CHECKING:
    from inspector.analysis.capture import CaptureScan
    from inspector.analysis.connection import ConnectionResult
    from inspector.analysis.many import SetSummary
    from inspector.analysis.server_chains import ServerChains
    from inspector.render.html.source import DocumentSource
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
    jsonl: bool = False  # --jsonl: one JSON object a line (a header, then one per connection)


@dataclass(frozen=True)
class Rendered:
    """One connection's pieces of a report: plain strings, cheap to send between processes."""

    index: int
    json: str = ""  # the connection's object (--json), or its line (--jsonl)
    findings: tuple[str, ...] = ()  # --json: its findings' objects
    row: str = ""  # text: its table row, cells joined by ROW_SEPARATOR
    block: str = ""  # text: its ladder and findings, "" when never shown
    notable: bool = False
    has_findings: bool = False

    def renumbered(self, stand_in: int, number: int) -> Rendered:
        """Rendered under the stand-in number `stand_in` (a 13-digit number no capture field
        holds), now numbered `number` wherever the number appears (the table, the ladder's
        title, findings' locations and hints)."""
        old, new = str(stand_in), str(number)
        return Rendered(
            number,
            self.json.replace(old, new),
            tuple(f.replace(old, new) for f in self.findings),
            self.row.replace(old, new),
            self.block.replace(old, new),
            self.notable,
            self.has_findings,
        )


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
        #: several files read as one: each file's summary (the capture's `files`)
        self.set_files: list[JsonObject] | None = None
        #: --server-ca: the server stacks' verdicts on each distinct client chain
        self.server: ServerChains | None = None

    def add(self, judged: ConnectionResult, files: tuple[str, ...] = ()) -> None:
        """`files`: of a set, the file the connection began in (and the one it ended in, when
        it crossed a file boundary)."""
        self.keep(self.render(judged), files)

    def render(self, judged: ConnectionResult) -> Rendered:
        # an info-only connection's ladder past the ones shown would be dropped by `keep`: not
        # drawn (in the reader's worker this count stays 0: it draws them, `keep` decides here)
        return render_connection(self.view, judged, info_block=self.info_shown < INFO_BLOCKS_SHOWN)

    def keep(self, r: Rendered, files: tuple[str, ...] = ()) -> None:
        view = self.view
        if view.json or view.jsonl:
            text = r.json
            if files:  # the last member of the connection's object
                text = text[:-1] + _files_member(files)
            self.json_connections.add(r.index, text)
            for f in r.findings:
                self.json_findings.add(r.index, f)
            return
        # of a set, the file names (the set's files usually share one directory)
        where = ROW_SEPARATOR + escape_text(" … ".join(PurePath(f).name for f in files)) if files else ""
        self.rows.add(r.index, r.row + where)
        if r.has_findings and not (view.full or view.show_all or r.notable):
            if self.info_shown >= INFO_BLOCKS_SHOWN:
                self.info_only += 1
                return
            self.info_shown += 1
        if r.block:
            self.blocks.add(r.index, r.block)

    def write(self, out: TextIO, scan: CaptureScan) -> None:
        if self.view.jsonl:
            self.write_jsonl(out, scan)
        elif self.view.json:
            self.write_json(out, scan)
        else:
            self.write_text(out, scan)

    def write_json(self, out: TextIO, scan: CaptureScan) -> None:
        file_level = [json_out.compact(json_out.finding_dict(f)) for f in scan.file_findings]
        json_out.write_assembled(
            out,
            "pcap",
            self.payload(scan),
            {
                "connections": self.json_connections.texts(),
                "findings": itertools.chain(file_level, self.json_findings.texts()),
            },
            scan.severities,
            pretty=len(self.json_connections) <= PRETTY_JSON_MAX,
        )

    def payload(self, scan: CaptureScan) -> JsonObject:
        """The document's members before its lists (the HTML page reads the same)."""
        head: JsonObject = {"capture": self.capture(scan.result)}
        if self.server is not None:
            from inspector.render.server_verdicts import chains_json, no_chain_line

            head["server_verdicts"] = chains_json(self.server, "connection")
            if not self.server.groups:
                head["server_verdicts_note"] = no_chain_line(self.server, "connection")
        return head

    def document_source(self, scan: CaptureScan) -> DocumentSource:
        """The --json document (`write_json`'s), read part by part from the spools for the
        HTML page: a capture of thousands of connections is never held whole."""
        from inspector.render.html.source import DocumentSource

        head: JsonObject = {
            "schema": "mtls-inspector/pcap",
            "schema_version": json_out.SCHEMA_VERSION,
            "tool_version": __version__,
            **self.payload(scan),
            "summary": scan.severities,
        }
        file_level = [json_out.compact(json_out.finding_dict(f)) for f in scan.file_findings]
        return DocumentSource(
            json.loads(json_out.compact(head)),  # as a reader of the document would see it
            (*(key for key in head if key != "summary"), "connections", "findings", "summary"),
            self.json_connections.texts,
            lambda: itertools.chain(file_level, self.json_findings.texts()),
        )

    def capture(self, result: CaptureResult) -> JsonObject:
        summary = capture_dict(result)
        if self.set_files is not None:
            summary["files"] = self.set_files
        return summary

    def write_jsonl(self, out: TextIO, scan: CaptureScan) -> None:
        """JSON Lines for very large runs: a header line (the capture and the counts), then one
        line per connection with its findings, then the file-level findings: each line can be
        read on its own (`jq -c 'select(.record == "connection")'`)."""
        head: JsonObject = {
            "schema": "mtls-inspector/pcap-lines",
            "schema_version": json_out.SCHEMA_VERSION,
            "tool_version": __version__,
            "record": "capture",
            "capture": self.capture(scan.result),
            "summary": scan.severities,
        }
        out.write(json_out.compact(head) + "\n")
        for line in self.json_connections.texts():
            out.write(line + "\n")
        if self.server is not None:  # after the connections: the verdicts name them
            from inspector.render.server_verdicts import chains_json

            items = chains_json(self.server, "connection")
            out.write(json_out.compact({"record": "server_verdicts", "server_verdicts": items}) + "\n")
        for f in scan.file_findings:
            out.write(json_out.compact({"record": "finding", **json_out.finding_dict(f)}) + "\n")

    def write_text(self, out: TextIO, scan: CaptureScan) -> None:
        result = scan.result
        keys = ""
        if result.keylog_entries:
            keys = f", key log: {result.keylog_entries} session(s)"
            if result.embedded_secrets:
                keys += " (embedded in the pcapng)"
        what = f"Capture {result.path}"
        skipped: list[str] = []
        if self.set_files is not None:
            names = [str(f["path"]) for f in self.set_files if "skipped" not in f]
            skipped = [f"{f['path']} ({f['skipped']})" for f in self.set_files if "skipped" in f]
            span = names[0] + (" … " + names[-1] if len(names) > 1 else "")
            what = f"Capture set of {len(names)} file(s) ({escape_text(span)})"
        head = (
            f"{what}: {result.format}, {result.frames} packets, "
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
        if skipped:
            out.write(f"Skipped, not captures: {escape_text(', '.join(skipped))}\n")
        headers = [*CONNECTION_HEADERS, "file"] if self.set_files is not None else CONNECTION_HEADERS
        if len(self.rows) <= text.LARGE_TABLE:
            out.write(text.table(list(rows()), headers) + "\n")
        else:  # two passes over the spool (widths, then lines): never every row in memory
            text.write_simple_table(out, rows, headers)
        if self.info_only:
            out.write(
                f"\n{self.info_only} more completed connection(s) have only info findings "
                "(e.g. TLS 1.3 without a key log): --all or --connection N shows them\n"
            )
        for f in scan.file_findings:
            out.write("\n" + text.finding(f) + "\n")
        for block in self.blocks.texts():
            out.write(block + "\n")
        if self.server is not None:
            from inspector.render.server_verdicts import chains_text

            out.write(chains_text(self.server, "connection") + "\n")
        out.write("\n" + text.counts_line(scan.severities) + "\n")


@functools.lru_cache(maxsize=4096)
def _files_member(files: tuple[str, ...]) -> str:
    """`,"files":[…]}`, made once per pair of files (a set has few; 48,000 connections made it
    48,000 times, 4 % of the merge)."""
    return ',"files":' + json_out.compact(list(files)) + "}"


def render_connection(view: PcapView, judged: ConnectionResult, info_block: bool = True) -> Rendered:
    """The connection's pieces of a report with this view, before they are kept (a set renders
    them where the file is decoded, under a stand-in number: see `Rendered.renumbered`);
    `info_block=False`: no ladder for a connection whose findings are all info (it would not be
    shown)."""
    t, findings = judged.transcript, judged.findings
    if view.json or view.jsonl:  # the connection table is text only
        item = connection_text(t, findings, judged.selection)
        found = tuple(json_out.compact(json_out.finding_dict(f)) for f in findings)
        if view.jsonl:  # {"record":"connection", ...the connection..., "findings":[...]}
            return Rendered(t.index, f'{{"record":"connection",{item[1:-1]},"findings":[{",".join(found)}]}}')
        return Rendered(t.index, item, found)
    failed = has_errors(findings) or outcome(t) not in COMPLETED
    notable = failed or any(f.severity is not Severity.INFO for f in findings)
    shown = view.full or view.show_all or notable or (bool(findings) and info_block)
    block = connection_block(t, findings, judged.selection, view.full) if shown else ""
    row = ROW_SEPARATOR.join(connection_row(t))
    return Rendered(t.index, row=row, block=block, notable=notable, has_findings=bool(findings))


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


def set_files_json(done: SetSummary) -> list[JsonObject]:
    """The files of a set, in reading order, for the capture's `files`; then the counts the set
    adds (connections joined across files, files of a directory skipped)."""
    files: list[JsonObject] = [
        {
            "path": f.path,
            "format": f.format,
            "bytes": f.size,
            "packets": f.packets,
            "first_time": utc_from_timestamp(f.first_time).isoformat() if f.first_time else None,
            "last_time": utc_from_timestamp(f.last_time).isoformat() if f.last_time else None,
        }
        for f in done.files
    ]
    files += [{"path": path, "skipped": why} for path, why in done.skipped]
    return files
