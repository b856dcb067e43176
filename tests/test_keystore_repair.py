# ruff: noqa: E501
"""`keystore KS --repair OUT`: the written store opened by the real
`keytool -list -v`, judged again, never over the input, 0600, no symlink followed; the by-hand
keytool commands run by keytool give the same chain. The handshake a real Java client makes
with the result is in tests/live/test_repair_handshake.py."""

from __future__ import annotations

import os
import re
import shlex
import stat
import subprocess
from pathlib import Path

import pytest

from tests import pki as P
from tests.conftest import needs_keytool

PW = "ServiceNow123"
pytestmark = [needs_keytool, pytest.mark.keytool]


def keytool_list(store: Path, storetype: str | None = None) -> str:
    extra = ["-storetype", storetype] if storetype else []
    return P.keytool(
        "-list", "-v", "-keystore", str(store), "-storepass", PW, *extra, cwd=store.parent
    ).stdout


def chain_owners(listing: str, alias: str) -> list[str]:
    block = listing.split(f"Alias name: {alias}\n", 1)[1].split("Alias name:", 1)[0]
    return re.findall(r"^Owner: (.*)$", block, re.M)


@pytest.fixture
def misfiled(tmp_path: Path, acme: P.Pki) -> Path:
    """The guide's steps with the reply imported under a new alias (the commonest mistake)."""
    return P.keytool_guide(tmp_path, acme, PW, reply_alias="letstestcba-signed")


