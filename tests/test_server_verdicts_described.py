"""`log --server-ca` on JDK 8 logs (JDK 8 cannot be installed here: its `chain [n] = [ ... ]`
dumps are written in the documented format, with the extensions as JDK 8 prints them), and the
described-chain model against the bytes' on the whole catalogue. Real JDK 17 logs against real
servers: tests/live/test_server_verdicts_evidence.py."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from inspector.pki import certs as C
from inspector.server_stacks import STACKS, predict
from inspector.server_stacks.described import predict_described
from parsers.javalog.certtext import CertFacts
from tests import server_chains as SC
from tests.test_javalog import SUCCESS8, jdk8_log

ENTRY8 = """chain [{n}] = [
[
  Version: V3
  Subject: {subject}
  Signature Algorithm: SHA256withRSA, OID = 1.2.840.113549.1.1.11

  Key:  Sun RSA public key, {bits} bits
  modulus: 2342
  public exponent: 65537
  Validity: [From: Thu Nov 26 13:15:33 UTC 2026,
               To: Wed Sep 23 13:15:33 UTC 2099]
  Issuer: {issuer}
  SerialNumber: [    2695c868 dc47{n}f5f]

Certificate Extensions: 3
[1]: ObjectId: 2.5.29.19 Criticality=true
BasicConstraints:[
  CA:{ca}
  PathLen:{pathlen}
]

[2]: ObjectId: 2.5.29.15 Criticality=true
KeyUsage [
  {usage}
]
{eku}
]
  Algorithm: [SHA256withRSA]
  Signature:
0000: 12 34 56 78                                        .4Vx

]"""
EKU8 = """
[3]: ObjectId: 2.5.29.37 Criticality=false
ExtendedKeyUsages [
  {0}
]
"""


@pytest.fixture(autouse=True)
def no_jdk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("inspector.java.trust.find_jdk_cacerts", lambda: None)


def _printed(name: x509.Name) -> str:
    return ", ".join(reversed([a.rfc4514_string() for a in name]))


def _chain8(root: x509.Certificate, leaf_bits: int, leaf_eku: str) -> str:
    inter = "CN=Acme Issuing CA, O=Acme"
    leaf = ENTRY8.format(
        n=0,
        subject="CN=duke, O=Acme",
        issuer=inter,
        bits=leaf_bits,
        ca="false",
        pathlen="undefined",
        usage="DigitalSignature\n  Key_Encipherment",
        eku=EKU8.format(leaf_eku),
    )
    ca = ENTRY8.format(
        n=1,
        subject=inter,
        issuer=_printed(root.subject),
        bits=2048,
        ca="true",
        pathlen="2147483647",
        usage="Key_CertSign\n  Crl_Sign",
        eku="",
    )
    return leaf + "\n" + ca


def _log(tmp_path: Path, root: x509.Certificate, bits: int, eku: str) -> tuple[Path, Path]:
    log = tmp_path / "client8.log"
    log.write_text(jdk8_log([_printed(root.subject)], _chain8(root, bits, eku), SUCCESS8))
    trust = tmp_path / "trust.pem"
    trust.write_bytes(SC.pem([root]))
    return log, trust


def _verdicts(cli: Any, *args: str) -> dict[str, dict[str, Any]]:
    result = cli("log", *args, "--json")
    assert result.status in (0, 1), result.err
    return {v["stack"]: v for v in result.json()["server_verdicts"]}


def test_jdk8_key_size_is_judged(cli: Any, tmp_path: Path) -> None:
    """JDK 8 prints the key size: OpenSSL's security level 2 refuses the RSA-1024 leaf; Go does
    not check sizes, Java allows 1024 bits, Node runs at level 1, Envoy at 0."""
    root = SC.make("Acme Root CA", ca=True, eku=None).cert
    log, trust = _log(tmp_path, root, 1024, "clientAuth")
    got = _verdicts(cli, str(log), "--server-ca", str(trust))
    says = {s: v["stack_says"] for s, v in got.items() if v["verdict"] == "reject"}
    assert says == {
        "openssl": "verify error:num=66:EE certificate key too weak",
        "nginx": "client SSL certificate verify error: (66:EE certificate key too weak)",
        "apache": "AH02276: Certificate Verification: Error (66): EE certificate key too weak",
        "haproxy": "SSL client certificate not trusted (ssl_c_err=66: EE certificate key too weak)",
    }
    assert {s for s, v in got.items() if v["verdict"] == "accept"} == {"go", "node", "java", "envoy"}
    for v in got.values():  # sizes and validity are printed: only the signatures are left open
        assert [n.split(" ")[0] for n in v["not_checked"]] == ["signatures"]
        assert v["handshakes"] == [1]
    assert "inferred from the log's description" in got["go"]["reason"]


def test_jdk8_extended_key_usage_is_judged(cli: Any, tmp_path: Path) -> None:
    root = SC.make("Acme Root CA", ca=True, eku=None).cert
    log, trust = _log(tmp_path, root, 2048, "serverAuth")
    got = _verdicts(cli, str(log), "--server-ca", str(trust), "--server-stack", "go")
    assert got["go"]["verdict"] == "reject"
    assert got["go"]["stack_says"] == (
        "tls: failed to verify client certificate: x509: certificate specifies an incompatible key usage"
    )
    got = _verdicts(cli, str(log), "--server-ca", str(trust), "--server-stack", "java")
    assert got["java"]["stack_says"] == "Extended key usage does not permit use for TLS client authentication"
    result = cli("log", str(log), "--server-ca", str(trust), "--server-stack", "java")
    assert "reject (inferred)" in result.out
    assert (
        "Inferred from the log's description of the chain, not its bytes; not checked: signatures"
        in result.out
    )
    assert "info[server-verdicts-inferred]" in result.out


def described_as_jdk8(cert: x509.Certificate) -> CertFacts:
    """What a JDK 8 log prints of `cert` (sizes included; key identifiers not)."""
    kind, bits = C.key_algorithm(C.public_key(cert))  # type: ignore[arg-type]
    eku = ku = nc = None
    critical = tuple(e.oid.dotted_string for e in cert.extensions if e.critical)
    for e in cert.extensions:
        if isinstance(e.value, x509.ExtendedKeyUsage):
            eku = tuple(o.dotted_string for o in e.value)
        elif isinstance(e.value, x509.NameConstraints):
            nc = tuple(str(g.value) for g in e.value.permitted_subtrees or ())
    ku = C.key_usage(cert)
    basic = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    san = [e.value for e in cert.extensions if isinstance(e.value, x509.SubjectAlternativeName)]
    hash_name = (cert.signature_hash_algorithm.name if cert.signature_hash_algorithm else "").upper()
    return CertFacts(
        subject=_printed(cert.subject),
        issuer=_printed(cert.issuer),
        serial=cert.serial_number,
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        key_type=kind,
        key_bits=bits,
        signature_algorithm=f"{hash_name}with{'ECDSA' if kind == 'EC' else 'RSA'}",
        dns_names=tuple(san[0].get_values_for_type(x509.DNSName)) if san else (),
        ca=basic.ca,
        eku=eku,
        key_usage=tuple(ku) if ku is not None else None,
        path_length=basic.path_length,
        critical=critical,
        permitted_dns=nc,
    )


def test_described_chain_matches_the_bytes_on_the_catalogue(tmp_path: Path) -> None:
    """Every catalogue chain described as a JDK 8 log prints it: each stack's verdict is the one
    from the bytes, except where the bytes hold what no log shows (a forged signature)."""
    from parsers.javalog.certtext import rebuild

    catalogue = SC.build(tmp_path)
    now = dt.datetime.now(dt.timezone.utc)
    differ = []
    for case in catalogue.cases:
        if not case.sent:
            continue
        printed = [described_as_jdk8(c) for c in case.sent]
        pairs = [(rebuild(p), p) for p in printed]
        described = [v for v, _ in predict_described(pairs, catalogue.trust, now)]
        real = predict(case.sent, catalogue.trust, now)
        for d, r in zip(described, real, strict=True):
            if d.verdict != r.verdict:
                differ.append((case.name, d.stack.value))
    # the forged leaf passes every check a description allows; Apache refuses its depth anyway
    assert sorted(differ) == sorted([("bad-signature", s.value) for s in STACKS if s.value != "apache"]), (
        differ
    )
