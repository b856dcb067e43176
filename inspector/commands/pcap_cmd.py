"""`mtls-inspect pcap FILE`: every TLS connection in a capture, and why the failed ones failed."""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from inspector import certs as C
from inspector.commands import java_args
from inspector.errors import ExitStatus, InputError
from inspector.findings import (
    Evidence,
    Finding,
    Location,
    Severity,
    has_errors,
    make,
    sort_findings,
)
from inspector.passwords import add_keystore_password_options
from inspector.render import json_out, text
from inspector.render.spool import Spool

if TYPE_CHECKING:
    from inspector.keystore.model import Keystore
    from inspector.selection import Selection
    from parsers.capture import CaptureResult
    from parsers.model import Transcript

INFO_BLOCKS_SHOWN = 20  # connections detailed for info findings alone; beyond, only counted
PRETTY_JSON_MAX = 50  # connections; beyond, compact JSON (pipe through jq to read it)
DEFAULT_SAMPLE = Path(__file__).resolve().parents[2] / "captures" / "several.pcap"


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "pcap",
        help="explain the TLS handshakes in a pcap/pcapng file",
        description="Decode every TLS connection in a capture and explain why client authentication failed.",
    )
    p.add_argument(
        "file", nargs="?", help="a .pcap or .pcapng file (default: the sample captures/several.pcap)"
    )
    p.add_argument(
        "--keylog",
        metavar="F",
        help="NSS key log (SSLKEYLOGFILE) to decrypt TLS 1.3 handshakes and TLS 1.2 records",
    )
    p.add_argument(
        "--keystore",
        metavar="F",
        help="the client's keystore: which key entry a Java client would have chosen",
    )
    add_keystore_password_options(p)
    p.add_argument("--connection", "-c", type=int, metavar="N", help="show connection N in full")
    p.add_argument("--host", help="only connections to or from this address")
    p.add_argument("--port", type=int, help="only connections on this TCP port")
    p.add_argument("--all", action="store_true", help="show ladders of successful connections too")
    p.add_argument(
        "--at",
        metavar="YYYY-MM-DD",
        help="judge certificate validity at this date (default: the time of each connection)",
    )
    java_args.add_java_version_option(p)
    p.add_argument("--json", action="store_true", help="machine-readable output (schema v1)")
    p.set_defaults(run=run)


