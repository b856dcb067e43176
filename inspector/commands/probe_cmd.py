"""`mtls-inspect probe HOST[:PORT]`: make the outbound two-way handshake and explain it."""

from __future__ import annotations

import argparse
import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from inspector.commands import html_args, java_args
from inspector.commands.help_examples import examples
from inspector.commands.password_args import add_keystore_password_options
from inspector.commands.proxy_args import add_proxy_options, proxy_from_args
from inspector.system.errors import ExitStatus, InputError

if TYPE_CHECKING:
    from inspector.analysis.probe import ProbeResult
    from inspector.analysis.server_verdicts import ServerJudgement
    from inspector.commands import Subcommands


def add_parser(sub: Subcommands) -> None:
    p = sub.add_parser(
        "probe",
        help="connect to a server with the client's keystore and explain the handshake",
        description="Perform the outbound mutual-TLS handshake "
        "(pyOpenSSL) and explain what the server asked, what a Java client sends, "
        "and why the server accepted or refused it.",
        **examples(
            "mtls-inspect serve --cert captures/server.pem --key captures/server.key --client-ca "
            "captures/acme-root.pem &",
            "STOREPASS=changeit mtls-inspect probe 127.0.0.1:8443 --insecure --keystore "
            "captures/letstestcba.jks --storepass-env STOREPASS",
            "STOREPASS=changeit mtls-inspect probe 127.0.0.1:8443 --ca-file captures/acme-root.pem "
            "--servername localhost --keystore captures/letstestcba.jks --storepass-env STOREPASS "
            "--alias letstestcba --capture probe.pcap --keylog probe.keys",
            note="(the first command starts the sample server on 127.0.0.1:8443; stop it with kill %1)",
        ),
    )
    p.add_argument("target", metavar="HOST[:PORT]", help="the server (port 443 by default)")
    p.add_argument("--keystore", metavar="F", help="the client's keystore")
    add_keystore_password_options(p)
    p.add_argument(
        "--alias",
        help="present this key entry (default: the one a Java client "
        "would choose for the server's CertificateRequest)",
    )
    p.add_argument(
        "--key-manager",
        choices=["PKIX", "SunX509"],
        default="PKIX",
        help="whose choice to present without --alias: PKIX (default; ranks by "
        "validity and EKU, so its pick is determined) or SunX509 (the JDK's default "
        "algorithm: the first acceptable entry it meets; fails at start-up when a key "
        "has its own password)",
    )
    p.add_argument("--servername", help="SNI and the name checked in the server certificate (default: HOST)")
    p.add_argument("--tls-version", choices=["1.2", "1.3"], help="only this TLS version")
    trust = p.add_mutually_exclusive_group()
    trust.add_argument(
        "--ca-file", metavar="F", help="CA(s) to verify the server with (default: the system store)"
    )
    trust.add_argument("--insecure", action="store_true", help="do not check the server")
    p.add_argument(
        "--timeout", type=float, default=10.0, help="connect and total deadline in seconds (default 10)"
    )
    p.add_argument(
        "--http-request",
        metavar="PATH",
        help="after the handshake send GET PATH HTTP/1.1 and read the status line",
    )
    add_proxy_options(p)
    p.add_argument(
        "--post-handshake-auth",
        action="store_true",
        help="offer TLS 1.3 "
        "post-handshake authentication, for servers that ask for the certificate only "
        "after the request (Apache per-location, IIS); Java clients do not offer it",
    )
    p.add_argument("--capture", metavar="OUT.pcap", help="write the connection as a pcap (0600)")
    p.add_argument("--keylog", metavar="OUT.keys", help="write the NSS key log (0600)")
    p.add_argument("--force", action="store_true", help="let --capture/--keylog overwrite an existing file")
    java_args.add_java_version_option(p)
    from inspector.commands.trust_args import add_truststore_arguments

    add_truststore_arguments(p)
    from inspector.commands.server_args import add_server_options

    add_server_options(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    html_args.add_html_options(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    # imported here: `--help` and `keystore` must not load pyOpenSSL or the capture decoder
    from inspector.analysis.probe import ProbeRequest, run_probe
    from inspector.commands.options import load_from_args
    from inspector.findings import has_errors
    from inspector.live.attempt import Target
    from inspector.live.probe import parse_target
    from inspector.render import json_out
    from inspector.render.emit import emit_text
    from inspector.render.probe import probe_document, probe_text
    from inspector.system.private_files import check_output

    java_args.apply_java_version(args)
    host, port = parse_target(args.target)
    if args.timeout <= 0:
        raise InputError(f"--timeout {args.timeout}: must be positive", "e.g. --timeout 10")
    for option, out in (("--capture", args.capture), ("--keylog", args.keylog)):
        if out:  # before connecting: a probe must not run for an output it cannot write
            check_output(Path(out), option, args.force)
    html_args.check_html_args(args)
    if args.ca_file and not Path(args.ca_file).is_file():
        raise InputError(f"--ca-file {args.ca_file}: no such file", "give a PEM file of CAs")
    store = load_from_args(args, Path(args.keystore)) if args.keystore else None
    if args.alias and not store:
        raise InputError("--alias needs --keystore", "give the keystore holding that alias")
    aliases = [e.alias for e in store.key_entries] if store else []
    if args.alias and args.alias not in aliases:
        raise InputError(
            f"{args.keystore}: no key entry '{args.alias}'", f"key entries: {', '.join(aliases) or '(none)'}"
        )
    proxy, credentials = proxy_from_args(args)
    target = Target(
        host,
        port,
        args.servername,
        args.tls_version,
        args.timeout,
        args.ca_file,
        args.insecure,
        args.http_request,
        args.post_handshake_auth,
        proxy,
        credentials,
    )
    result = run_probe(
        ProbeRequest(target, store, args.keystore or "", args.alias, args.key_manager, args.proxy)
    )
    if args.truststore and result.attempt.server_chain:  # Java's verdict beside OpenSSL's
        result = _with_java_trust(args, result)
    server = None
    if args.server_ca or args.server_stack:  # the partner's server stacks on the chain the probe sent
        result, server = _with_server_verdicts(args, result)
    from inspector.render.probe_files import save_artifacts

    save_artifacts(result.attempt, args.keylog, args.capture, args.force)
    status = ExitStatus.ERROR_FINDINGS if has_errors(result.connection.findings) else ExitStatus.OK
    document = probe_document(result) if args.json or args.html else None
    report = ""
    if server is not None:
        from inspector.render.server_verdicts import verdicts_json, verdicts_text

        if document is not None:
            document["server_verdicts"] = verdicts_json(server)
        report = verdicts_text(server, with_findings=False)
    emit_text(
        json_out.dumps(document) if document is not None and args.json else probe_text(result) + report,
        status,
    )
    if document is not None:
        html_args.write_page(args, document)  # after the report: the terminal ends with where the page is
    return status


def _with_server_verdicts(
    args: argparse.Namespace, result: ProbeResult
) -> tuple[ProbeResult, ServerJudgement | None]:
    """--server-ca: each server stack's verdict on the client Certificate the probe sent (as
    decoded from the wire), its findings added to the connection's."""
    from dataclasses import replace

    from inspector.commands.server_args import judge_from_args, server_trust_from_args
    from inspector.findings import sort_findings
    from parsers import model
    from parsers.model import Certificate, Direction

    trust = server_trust_from_args(args)
    seen = model.first(result.connection.transcript, Certificate, Direction.CLIENT)
    if trust is None or seen is None:  # no client Certificate on the wire: nothing to judge
        return result, None
    alias = args.alias if seen.message.chain else None
    server = judge_from_args(args, trust, list(seen.message.chain), _now(), alias, args.keystore)
    findings = sort_findings([*result.connection.findings, *server.findings])
    return replace(result, connection=replace(result.connection, findings=findings)), server


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _with_java_trust(args: argparse.Namespace, result: ProbeResult) -> ProbeResult:
    """The server chain judged with --truststore as the JDK's PKIX trust manager would."""
    from inspector.analysis.trust import judge_probe
    from inspector.commands.trust_args import truststore_source

    source = truststore_source(args)
    assert source is not None  # called with --truststore only
    return judge_probe(result, source)
