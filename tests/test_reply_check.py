# ruff: noqa: E501  (the case table and the CLI calls read best one per line)
"""`keystore KS --reply FILE`: the prediction held against the real keytool, case by case.

Each case makes the guide's keystore with keytool (-genkeypair, -certreq, the test CA signs),
imports some CA certificates, asks mtls-inspect what `keytool -importcert -alias A -file REPLY`
will say, then runs that very command (no -noprompt, nobody at the prompt) on a copy of the store
and requires keytool's own words. Where commands are printed, they are run too, in order, and the
import must then succeed with the chain the tool announced."""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import ExtendedKeyUsageOID

from tests import pki as P
from tests.conftest import needs_keytool

PW = "ServiceNow123"
ALIAS = "letstestcba"
pytestmark = [needs_keytool, pytest.mark.keytool]


def _pem(*certs: x509.Certificate) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory, acme: P.Pki) -> Path:
    """The guide's steps 1-2 and the CA's answers, in every format CAs send."""
    d = tmp_path_factory.mktemp("reply")
    for store, extra in (("letstestcba.p12", ()), ("letstestcba.jks", ("-storetype", "JKS"))):
        P.keytool(
            "-genkeypair", "-alias", ALIAS, "-keyalg", "RSA", "-keysize", "2048", "-keystore", store,
            "-storepass", PW, "-dname", "CN=letstestcba, O=Acme", *extra, cwd=d,
        )  # fmt: skip
    P.keytool(
        "-certreq",
        "-alias",
        ALIAS,
        "-file",
        "mycsr.pem",
        "-keystore",
        "letstestcba.p12",
        "-storepass",
        PW,
        cwd=d,
    )
    P.keytool(
        "-certreq",
        "-alias",
        ALIAS,
        "-file",
        "jkscsr.pem",
        "-keystore",
        "letstestcba.jks",
        "-storepass",
        PW,
        cwd=d,
    )
    leaf = P.sign_csr((d / "mycsr.pem").read_bytes(), acme.intermediate)
    server_only = P.sign_csr(
        (d / "mycsr.pem").read_bytes(), acme.intermediate, eku=(ExtendedKeyUsageOID.SERVER_AUTH,)
    )
    jks_leaf = P.sign_csr((d / "jkscsr.pem").read_bytes(), acme.intermediate)
    root, inter = acme.root.cert, acme.intermediate.cert
    files = {
        "leaf.pem": _pem(leaf),
        "leaf.der": leaf.public_bytes(serialization.Encoding.DER),
        "jks-leaf.pem": _pem(jks_leaf),
        "jks-leaf-root.pem": _pem(jks_leaf, root),
        "bundle.pem": _pem(leaf, inter, root),
        "leaf-int.pem": _pem(leaf, inter),
        "int-leaf.pem": _pem(inter, leaf),
        "leaf-root.pem": _pem(leaf, root),
        "chain.p7b": pkcs7.serialize_certificates([leaf, inter, root], serialization.Encoding.DER),
        "chain.p7c": pkcs7.serialize_certificates([leaf, inter], serialization.Encoding.PEM),
        "other-key.pem": _pem(acme.leaf.cert),
        "other-bundle.pem": _pem(acme.leaf.cert, inter, root),
        "server-only.pem": _pem(server_only),
        "junk.pem": b"this is not a certificate\n",
        "key-and-cert.pem": acme.leaf.key_pem + _pem(leaf),
        "empty.pem": b"",
        "root.pem": _pem(root),
        "intermediate.pem": _pem(inter),
    }
    for name, data in files.items():
        (d / name).write_bytes(data)
    P.keytool(
        "-exportcert",
        "-rfc",
        "-alias",
        ALIAS,
        "-file",
        "self.pem",
        "-keystore",
        "letstestcba.p12",
        "-storepass",
        PW,
        cwd=d,
    )
    return d


def _store(base: Path, tmp: Path, cas: tuple[str, ...], store: str = "letstestcba.p12") -> Path:
    for name in list(base.iterdir()):
        shutil.copy(name, tmp / name.name)
    for ca in cas:
        P.keytool(
            "-importcert", "-noprompt", "-trustcacerts", "-alias", ca.removesuffix(".pem"), "-file", ca,
            "-keystore", store, "-storepass", PW, cwd=tmp,
        )  # fmt: skip
    return tmp / store


