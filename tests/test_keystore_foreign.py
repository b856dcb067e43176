"""Keystores no one here made: rebuilt at test time after public Java server projects' own TLS
test stores, and judged on the evidence they hold.

What the projects' sources show (read with the search tool; their binary stores are not stored):
- Apache Tomcat, test/org/apache/tomcat/util/net: user1.jks ("changeit") holds key entry user1,
  CN=user1, issued straight by the self-signed "CN=Apache Tomcat Test CA" (PrintableString
  C/ST/L/O/OU/CN, AKI with keyid + issuer + serial), which lives in another store, ca.jks.
- Netty, handler/src/test/resources/io/netty/handler/ssl/generate-certs.sh: client stores made
  with `openssl pkcs12 -export -certfile chain.pem` and no -name (Java calls the entry "1"); the
  server store holds the leaf and the root only.
A leaf under a root the server trusts works: a missing issuer nobody knows is a warning that says
both possibilities, never "has no intermediate".
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID

from tests import pki as P

PW = "changeit"
OPENSSL = shutil.which("openssl")
_PRINTABLE = x509.name._ASN1Type.PrintableString


def _tomcat_ca() -> P.Issued:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US", _PRINTABLE),
            x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, "MA", _PRINTABLE),
            x509.NameAttribute(NameOID.LOCALITY_NAME, "Wakefield", _PRINTABLE),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "The Apache Software Foundation", _PRINTABLE),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Apache Tomcat PMC", _PRINTABLE),
            x509.NameAttribute(NameOID.COMMON_NAME, "Apache Tomcat Test CA", _PRINTABLE),
        ]
    )
    key = P.new_key()
    serial = x509.random_serial_number()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(P.NOW - dt.timedelta(days=1))
        .not_valid_after(P.NOW + dt.timedelta(days=3650))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()).digest,
                [x509.DirectoryName(name)],
                serial,
            ),
            False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), False)
        .sign(key, hashes.SHA256())
    )
    return P.Issued(cert, key)


@pytest.fixture(scope="module")
def tomcat() -> tuple[P.Issued, P.Issued]:
    ca = _tomcat_ca()
    return ca, P.issue("user1", ca, org="Apache")


def test_leaf_under_an_unknown_test_ca_is_a_warning_with_both_possibilities(cli, tmp_path, tomcat) -> None:  # type: ignore[no-untyped-def]
    _ca, user1 = tomcat
    store = P.write_jks(tmp_path / "user1.jks", PW, keys=[("user1", user1.key, [user1.cert])])
    result = cli("keystore", str(store), "--storepass", PW, "--json")
    assert result.status == 0, result.json()["findings"]
    (finding,) = [f for f in result.json()["findings"] if f["code"] == "chain-incomplete"]
    assert finding["severity"] == "warning"
    assert "has no intermediate" not in finding["summary"]
    assert "fine if that is a root the server trusts" in finding["summary"]
    assert "if it is an intermediate" in finding["summary"]
    assert "CN=Apache Tomcat Test CA" in finding["summary"]


def test_same_leaf_with_the_test_ca_in_the_store_is_only_info(cli, tmp_path, tomcat) -> None:  # type: ignore[no-untyped-def]
    ca, user1 = tomcat
    store = P.write_jks(
        tmp_path / "user1-ca.jks", PW, keys=[("user1", user1.key, [user1.cert])], trusted=[("ca", ca.cert)]
    )
    result = cli("keystore", str(store), "--storepass", PW, "--json")
    assert result.status == 0
    assert [(f["code"], f["severity"]) for f in result.json()["findings"]] == [("chain-incomplete", "info")]
    assert any("self-signed: a root" in e["fact"] for e in result.json()["findings"][0]["evidence"])


def test_missing_issuer_known_as_an_intermediate_from_another_chain_is_an_error(cli, tmp_path, acme) -> None:  # type: ignore[no-untyped-def]
    other = P.issue("other client", acme.intermediate)
    store = P.write_jks(
        tmp_path / "two.jks",
        PW,
        keys=[
            ("alone", acme.leaf.key, [acme.leaf.cert]),
            ("full", other.key, [other.cert, acme.intermediate.cert, acme.root.cert]),
        ],
    )
    result = cli("keystore", str(store), "--storepass", PW, "--json")
    assert result.status == 1
    (finding,) = [f for f in result.json()["findings"] if f["code"] == "chain-incomplete"]
    assert finding["severity"] == "error" and finding["location"]["alias"] == "alone"
    assert "lacks the intermediate CN=Acme Issuing CA" in finding["summary"]
    assert any("'full', chain[1]" in e["source"] for e in finding["evidence"])


@pytest.mark.skipif(OPENSSL is None, reason="openssl not on PATH")
def test_netty_style_openssl_stores(cli, tmp_path, acme) -> None:  # type: ignore[no-untyped-def]
    """Client: -certfile chain, no -name → alias "1", full chain, clean. Server: leaf + root only
    (its issuer is the root, present): clean as well."""
    (tmp_path / "client.key").write_bytes(acme.leaf.key_pem)
    (tmp_path / "client.pem").write_bytes(acme.leaf.pem)
    (tmp_path / "chain.pem").write_bytes(acme.intermediate.pem + acme.root.pem)
    export = [OPENSSL, "pkcs12", "-export", "-password", "pass:example"]
    subprocess.run(
        [*export, "-in", "client.pem", "-inkey", "client.key", "-certfile", "chain.pem", "-out", "c.p12"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    result = cli("keystore", str(tmp_path / "c.p12"), "--storepass", "example", "--json")
    assert result.status == 0 and result.json()["findings"] == []
    (entry,) = result.json()["keystore"]["entries"]
    assert entry["alias"] == "1" and len(entry["chain"]) == 3

    server = P.issue("NettyTestServer", acme.root, eku=None)
    (tmp_path / "server.key").write_bytes(server.key_pem)
    (tmp_path / "server.pem").write_bytes(server.pem)
    (tmp_path / "root.pem").write_bytes(acme.root.pem)
    subprocess.run(
        [*export, "-in", "server.pem", "-inkey", "server.key", "-certfile", "root.pem", "-out", "s.p12"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    result = cli("keystore", str(tmp_path / "s.p12"), "--storepass", "example", "--json")
    assert result.status == 0 and result.json()["findings"] == []
    assert [len(e["chain"]) for e in result.json()["keystore"]["entries"]] == [2]
