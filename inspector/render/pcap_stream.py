"""`pcap -` output: one line per connection as it ends, flushed at once; the summary at the end.

Text: the verdict line (the columns of the `pcap` table, then the top finding). JSON: JSON
Lines, one object per connection (`"type": "connection"`) and a last one (`"type": "summary"`),
each carrying the schema name, so a consumer can act on every line as it arrives.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from inspector import __version__
from inspector.render import json_out, text
from inspector.render.connection_json import connection_dict
from inspector.render.json_out import JsonObject
from inspector.render.pcap import capture_dict
from inspector.render.summary import COMPLETED, outcome, requested, sent
from inspector.render.terminal import shown
from inspector.system.times import utc_from_timestamp
from parsers.constants import version_name

if TYPE_CHECKING:
    from inspector.analysis.connection import ConnectionResult
    from inspector.analysis.streaming import StreamScan

SCHEMA = "mtls-inspector/pcap-stream"


def verdict_line(judged: ConnectionResult) -> str:
    """`#N  HH:MM:SS  client → server  SNI  version  cert requested: R  sent: S  outcome  verdict`;
    the verdict is the most severe finding as `severity[code]` (`explain CODE` says more), else
    `ok` for a completed handshake and `no findings` for one that did not get that far."""
    t, findings = judged.transcript, judged.findings
    shown_outcome = outcome(t)
    verdict = "ok" if shown_outcome in COMPLETED else "no findings"
    if findings:
        top = findings[0]
        verdict = f"{top.severity.value}[{top.code}]"
        if len(findings) > 1:
            verdict += f" (+{len(findings) - 1} more)"
    return "  ".join(
        [
            f"#{t.index}",
            utc_from_timestamp(t.start_time).strftime("%H:%M:%S"),
            f"{t.client} → {t.server}",
            t.server_name or "-",
            version_name(t.version),
            f"cert requested: {requested(t)}",
            f"sent: {sent(t)}",
            shown_outcome,
            verdict,
        ]
    )


def _head(kind: str) -> JsonObject:
    return {"schema": SCHEMA, "schema_version": json_out.SCHEMA_VERSION, "type": kind}


def connection_object(judged: ConnectionResult) -> JsonObject:
    return {
        **_head("connection"),
        "connection": connection_dict(judged.transcript, judged.findings, judged.selection),
        "findings": [json_out.finding_dict(f) for f in judged.findings],
    }


def summary_object(stream: StreamScan) -> JsonObject:
    scan = stream.scan
    return {
        **_head("summary"),
        "tool_version": __version__,
        "capture": capture_dict(scan.result),
        "stopped": stream.stopped,
        "connections_shown": stream.connections,
        "connections_failed": stream.failed,
        "findings": [json_out.finding_dict(f) for f in scan.file_findings],
        "summary": scan.severities,
    }


def summary_text(stream: StreamScan) -> str:
    scan, result = stream.scan, stream.scan.result
    what = result.format if result.format != "?" else "no capture header read"
    head = (
        f"{result.path}: {what}, {result.frames} packets, {result.tls_connections} TLS "
        f"connection(s), {stream.failed} with errors"
    )
    if stream.connections != result.tls_connections:
        head += f" ({stream.connections} in --host/--port scope)"
    if result.non_tls_connections:
        head += f", {result.non_tls_connections} non-TLS TCP connection(s) ignored"
    if result.keylog_entries:
        head += f", key log: {result.keylog_entries} session(s)"
    if stream.stopped:
        head += "; stopped by Ctrl-C"
    parts = ["", head]
    parts += ["\n" + text.finding(f) for f in scan.file_findings]
    parts.append(text.counts_line(scan.severities))
    return "\n".join(parts)


class StreamPrinter:
    """Writes to the stdout of the moment (the CLI may wrap it for colour), flushing each line:
    a reader at the other end of a pipe sees a connection as soon as it ends."""

    def __init__(self, json: bool) -> None:
        self.json = json

    def connection(self, judged: ConnectionResult) -> None:
        line = json_out.compact(connection_object(judged)) if self.json else verdict_line(judged)
        self._write(line)

    def summary(self, stream: StreamScan) -> None:
        self._write(json_out.compact(summary_object(stream)) if self.json else summary_text(stream))

    @staticmethod
    def restarted(name: str, reason: str) -> None:
        """One line on stderr, as `tail -F` says it: the followed file is read from its new start
        (the report on stdout goes on: its connections from the new capture follow)."""
        line = f"mtls-inspect: {name}: {reason}; reading it again from its start"
        sys.stderr.write(shown(line, getattr(sys.stderr, "encoding", None)) + "\n")
        sys.stderr.flush()

    @staticmethod
    def _write(line: str) -> None:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
