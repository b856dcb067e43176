"""`mtls-inspect select`: which key entry a Java client sends for a given CertificateRequest."""

from __future__ import annotations

import argparse
import datetime as dt
import re
from pathlib import Path
from typing import Any

from inspector.commands.java_args import (
    add_java_version_option,
    add_request_options,
    apply_java_version,
    assumed_request,
)
from inspector.commands.proxy_args import add_proxy_options, proxy_from_args
from inspector.errors import ExitStatus, InputError
from inspector.passwords import add_keystore_password_options
from inspector.render import json_out


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "select",
        help="which key entry a Java client would send to a server",
        description="Simulate Java's SunX509 and PKIX key managers for a "
        "CertificateRequest, beside what OpenSSL/curl would send.",
    )
    p.add_argument("--keystore", required=True, metavar="F", help="the client's keystore")
    add_keystore_password_options(p)
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--ca-names",
        metavar="FILE",
        help="PEM certificates, or a text file "
        "with one DN per line (RFC 4514, e.g. CN=Partner Root,O=Partner)",
    )
    source.add_argument(
        "--from-pcap",
        metavar="F",
        help="take the CertificateRequest from a capture (see --connection, --keylog)",
    )
    source.add_argument(
        "--from-server",
        metavar="HOST:PORT",
        help="ask the server itself (one handshake without a certificate)",
    )
    source.add_argument("--empty-ca-list", action="store_true", help="a server naming no CA")
    p.add_argument(
        "--connection",
        "-c",
        type=int,
        metavar="N",
        help="with --from-pcap: the connection (default: the first with a request)",
    )
    p.add_argument("--keylog", metavar="F", help="with --from-pcap: key log for TLS 1.3")
    p.add_argument(
        "--tls-version",
        choices=["1.2", "1.3"],
        default=None,
        help="the TLS version of the request (default: as observed, else 1.2)",
    )
    p.add_argument("--ca-file", metavar="F", help="with --from-server: CA for the server")
    p.add_argument("--timeout", type=float, default=10.0, help="with --from-server (seconds)")
    add_proxy_options(p)
    p.add_argument("--at", metavar="YYYY-MM-DD", help="judge validity at this date")
    add_java_version_option(p)
    add_request_options(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=run)


def names_from_file(path: Path) -> list[bytes]:
    from cryptography import x509

    from inspector.keystore import read_bytes
    from inspector.x500 import parse_dn_text

    data = read_bytes(path)
    if b"-----BEGIN CERTIFICATE-----" in data:
        try:
            return [c.subject.public_bytes() for c in x509.load_pem_x509_certificates(data)]
        except ValueError as exc:
            raise InputError(
                f"--ca-names {path}: a certificate does not parse ({exc})",
                "give PEM certificates or one DN per line",
            ) from None
    names = []
    for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        line = re.sub(r"^(subject|issuer|Owner|Issuer)\s*[:=]\s*", "", line)
        try:
            names.append(parse_dn_text(line).public_bytes())
        except ValueError as exc:
            raise InputError(
                f"--ca-names {path}, line {number}: not a DN ({exc})",
                "write one DN per line, e.g. CN=Partner Root,O=Partner",
            ) from None
    return names


def request_from_args(args: argparse.Namespace) -> Any:
    from inspector.selection import CaRequest

    tls13 = args.tls_version == "1.3"
    if args.empty_ca_list or args.ca_names:
        names = [] if args.empty_ca_list else names_from_file(Path(args.ca_names))
        return CaRequest(
            tls13=tls13,
            ca_names=tuple(names),
            source="--empty-ca-list" if args.empty_ca_list else str(args.ca_names),
            ca_names_present=bool(names),
            **assumed_request(args, tls13),
        )
    if args.from_pcap:
        return _from_pcap(args)
    return _from_server(args)


def _from_pcap(args: argparse.Namespace) -> Any:
    from inspector.rules.wire_rules import ca_request
    from parsers.capture import CaptureFormatError, read_capture
    from parsers.keylog import KeyLog
    from parsers.model import CertificateRequest

    keylog = None
    if args.keylog:
        from inspector.keystore import read_bytes

        keylog = KeyLog()
        keylog.add_text(read_bytes(Path(args.keylog)).decode("utf-8", "replace"))
    path = Path(args.from_pcap)
    if not path.is_file():
        raise InputError(f"--from-pcap {path}: no such file", "check the path")
    try:
        result = read_capture(path, keylog)
    except CaptureFormatError as exc:
        raise InputError(f"--from-pcap {path}: {exc}", "give a pcap or pcapng file") from None
    for t in result.transcripts:
        if args.connection not in (None, t.index):
            continue
        event = t.first(CertificateRequest)
        if event is not None and isinstance(event.message, CertificateRequest):
            return ca_request(event.message, f"{path}, connection #{t.index}")
    which = f"connection #{args.connection}" if args.connection else "any connection"
    raise InputError(
        f"--from-pcap {path}: no CertificateRequest visible in {which}",
        "TLS 1.3 needs --keylog; or pick another --connection",
    )


