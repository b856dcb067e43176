"""`mtls-inspect pcap FILE`: every TLS connection in a capture, and why the failed ones failed."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from inspector.commands import html_args, java_args, set_args
from inspector.commands.help_examples import examples
from inspector.commands.password_args import add_keystore_password_options
from inspector.system.errors import ExitStatus, InputError

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable

    from inspector.analysis.connection import ConnectionResult
    from inspector.commands import Subcommands
    from inspector.findings import Finding
    from inspector.render.pcap import PcapReport
    from parsers.model import Transcript

    JudgeFn = Callable[[Transcript], list[Finding]]

DEFAULT_SAMPLE = Path(__file__).resolve().parents[2] / "captures" / "several.pcap"
DEFAULT_IDLE = 30.0
#: what a stream cannot do: these need the whole capture before the first line
WHOLE_CAPTURE_OPTIONS = (
    ("html", "--html"),
    ("connection", "--connection"),
    ("all", "--all"),
    ("workers", "--workers"),
    ("scheduler", "--scheduler"),
)


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {value!r}") from None
    if not 0 < seconds <= 86400:
        raise argparse.ArgumentTypeError("give between 0 and 86400 seconds")
    return seconds


def add_parser(sub: Subcommands) -> None:
    p = sub.add_parser(
        "pcap",
        help="explain the TLS handshakes in a pcap/pcapng file",
        description="Decode every TLS connection in a capture and explain why client authentication failed.",
        **examples(
            "mtls-inspect pcap 'captures/tls13-*.pcap' --jsonl   # several files (a rotated set) as one",
            "mtls-inspect pcap captures/tls13-unknown-ca.pcap --keylog captures/tls13-unknown-ca.keys -c 1",
            "STOREPASS=changeit mtls-inspect pcap captures/tls12-unknown-ca.pcap --keystore "
            "captures/letstestcba.jks --storepass-env STOREPASS --html capture.html",
            note="A capture still running: tcpdump -U -i eth0 -w - port 443 | mtls-inspect pcap - "
            "prints a line per connection as it ends (docs/streaming.md).",
        ),
    )
    p.add_argument(
        "file",
        nargs="*",
        help="a .pcap or .pcapng file, or several read as one capture: files, a directory, a quoted "
        "glob, a rotated set (default: the sample captures/several.pcap); - reads a capture streamed "
        "on stdin and prints each connection as it ends (docs/streaming.md)",
    )
    p.add_argument(
        "--follow",
        action="store_true",
        help="FILE is still being written (tcpdump -U -w FILE): print each connection as it ends "
        "and keep reading as the file grows, until Ctrl-C",
    )
    p.add_argument(
        "--idle",
        type=_seconds,
        default=DEFAULT_IDLE,
        metavar="S",
        help=f"with - or --follow: a connection silent for S seconds is reported as it stands "
        f"(default {DEFAULT_IDLE:g})",
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
    from inspector.commands.trust_args import add_truststore_arguments

    add_truststore_arguments(p)
    from inspector.commands.server_args import add_server_options

    add_server_options(p)
    p.add_argument("--json", action="store_true", help="machine-readable output (schema v1)")
    html_args.add_html_options(p)
    set_args.add_set_options(p)
    p.set_defaults(run=run)


def _shown(path: Path) -> Path:
    """The sample's path as the user would type it from here, when it is below the cwd."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


def run(args: argparse.Namespace) -> int:
    # imported here: `--help` and `keystore` must not load the capture decoder
    from inspector.analysis.capture import Rendering, Scope, capture_path, load_keylog, scan_capture
    from inspector.commands.options import load_from_args, parse_date
    from inspector.render.emit import emit
    from inspector.render.pcap import PcapReport, PcapView, set_files_json
    from inspector.render.progress import capture_progress

    java_args.apply_java_version(args)
    if args.file == ["-"] or args.follow or "-" in args.file:
        return _run_stream(args)
    if args.idle != DEFAULT_IDLE:
        raise InputError("--idle applies to a stream (pcap - or --follow)", "drop --idle for a whole file")
    set_args.check_set_args(args)
    many = set_args.is_set(args)
    if many and not args.file:  # --workers N alone: the sample, as without it
        args.file = [str(_shown(DEFAULT_SAMPLE))]
    path = Path("") if many else capture_path(args.file[0] if args.file else None, _shown(DEFAULT_SAMPLE))
    keylog = None
    if args.keylog:
        keylog = load_keylog(Path(args.keylog))
        if not len(keylog):
            raise InputError(
                f"--keylog {args.keylog}: no key log lines in this file",
                "give the NSS key log (SSLKEYLOGFILE) written by the client",
            )
    store = load_from_args(args, Path(args.keystore)) if args.keystore else None
    at = parse_date(args.at) if args.at else None
    html_args.check_html_args(args)
    view = PcapView(json=args.json, full=args.connection is not None, show_all=args.all, jsonl=args.jsonl)
    report = PcapReport(view)
    # --html renders the JSON document: a second report keeps what the page reads of it when
    # stdout gets the text
    page = report
    if args.html and not args.json:
        from inspector.render.pcap_page import PageReport

        page = PageReport()
    reports = (report,) if page is report else (report, page)
    cold = bool(args.html)  # the page's template not loaded yet

    def warm() -> None:
        nonlocal cold
        if cold:
            cold = False
            html_args.warm_up(args)

    def add(judged: ConnectionResult, files: tuple[str, ...] = ()) -> None:
        warm()
        for each in reports:
            each.add(judged, files)

    def render(judged: ConnectionResult) -> object:  # where the connection was judged
        return tuple(each.render(judged) for each in reports)

    def keep(rendered: object) -> None:  # here, in the connection's turn
        warm()
        assert isinstance(rendered, tuple)
        for each, piece in zip(reports, rendered, strict=True):
            each.keep(piece)

    scope = Scope(args.host, args.port, args.connection)
    if many:
        from inspector.analysis.capture_set import SetRequest, scan_set
        from inspector.render.pcap import render_connection
        from inspector.render.progress import set_progress

        request = SetRequest(args.file or [], args.keylog, args.workers, args.scheduler)
        judge = _java_trust(args, None, at, reports)
        scan, summary = scan_set(
            request, keylog, store, at, scope, reports, judge, render_connection, set_progress
        )
        for each in reports:
            each.set_files = set_files_json(summary)
    else:
        with capture_progress(path.stat().st_size) as progress:
            judge = _java_trust(args, path, at, reports)
            # a judge keeps state across connections (the server stacks' table of chains): with
            # one, every connection is judged here; else the reader's worker may judge some
            rendering = Rendering(render, keep) if judge is None else None
            scan = scan_capture(path, keylog, store, at, scope, add, progress, judge, rendering)
    status = ExitStatus.ERROR_FINDINGS if scan.errors else ExitStatus.OK
    emit(lambda out: report.write(out, scan), status)
    if args.html:  # after the report: the terminal ends with where the page is
        html_args.write_page(args, page.document_source(scan))
    return status


