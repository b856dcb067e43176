"""Keystores shaped as other projects' test stores are, made at
test time with openssl, keytool and cryptography; `keytool -list -v` (JDK on PATH) and
`openssl x509 -fingerprint` are the truth: fingerprints of the bytes stored, every certificate
read, keys named and sized as keytool prints them, nothing but our own lines on stderr.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from asn1crypto import algos, core
from asn1crypto import x509 as ax
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, x448, x25519

from tests import pki as P
from tests.conftest import needs_keytool

pytestmark = [needs_keytool, pytest.mark.keytool]
PW = "changeit"
OPENSSL = shutil.which("openssl")
ROOT = Path(__file__).resolve().parent.parent


# -- what keytool says -----------------------------------------------------------------------


def keytool_entries(path: Path, password: str = PW) -> dict[str, list[tuple[str, str]]]:
    """alias → [(SHA-256 fingerprint, 'Subject Public Key Algorithm' text)] per certificate."""
    out = P.keytool("-list", "-v", "-keystore", str(path), "-storepass", password, cwd=path.parent).stdout
    view: dict[str, list[tuple[str, str]]] = {}
    alias, fingerprint = None, ""
    for line in out.splitlines():
        if line.startswith("Alias name: "):
            alias = line[len("Alias name: ") :]
            view[alias] = []
        elif line.strip().startswith("SHA256: "):
            fingerprint = line.split(": ", 1)[1].replace(":", "").lower()
        elif line.startswith("Subject Public Key Algorithm: ") and alias is not None:
            key = line.split(": ", 1)[1].replace(" (weak)", "").replace(" (disabled)", "")
            view[alias].append((fingerprint, key))
    return view


def ours(cli, path: Path, password: str = PW) -> dict[str, list[tuple[str, str]]]:  # type: ignore[no-untyped-def]
    """The same view from our JSON, the key written as keytool writes it."""
    doc = cli("keystore", str(path), "--storepass", password, "--json").json()
    view: dict[str, list[tuple[str, str]]] = {}
    for entry in doc["keystore"]["entries"]:
        certs = entry["chain"] if entry["type"] == "PrivateKeyEntry" else [entry["certificate"]]
        view[entry["alias"]] = [(c["sha256"], _keytool_words(c)) for c in certs]
    return view


def _keytool_words(cert: dict[str, object]) -> str:
    curve = f" ({cert['key_curve']})" if cert["key_algorithm"] == "EC" else ""
    return f"{cert['key_size']}-bit {cert['key_algorithm']}{curve} key"


def openssl_fingerprint(der: bytes, workdir: Path) -> str:
    assert OPENSSL is not None
    (workdir / "one.der").write_bytes(der)
    out = subprocess.run(
        [OPENSSL, "x509", "-inform", "DER", "-in", "one.der", "-noout", "-fingerprint", "-sha256"],
        cwd=workdir, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return out.strip().split("=", 1)[1].replace(":", "").lower()


def to_jks(p12: Path, password: str = PW) -> Path:
    """keytool -importkeystore into a real JKS, as an old project's store was made."""
    jks = p12.with_suffix(".jks")
    P.keytool(
        "-importkeystore", "-srckeystore", str(p12), "-srcstoretype", "PKCS12", "-srcstorepass",
        password, "-destkeystore", str(jks), "-deststoretype", "JKS", "-deststorepass", password,
        "-noprompt", cwd=p12.parent,
    )  # fmt: skip
    return jks


# -- certificates written as older JDKs and other tools wrote them ------------------------------


def _sign(tbs: bytes, key: object, outer: algos.SignedDigestAlgorithm) -> bytes:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        signature = key.sign(tbs, ec.ECDSA(hashes.SHA256()))
    else:
        assert isinstance(key, dsa.DSAPrivateKey)
        signature = key.sign(tbs, hashes.SHA256())
    return ax.Certificate(
        {
            "tbs_certificate": ax.TbsCertificate.load(tbs),
            "signature_algorithm": outer,
            "signature_value": core.OctetBitString(signature),
        }
    ).dump()