def _from_server(args: argparse.Namespace) -> Any:
    from inspector.probe import Target, handshake, parse_target
    from inspector.rules.wire_rules import ca_request
    from parsers.model import CertificateRequest

    host, port = parse_target(args.from_server)
    proxy, credentials = proxy_from_args(args)
    attempt = handshake(
        Target(
            host,
            port,
            None,
            args.tls_version,
            args.timeout,
            args.ca_file,
            True,
            None,
            proxy=proxy,
            proxy_credentials=credentials,
        ),
        None,
    )
    assert attempt.transcript is not None
    event = attempt.transcript.first(CertificateRequest)
    if event is None or not isinstance(event.message, CertificateRequest):
        raise InputError(
            f"--from-server {args.from_server}: the server sent no CertificateRequest",
            "it does not ask for client certificates here",
        )
    return ca_request(event.message, f"server {host}:{port}")


def run(args: argparse.Namespace) -> int:
    from inspector.commands.keystore_cmd import load_from_args, parse_date
    from inspector.commands.pcap_cmd import selection_text
    from inspector.selection import select

    apply_java_version(args)
    if (args.sigalgs or args.cert_types) and not (args.ca_names or args.empty_ca_list):
        raise InputError(
            "--sigalgs/--cert-types describe an assumed request",
            "use them with --ca-names or --empty-ca-list (a live or captured request has its own)",
        )
    if (args.proxy or args.proxy_user) and not args.from_server:
        raise InputError(
            "--proxy goes with --from-server",
            "ask the server through the proxy: --from-server HOST:PORT --proxy PROXY:PORT",
        )
    store = load_from_args(args, Path(args.keystore))
    request = request_from_args(args)
    at = parse_date(args.at) if args.at else dt.datetime.now(dt.timezone.utc)
    sel = select(store, request, at)
    if args.json:
        print(json_out.dumps(json_out.envelope("select", [], selection=selection_dict(sel))))
    else:
        from parsers.messages import dn_from_der
        from parsers.model import CERTIFICATE_TYPES, scheme_name

        names = [dn_from_der(n).text for n in request.ca_names]
        print(
            f"CertificateRequest from {request.source} (TLS {'1.3' if request.tls13 else '1.2'})"
            f": {len(names)} CA name(s)"
        )
        for name in names:
            print(f"  - {name}")
        if request.assumed:
            schemes = ", ".join(map(scheme_name, request.signature_algorithms))
            print(f"signature_algorithms {request.assumed}: {schemes}")
            if request.certificate_types:
                print(
                    "certificate_types: "
                    + ", ".join(CERTIFICATE_TYPES.get(t, str(t)) for t in request.certificate_types)
                )
        print(f"Simulating {sel.java}'s client (--java-version to change)")
        print(selection_text(sel))
    return ExitStatus.ERROR_FINDINGS if sel.java_sends_nothing else ExitStatus.OK


def selection_dict(sel: Any) -> dict[str, Any]:
    from parsers.messages import dn_from_der

    return {
        "request": {
            "source": sel.request.source,
            "tls13": sel.request.tls13,
            "ca_names": [dn_from_der(n).text for n in sel.request.ca_names],
            "signature_algorithms": list(sel.request.signature_algorithms),
            "certificate_types": list(sel.request.certificate_types),
            "assumed": sel.request.assumed or None,
        },
        "java": sel.java,
        "sunx509_why": sel.sunx509_why,
        "pkix_why": sel.pkix_why,
        "sunx509_aborts": sel.sunx509_aborts,
        "pkix_aborts": sel.pkix_aborts,
        "request_aborts": sel.request_aborts,
        "sunx509": sel.sunx509[0] if len(sel.sunx509) == 1 else None,
        "sunx509_possible": sel.sunx509,
        "sunx509_fails": sel.sunx509_fails,
        "pkix": sel.pkix[0] if len(sel.pkix) == 1 else None,
        "pkix_possible": sel.pkix,
        "openssl": sel.openssl_sends,
        "candidates": [
            {
                "alias": c.alias,
                "key_type": c.key_type,
                "accepted": c.accepted,
                "rank": c.rank.name if c.rank is not None else None,
                "reasons": c.reasons,
            }
            for c in sel.candidates
        ],
    }