def _run_stream(args: argparse.Namespace) -> int:
    """`pcap -` / `pcap --follow FILE`: a line per connection as it ends, the summary at the end
    of the input or at Ctrl-C (then exit 130)."""
    from inspector.analysis.capture import Scope, load_keylog
    from inspector.analysis.streaming import StreamInput, check_stream_input, stream_capture
    from inspector.commands.options import load_from_args, parse_date
    from inspector.findings import has_errors
    from inspector.render.emit import silence_stdout
    from inspector.render.pcap_stream import StreamPrinter

    if not args.file:
        raise InputError("--follow needs the FILE being written", "mtls-inspect pcap --follow FILE")
    if len(args.file) > 1:
        raise InputError(
            f"a stream is one input, not {len(args.file)} ({' '.join(args.file[:3])}…)",
            "give - alone (or --follow FILE); to read several saved files: mtls-inspect pcap A B C",
        )
    path = None if args.file[0] == "-" else Path(args.file[0])
    spec = StreamInput(path, args.follow, args.idle)
    for name, option in WHOLE_CAPTURE_OPTIONS:
        if getattr(args, name):
            raise InputError(
                f"{option} needs the whole capture, not a stream ({spec.name})",
                "save the capture (tcpdump -w FILE), then run mtls-inspect pcap FILE " + option,
            )
    check_stream_input(spec)
    keylog = load_keylog(Path(args.keylog)) if args.keylog else None
    store = load_from_args(args, Path(args.keystore)) if args.keystore else None
    at = parse_date(args.at) if args.at else None
    printer = StreamPrinter(json=args.json or args.jsonl)  # a stream's JSON is JSON Lines already
    judge = _java_trust(args, Path(spec.name), at)
    errors_judged = False

    def show(judged: ConnectionResult) -> None:
        nonlocal errors_judged
        errors_judged = errors_judged or has_errors(judged.findings)
        printer.connection(judged)

    try:
        stream = stream_capture(
            spec,
            keylog,
            store,
            at,
            Scope(args.host, args.port),
            show,
            judge,
            lambda why: printer.restarted(spec.name, why),
        )
        printer.summary(stream)
    except BrokenPipeError:
        # the reader went away (`| head -1`): nobody to tell the rest, so the reading stops; the
        # status is, as for a file's report, the findings' — those judged until then (it was 0
        # or 1 depending on whether the reader left before the summary's write)
        silence_stdout()
        return ExitStatus.ERROR_FINDINGS if errors_judged else ExitStatus.OK
    if stream.stopped:
        return ExitStatus.INTERRUPTED
    return ExitStatus.ERROR_FINDINGS if stream.scan.errors else ExitStatus.OK


def _java_trust(
    args: argparse.Namespace, path: Path | None, at: dt.datetime | None, reports: tuple[PcapReport, ...] = ()
) -> JudgeFn | None:
    """With --truststore: each server chain judged as the JDK's PKIX trust manager would; with
    --server-ca: each client chain judged by the partner's server stacks (their table kept for
    `reports`)."""
    judges: list[JudgeFn] = []
    label = str(path) if path else "capture set"
    if args.truststore:
        from inspector.analysis.trust import judge_transcript
        from inspector.commands.trust_args import truststore_source

        source = truststore_source(args)
        assert source is not None  # args.truststore is set
        judges.append(lambda t: judge_transcript(source, t, label, at))
    if getattr(args, "server_ca", None) or getattr(args, "server_stack", None):
        from inspector.commands.server_args import server_trust_from_args, transcript_judge

        trust = server_trust_from_args(args)
        assert trust is not None
        judge, chains = transcript_judge(args, trust, at, label)
        judges.append(judge)
        for report in reports:
            report.server = chains
    if not judges:
        return None
    return lambda t: [f for judge in judges for f in judge(t)]