def _keytool_import(tmp: Path, store: Path, reply: str, alias: str = ALIAS) -> str:
    """The guide's command as a user types it (keytool reads no answer: stdin is empty)."""
    copy = tmp / ("copy-" + store.name)
    shutil.copy(store, copy)
    import subprocess

    assert P.KEYTOOL is not None
    done = subprocess.run(
        [P.KEYTOOL, "-importcert", "-alias", alias, "-file", reply, "-keystore", copy.name, "-storepass", PW],
        cwd=tmp, capture_output=True, text=True, input="", timeout=60,
    )  # fmt: skip
    return done.stdout + done.stderr


CASES = [
    # id, CA certificates imported first, reply file, alias, outcome, the keytool words
    ("single-no-ca", (), "leaf.pem", ALIAS, "no-chain", "Failed to establish chain from reply"),
    ("single-root-only", ("root.pem",), "leaf.pem", ALIAS, "no-chain", "Failed to establish chain from reply"),
    ("single-int-only", ("intermediate.pem",), "leaf.pem", ALIAS, "no-chain", "Failed to establish chain from reply"),
    ("single-guide", ("root.pem", "intermediate.pem"), "leaf.pem", ALIAS, "installed", "Certificate reply was installed in keystore"),
    ("der-guide", ("root.pem", "intermediate.pem"), "leaf.der", ALIAS, "installed", "Certificate reply was installed in keystore"),
    ("bundle-no-ca", (), "bundle.pem", ALIAS, "top-not-trusted", "Install reply anyway? [no]:"),
    ("bundle-root", ("root.pem",), "bundle.pem", ALIAS, "installed", "Certificate reply was installed in keystore"),
    ("leaf-int-root", ("root.pem",), "leaf-int.pem", ALIAS, "installed", "Certificate reply was installed in keystore"),
    ("int-leaf-root", ("root.pem",), "int-leaf.pem", ALIAS, "installed", "Certificate reply was installed in keystore"),
    ("leaf-int-no-ca", (), "leaf-int.pem", ALIAS, "top-not-trusted", "Install reply anyway? [no]:"),
    ("p7b-no-ca", (), "chain.p7b", ALIAS, "top-not-trusted", "Install reply anyway? [no]:"),
    ("p7b-root", ("root.pem",), "chain.p7b", ALIAS, "installed", "Certificate reply was installed in keystore"),
    ("p7c-pem-root", ("root.pem",), "chain.p7c", ALIAS, "installed", "Certificate reply was installed in keystore"),
    ("leaf-root-skips-int", ("root.pem",), "leaf-root.pem", ALIAS, "chain-not-valid", "Certificate chain is not valid"),
    ("other-key", ("root.pem", "intermediate.pem"), "other-key.pem", ALIAS, "keys-differ", "Public keys in reply and keystore don't match"),
    ("other-bundle", ("root.pem",), "other-bundle.pem", ALIAS, "reply-lacks-key", "Certificate reply does not contain public key for <letstestcba>"),
    ("identical", (), "self.pem", ALIAS, "identical", "Certificate reply and certificate in keystore are identical"),
    ("junk", (), "junk.pem", ALIAS, "not-a-certificate", "keytool error: java.security.cert.Certificate"),
    ("empty", (), "empty.pem", ALIAS, "no-certificates", "Reply has no certificates"),
    ("key-and-cert", ("root.pem", "intermediate.pem"), "key-and-cert.pem", ALIAS, "not-a-certificate", "keytool error: java.security.cert.Certificate"),
    ("new-alias", ("root.pem", "intermediate.pem"), "leaf.pem", "letstestcba-signed", "added-as-trusted", "Certificate was added to keystore"),
    ("new-alias-no-ca", (), "leaf.pem", "letstestcba-signed", "trust-prompt", "Trust this certificate? [no]:"),
    ("trusted-alias", ("root.pem", "intermediate.pem"), "leaf.pem", "root", "alias-is-trusted-entry", "Certificate not imported, alias <root> already exists"),
    ("junk-new-alias", (), "junk.pem", "other", "not-a-certificate", "Input not an X.509 certificate"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("cas", "reply", "alias", "outcome", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_prediction_is_what_keytool_says(cli, tmp_path, base, cas, reply, alias, outcome, words):  # type: ignore[no-untyped-def]
    store = _store(base, tmp_path, cas)
    result = cli(
        "keystore",
        str(store),
        "--storepass",
        PW,
        "--reply",
        str(tmp_path / reply),
        "--alias",
        alias,
        "--json",
    )
    said = result.json()["reply"]["keytool"]
    assert said["outcome"] == outcome, result.out
    assert words in said["says"]
    real = _keytool_import(tmp_path, store, reply, alias)
    assert words in real, real
    assert said["says"].removeprefix("... ") in real, real
    # a complete bundle whose root is not in the store is a warning (keytool asks; "yes" installs it whole)
    whole_bundle = outcome == "top-not-trusted" and reply in ("bundle.pem", "chain.p7b")
    assert result.status == (0 if outcome == "installed" or whole_bundle else 1), result.out


def _run_commands(tmp: Path, commands: list[str]) -> str:
    """The printed keytool commands, with the store password and -noprompt a script would add;
    a '# NAME.pem: certificate #i of REPLY' line is honoured by writing that certificate out."""
    out = ""
    for line in commands:
        if line.startswith("#"):
            name, rest = line[2:].split(": certificate #", 1)
            index, reply = rest.split(" of ", 1)
            from inspector.pki.bundles import read_certificate_file

            certs = read_certificate_file(Path(reply.split(" (")[0]).read_bytes()).certificates
            (tmp / name).write_bytes(_pem(certs[int(index)]))
            continue
        argv = shlex.split(line)
        assert argv[0] == "keytool"
        extra = ["-storepass", PW] + (["-noprompt"] if "-trustcacerts" in argv else [])
        done = P.keytool(*argv[1:], *extra, cwd=tmp, check=False)
        out += done.stdout + done.stderr
    return out


@pytest.mark.parametrize(
    ("cas", "reply", "given"),
    [
        ((), "leaf.pem", ("root.pem", "intermediate.pem")),
        (("root.pem",), "leaf.pem", ("intermediate.pem",)),
        ((), "bundle.pem", ()),
        ((), "chain.p7b", ()),
        ((), "leaf-int.pem", ("root.pem",)),
    ],
    ids=[
        "single-both-given",
        "single-int-given",
        "bundle-root-inside",
        "p7b-root-inside",
        "leaf-int-root-given",
    ],
)
def test_printed_commands_make_keytool_install_the_announced_chain(cli, tmp_path, base, cas, reply, given):  # type: ignore[no-untyped-def]
    store = _store(base, tmp_path, cas)
    args = ["keystore", str(store), "--storepass", PW, "--reply", str(tmp_path / reply), "--json"]
    if given:
        args += ["--ca", *(str(tmp_path / g) for g in given)]
    doc = cli(*args).json()["reply"]
    assert doc["keytool"]["outcome"] != "installed"
    assert doc["keytool"]["after_commands"]["outcome"] == "installed"
    said = _run_commands(tmp_path, doc["keytool"]["commands"])
    assert said.rstrip().endswith("Certificate reply was installed in keystore"), said
    after = cli("keystore", str(store), "--storepass", PW, "--alias", ALIAS, "--json").json()
    chain = after["keystore"]["entries"][0]["chain"]
    assert [c["sha256"] for c in chain] == [c["sha256"] for c in doc["java_chain_after"]]
    assert [c["subject"] for c in chain] == [
        "CN=letstestcba,O=Acme",
        "CN=Acme Issuing CA,O=Acme",
        "CN=Acme Root CA,O=Acme",
    ]
    assert after["findings"] == []


def test_new_alias_is_named_and_the_right_alias_given(cli, tmp_path, base):  # type: ignore[no-untyped-def]
    store = _store(base, tmp_path, ("root.pem", "intermediate.pem"))
    result = cli(
        "keystore",
        str(store),
        "--storepass",
        PW,
        "--reply",
        str(tmp_path / "leaf.pem"),
        "--alias",
        "letstestcba-signed",
        "--json",
    )
    assert result.error_codes() == ["reply-alias-not-key-entry"]
    doc = result.json()["reply"]
    assert (
        doc["keytool"]["commands"][-1]
        == f"keytool -importcert -alias letstestcba -file {tmp_path / 'leaf.pem'} -keystore {store}"
    )
    assert doc["keytool"]["after_commands"]["says"] == "Certificate reply was installed in keystore"


def test_leaf_plus_root_reply_installs_a_broken_chain_in_jks(cli, tmp_path, base):  # type: ignore[no-untyped-def]
    """keytool never checks the last certificate of a 2-certificate reply: leaf + root (no
    intermediate) is installed as it stands in a JKS (a PKCS#12 store refuses it, above)."""
    store = _store(base, tmp_path, ("root.pem",), "letstestcba.jks")
    result = cli(
        "keystore", str(store), "--storepass", PW, "--reply", str(tmp_path / "jks-leaf-root.pem"), "--json"
    )
    doc = result.json()["reply"]
    assert doc["keytool"]["outcome"] == "installed"
    assert result.status == 1
    said = _keytool_import(tmp_path, store, "jks-leaf-root.pem")
    assert "Certificate reply was installed in keystore" in said
    P.keytool(
        "-importcert",
        "-alias",
        ALIAS,
        "-file",
        "jks-leaf-root.pem",
        "-keystore",
        store.name,
        "-storepass",
        PW,
        "-noprompt",
        cwd=tmp_path,
    )
    real = cli("keystore", str(store), "--storepass", PW, "--alias", ALIAS, "--json")
    assert [c["sha256"] for c in real.json()["keystore"]["entries"][0]["chain"]] == [
        c["sha256"] for c in doc["java_chain_after"]
    ]
    assert sorted(doc["after_findings"]) == real.codes()
    assert "chain-out-of-order" in real.codes()


def test_csr_from_another_keystore(cli, tmp_path, base):  # type: ignore[no-untyped-def]
    store = _store(base, tmp_path, ("root.pem", "intermediate.pem"))
    good = cli(
        "keystore",
        str(store),
        "--storepass",
        PW,
        "--reply",
        str(tmp_path / "leaf.pem"),
        "--csr",
        str(tmp_path / "mycsr.pem"),
        "--json",
    )
    assert good.status == 0 and good.codes() == []
    bad = cli(
        "keystore",
        str(store),
        "--storepass",
        PW,
        "--reply",
        str(tmp_path / "leaf.pem"),
        "--csr",
        str(tmp_path / "jkscsr.pem"),
        "--json",
    )
    assert bad.error_codes() == ["reply-csr-mismatch"]
    assert "was not made from the key of 'letstestcba'" in bad.json()["findings"][0]["summary"]
    assert "no certificate in" in bad.json()["findings"][0]["summary"]


def test_server_auth_only_reply_and_expiry_judged_on_the_result(cli, tmp_path, base):  # type: ignore[no-untyped-def]
    store = _store(base, tmp_path, ("root.pem", "intermediate.pem"))
    eku = cli(
        "keystore", str(store), "--storepass", PW, "--reply", str(tmp_path / "server-only.pem"), "--json"
    )
    assert eku.json()["reply"]["keytool"]["outcome"] == "installed"
    assert eku.error_codes() == ["missing-client-auth-usage"]
    later = cli(
        "keystore",
        str(store),
        "--storepass",
        PW,
        "--reply",
        str(tmp_path / "leaf.pem"),
        "--at",
        "2040-01-01",
        "--json",
    )
    assert "cert-expired" in later.error_codes()


def test_jks_store_and_text_report(cli, tmp_path, base):  # type: ignore[no-untyped-def]
    store = _store(base, tmp_path, ("root.pem", "intermediate.pem"), "letstestcba.jks")
    result = cli("keystore", str(store), "--storepass", PW, "--reply", str(tmp_path / "jks-leaf.pem"))
    assert result.status == 0
    assert "keytool would say: Certificate reply was installed in keystore" in result.out
    assert "Certificate reply was installed in keystore" in _keytool_import(tmp_path, store, "jks-leaf.pem")


def test_unusable_inputs_exit_2(cli, tmp_path, base):  # type: ignore[no-untyped-def]
    store = _store(base, tmp_path, ())
    missing = cli("keystore", str(store), "--storepass", PW, "--reply", str(tmp_path / "nope.pem"))
    assert missing.status == 2 and "nope.pem: no such file" in missing.err
    csr = cli(
        "keystore",
        str(store),
        "--storepass",
        PW,
        "--reply",
        str(tmp_path / "leaf.pem"),
        "--csr",
        str(tmp_path / "leaf.pem"),
    )
    assert csr.status == 2 and "not a certificate signing request" in csr.err
    ca = cli(
        "keystore",
        str(store),
        "--storepass",
        PW,
        "--reply",
        str(tmp_path / "leaf.pem"),
        "--ca",
        str(tmp_path / "junk.pem"),
    )
    last = ca.err.strip().splitlines()[-1]
    assert ca.status == 2 and last.startswith("mtls-inspect: error: --ca ") and "junk.pem" in last
