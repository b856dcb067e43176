"""java_trust: the JDK's PKIX rules on chains made at test time (the real Java client's verdicts on
the same rules are in tests/live/test_java_logs.py)."""

from __future__ import annotations

import datetime as dt
import ipaddress

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from inspector.java.trust import PKIX_BUILD, PKIX_VALIDITY, Truststore, identity_problem, judge
from inspector.pki.throwaway import NOW, Issued, issue, make_pki, new_key

AT = NOW + dt.timedelta(days=1)


def server(issuer: Issued, sans: list[x509.GeneralName] | None, cn: str = "api.example") -> x509.Certificate:
    key = new_key("ec", 256)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name.from_rfc4514_string(f"CN={cn},O=Acme"))
        .issuer_name(issuer.cert.subject)
        .public_key(key.public_key())  # type: ignore[arg-type]
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=30))
    )
    if sans is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(issuer.key, hashes.SHA256())  # type: ignore[arg-type]


def store(*certs: x509.Certificate) -> Truststore:
    return Truststore("test store", None, tuple((f"a{i}", c) for i, c in enumerate(certs)))


def test_order_and_extras_do_not_matter_and_an_intermediate_can_be_the_anchor():
    pki, other = make_pki(), make_pki("x", org="Other")
    leaf = server(pki.intermediate, [x509.DNSName("api.example")])
    shuffled = (leaf, other.intermediate.cert, pki.root.cert, pki.intermediate.cert)
    verdict = judge(shuffled, store(pki.root.cert), "api.example", AT)
    assert verdict.trusted
    assert verdict.path == [
        "CN=api.example,O=Acme",
        "CN=Acme Issuing CA,O=Acme",
        "CN=Acme Root CA,O=Acme (anchor 'a0')",
    ]
    assert judge((leaf,), store(pki.intermediate.cert), "api.example", AT).trusted


def test_untrusted_names_the_missing_issuer_and_the_keytool_fix():
    pki, other = make_pki(), make_pki("x", org="Other")
    leaf = server(pki.intermediate, [x509.DNSName("api.example")])
    verdict = judge((leaf, pki.intermediate.cert), store(other.root.cert), "api.example", AT)
    assert not verdict.trusted
    assert verdict.java_says == PKIX_BUILD
    assert "CN=Acme Root CA,O=Acme" in verdict.cause
    assert verdict.fix.startswith(
        "keytool -importcert -trustcacerts -alias acme-root-ca -file acme-root-ca.pem"
    )


def test_a_forged_issuer_with_the_right_name_is_not_an_anchor():
    pki = make_pki()
    impostor = issue("Acme Root CA", None, ca=True)  # same name, another key
    leaf = server(pki.intermediate, [x509.DNSName("api.example")])
    verdict = judge((leaf, pki.intermediate.cert), store(impostor.cert), "api.example", AT)
    assert not verdict.trusted and verdict.java_says == PKIX_BUILD


def test_validity_of_the_path_but_not_of_the_anchor():
    pki = make_pki()
    leaf = server(pki.intermediate, [x509.DNSName("api.example")])
    later = NOW + dt.timedelta(days=60)
    expired = judge((leaf, pki.intermediate.cert), store(pki.root.cert), "api.example", later)
    assert expired.java_says == PKIX_VALIDITY and "CN=api.example,O=Acme is expired" in expired.cause
    old_root = issue("Old Root", None, ca=True, not_after=NOW - dt.timedelta(days=1))
    leaf2 = server(old_root, [x509.DNSName("api.example")])
    assert judge((leaf2,), store(old_root.cert), "api.example", AT).trusted


def test_endpoint_identification_is_san_only():
    pki = make_pki()
    no_san = server(pki.intermediate, None, cn="api.example")
    assert identity_problem(no_san, "api.example") is not None
    assert identity_problem(no_san, "api.example")[0] == "No subject alternative names present"  # type: ignore[index]
    dns = server(pki.intermediate, [x509.DNSName("*.corp.example"), x509.DNSName("10.0.0.1")])
    assert identity_problem(dns, "api.corp.example") is None
    assert identity_problem(dns, "a.b.corp.example") == (
        "No subject alternative DNS name matching a.b.corp.example found.",
        "DNS SANs: *.corp.example, 10.0.0.1",
    )
    said = identity_problem(dns, "10.0.0.1")
    assert said is not None and said[0] == "No subject alternative names matching IP address 10.0.0.1 found"
    ip = server(pki.intermediate, [x509.IPAddress(ipaddress.ip_address("10.0.0.1"))])
    assert identity_problem(ip, "10.0.0.1") is None
