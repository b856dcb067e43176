"""`mtls-inspect log FILE|-`: the Java client's own javax.net.debug log, explained.

The log is judged by inspector/analysis/log.py (every handshake becomes the transcript the pcap
decoder produces; a server's log or a client's error text goes to their readers) and written by
inspector/render/log.py through the shared writer.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inspector.commands.help_examples import examples
from inspector.commands.html_args import add_html_options, check_html_args, document_of, write_page
from inspector.commands.password_args import add_keystore_password_options
from inspector.commands.trust_args import add_truststore_options, truststore_source
from inspector.system.errors import ExitStatus

if TYPE_CHECKING:
    import datetime as dt

    from inspector.analysis.log import LogRequest
    from inspector.keystore.model import Keystore


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "log",
        help="explain a Java client's javax.net.debug log (JDK 8 to 25), or a pasted Java exception",
        description="Read the Java client's own debug log (-Djavax.net.debug=ssl:handshake:verbose, "
        "all or ssl; also .gz, or - for stdin), rebuild every handshake in it and explain the failed ones.",
        **examples(
            "mtls-inspect log captures/java-nocert12.log",
            "STOREPASS=changeit mtls-inspect log captures/java-nocert12.log --keystore "
            "captures/letstestcba.jks --storepass-env STOREPASS",
            "java -Djavax.net.debug=ssl:handshake:verbose -jar app.jar 2>&1 | mtls-inspect log -",
        ),
    )
    p.add_argument(
        "file", help="the log file (its stderr on JDK 11+, stdout on JDK 8); .gz works; - reads stdin"
    )
    p.add_argument(
        "--keystore", metavar="F", help="the client's keystore: which key entry Java would have chosen"
    )
    add_keystore_password_options(p)
    add_truststore_options(p)
    p.add_argument(
        "--jdk-cacerts",
        action="store_true",
        help="also judge the server's chain with this machine's JDK cacerts (never the log's own "
        "truststore: at most an info)",
    )
    p.add_argument("--connection", "-c", type=int, metavar="N", help="show handshake N in full")
    p.add_argument("--all", action="store_true", help="show ladders of successful handshakes too")
    p.add_argument(
        "--at", metavar="YYYY-MM-DD", help="judge validity at this date (default: each handshake's time)"
    )
    from inspector.commands.server_args import add_server_options

    add_server_options(p)
    p.add_argument("--json", action="store_true", help="machine-readable output (schema v1)")
    add_html_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from inspector.analysis.log import HandshakeResult, LogScan, analyse_log
    from inspector.render.emit import emit
    from inspector.render.log import LogReport, LogView, emit_other_reader

    request = _request(args)
    report = LogReport(LogView(args.json, args.connection, args.all))
    # --html renders the JSON document: a second report keeps it when stdout gets the text
    page = LogReport(LogView(True, args.connection, args.all)) if args.html and not args.json else report
    reports = (report,) if page is report else (report, page)

    def add(judged: HandshakeResult) -> None:
        for each in reports:
            each.add(judged)

    scan = analyse_log(request, add)
    if not isinstance(scan, LogScan):  # a server's log, or a client's error text
        if request.server_trust is not None:
            import sys

            sys.stderr.write(
                f"--server-ca {args.server_ca}: not used: {request.shown} is not a Java log, so it "
                "holds no client chain to judge\n"
            )
        return emit_other_reader(scan, json=args.json)
    status = ExitStatus.ERROR_FINDINGS if scan.errors else ExitStatus.OK
    # through the shared writer: a reader gone early (| head -1) leaves the findings' status
    emit(lambda out: report.write(out, scan), status)
    if args.html:  # after the report: the terminal ends with where the page is
        write_page(args, document_of(lambda out: page.write(out, scan)))
    return status


def _request(args: argparse.Namespace) -> LogRequest:
    """The input checked, the keystore and the date read (the truststore is read by the analysis,
    before the log), in the order errors are told."""
    from inspector.analysis.log import LogRequest
    from inspector.system.input_files import check_input, check_stdin

    hint = "give the log file the JVM's stderr was written to"
    if args.file == "-":
        check_stdin(hint)
    else:
        check_input(Path(args.file), hint, pipes=True)
    store: Keystore | None = None
    if args.keystore:
        from inspector.commands.options import load_from_args

        store = load_from_args(args, Path(args.keystore))
    at: dt.datetime | None = None
    if args.at:
        from inspector.commands.options import parse_date

        at = parse_date(args.at)
    check_html_args(args)
    from inspector.commands.server_args import server_trust_from_args

    server_trust = server_trust_from_args(args)
    server_stack = None
    if server_trust is not None and args.server_stack:
        from inspector.server_stacks import Stack

        server_stack = Stack(args.server_stack)
    return LogRequest(
        args.file,
        store=store,
        store_label=args.keystore,
        at=at,
        truststore=truststore_source(args),
        jdk_cacerts=args.jdk_cacerts,
        host=args.host,
        connection=args.connection,
        server_trust=tuple(server_trust) if server_trust is not None else None,
        server_source=str(args.server_ca or ""),
        server_stack=server_stack,
    )
