"""`mtls-inspect demo`: the most common puzzle, reproduced on 127.0.0.1 with a throwaway PKI.

"curl works, Java does not": the partner's server trusts the root and the issuing CA but names
only the root in its CertificateRequest; the client's key entry holds the leaf without the intermediate.
OpenSSL sends the leaf anyway and is accepted; a Java client matches issuers against the CA
names, finds none, and sends an empty Certificate.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import tempfile
from pathlib import Path
from typing import Any

from inspector.errors import ExitStatus

PASSWORD = "changeit"


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "demo", help="reproduce 'curl works, Java does not' on 127.0.0.1 and explain it", description=__doc__
    )
    p.add_argument("--tls-version", choices=["1.2", "1.3"], default="1.3")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from cryptography.x509.oid import ExtendedKeyUsageOID

    from inspector.cli import main
    from inspector.server import ReferenceServer
    from inspector.throwaway_pki import issue, make_pki, write_jks

    with tempfile.TemporaryDirectory(prefix="mtls-demo-") as tmp:
        d = Path(tmp)
        client = make_pki(org="Acme")
        server = issue("localhost", client.intermediate, eku=[ExtendedKeyUsageOID.SERVER_AUTH])
        (d / "server.pem").write_bytes(server.pem + client.intermediate.pem)
        (d / "server.key").write_bytes(server.key_pem)
        (d / "named-root.pem").write_bytes(client.root.pem)
        (d / "storepass").write_text(PASSWORD + "\n")
        keystore = write_jks(
            d / "letstestcba.jks", PASSWORD, keys=[("letstestcba", client.leaf.key, [client.leaf.cert])]
        )
        (d / "trusted.pem").write_bytes(client.root.pem + client.intermediate.pem)
        srv = ReferenceServer(
            d / "server.pem",
            d / "server.key",
            [d / "trusted.pem"],
            ca_names=[d / "named-root.pem"],
            tls_version=args.tls_version,
        )
        print(
            "Scenario: the partner's server trusts 'Acme Root CA' and 'Acme Issuing CA' but its "
            "CertificateRequest names only 'Acme Root CA'.\nThe client's keystore holds key "
            "entry 'letstestcba' with its leaf only (the intermediate was never imported).\n"
        )
        common = [
            "probe",
            f"127.0.0.1:{srv.port}",
            "--insecure",
            "--keystore",
            str(keystore),
            "--storepass-file",
            str(d / "storepass"),
        ]
        with srv:
            print("━━ 1. what a Java client does (mtls-inspect probe, Java's choice) ━━")
            java = main(common)
            print("\n━━ 2. what curl / openssl s_client do (--alias letstestcba: sent regardless) ━━")
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                curl = main([*common, "--alias", "letstestcba", "--json"])
            doc = json.loads(out.getvalue())
            conn = doc["connections"][0]
            print(f"  presented 'letstestcba' ({conn['client_cert']}, leaf only): {conn['outcome']}")
            for finding in doc["findings"]:
                print(f"  {finding['severity']}[{finding['code']}]: {finding['summary']}")
            print("\n━━ the reference server's log ━━")
            reports = srv.wait_for(2)
            for report in reports:
                print("  " + report.line())
        accepted = [r.accepted for r in reports]
        verdict = {True: "accepted", False: "refused"}
        print(
            f"\nSame keystore, same server — Java: {verdict[accepted[0]]}; OpenSSL/curl: "
            f"{verdict[accepted[-1]]}."
        )
        del java, curl
        print(
            "Fix: import the CA reply as a full chain (leaf + intermediate) under the alias, so a "
            "certificate in the chain is issued by a CA the server names."
        )
    return ExitStatus.OK
