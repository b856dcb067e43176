"""PKCS#12 read as Java reads it, with the real `keytool -list -v` (JDK on PATH) as the oracle.

Every store is made at test time (openssl pkcs12, Python cryptography); the aliases and the
chain (serial numbers, in order) we report must be the ones keytool prints.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest
from asn1crypto import pkcs12 as apkcs12
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from tests import pki as P
from tests.conftest import needs_keytool

pytestmark = [needs_keytool, pytest.mark.keytool]
PW = "changeit"
OPENSSL = shutil.which("openssl")


def keytool_view(path: Path, password: str = PW) -> dict[str, list[int]]:
    """alias → serial numbers of its chain (trusted entries: one), as keytool -list -v prints them."""
    out = P.keytool("-list", "-v", "-keystore", str(path), "-storepass", password, cwd=path.parent).stdout
    view: dict[str, list[int]] = {}
    alias = None
    for line in out.splitlines():
        if line.startswith("Alias name: "):
            alias = line[len("Alias name: ") :]
            view[alias] = []
        elif line.startswith("Serial number: ") and alias is not None:
            view[alias].append(int(line.split(": ", 1)[1], 16))
    return view


def our_view(cli, path: Path, password: str = PW) -> dict[str, list[int]]:  # type: ignore[no-untyped-def]
    result = cli("keystore", str(path), "--storepass", password, "--json")
    assert result.status in (0, 1), result.err
    view: dict[str, list[int]] = {}
    for entry in result.json()["keystore"]["entries"]:
        if entry["type"] == "PrivateKeyEntry":
            view[entry["alias"]] = [int(c["serial"], 16) for c in entry["chain"]]
        elif entry["type"] == "trustedCertEntry":
            view[entry["alias"]] = [int(entry["certificate"]["serial"], 16)]
    return view


def _cert(
    subject: x509.Name, issuer_name: x509.Name, key, signer, *, ca: bool, aki_from=None, ski: bool = True
) -> x509.Certificate:  # type: ignore[no-untyped-def]
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(P.NOW - dt.timedelta(days=1))
        .not_valid_after(P.NOW + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ski:
        builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
    if aki_from is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(aki_from.public_key()), False
        )
    return builder.sign(signer, hashes.SHA256())


def _name(cn: str, org: str = "Acme", printable: bool = False) -> x509.Name:
    kind = x509.name._ASN1Type.PrintableString if printable else x509.name._ASN1Type.UTF8String
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org, kind),
            x509.NameAttribute(NameOID.COMMON_NAME, cn, kind),
        ]
    )


def _store(path: Path, name: bytes | None, key, leaf, cas) -> Path:  # type: ignore[no-untyped-def]
    data = pkcs12.serialize_key_and_certificates(
        name, key, leaf, cas, serialization.BestAvailableEncryption(PW.encode())
    )
    path.write_bytes(data)
    return path


@pytest.fixture(scope="module")
def twins():  # type: ignore[no-untyped-def]
    """A root and two intermediates with the same subject and different keys."""
    root_key, k1, k2 = P.new_key(), P.new_key(), P.new_key()
    root_name, inter_name = _name("Twin Root"), _name("Twin Issuing CA")
    root = _cert(root_name, root_name, root_key, root_key, ca=True)
    first = _cert(inter_name, root_name, k1, root_key, ca=True, aki_from=root_key)
    second = _cert(inter_name, root_name, k2, root_key, ca=True, aki_from=root_key)
    return root, (first, k1), (second, k2)


def test_same_subject_without_aki_first_in_file_wins(cli, tmp_path, twins) -> None:  # type: ignore[no-untyped-def]
    root, (first, _), (second, k2) = twins
    leaf_key = P.new_key()
    leaf = _cert(_name("twin leaf"), second.subject, leaf_key, k2, ca=False)  # signed by the SECOND
    path = _store(tmp_path / "twins.p12", b"Twin", leaf_key, leaf, [first, second, root])
    java = keytool_view(path)
    assert java == {"twin": [leaf.serial_number, first.serial_number, root.serial_number]}
    assert our_view(cli, path) == java


def test_same_subject_with_aki_takes_the_matching_key_id(cli, tmp_path, twins) -> None:  # type: ignore[no-untyped-def]
    root, (first, _), (second, k2) = twins
    leaf_key = P.new_key()
    leaf = _cert(_name("twin leaf"), second.subject, leaf_key, k2, ca=False, aki_from=k2)
    path = _store(tmp_path / "twins-aki.p12", b"twin", leaf_key, leaf, [first, second, root])
    java = keytool_view(path)
    assert java == {"twin": [leaf.serial_number, second.serial_number, root.serial_number]}
    assert our_view(cli, path) == java
    result = cli("keystore", str(path), "--storepass", PW, "--json")
    assert "chain-out-of-order" not in result.codes()


def test_names_compared_canonically_not_byte_for_byte(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The intermediate's subject is PrintableString 'Acme'/'Canon CA'; the leaf names its issuer
    in UTF8String, other case, extra spaces: X500Principal.equals matches them."""
    root_key, inter_key, leaf_key = P.new_key(), P.new_key(), P.new_key()
    root_name = _name("Canon Root", printable=True)
    inter_name = _name("Canon CA", printable=True)
    root = _cert(root_name, root_name, root_key, root_key, ca=True)
    inter = _cert(inter_name, root_name, inter_key, root_key, ca=True)
    leaf = _cert(_name("leaf"), _name("canon   ca", org="ACME"), leaf_key, inter_key, ca=False)
    assert leaf.issuer.public_bytes() != inter.subject.public_bytes()
    path = _store(tmp_path / "canon.p12", b"c", leaf_key, leaf, [inter, root])
    java = keytool_view(path)
    assert java == {"c": [leaf.serial_number, inter.serial_number, root.serial_number]}
    assert our_view(cli, path) == java


