"""The vendor guide's keytool steps, run for real, and the mistakes users make with them."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from tests import pki as P
from tests.conftest import needs_keytool

PW = "ServiceNow123"
pytestmark = [needs_keytool, pytest.mark.keytool]


def genkeypair(d: Path, store: str = "letstestcba.jks", *extra: str) -> None:
    P.keytool(
        "-genkeypair",
        "-alias",
        "letstestcba",
        "-keyalg",
        "RSA",
        "-keysize",
        "2048",
        "-validity",
        "365",
        "-keystore",
        store,
        "-storepass",
        PW,
        "-dname",
        "CN=letstestcba, O=Acme",
        *extra,
        cwd=d,
    )


def certreq_and_sign(d: Path, issuer: P.Issued, store: str = "letstestcba.jks") -> None:
    P.keytool(
        "-certreq", "-alias", "letstestcba", "-file", "mycsr.pem", "-keystore", store, "-storepass", PW, cwd=d
    )
    signed = P.sign_csr((d / "mycsr.pem").read_bytes(), issuer)
    (d / "SignedServerCert.pem").write_bytes(signed.public_bytes(serialization.Encoding.PEM))


def import_ca(d: Path, alias: str, cert: P.Issued, store: str = "letstestcba.jks") -> None:
    (d / f"{alias}.pem").write_bytes(cert.pem)
    P.keytool(
        "-import",
        "-trustcacerts",
        "-alias",
        alias,
        "-file",
        f"{alias}.pem",
        "-keystore",
        store,
        "-storepass",
        PW,
        "-noprompt",
        cwd=d,
    )


def import_reply(
    d: Path, alias: str = "letstestcba", store: str = "letstestcba.jks", check: bool = True
) -> str:
    done = P.keytool(
        "-importcert",
        "-alias",
        alias,
        "-file",
        "SignedServerCert.pem",
        "-keystore",
        store,
        "-storepass",
        PW,
        "-noprompt",
        cwd=d,
        check=check,
    )
    return done.stdout + done.stderr


def test_guide_steps_give_a_clean_keystore(cli, tmp_path, acme):  # type: ignore[no-untyped-def]
    genkeypair(tmp_path, "letstestcba.p12")
    certreq_and_sign(tmp_path, acme.intermediate, "letstestcba.p12")
    import_ca(tmp_path, "root", acme.root, "letstestcba.p12")
    import_ca(tmp_path, "intermediate", acme.intermediate, "letstestcba.p12")
    import_reply(tmp_path, store="letstestcba.p12")
    result = cli("keystore", str(tmp_path / "letstestcba.p12"), "--storepass", PW, "--json")
    assert result.status == 0, result.out
    assert result.codes() == []
    entries = {e["alias"]: e for e in result.json()["keystore"]["entries"]}
    assert set(entries) == {"letstestcba", "root", "intermediate"}
    chain = entries["letstestcba"]["chain"]
    assert [c["subject"] for c in chain] == [
        "CN=letstestcba,O=Acme",
        "CN=Acme Issuing CA,O=Acme",
        "CN=Acme Root CA,O=Acme",
    ]
    assert entries["root"]["type"] == "trustedCertEntry"


def test_default_storetype_named_jks_is_pkcs12(cli, tmp_path, acme):  # type: ignore[no-untyped-def]
    genkeypair(tmp_path)
    certreq_and_sign(tmp_path, acme.intermediate)
    import_ca(tmp_path, "root", acme.root)
    import_ca(tmp_path, "intermediate", acme.intermediate)
    import_reply(tmp_path)
    result = cli("keystore", str(tmp_path / "letstestcba.jks"), "--storepass", PW, "--json")
    assert result.codes() == ["keystore-type-mismatch"]
    assert result.status == 0
    assert "-srcstoretype PKCS12" in result.json()["findings"][0]["fix"]


def test_storetype_jks_is_real_jks(cli, tmp_path, acme):  # type: ignore[no-untyped-def]
    genkeypair(tmp_path, "letstestcba.jks", "-storetype", "JKS")
    certreq_and_sign(tmp_path, acme.intermediate)
    import_ca(tmp_path, "root", acme.root)
    import_ca(tmp_path, "intermediate", acme.intermediate)
    import_reply(tmp_path)
    result = cli("keystore", str(tmp_path / "letstestcba.jks"), "--storepass", PW, "--json")
    assert result.json()["keystore"]["type"] == "JKS"
    assert result.codes() == []
    # without a password a JKS is still listed, with a warning that integrity was not checked
    unverified = cli("keystore", str(tmp_path / "letstestcba.jks"), "--json")
    assert unverified.json()["keystore"]["integrity_checked"] is False
    assert "NOT been verified" in unverified.err
    assert len(unverified.json()["keystore"]["entries"]) == 3


def test_reply_under_another_alias(cli, tmp_path, acme):  # type: ignore[no-untyped-def]
    genkeypair(tmp_path)
    certreq_and_sign(tmp_path, acme.intermediate)
    import_ca(tmp_path, "root", acme.root)
    import_ca(tmp_path, "intermediate", acme.intermediate)
    import_reply(tmp_path, alias="letstestcba-signed")
    result = cli("keystore", str(tmp_path / "letstestcba.jks"), "--storepass", PW, "--json")
    assert result.status == 1
    assert result.error_codes() == ["signed-cert-under-other-alias"]
    assert "'letstestcba-signed'" in result.json()["findings"][0]["summary"]


def test_intermediate_never_imported(cli, tmp_path, acme):  # type: ignore[no-untyped-def]
    genkeypair(tmp_path)
    certreq_and_sign(tmp_path, acme.intermediate)
    import_ca(tmp_path, "root", acme.root)
    said = import_reply(tmp_path, check=False)
    assert "Failed to establish chain from reply" in said
    result = cli("keystore", str(tmp_path / "letstestcba.jks"), "--storepass", PW, "--json")
    # keytool imported nothing: the key entry is still self-signed
    assert "self-signed-client-cert" in result.codes()


def test_self_signed_exported_with_rfc(cli, tmp_path):  # type: ignore[no-untyped-def]
    genkeypair(tmp_path, "letstestcba.jks", "-storetype", "JKS")
    P.keytool(
        "-exportcert",
        "-alias",
        "letstestcba",
        "-file",
        "ServerCert.pem",
        "-keystore",
        "letstestcba.jks",
        "-storepass",
        PW,
        "-rfc",
        cwd=tmp_path,
    )
    result = cli("keystore", str(tmp_path / "letstestcba.jks"), "--storepass", PW, "--json")
    assert result.codes() == ["self-signed-client-cert"]
    exported = cli("keystore", str(tmp_path / "ServerCert.pem"), "--json")
    entries = exported.json()["keystore"]["entries"]
    key_entry = result.json()["keystore"]["entries"][0]
    assert entries[0]["certificate"]["sha256"] == key_entry["chain"][0]["sha256"]
    assert exported.error_codes() == ["no-private-key-entry"]


def test_jks_key_password_differs(cli, tmp_path):  # type: ignore[no-untyped-def]
    genkeypair(tmp_path, "letstestcba.jks", "-storetype", "JKS", "-keypass", "AnotherPass1")
    result = cli("keystore", str(tmp_path / "letstestcba.jks"), "--storepass", PW, "--json")
    assert "key-password-differs" in result.error_codes()


def test_jceks_is_read(cli, tmp_path):  # type: ignore[no-untyped-def]
    genkeypair(tmp_path, "letstestcba.jceks", "-storetype", "JCEKS")
    result = cli("keystore", str(tmp_path / "letstestcba.jceks"), "--storepass", PW, "--json")
    assert result.json()["keystore"]["type"] == "JCEKS"
    assert result.json()["keystore"]["entries"][0]["key_decrypted"] is True


def test_two_key_entries_in_pkcs12(cli, tmp_path, acme):  # type: ignore[no-untyped-def]
    genkeypair(tmp_path, "two.p12")
    P.keytool(
        "-genkeypair",
        "-alias",
        "second",
        "-keyalg",
        "EC",
        "-groupname",
        "secp256r1",
        "-keystore",
        "two.p12",
        "-storepass",
        PW,
        "-dname",
        "CN=second",
        cwd=tmp_path,
    )
    import_ca(tmp_path, "root", acme.root, "two.p12")
    result = cli("keystore", str(tmp_path / "two.p12"), "--storepass", PW, "--json")
    entries = {e["alias"]: e for e in result.json()["keystore"]["entries"]}
    assert entries["letstestcba"]["key_algorithm"] == "RSA"
    assert entries["second"]["key_algorithm"] == "EC"
    assert entries["root"]["type"] == "trustedCertEntry"
    assert "multiple-key-entries" in result.codes()
    wrong = cli("keystore", str(tmp_path / "two.p12"), "--storepass", "nope")
    assert wrong.status == 2 and "wrong password, or the file is corrupted" in wrong.err