def with_null_parameters(cert: x509.Certificate, key: object) -> bytes:
    """The certificate as older JDKs wrote it: an explicit NULL in both signature
    AlgorithmIdentifiers (ecdsa-with-SHA256 or dsa-with-SHA256), signed again."""
    null = bytes.fromhex("0500")
    tbs = ax.Certificate.load(P.der(cert))["tbs_certificate"].dump()
    oid = cert.signature_algorithm_oid.dotted_string
    plain = algos.SignedDigestAlgorithm({"algorithm": oid}).dump()
    assert tbs.count(plain) == 1
    nulled = b"\x30" + bytes([len(plain) - 2 + 2]) + plain[2:] + null
    header = 4 if tbs[1] == 0x82 else 3 if tbs[1] == 0x81 else 2
    tbs2 = sequence(tbs[header:].replace(plain, nulled))
    outer = algos.SignedDigestAlgorithm.load(nulled)
    return _sign(tbs2, key, outer)


def sequence(body: bytes) -> bytes:
    """A DER SEQUENCE of these contents (minimal length)."""
    if len(body) < 0x80:
        return b"\x30" + bytes([len(body)]) + body
    size = len(body).to_bytes((len(body).bit_length() + 7) // 8, "big")
    return b"\x30" + bytes([0x80 | len(size)]) + size + body


def self_signed(key: object, cn: str, digest: hashes.HashAlgorithm | None = None) -> x509.Certificate:
    subject = P.name(cn, org="Field")
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())  # type: ignore[attr-defined]
        .serial_number(x509.random_serial_number())
        .not_valid_before(P.NOW - dt.timedelta(days=1))
        .not_valid_after(P.NOW + dt.timedelta(days=300))
        .sign(key, digest)  # type: ignore[arg-type]
    )


def pem_key(key: object) -> bytes:
    return key.private_bytes(  # type: ignore[attr-defined, no-any-return]
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def p12_from_der(path: Path, key: object, leaf_der: bytes, *extra: bytes) -> Path:
    """openssl pkcs12 -export of the certificate bytes exactly as given (no re-encoding)."""
    assert OPENSSL is not None
    work = path.parent
    (work / f"{path.stem}.key.pem").write_bytes(pem_key(key))
    pems = b"".join(_pem(d) for d in (leaf_der, *extra))
    (work / f"{path.stem}.chain.pem").write_bytes(pems)
    subprocess.run(
        [OPENSSL, "pkcs12", "-export", "-inkey", f"{path.stem}.key.pem", "-in", f"{path.stem}.chain.pem",
         "-name", path.stem, "-passout", f"pass:{PW}", "-out", path.name],
        cwd=work, check=True, capture_output=True,
    )  # fmt: skip
    return path


def _pem(der: bytes) -> bytes:
    import base64

    body = base64.encodebytes(der).replace(b"\n", b"")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return b"-----BEGIN CERTIFICATE-----\n" + b"\n".join(lines) + b"\n-----END CERTIFICATE-----\n"


# -- point 1: fingerprints of the stored bytes -------------------------------------------------


def test_fingerprint_of_an_ec_certificate_with_null_parameters_is_that_of_the_stored_bytes(
    cli, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    key = ec.generate_private_key(ec.SECP256R1())
    der = with_null_parameters(self_signed(key, "old jdk ec", hashes.SHA256()), key)
    store = to_jks(p12_from_der(tmp_path / "oldec.p12", key, der))
    truth = keytool_entries(store)
    assert truth == {"oldec": [(openssl_fingerprint(der, tmp_path), "256-bit EC (secp256r1) key")]}
    assert ours(cli, store) == truth
    result = cli("keystore", str(store), "--storepass", PW, "--json")
    assert "cert-nonstandard-encoding" in result.codes()


def _empty_excluded_subtrees(ca: P.Issued) -> bytes:
    """A CA certificate whose NameConstraints has permitted subtrees and an empty
    excludedSubtrees (cryptography refuses it; Java and OpenSSL read it), self-signed."""
    cert = (
        x509.CertificateBuilder()
        .subject_name(ca.cert.subject)
        .issuer_name(ca.cert.subject)
        .public_key(ca.key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(P.NOW - dt.timedelta(days=1))
        .not_valid_after(P.NOW + dt.timedelta(days=300))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.NameConstraints(permitted_subtrees=[x509.DNSName("example.org")], excluded_subtrees=None),
            critical=True,
        )
        .sign(ca.key, hashes.SHA256())
    )
    tbs = ax.Certificate.load(P.der(cert))["tbs_certificate"]
    extensions = []
    for ext in tbs["extensions"]:
        if ext["extn_id"].native == "name_constraints":
            value = ext["extn_value"].parsed.dump()
            # append [1] excludedSubtrees, empty
            inner = value[2:] + b"\xa1\x00"
            ext["extn_value"] = ax.NameConstraints.load(b"\x30" + bytes([len(inner)]) + inner)
        extensions.append(ext)
    tbs["extensions"] = ax.Extensions(extensions)
    body = tbs.dump(force=True)
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    assert isinstance(ca.key, rsa.RSAPrivateKey)
    signature = ca.key.sign(body, padding.PKCS1v15(), hashes.SHA256())
    return ax.Certificate(
        {
            "tbs_certificate": ax.TbsCertificate.load(body),
            "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": "sha256_rsa"}),
            "signature_value": core.OctetBitString(signature),
        }
    ).dump()