def test_alias_lower_cased_and_written_name_shown(cli, tmp_path, acme) -> None:  # type: ignore[no-untyped-def]
    chain = [acme.intermediate.cert, acme.root.cert]
    path = _store(tmp_path / "mixed.p12", b"MyClient", acme.leaf.key, acme.leaf.cert, chain)
    assert list(keytool_view(path)) == ["myclient"]
    result = cli("keystore", str(path), "--storepass", PW, "--json")
    (entry,) = result.json()["keystore"]["entries"]
    assert entry["alias"] == "myclient" and entry["stored_name"] == "MyClient"
    text = cli("keystore", str(path), "--storepass", PW).out
    assert "myclient (written MyClient)" in text


@pytest.mark.skipif(OPENSSL is None, reason="openssl not on PATH")
@pytest.mark.parametrize("flags", [[], ["-legacy"], ["-certpbe", "AES-128-CBC", "-keypbe", "AES-128-CBC"]])
def test_openssl_store_without_name_is_alias_1(cli, tmp_path, acme, flags) -> None:  # type: ignore[no-untyped-def]
    """openssl pkcs12 without -name: no friendlyName; Java calls the entry "1". -legacy is 3DES/RC2-40."""
    (tmp_path / "key.pem").write_bytes(acme.leaf.key_pem)
    (tmp_path / "chain.pem").write_bytes(acme.leaf.pem + acme.intermediate.pem + acme.root.pem)
    path = tmp_path / "nameless.p12"
    subprocess.run(
        [
            OPENSSL,
            "pkcs12",
            "-export",
            "-inkey",
            "key.pem",
            "-in",
            "chain.pem",
            "-out",
            path.name,
            "-passout",
            f"pass:{PW}",
            *flags,
        ],
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    if flags == ["-legacy"]:
        info = subprocess.run(
            [OPENSSL, "pkcs12", "-in", path.name, "-info", "-noout", "-passin", f"pass:{PW}", "-legacy"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
        ).stderr
        assert "pbeWithSHA1And40BitRC2-CBC" in info and "pbeWithSHA1And3-KeyTripleDES-CBC" in info
    java = keytool_view(path)
    expected = [
        acme.leaf.cert.serial_number,
        acme.intermediate.cert.serial_number,
        acme.root.cert.serial_number,
    ]
    assert java == {"1": expected}
    assert our_view(cli, path) == java


@pytest.mark.skipif(OPENSSL is None, reason="openssl not on PATH")
def test_unencrypted_key_bag_is_loaded_and_said_java_ignores_it(cli, tmp_path, acme) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "key.pem").write_bytes(acme.leaf.key_pem)
    (tmp_path / "chain.pem").write_bytes(acme.leaf.pem + acme.intermediate.pem)
    subprocess.run(
        [
            OPENSSL,
            "pkcs12",
            "-export",
            "-inkey",
            "key.pem",
            "-in",
            "chain.pem",
            "-out",
            "plain.p12",
            "-name",
            "client",
            "-keypbe",
            "NONE",
            "-passout",
            f"pass:{PW}",
        ],
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    path = tmp_path / "plain.p12"
    assert keytool_view(path) == {}  # Java: "Unsupported PKCS12 bag type", no entry
    result = cli("keystore", str(path), "--storepass", PW, "--json")
    assert result.status == 1
    assert result.error_codes() == ["pkcs12-key-not-loaded-by-java"]
    assert "internal error" not in result.err


def test_cryptography_no_encryption_store_loads_without_a_password(cli, tmp_path, acme) -> None:  # type: ignore[no-untyped-def]
    """NoEncryption(): a KeyBag and a MAC under the empty password; keytool opens it with ''."""
    data = pkcs12.serialize_key_and_certificates(
        b"c", acme.leaf.key, acme.leaf.cert, [acme.intermediate.cert], serialization.NoEncryption()
    )
    path = tmp_path / "noenc.p12"
    path.write_bytes(data)
    assert keytool_view(path, "") == {}
    result = cli("keystore", str(path), "--json")
    assert result.status == 1, result.err
    assert result.error_codes() == ["pkcs12-key-not-loaded-by-java"]
    assert "internal error" not in result.err
    assert result.json()["keystore"]["integrity_checked"] is True


def _with_mac_iterations(data: bytes, count: int) -> bytes:
    pfx = apkcs12.Pfx.load(data)
    pfx["mac_data"]["iterations"] = count
    return pfx.dump(force=True)


def test_mac_iteration_count_above_java_limit_is_refused_as_java_refuses_it(cli, tmp_path, acme) -> None:  # type: ignore[no-untyped-def]
    good = P.write_pkcs12(tmp_path / "ok.p12", PW, "a", acme.leaf.key, [acme.leaf.cert])
    path = tmp_path / "slow.p12"
    path.write_bytes(_with_mac_iterations(good.read_bytes(), 100_000_000))
    java = P.keytool("-list", "-keystore", str(path), "-storepass", PW, cwd=tmp_path, check=False)
    assert java.returncode != 0 and "MAC iteration count too large: 100000000" in java.stdout + java.stderr
    result = cli("keystore", str(path), "--storepass", PW)
    assert result.status == 2 and result.out == ""
    lines = [line for line in result.err.splitlines() if not line.startswith("warning:")]
    assert len(lines) == 1 and str(path) in lines[0]
    assert "MAC iteration count 100,000,000 is above Java's limit of 5,000,000" in lines[0]
    assert "internal error" not in result.err
    # at the limit itself Java (and we) go on to check the MAC: here it is simply wrong
    path.write_bytes(_with_mac_iterations(good.read_bytes(), 2))
    assert "wrong password" in cli("keystore", str(path), "--storepass", PW).err


def test_unnamed_trusted_and_key_entries_share_javas_counter(cli, tmp_path, acme, partner) -> None:  # type: ignore[no-untyped-def]
    """keytool writes trusted entries with friendlyName; strip every name and Java numbers them."""
    path = tmp_path / "kt.p12"
    (tmp_path / "root.pem").write_bytes(partner.root.pem)
    path = _store(path, None, acme.leaf.key, acme.leaf.cert, [acme.intermediate.cert])
    P.keytool(
        "-importcert", "-noprompt", "-alias", "Partner", "-file", "root.pem", "-keystore", path.name,
        "-storepass", PW, cwd=tmp_path,
    )  # fmt: skip
    java = keytool_view(path)
    assert java == {
        "1": [acme.leaf.cert.serial_number, acme.intermediate.cert.serial_number],
        "partner": [partner.root.cert.serial_number],
    }
    assert our_view(cli, path) == java


def _with_pbe_iterations(data: bytes, count: int | None, where: str) -> bytes:
    """The store with one PBES2 iteration count changed ("cert": the encrypted safe; "key": the
    shrouded key bag), its MAC recomputed so only the count is odd."""
    import hashlib
    import hmac

    from asn1crypto import cms

    from inspector.keystore.pkcs12_crypto import pkcs12_kdf

    pfx = apkcs12.Pfx.load(data)
    safes = []
    for info in pfx.authenticated_safe:
        info = cms.ContentInfo.load(info.dump())
        if info["content_type"].native == "encrypted_data" and where == "cert":
            alg = info["content"]["encrypted_content_info"]["content_encryption_algorithm"]
            params = alg["parameters"]["key_derivation_func"]["parameters"]
            params["iteration_count"] = count or params["iteration_count"].native
        elif info["content_type"].native == "data" and where == "key":
            bags = apkcs12.SafeContents.load(bytes(info["content"].native))
            for bag in bags:
                if bag["bag_id"].native == "pkcs8_shrouded_key_bag":
                    alg = bag["bag_value"]["encryption_algorithm"]
                    params = alg["parameters"]["key_derivation_func"]["parameters"]
                    params["iteration_count"] = count or params["iteration_count"].native
            info = cms.ContentInfo({"content_type": "data", "content": bags.dump(force=True)})
        safes.append(info)
    content = apkcs12.AuthenticatedSafe(safes).dump(force=True)
    mac = pfx["mac_data"]
    digest = mac["mac"]["digest_algorithm"]["algorithm"].native
    secret = PW.encode("utf-16-be") + b"\x00\x00"
    salt, rounds = bytes(mac["mac_salt"].native), int(mac["iterations"].native)
    key = pkcs12_kdf(digest, secret, salt, 3, rounds, hashlib.new(digest).digest_size)
    mac_value = hmac.new(key, content, digest).digest()
    rebuilt = apkcs12.Pfx(
        {
            "version": "v3",
            "auth_safe": {"content_type": "data", "content": content},
            "mac_data": {
                "mac": {"digest_algorithm": {"algorithm": digest}, "digest": mac_value},
                "mac_salt": salt,
                "iterations": rounds,
            },
        }
    )
    return rebuilt.dump(force=True)


@pytest.mark.parametrize(("where", "java_says"), [("cert", "cert PBE"), ("key", "key PBE")])
def test_pbe_iteration_count_above_java_limit(cli, tmp_path, acme, where, java_says) -> None:  # type: ignore[no-untyped-def]
    good = P.write_pkcs12(tmp_path / "ok.p12", PW, "a", acme.leaf.key, [acme.leaf.cert])
    path = tmp_path / f"slow-{where}.p12"
    path.write_bytes(_with_pbe_iterations(good.read_bytes(), 100_000_000, where))
    java = P.keytool("-list", "-v", "-keystore", str(path), "-storepass", PW, cwd=tmp_path, check=False)
    if where == "cert":  # Java refuses at load; a key's count only when the key is used
        assert "cert PBE iteration count too large" in java.stdout + java.stderr
    result = cli("keystore", str(path), "--storepass", PW)
    assert result.status == 2 and result.out == "" and "internal error" not in result.err
    lines = [line for line in result.err.splitlines() if not line.startswith("warning:")]
    assert len(lines) == 1 and str(path) in lines[0]
    assert f"{java_says} iteration count 100,000,000 is above Java's limit of 5,000,000" in lines[0]
    # the same rewrite keeping the count reads fine: only the count made the difference
    path.write_bytes(_with_pbe_iterations(good.read_bytes(), None, where))
    again = cli("keystore", str(path), "--storepass", PW, "--json")
    assert again.status == 0 and again.json()["keystore"]["entries"][0]["key_decrypted"] is True


def test_bmpstring_issuer_does_not_match_a_utf8string_subject(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """X500Principal compares a BMPString value by its hex encoding: a leaf naming its issuer in
    BMPString does not chain to the UTF8String subject, though the text is the same."""
    bmp = x509.name._ASN1Type.BMPString
    root_key, inter_key, leaf_key = P.new_key(), P.new_key(), P.new_key()
    root_name, inter_name = _name("BMP Root"), _name("BMP CA")
    root = _cert(root_name, root_name, root_key, root_key, ca=True)
    inter = _cert(inter_name, root_name, inter_key, root_key, ca=True)
    issuer_bmp = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Acme", bmp),
            x509.NameAttribute(NameOID.COMMON_NAME, "BMP CA", bmp),
        ]
    )
    leaf = _cert(_name("leaf"), issuer_bmp, leaf_key, inter_key, ca=False)
    path = _store(tmp_path / "bmp.p12", b"b", leaf_key, leaf, [inter, root])
    java = keytool_view(path)
    assert java == {"b": [leaf.serial_number]}
    assert our_view(cli, path) == java
