"""`mtls-inspect probe HOST[:PORT]`: make the outbound two-way handshake and explain it."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from inspector.commands.proxy_args import add_proxy_options, proxy_from_args
from inspector.errors import ExitStatus, InputError
from inspector.findings import has_errors, sort_findings
from inspector.passwords import add_keystore_password_options
from inspector.render import json_out, text


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "probe",
        help="connect to a server with the client's keystore and explain the handshake",
        description="Perform the outbound mutual-TLS handshake "
        "(pyOpenSSL) and explain what the server asked, what a Java client sends, "
        "and why the server accepted or refused it.",
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
    from inspector.java_trust import add_truststore_arguments

    add_truststore_arguments(p)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from inspector.commands.keystore_cmd import load_from_args
    from inspector.probe import Target, handshake, looks_like_tls, parse_target
    from inspector.rules.probe_rules import check_probe
    from inspector.rules.wire_rules import WireContext, check_transcript, selection_for

    host, port = parse_target(args.target)
    if args.timeout <= 0:
        raise InputError(f"--timeout {args.timeout}: must be positive", "e.g. --timeout 10")
    if args.ca_file and not Path(args.ca_file).is_file():
        raise InputError(f"--ca-file {args.ca_file}: no such file", "give a PEM file of CAs")
    store = load_from_args(args, Path(args.keystore)) if args.keystore else None
    entries = {e.alias: e for e in store.key_entries} if store else {}
    if args.alias and not store:
        raise InputError("--alias needs --keystore", "give the keystore holding that alias")
    if args.alias and args.alias not in entries:
        raise InputError(
            f"{args.keystore}: no key entry '{args.alias}'", f"key entries: {', '.join(entries) or '(none)'}"
        )

    def present(alias: str) -> Any:
        """The entry to present; a key we could not open cannot be presented."""
        entry = entries[alias]
        if entry.private_key is None:
            raise InputError(
                f"{args.keystore}: key entry '{alias}' is locked (its key did not open)",
                "give the store password, and --keypass-env/--keypass-file if the key has its own",
            )
        return entry

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
    choice: dict[str, Any] = {}

    def choose(t: Any) -> Any:
        """At the CertificateRequest: the entry the Java key manager would send, or None."""
        if store is None:
            return None
        sel = selection_for(WireContext(t, store, None, None))
        choice["selection"] = sel
        picks = _picks(sel, args.key_manager)
        pick = picks[0] if picks else None
        return present(pick) if pick else None

    main = handshake(target, present(args.alias)) if args.alias else handshake(target, None, choose)
    _refuse_non_tls(main, host, port, looks_like_tls)
    assert main.transcript is not None
    t = main.transcript
    steps = _steps(args.alias, main, t, store, choice.get("selection"), args.key_manager)
    if proxy:
        steps.insert(0, f"through proxy {args.proxy}: CONNECT {host}:{port} → {main.proxy_status}")
    if not main.received and main.reset_by is None:
        if main.timed_out:
            raise InputError(
                f"{host}:{port}: no TLS answer within {args.timeout:g} s after the ClientHello",
                "check that this port speaks TLS, or raise --timeout",
            )
        raise InputError(
            f"{host}:{port}: the server closed the connection before any TLS byte",
            "check that this port speaks TLS (and that it accepts this client)",
        )
    attempts = [main]
    label = f"{host}:{port}"
    findings = sort_findings(check_transcript(t, store, label, None, "probe") + check_probe(main, target))
    if args.truststore and main.server_chain:  # Java's verdict beside OpenSSL's (inspector/java_trust.py)
        from inspector.java_trust import judge_from_args

        findings = sort_findings(
            [*findings, judge_from_args(args, main.server_chain, args.servername or host, label)]
        )
    if args.keylog:
        from parsers.pcapfile import open_private

        with open_private(Path(args.keylog)) as handle:
            handle.write(("\n".join(main.keylog) + "\n").encode())
    if args.capture:
        from parsers.stream import write_pcap

        write_pcap(Path(args.capture), main.chunks, main.client, main.server, main.start)
    if args.json:
        from inspector.commands.pcap_cmd import connection_dict

        print(
            json_out.dumps(
                json_out.envelope(
                    "probe",
                    findings,
                    probe=probe_dict(target, steps, attempts, args.key_manager),
                    connections=[connection_dict(t, findings, store, None)],
                )
            )
        )
    else:
        print(render(target, steps, main, t, findings, store))
    return ExitStatus.ERROR_FINDINGS if has_errors(findings) else ExitStatus.OK


def _picks(sel: Any, key_manager: str) -> list[str]:
    """The aliases the key manager could choose (it takes the first it meets)."""
    if sel is None:
        return []
    return list(sel.sunx509 if key_manager == "SunX509" else sel.pkix)


def _steps(alias: str | None, main: Any, t: Any, store: Any, sel: Any, key_manager: str) -> list[str]:
    """What the probe did, in the order it did it (shown above the ladder, and in --json)."""
    if alias:
        return [f"presented key entry '{alias}' (--alias)"]
    if not main.request_seen:
        return [
            "the server sent no CertificateRequest: no client certificate was asked for"
            + (" (TLS 1.3 decrypted with the probe's key log)" if t.tls13 else "")
        ]
    later = _asked_later(t)
    if later:
        how = (
            f"read the CertificateRequest as it arrived {later}, decrypted with the probe's "
            "key log: the server asked only after the handshake"
        )
    elif t.tls13:
        how = "read the CertificateRequest as it arrived, decrypted with the secrets OpenSSL had just logged"
    else:
        how = "read the CertificateRequest as it arrived"
    if store is None:
        return [how, "no --keystore: an empty Certificate was sent"]
    if key_manager == "SunX509" and sel is not None and sel.sunx509_fails:
        return [
            how,
            f"a SunX509 client would not even connect ({sel.sunx509_fails}); the probe "
            "went on with an empty Certificate, as a PKIX client sends",
        ]
    if main.alias is None:
        return [
            how,
            f"no key entry is one a Java ({key_manager}) client would send here: an "
            "empty Certificate was sent, as Java does",
        ]
    picks = _picks(sel, key_manager)
    also = f" (also possible: {', '.join(picks[1:])})" if len(picks) > 1 else ""
    return [
        how,
        f"installed '{main.alias}', the entry a Java ({key_manager}) client chooses, before "
        f"OpenSSL answered{'' if later else ': one handshake'}{also}",
    ]


def _asked_later(t: Any) -> str:
    """How the first CertificateRequest came after the handshake, or "" if it did not."""
    from parsers.model import CertificateRequest, SimpleMessage

    for event in t.events:
        if isinstance(event.message, SimpleMessage) and event.message.msg_type == 0:
            return "in the renegotiated handshake"
        if isinstance(event.message, CertificateRequest):
            return "after the handshake (TLS 1.3 post-handshake auth)" if event.message.post_handshake else ""
    return ""


def _refuse_non_tls(attempt: Any, host: str, port: int, looks_like_tls: Any) -> None:
    data = attempt.received
    if data and not looks_like_tls(data):
        quoted = data[:60].decode("latin-1").encode("unicode_escape").decode()
        raise InputError(
            f'{host}:{port}: the server answered with non-TLS data: "{quoted}"',
            "this port does not speak TLS (plain HTTP?); check the port",
        )


def probe_dict(target: Any, steps: list[str], attempts: list[Any], key_manager: str) -> dict[str, Any]:
    from inspector import certs as C

    return {
        "target": f"{target.host}:{target.port}",
        "servername": target.servername,
        "key_manager": key_manager,
        "proxy": (f"{target.proxy[0]}:{target.proxy[1]}" if target.proxy else None),
        "tls_version": target.tls_version,
        "steps": steps,
        "attempts": [
            {
                "alias": a.alias,
                "certificate_request_seen": a.request_seen,
                "proxy_status": a.proxy_status,
                "completed": a.completed,
                "error": a.error,
                "http_status": a.http_status,
                "version": a.version,
                "cipher": a.cipher,
                "timed_out": a.timed_out,
                "server_verify_errors": [
                    {"depth": p.depth, "error": p.message, "subject": p.subject} for p in a.verify_problems
                ],
                "server_chain": [C.dn(c.subject) for c in a.server_chain],
            }
            for a in attempts
        ],
    }


def render(target: Any, steps: list[str], main: Any, t: Any, findings: list[Any], store: Any) -> str:
    from inspector.commands.pcap_cmd import details, outcome, selection_text
    from inspector.render.ladder import ladder
    from inspector.rules.wire_rules import WireContext, selection_for

    head = f"Probe {target.host}:{target.port}"
    if target.servername:
        head += f" (SNI {target.servername})"
    head += f": {main.version or 'no TLS version agreed'}"
    if main.cipher:
        head += f", {main.cipher}"
    parts = [head, f"outcome: {outcome(t)}" + (f"; HTTP: {main.http_status}" if main.http_status else "")]
    parts += [f"  - {step}" for step in steps]
    if main.error:
        parts.append(f"  OpenSSL said: {main.error}")
    parts += ["", ladder(t), details(t)]
    if store is not None:
        sel = selection_for(WireContext(t, store, None, None))
        if sel is not None:
            parts.append(selection_text(sel))
    parts += ["", text.findings_block(findings), "", text.summary_line(findings)]
    return "\n".join(parts)