def _shown(path: Path) -> Path:
    """The sample's path as the user would type it from here, when it is below the cwd."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


def _progress(size: int) -> Any:
    if not sys.stderr.isatty() or size < 50 << 20:
        return None

    def show(done: int, frames: int) -> None:
        print(
            f"\r  {done / size:5.1%}  {done >> 20} of {size >> 20} MiB, {frames} packets",
            end="",
            file=sys.stderr,
            flush=True,
        )

    return show


def run(args: argparse.Namespace) -> int:
    from parsers.capture import CaptureFormatError
    from parsers.keylog import KeyLog
    from parsers.parallel import read_capture_parallel

    java_args.apply_java_version(args)
    path = Path(args.file) if args.file else _shown(DEFAULT_SAMPLE)
    if not path.exists():
        raise InputError(f"{path}: no such file", "check the path")
    if path.is_dir():
        raise InputError(f"{path}: is a directory", "give a .pcap or .pcapng file")
    keylog = None
    if args.keylog:
        keylog = KeyLog()
        from inspector.keystore import read_bytes

        keylog.add_text(read_bytes(Path(args.keylog)).decode("utf-8", "replace"))
        if not len(keylog):
            raise InputError(
                f"--keylog {args.keylog}: no key log lines in this file",
                "give the NSS key log (SSLKEYLOGFILE) written by the client",
            )
    store = None
    if args.keystore:
        from inspector.commands.keystore_cmd import load_from_args

        store = load_from_args(args, Path(args.keystore))
    at = None
    if args.at:
        from inspector.commands.keystore_cmd import parse_date

        at = parse_date(args.at)
    report = Report(args, path, store, at)
    try:
        result = read_capture_parallel(path, keylog, _progress(path.stat().st_size), report.add)
    except CaptureFormatError as exc:
        raise InputError(f"{path}: {exc}", "give a pcap or pcapng capture file") from None
    finally:
        if sys.stderr.isatty():
            print("\r\033[K", end="", file=sys.stderr)
    if args.connection is not None and args.connection not in report.rows:
        raise InputError(
            f"{path}: no TLS connection #{args.connection}", f"connections here: 1..{result.tls_connections}"
        )
    file_findings = _file_findings(result, path)
    report.count(file_findings)
    if args.json:
        report.write_json(sys.stdout, result, file_findings)
    else:
        report.write_text(sys.stdout, result, file_findings)
    return ExitStatus.ERROR_FINDINGS if report.errors else ExitStatus.OK


class Report:
    """Takes each transcript as its connection ends, keeps only its rendered output.

    This is what keeps `pcap` memory bounded on large captures: no transcript outlives its
    connection; only table rows, text blocks of the connections worth showing, and JSON
    fragments remain.
    """

    def __init__(
        self, args: argparse.Namespace, path: Path, store: Keystore | None, at: dt.datetime | None
    ) -> None:
        self.args, self.path, self.store, self.at = args, path, store, at
        self.rows: dict[int, list[str]] = {}
        self.blocks = Spool()
        self.json_connections = Spool()
        self.json_findings = Spool()
        self.severities: dict[str, int] = {s.value: 0 for s in Severity}
        self.errors = False
        self.first_time: float | None = None
        self.info_only = 0  # connections whose findings are all info: listed, not detailed
        self.info_shown = 0

    def count(self, findings: list[Finding]) -> None:
        for f in findings:
            self.severities[f.severity.value] += 1
        self.errors = self.errors or has_errors(findings)

    def add(self, t: Transcript) -> None:
        from inspector.rules.wire_rules import check_transcript

        if self.first_time is None or t.start_time < self.first_time:
            self.first_time = t.start_time
        if not _selected(t, self.args) or self.args.connection not in (None, t.index):
            return
        findings = sort_findings(check_transcript(t, self.store, str(self.path), self.at))
        self.count(findings)
        self.rows[t.index] = connection_row(t)
        if self.args.json:
            self.json_connections.add(
                t.index, json_out.compact(connection_dict(t, findings, self.store, self.at))
            )
            for f in findings:
                self.json_findings.add(t.index, json_out.compact(json_out.finding_dict(f)))
            return
        full = self.args.connection is not None
        failed = has_errors(findings) or outcome(t) not in ("completed", "completed? (encrypted)")
        notable = failed or any(f.severity is not Severity.INFO for f in findings)
        if findings and not (full or self.args.all or notable):
            if self.info_shown >= INFO_BLOCKS_SHOWN:
                self.info_only += 1
                return
            self.info_shown += 1
        if full or self.args.all or notable or findings:
            self.blocks.add(t.index, connection_block(t, findings, self.store, self.path, self.at, full))

    def write_json(self, out: TextIO, result: CaptureResult, file_findings: list[Finding]) -> None:
        file_level = [json_out.compact(json_out.finding_dict(f)) for f in file_findings]
        json_out.write_assembled(
            out,
            "pcap",
            {"capture": capture_dict(result)},
            {
                "connections": self.json_connections.texts(),
                "findings": itertools.chain(file_level, self.json_findings.texts()),
            },
            self.severities,
            pretty=len(self.json_connections) <= PRETTY_JSON_MAX,
        )

    def write_text(self, out: TextIO, result: CaptureResult, file_findings: list[Finding]) -> None:
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
        base = self.first_time or 0.0
        rows = [[row[0], f"{float(row[1]) - base:.3f}", *row[2:]] for _, row in sorted(self.rows.items())]
        out.write(head + "\n")
        out.write(
            text.table(
                rows,
                [
                    "#",
                    "time",
                    "client → server",
                    "SNI",
                    "version",
                    "cert requested",
                    "client cert sent",
                    "outcome",
                ],
            )
            + "\n"
        )
        if self.info_only:
            out.write(
                f"\n{self.info_only} more completed connection(s) have only info findings "
                "(e.g. TLS 1.3 without a key log): --all or --connection N shows them\n"
            )
        for f in file_findings:
            out.write("\n" + text.finding(f) + "\n")
        for block in self.blocks.texts():
            out.write(block + "\n")
        counts = self.severities

        def plural(n: int, word: str) -> str:
            return f"{n} {word}{'' if n == 1 else 's'}"

        out.write(
            f"\n{plural(counts['error'], 'error')}, "
            f"{plural(counts['warning'], 'warning')}, {counts['info']} info\n"
        )


def _selected(t: Transcript, args: argparse.Namespace) -> bool:
    if args.host and args.host not in (t.client.ip, t.server.ip):
        return False
    return not (args.port and args.port not in (t.client.port, t.server.port))


def _file_findings(result: CaptureResult, path: Path) -> list[Finding]:
    from inspector.rules.wire_rules import INCOMPLETE

    if not result.problems:
        return []
    return [
        make(
            INCOMPLETE,
            f"{path.name}: {result.problems[0]}",
            location=Location(file=str(path)),
            evidence=[Evidence(str(path), p) for p in result.problems[:6]],
            fix="capture again (tcpdump -s 0 -w FILE) and copy the file whole",
        )
    ]


# --- summaries ---------------------------------------------------------------------------------


def requested(t: Transcript) -> str:
    from parsers.model import CertificateRequest

    if t.first(CertificateRequest) is not None:
        return "yes"
    if t.resumed:
        return "no (resumed)"
    if t.tls13 and not t.decrypted:
        return "? (encrypted)"
    return "no" if t.server_hello is not None else "-"


def sent(t: Transcript) -> str:
    from parsers.model import Certificate, Direction

    event = t.first(Certificate, Direction.CLIENT)
    if event is None or not isinstance(event.message, Certificate):
        return "? (encrypted)" if t.tls13 and not t.decrypted and not t.resumed else "-"
    if event.message.empty:
        return "empty"
    return C.short_dn(event.message.chain[0].subject)


def outcome(t: Transcript) -> str:
    from parsers.model import Alert, Direction, EncryptedRecords, Outcome

    state = t.outcome
    if state is Outcome.ALERT:
        alert = next(e for e in t.events if isinstance(e.message, Alert) and e.message.fatal)
        return f"{alert.label.removeprefix('Alert ')} from {alert.direction.value}"
    if state is Outcome.RESET and t.reset_by is not None:
        return f"reset by {t.reset_by.value}"
    if state is Outcome.COMPLETED and t.done_inferred:
        last = t.events[-1]
        if (
            last.direction is Direction.SERVER
            and isinstance(last.message, EncryptedRecords)
            and last.message.sizes == (19,)
            and t.fin_by
        ):
            return "closed after a 19-byte record (alert?)"
        return "completed? (encrypted)"
    return str(state.value)


def connection_row(t: Transcript) -> list[str]:
    """A table row; the time column holds the absolute start until the table is made."""
    from parsers.model import version_name

    return [
        str(t.index),
        repr(t.start_time),
        f"{t.client} → {t.server}",
        t.server_name or "-",
        version_name(t.version),
        requested(t),
        sent(t),
        outcome(t),
    ]


def connection_block(
    t: Transcript,
    findings: list[Finding],
    store: Keystore | None,
    path: Path,
    at: dt.datetime | None,
    full: bool,
) -> str:
    from inspector.render.ladder import ladder
    from inspector.rules.wire_rules import WireContext, selection_for

    parts = [
        f"\n── connection #{t.index}: {t.client} → {t.server}"
        f"{' (' + t.server_name + ')' if t.server_name else ''} ──",
        ladder(t),
    ]
    if full:
        parts.append(details(t))
    if store is not None:
        sel = selection_for(WireContext(t, store, str(path), at))
        if sel is not None:
            parts.append(selection_text(sel))
    parts.append("")
    parts.append(text.findings_block(findings))
    return "\n".join(parts)


def details(t: Transcript) -> str:
    from parsers.model import (
        CERTIFICATE_TYPES,
        Certificate,
        CertificateRequest,
        Direction,
        scheme_name,
    )

    lines = []
    req_event = t.first(CertificateRequest)
    if req_event is not None and isinstance(req_event.message, CertificateRequest):
        req = req_event.message
        lines.append(
            f"\nCertificateRequest ({'TLS 1.3' if req.tls13 else 'TLS 1.2'}) at {req_event.time:.4f} s:"
        )
        lines.append(f"  CA names the server accepts ({len(req.ca_names)}):")
        lines += [f"    - {n.text}" for n in req.ca_names] or ["    (none: any certificate)"]
        if req.certificate_types:
            lines.append(
                "  certificate types: "
                + ", ".join(CERTIFICATE_TYPES.get(x, str(x)) for x in req.certificate_types)
            )
        if req.signature_algorithms:
            lines.append(
                "  signature algorithms: " + ", ".join(scheme_name(s) for s in req.signature_algorithms)
            )
        if req.signature_algorithms_cert:
            lines.append(
                "  signature algorithms (cert): "
                + ", ".join(scheme_name(s) for s in req.signature_algorithms_cert)
            )
    for direction in (Direction.SERVER, Direction.CLIENT):
        event = t.first(Certificate, direction)
        if event is None or not isinstance(event.message, Certificate):
            continue
        lines.append(f"\n{direction.value.capitalize()} chain sent at {event.time:.4f} s:")
        if event.message.empty:
            lines.append("  (empty)")
        for i, cert in enumerate(event.message.chain):
            lines.append(
                f"  [{i}] {C.dn(cert.subject)}  (issuer {C.dn(cert.issuer)}, "
                f"{cert.not_valid_before_utc.date()} .. {cert.not_valid_after_utc.date()})"
            )
    return "\n".join(lines)


def selection_text(sel: Selection) -> str:
    rows = [
        [c.alias, c.key_type, "yes" if c.accepted else "no", "; ".join(c.reasons)] for c in sel.candidates
    ]
    lines = [
        f"\nWhat a Java client would send for this CertificateRequest (simulating {sel.java or 'Java'}):",
        text.table(rows, ["alias", "key", "acceptable", "why"]),
    ]
    if sel.request_aborts:
        lines.append(f"  {sel.java} aborts the handshake: {sel.request_aborts}")
    elif sel.sunx509_fails:
        lines.append(f"  SunX509: fails — {sel.sunx509_fails}")
    else:
        lines.append(
            "  SunX509: " + (_pick(sel.sunx509) or "nothing (empty Certificate)") + f" — {sel.sunx509_why}"
        )
    if not sel.request_aborts:
        lines.append(
            "  PKIX:    " + (_pick(sel.pkix) or "nothing (empty Certificate)") + f" — {sel.pkix_why}"
        )
    lines += [
        f"  then aborts: {said}" for said in dict.fromkeys((sel.sunx509_aborts, sel.pkix_aborts)) if said
    ]
    if sel.openssl_sends:
        lines.append(
            f"  OpenSSL/curl: '{sel.openssl_sends}' (the configured certificate, whatever the CA names say)"
        )
    return "\n".join(lines)


def _pick(aliases: list[str]) -> str:
    if not aliases:
        return ""
    if len(aliases) == 1:
        return f"'{aliases[0]}'"
    return "one of " + ", ".join(f"'{a}'" for a in aliases) + " (Java's order is not defined)"


# --- JSON --------------------------------------------------------------------------------------


def capture_dict(result: CaptureResult) -> dict[str, Any]:
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


_SUMMARIES: dict[int, tuple[Any, dict[str, str]]] = {}


def cert_summary(cert: Any) -> dict[str, str]:
    """Memoised: the decoder shares one certificate object across every connection that sent
    the same bytes, and a large capture sends the same few chains thousands of times."""
    hit = _SUMMARIES.get(id(cert))
    if hit is not None and hit[0] is cert:
        return hit[1]
    summary = {
        "subject": C.dn(cert.subject),
        "issuer": C.dn(cert.issuer),
        "not_after": cert.not_valid_after_utc.isoformat(),
        "sha256": C.fingerprint(cert),
    }
    _SUMMARIES[id(cert)] = (cert, summary)
    return summary


def event_dict(event: Any) -> dict[str, Any]:
    from parsers.model import Alert, Certificate, CertificateRequest

    m = event.message
    item: dict[str, Any] = {
        "direction": event.direction.value,
        "time": round(event.time, 6),
        "frame": event.frame,
        "message": event.label,
        "encrypted": event.encrypted,
    }
    if isinstance(m, Alert):
        item["alert"] = {
            "level": m.level,
            "description": m.description,
            "name": None if m.encrypted else m.name,
            "readable": not m.encrypted,
        }
    if isinstance(m, Certificate):
        item["chain"] = [cert_summary(c) for c in m.chain]
    if isinstance(m, CertificateRequest):
        item["ca_names"] = [n.text for n in m.ca_names]
        item["certificate_types"] = list(m.certificate_types)
        item["signature_algorithms"] = list(m.signature_algorithms)
    return item


def connection_dict(
    t: Transcript, findings: list[Finding], store: Keystore | None, at: dt.datetime | None
) -> dict[str, Any]:
    from inspector.rules.wire_rules import WireContext, selection_for
    from parsers.model import version_name

    item: dict[str, Any] = {
        "index": t.index,
        "client": str(t.client),
        "server": str(t.server),
        "server_name": t.server_name,
        "version": version_name(t.version) if t.version else None,
        "start_time": dt.datetime.fromtimestamp(t.start_time, dt.timezone.utc).isoformat(),
        "decrypted": t.decrypted,
        "cert_requested": requested(t),
        "client_cert": sent(t),
        "outcome": outcome(t),
        "events": [event_dict(e) for e in t.events],
        "problems": [{"kind": p.kind, "detail": p.detail, "frame": p.frame} for p in t.problems],
        "finding_codes": [f.code for f in findings],
    }
    if store is not None:
        sel = selection_for(WireContext(t, store, None, at))
        if sel is not None:
            from inspector.commands.select_cmd import selection_dict

            item["selection"] = selection_dict(sel)
    return item
