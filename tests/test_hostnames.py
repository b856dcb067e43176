"""The two host-name matchers against the real checkers: `openssl x509 -checkhost/-checkip`
(OpenSSL's X509_check_host/X509_check_ip) and JDK 17's HostnameChecker (TYPE_TLS, what HTTPS
endpoint identification runs), on the same certificates, including the cases where they differ."""

from __future__ import annotations

import datetime as dt
import ipaddress
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from inspector.pki.hostnames import is_ip, java_endpoint_identity, openssl_hostname_matches

KEY = ec.generate_private_key(ec.SECP256R1())


def cert(cns: list[str], sans: list[x509.GeneralName] | None) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn) for cn in cns]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test CA")]))
        .public_key(KEY.public_key())
        .serial_number(1)
        .not_valid_before(dt.datetime(2020, 1, 1))
        .not_valid_after(dt.datetime(2040, 1, 1))
    )
    if sans is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(KEY, hashes.SHA256())


def dns(*names: str) -> list[x509.GeneralName]:
    return [x509.DNSName(n) for n in names]


IP = x509.IPAddress
# (certificate id, CNs, SANs, host, OpenSSL matches, Java matches)
CASES: list[tuple[str, list[str], list[x509.GeneralName] | None, str, bool, bool]] = [
    ("cn-only", ["api.example.com"], None, "api.example.com", True, True),
    ("cn-only", ["api.example.com"], None, "other.example.com", False, False),
    ("cn-only-ip", ["10.0.0.1"], None, "10.0.0.1", False, False),
    ("two-cns", ["first.example.com", "last.example.com"], None, "first.example.com", True, False),
    ("two-cns", ["first.example.com", "last.example.com"], None, "last.example.com", True, True),
    ("dns-and-cn", ["api.example.com"], dns("other.example.com"), "api.example.com", False, False),
    ("wild-com", ["x"], dns("*.com"), "a.com", False, True),
    ("wild-couk", ["x"], dns("*.co.uk"), "a.co.uk", True, True),
    ("partial", ["x"], dns("f*.example.com"), "foo.example.com", True, True),
    ("partial", ["x"], dns("f*.example.com"), "bar.example.com", False, False),
    ("wild", ["x"], dns("*.example.com"), "a.example.com", True, True),
    ("wild", ["x"], dns("*.example.com"), "A.EXAMPLE.COM", True, True),
    ("wild", ["x"], dns("*.example.com"), "a.b.example.com", False, False),
    ("wild", ["x"], dns("*.example.com"), "example.com", False, False),
    ("cn-wild", ["*.example.com"], None, "a.example.com", True, True),
    ("ip-san", ["api.example.com"], [IP(ipaddress.ip_address("10.0.0.1"))], "10.0.0.1", True, True),
    ("ip-san", ["api.example.com"], [IP(ipaddress.ip_address("10.0.0.1"))], "10.0.0.2", False, False),
    ("ip-san", ["api.example.com"], [IP(ipaddress.ip_address("10.0.0.1"))], "api.example.com", True, True),
    ("dns-not-ip", ["x"], dns("10.0.0.1"), "10.0.0.1", False, False),
    ("v6", ["x"], [IP(ipaddress.ip_address("::1"))], "::1", True, True),
]

CHECKER = """
import java.io.FileInputStream;
import java.security.cert.*;
import sun.security.util.HostnameChecker;
public class Checker {
  public static void main(String[] a) throws Exception {
    for (int i = 0; i + 1 < a.length; i += 2) {
      X509Certificate c = (X509Certificate) CertificateFactory.getInstance("X.509")
          .generateCertificate(new FileInputStream(a[i]));
      try {
        HostnameChecker.getInstance(HostnameChecker.TYPE_TLS).match(a[i + 1], c);
        System.out.println("OK");
      }
      catch (CertificateException e) { System.out.println("FAIL " + e.getMessage()); }
    }
  }
}
"""
EXPORTS = "--add-exports=java.base/sun.security.util=ALL-UNNAMED"


@pytest.fixture(scope="module")
def pems(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("hostnames")
    made: dict[str, Path] = {}
    for ident, cns, sans, *_ in CASES:
        if ident not in made:
            path = out / f"{ident}.pem"
            path.write_bytes(cert(cns, sans).public_bytes(serialization.Encoding.PEM))
            made[ident] = path
    return made


@pytest.fixture(scope="module")
def java_checker(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not shutil.which("javac"):
        pytest.skip("javac not on PATH: the JDK oracle cannot run")
    out = tmp_path_factory.mktemp("checker")
    (out / "Checker.java").write_text(CHECKER)
    subprocess.run(["javac", EXPORTS, "Checker.java"], cwd=out, check=True, capture_output=True, timeout=120)
    return out


@pytest.mark.parametrize(("ident", "cns", "sans", "host", "openssl", "java"), CASES)
def test_matchers_decide_as_measured(
    ident: str, cns: list[str], sans: list[x509.GeneralName] | None, host: str, openssl: bool, java: bool
) -> None:
    leaf = cert(cns, sans)
    assert openssl_hostname_matches(leaf, host) is openssl
    assert (java_endpoint_identity(leaf, host) is None) is java


@pytest.mark.parametrize(("ident", "host", "expected"), [(c[0], c[3], c[4]) for c in CASES])
def test_openssl_itself_agrees(pems: dict[str, Path], ident: str, host: str, expected: bool) -> None:
    flag = "-checkip" if is_ip(host) else "-checkhost"
    out = subprocess.run(
        ["openssl", "x509", "-in", str(pems[ident]), "-noout", flag, host],
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout
    assert ("does match" in out) is expected, out


def test_java_itself_agrees_in_its_own_words(pems: dict[str, Path], java_checker: Path) -> None:
    """All cases in one JVM, one answer line per (certificate, host) pair."""
    args = [str(v) for c in CASES for v in (pems[c[0]], c[3])]
    said = subprocess.run(
        ["java", EXPORTS, "-cp", str(java_checker), "Checker", *args],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout.splitlines()
    predicted = []
    for _, cns, sans, host, _, _ in CASES:
        problem = java_endpoint_identity(cert(cns, sans), host)
        predicted.append("OK" if problem is None else f"FAIL {problem[0]}")
    assert said == predicted, [(c[0], c[3]) for c in CASES]


def test_is_ip_takes_url_and_zone_forms() -> None:
    assert [is_ip(h) for h in ("10.0.0.1", "[::1]", "fe80::1%eth0", "::1", "api.example", "")] == [
        True,
        True,
        True,
        True,
        False,
        False,
    ]
