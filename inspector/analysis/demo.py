"""`demo`: "curl works, Java does not", reproduced on 127.0.0.1 with a throwaway PKI.

The partner's server trusts the root and the issuing CA but names only the root in its
CertificateRequest; the client's key entry holds the leaf without the intermediate. OpenSSL
sends the leaf anyway and is accepted; a Java client matches issuers against the CA names,
finds none, and sends an empty Certificate. Both handshakes are real, against our own server.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from inspector.analysis.probe import ProbeRequest, ProbeResult, run_probe
from inspector.keystore import load_keystore
from inspector.live.attempt import Target
from inspector.live.client_report import ClientReport
from inspector.live.reference_server import ReferenceServer

PASSWORD = "changeit"
ALIAS = "letstestcba"


@dataclass(frozen=True)
class DemoResult:
    #: the probe presenting what a Java (PKIX) client chooses
    java: ProbeResult
    #: the probe presenting the configured entry regardless, as curl / openssl s_client do
    curl: ProbeResult
    #: what the reference server said of each client
    server_log: list[ClientReport]


def run_demo(tls_version: str) -> DemoResult:
    from cryptography.x509.oid import ExtendedKeyUsageOID

    from inspector.pki.throwaway import issue, make_pki, write_jks

    with tempfile.TemporaryDirectory(prefix="mtls-demo-") as tmp:
        d = Path(tmp)
        client = make_pki(org="Acme")
        server = issue("localhost", client.intermediate, eku=[ExtendedKeyUsageOID.SERVER_AUTH])
        (d / "server.pem").write_bytes(server.pem + client.intermediate.pem)
        (d / "server.key").write_bytes(server.key_pem)
        (d / "named-root.pem").write_bytes(client.root.pem)
        (d / "trusted.pem").write_bytes(client.root.pem + client.intermediate.pem)
        keystore = write_jks(
            d / "letstestcba.jks", PASSWORD, keys=[(ALIAS, client.leaf.key, [client.leaf.cert])]
        )
        store = load_keystore(keystore, PASSWORD, None)
        srv = ReferenceServer(
            d / "server.pem",
            d / "server.key",
            [d / "trusted.pem"],
            ca_names=[d / "named-root.pem"],
            tls_version=tls_version,
        )
        target = Target("127.0.0.1", srv.port, None, None, 10.0, None, True, None)
        with srv:
            java = run_probe(ProbeRequest(target, store, str(keystore)))
            curl = run_probe(ProbeRequest(target, store, str(keystore), alias=ALIAS))
            server_log = srv.wait_for(2)
    return DemoResult(java, curl, server_log)