def test_misfiled_reply_repaired_into_pkcs12(cli, tmp_path, misfiled, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SP", PW)
    out = tmp_path / "fixed.p12"
    before_bytes = misfiled.read_bytes()
    result = cli("keystore", str(misfiled), "--storepass-env", "SP", "--repair", str(out), "--json")
    assert result.status == 0, result.out
    doc = result.json()["repair"]
    assert [f["code"] for f in doc["before"]] == ["signed-cert-under-other-alias", "keystore-type-mismatch"]
    assert doc["after"] == []
    assert (
        doc["entries"][0]["actions"][0]
        == "the self-signed certificate replaced by the CA-signed one from trusted entry 'letstestcba-signed'"
    )
    assert misfiled.read_bytes() == before_bytes  # the input is never changed
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    listing = keytool_list(out)
    assert "Keystore type: PKCS12" in listing
    assert "Your keystore contains 4 entries" in listing
    assert chain_owners(listing, "letstestcba") == [
        "CN=letstestcba, O=Acme",
        "CN=Acme Issuing CA, O=Acme",
        "CN=Acme Root CA, O=Acme",
    ]
    assert (
        "Entry type: PrivateKeyEntry"
        in listing.split("Alias name: letstestcba\n", 1)[1].split("Alias name:")[0]
    )
    for trusted in ("root", "intermediate", "letstestcba-signed"):
        assert (
            "Entry type: trustedCertEntry"
            in listing.split(f"Alias name: {trusted}\n", 1)[1].split("Alias name:")[0]
        )
    # our own reader agrees, and finds nothing left to say
    again = cli("keystore", str(out), "--storepass-env", "SP", "--json")
    assert again.codes() == [] and again.status == 0


def test_leaf_only_jks_completed_from_ca_files_into_jks(cli, tmp_path, acme, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SP", PW)
    store = P.write_jks(tmp_path / "leafonly.jks", PW, keys=[("Client", acme.leaf.key, [acme.leaf.cert])])
    (tmp_path / "root.pem").write_bytes(acme.root.pem)
    (tmp_path / "intermediate.pem").write_bytes(acme.intermediate.pem)
    out = tmp_path / "fixed.jks"
    result = cli(
        "keystore", str(store), "--storepass-env", "SP", "--repair", str(out), "--repair-type", "jks",
        "--ca", str(tmp_path / "root.pem"), str(tmp_path / "intermediate.pem"), "--json",
    )  # fmt: skip
    doc = result.json()["repair"]
    assert result.status == 0, result.out
    assert "chain-incomplete" in {f["code"] for f in doc["before"]}
    assert doc["after"] == []
    assert doc["entries"][0]["written_as"] == "client"
    listing = keytool_list(out)
    assert "Keystore type: JKS" in listing
    assert chain_owners(listing, "client") == [
        "CN=letstestcba, O=Acme",
        "CN=Acme Issuing CA, O=Acme",
        "CN=Acme Root CA, O=Acme",
    ]


def test_key_password_set_to_store_password(cli, tmp_path, acme, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SP", PW)
    monkeypatch.setenv("KP", "another-key-pass")
    chain = [acme.leaf.cert, acme.intermediate.cert, acme.root.cert]
    store = P.write_jks(
        tmp_path / "kp.jks", PW, keys=[("letstestcba", acme.leaf.key, chain)], keypass="another-key-pass"
    )
    out = tmp_path / "fixed.jks"
    result = cli(
        "keystore",
        str(store),
        "--storepass-env",
        "SP",
        "--keypass-env",
        "KP",
        "--repair",
        str(out),
        "--repair-type",
        "JKS",
        "--json",
    )
    doc = result.json()["repair"]
    assert [f["code"] for f in doc["before"]] == ["key-password-differs"]
    assert doc["after"] == [] and "key password set to the store password" in doc["entries"][0]["actions"]
    # keytool opens the key with the store password alone
    done = P.keytool(
        "-exportcert", "-alias", "letstestcba", "-keystore", str(out), "-storepass", PW, "-rfc", cwd=tmp_path
    )
    assert "BEGIN CERTIFICATE" in done.stdout
    P.keytool(
        "-certreq",
        "-alias",
        "letstestcba",
        "-keystore",
        str(out),
        "-storepass",
        PW,
        "-file",
        "x.csr",
        cwd=tmp_path,
    )


def test_output_rules(cli, tmp_path, misfiled, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SP", PW)
    args = ["keystore", str(misfiled), "--storepass-env", "SP", "--repair"]
    same = cli(*args, str(misfiled))
    assert same.status == 2 and "is the input keystore" in same.err
    out = tmp_path / "out.p12"
    out.write_bytes(b"keep me")
    exists = cli(*args, str(out))
    assert exists.status == 2 and "already exists" in exists.err and out.read_bytes() == b"keep me"
    forced = cli(*args, str(out), "--force")
    assert forced.status == 0 and out.read_bytes() != b"keep me"
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    link = tmp_path / "link.p12"
    link.symlink_to(tmp_path / "elsewhere.p12")
    followed = cli(*args, str(link), "--force")
    assert (
        followed.status == 2 and "symbolic link" in followed.err and not (tmp_path / "elsewhere.p12").exists()
    )
    nopass = cli("keystore", str(misfiled), "--repair", str(tmp_path / "n.p12"))
    assert nopass.status == 2 and not (tmp_path / "n.p12").exists()


def test_by_hand_commands_give_the_same_chain(cli, tmp_path, misfiled, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SP", PW)
    out = tmp_path / "fixed.p12"
    doc = cli("keystore", str(misfiled), "--storepass-env", "SP", "--repair", str(out), "--json").json()[
        "repair"
    ]
    by_hand = tmp_path / "byhand"
    by_hand.mkdir()
    target = str(tmp_path / "byhand" / "hand.p12")
    for line in doc["keytool_commands"]:
        line = line.replace(str(out), target)
        assert not line.startswith("#"), line
        argv = shlex.split(line.split(" >")[0])
        extra = (
            ["-srcstorepass", PW, "-deststorepass", PW] if "-importkeystore" in argv else ["-storepass", PW]
        )
        assert argv[0] == "keytool"
        done = subprocess.run(
            [str(P.KEYTOOL), *argv[1:], *extra],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        if " > " in line or " >> " in line:
            mode = "a" if " >> " in line else "w"
            with open(tmp_path / line.rsplit(" ", 1)[1], mode) as pem:
                pem.write(done.stdout)
    hand = keytool_list(Path(target))
    assert chain_owners(hand, "letstestcba") == chain_owners(keytool_list(out), "letstestcba")


def test_reply_given_to_repair_after_certreq(cli, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """The guide's store after -certreq, the CA's reply and CA files given: the repaired store
    is what the three imports would have made, without keytool's import order to get right."""
    monkeypatch.setenv("SP", "changeit")
    guide = Path(__file__).resolve().parent.parent / "captures" / "guide"
    out = tmp_path / "done.p12"
    result = cli(
        "keystore", str(guide / "letstestcba.p12"), "--storepass-env", "SP", "--repair", str(out),
        "--reply", str(guide / "SignedServerCert.pem"), "--ca", str(guide / "root.pem"), str(guide / "intermediate.pem"), "--json",
    )  # fmt: skip
    doc = result.json()["repair"]
    assert [f["code"] for f in doc["before"]] == ["self-signed-client-cert"]
    assert doc["after"] == [] and result.status == 0
    assert [s["source"] for s in doc["entries"][0]["chain_after"]] == [
        f"file {guide / 'SignedServerCert.pem'}",
        f"file {guide / 'intermediate.pem'}",
        f"file {guide / 'root.pem'}",
    ]
    listing = P.keytool("-list", "-v", "-keystore", str(out), "-storepass", "changeit", cwd=tmp_path).stdout
    assert chain_owners(listing, "letstestcba") == [
        "CN=letstestcba, O=Acme",
        "CN=Acme Issuing CA, O=Acme",
        "CN=Acme Root CA, O=Acme",
    ]


@pytest.mark.parametrize("kind", ["PKCS12", "JKS"])
def test_writer_two_key_entries_and_trusted_entries(tmp_path, acme, partner, kind):  # type: ignore[no-untyped-def]
    from inspector.keystore.writer import KeyToWrite, TrustedToWrite, jks_bytes, pkcs12_bytes

    keys = [
        KeyToWrite("acme", acme.leaf.key, (acme.leaf.cert, acme.intermediate.cert, acme.root.cert)),
        KeyToWrite(
            "partner", partner.leaf.key, (partner.leaf.cert, partner.intermediate.cert, partner.root.cert)
        ),
    ]
    trusted = [TrustedToWrite("acme-root", acme.root.cert), TrustedToWrite("partner-root", partner.root.cert)]
    data = (pkcs12_bytes if kind == "PKCS12" else jks_bytes)(keys, trusted, PW)
    store = tmp_path / "two.store"
    store.write_bytes(data)
    listing = keytool_list(store)
    assert f"Keystore type: {kind}" in listing and "Your keystore contains 4 entries" in listing
    assert chain_owners(listing, "partner") == [
        "CN=partner-client, O=Partner",
        "CN=Partner Issuing CA, O=Partner",
        "CN=Partner Root CA, O=Partner",
    ]
    assert chain_owners(listing, "acme") == [
        "CN=letstestcba, O=Acme",
        "CN=Acme Issuing CA, O=Acme",
        "CN=Acme Root CA, O=Acme",
    ]
    assert (
        listing.count("Entry type: PrivateKeyEntry") == 2
        and listing.count("Entry type: trustedCertEntry") == 2
    )