def test_fingerprint_of_a_ca_with_an_empty_name_constraints_subtree_is_that_of_the_stored_bytes(
    cli, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    ca = P.issue("Constrained Root CA", ca=True, org="Field")
    ca_der = _empty_excluded_subtrees(ca)
    with pytest.raises(ValueError):
        x509.load_der_x509_certificate(ca_der).extensions  # noqa: B018 - cryptography refuses it
    leaf = P.issue("constrained client", P.Issued(x509.load_der_x509_certificate(P.der(ca.cert)), ca.key))
    store = p12_from_der(tmp_path / "constrained.p12", leaf.key, P.der(leaf.cert), ca_der)
    truth = keytool_entries(store)
    assert truth["constrained"][1] == (openssl_fingerprint(ca_der, tmp_path), "2048-bit RSA key")
    assert ours(cli, store) == truth
    malformed = [
        f for f in cli("keystore", str(store), "--storepass", PW, "--json").json()["findings"]
        if f["code"] == "cert-malformed"
    ]  # fmt: skip
    assert [f["severity"] for f in malformed] == ["warning"]
    assert "name_constraints" in malformed[0]["evidence"][0]["fact"]


# -- point 2: no certificate dropped -----------------------------------------------------------


def test_dsa_certificate_with_null_parameters_is_read_in_full(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    key = dsa.generate_private_key(2048)
    der = with_null_parameters(self_signed(key, "old jdk dsa", hashes.SHA256()), key)
    store = to_jks(p12_from_der(tmp_path / "olddsa.p12", key, der))
    truth = keytool_entries(store)
    assert truth == {"olddsa": [(openssl_fingerprint(der, tmp_path), "2048-bit DSA key")]}
    assert ours(cli, store) == truth
    result = cli("keystore", str(store), "--storepass", PW, "--json")
    # was: cert-malformed (error) blaming the key_identifier extension, and an empty chain
    assert sorted(result.codes()) == ["cert-nonstandard-encoding", "self-signed-client-cert"]
    (note,) = [f for f in result.json()["findings"] if f["code"] == "cert-nonstandard-encoding"]
    assert note["severity"] == "info" and "sha256_dsa is written with explicit NULL" in note["summary"]


def test_an_unparsable_part_is_named_and_a_certificate_left_out_is_its_own_error(cli, tmp_path, acme) -> None:  # type: ignore[no-untyped-def]
    """cert-malformed is always a warning (as documented); nothing readable is cert-unreadable;
    the evidence names the part that failed (here the TBS signature algorithm), no extension."""
    tbs = ax.Certificate.load(P.der(acme.leaf.cert))["tbs_certificate"].dump()
    plain = bytes.fromhex("300d06092a864886f70d01010b0500")
    body = tbs[4:].replace(plain, bytes.fromhex("300e06092a864886f70d01010b020100"))
    bad_tbs = b"\x30\x82" + len(body).to_bytes(2, "big") + body
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    assert isinstance(acme.intermediate.key, rsa.RSAPrivateKey)
    signature = acme.intermediate.key.sign(bad_tbs, padding.PKCS1v15(), hashes.SHA256())
    content = bad_tbs + plain + core.OctetBitString(signature).dump()
    der = b"\x30\x82" + len(content).to_bytes(2, "big") + content
    pkcs8 = acme.leaf.key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    import jks

    entry = jks.PrivateKeyEntry.new("client", [der, P.der(acme.intermediate.cert)], pkcs8)
    entry.encrypt(PW)
    jks.KeyStore.new("jks", [entry]).save(str(tmp_path / "odd.jks"), PW)
    result = cli("keystore", str(tmp_path / "odd.jks"), "--storepass", PW, "--json")
    assert "cert-malformed" not in result.codes()
    (left_out,) = [f for f in result.json()["findings"] if f["code"] == "cert-unreadable"]
    assert left_out["severity"] == "error" and left_out["location"]["position"] == 0
    (fact,) = [e["fact"] for e in left_out["evidence"]]
    assert fact.startswith("its TBS signature algorithm does not parse") and "extension" not in fact


# -- point 4: key names and sizes as keytool prints them ----------------------------------------


def _ca_signed(key: object, cn: str, ca_key: ed25519.Ed25519PrivateKey) -> x509.Certificate:
    return (
        x509.CertificateBuilder()
        .subject_name(P.name(cn, org="Field"))
        .issuer_name(P.name("Field Ed25519 CA", org="Field"))
        .public_key(key.public_key())  # type: ignore[attr-defined]
        .serial_number(x509.random_serial_number())
        .not_valid_before(P.NOW - dt.timedelta(days=1))
        .not_valid_after(P.NOW + dt.timedelta(days=300))
        .sign(ca_key, None)
    )


def _openssl_key(curve: str, workdir: Path) -> bytes:
    assert OPENSSL is not None
    subprocess.run(
        [OPENSSL, "genpkey", "-algorithm", "EC", "-pkeyopt", f"ec_paramgen_curve:{curve}",
         "-pkeyopt", "ec_param_enc:named_curve", "-out", f"{curve}.key"],
        cwd=workdir, check=True, capture_output=True,
    )  # fmt: skip
    subprocess.run(
        [OPENSSL, "req", "-new", "-x509", "-key", f"{curve}.key", "-subj", f"/CN={curve}", "-days", "30",
         "-out", f"{curve}.pem"],
        cwd=workdir, check=True, capture_output=True,
    )  # fmt: skip
    subprocess.run(
        [OPENSSL, "pkcs12", "-export", "-inkey", f"{curve}.key", "-in", f"{curve}.pem", "-name", curve,
         "-passout", f"pass:{PW}", "-out", f"{curve}.p12"],
        cwd=workdir, check=True, capture_output=True,
    )  # fmt: skip
    return (workdir / f"{curve}.p12").read_bytes()


@pytest.fixture(scope="module")
def odd_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One PKCS#12 per key kind keytool names in its own way, as santuario's and wss4j's stores."""
    work = tmp_path_factory.mktemp("oddkeys")
    ca = ed25519.Ed25519PrivateKey.generate()
    stores = {
        "ed25519": ed25519.Ed25519PrivateKey.generate(),
        "ed448": ed448.Ed448PrivateKey.generate(),
        "x25519": x25519.X25519PrivateKey.generate(),
        "x448": x448.X448PrivateKey.generate(),
        "brainpoolp256r1": ec.generate_private_key(ec.BrainpoolP256R1()),
        "secp384r1": ec.generate_private_key(ec.SECP384R1()),
    }
    for alias, key in stores.items():
        cert = _ca_signed(key, alias, ca)
        (work / f"{alias}.key.pem").write_bytes(pem_key(key))
        (work / f"{alias}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        assert OPENSSL is not None
        subprocess.run(
            [OPENSSL, "pkcs12", "-export", "-inkey", f"{alias}.key.pem", "-in", f"{alias}.pem",
             "-name", alias, "-passout", f"pass:{PW}", "-out", f"{alias}.p12"],
            cwd=work, check=True, capture_output=True,
        )  # fmt: skip
    curves = subprocess.run([OPENSSL or "openssl", "ecparam", "-list_curves"], capture_output=True, text=True)
    if "sect409r1" in curves.stdout:
        _openssl_key("sect409r1", work)
    return work


KEYTOOL_SAYS = {
    "ed25519": "255-bit Ed25519 key",
    "ed448": "448-bit Ed448 key",
    "x25519": "255-bit XDH key",
    "x448": "448-bit XDH key",
    "brainpoolp256r1": "256-bit EC (brainpoolP256r1) key",
    "secp384r1": "384-bit EC (secp384r1) key",
    "sect409r1": "409-bit EC (sect409r1) key",
}


@pytest.mark.parametrize("alias", sorted(KEYTOOL_SAYS))
def test_key_names_and_sizes_are_keytools(cli, odd_keys, alias) -> None:  # type: ignore[no-untyped-def]
    store = odd_keys / f"{alias}.p12"
    if not store.exists():
        pytest.skip(f"this openssl cannot make {alias} keys")
    truth = keytool_entries(store)
    assert truth[alias][0][1] == KEYTOOL_SAYS[alias]
    assert ours(cli, store) == truth
    doc = cli("keystore", str(store), "--storepass", PW, "--json").json()
    (entry,) = doc["keystore"]["entries"]
    want_size = int(KEYTOOL_SAYS[alias].split("-")[0])
    assert entry["key_size"] == want_size
    text = cli("keystore", str(store), "--storepass", PW).out
    assert not re.search(r"\w+(Public|Private)Key\b", text), text  # never a Python class name


# -- point 7: no raw Python warning on stderr ---------------------------------------------------


def test_keytools_default_unknown_country_prints_no_python_warning(tmp_path) -> None:
    """keytool's default answers make C=Unknown (a 7-letter country): cryptography warns on it.
    Run as a user runs it (a real process, default warning filters): stderr stays empty."""
    store = tmp_path / "defaults.jks"
    P.keytool(
        "-genkeypair", "-alias", "mykey", "-keyalg", "RSA", "-keysize", "2048", "-storetype", "JKS",
        "-keystore", str(store), "-storepass", PW, "-keypass", PW,
        "-dname", "CN=Unknown, OU=Unknown, O=Unknown, L=Unknown, ST=Unknown, C=Unknown",
        cwd=tmp_path,
    )  # fmt: skip
    env = dict(os.environ, PYTHONPATH=str(ROOT), STOREPASS=PW)
    env.pop("PYTHONWARNINGS", None)
    for extra in ([], ["--json"]):
        done = subprocess.run(
            [sys.executable, "-m", "inspector", "keystore", str(store), "--storepass-env", "STOREPASS",
             *extra],
            capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert done.stderr == "", done.stderr
        assert re.search(r"C=Unknown", done.stdout)
