"""Test helpers on top of the throwaway PKI: PKCS#12 files, the real keytool, CSR signing."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID

from inspector.pki.throwaway import NOW, Issued, Pki, der, issue, make_pki, name, new_key, write_jks

__all__ = [
    "KEYTOOL",
    "NOW",
    "Issued",
    "Pki",
    "der",
    "issue",
    "keytool",
    "keytool_guide",
    "make_pki",
    "name",
    "new_key",
    "resign",
    "sign_csr",
    "write_jks",
    "write_pkcs12",
]

KEYTOOL = shutil.which("keytool")


def write_pkcs12(
    path: Path,
    storepass: str,
    alias: str,
    key: CertificateIssuerPrivateKeyTypes,
    chain: Sequence[x509.Certificate],
) -> Path:
    from cryptography.hazmat.primitives.serialization import pkcs12

    data = pkcs12.serialize_key_and_certificates(
        alias.encode(),
        key,
        chain[0],
        list(chain[1:]) or None,
        serialization.BestAvailableEncryption(storepass.encode()),
    )
    path.write_bytes(data)
    return path


def keytool(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    assert KEYTOOL is not None
    return subprocess.run([KEYTOOL, *args], cwd=cwd, capture_output=True, text=True, check=check, timeout=60)


def sign_csr(
    csr_pem: bytes,
    issuer: Issued,
    eku: Sequence[x509.ObjectIdentifier] = (ExtendedKeyUsageOID.CLIENT_AUTH,),
    days: int = 365,
) -> x509.Certificate:
    """The test CA signs a keytool CSR, as a real CA would."""
    csr = x509.load_pem_x509_csr(csr_pem)
    pub = csr.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(csr.subject)
        .issuer_name(issuer.cert.subject)
        .public_key(pub)
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(pub), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False
        )  # type: ignore[arg-type]
        .add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    )
    return builder.sign(issuer.key, hashes.SHA256())


def resign(leaf: Issued, issuer: Issued, digest: str, workdir: Path) -> Issued:
    """Issue leaf's subject and key again with a digest cryptography refuses (sha1, md5)."""
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(leaf.cert.subject)
        .sign(leaf.key, hashes.SHA256())
    )
    (workdir / "req.pem").write_bytes(csr.public_bytes(serialization.Encoding.PEM))
    (workdir / "ca.pem").write_bytes(issuer.pem)
    (workdir / "ca.key").write_bytes(issuer.key_pem)
    (workdir / "ext.cnf").write_text(
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=clientAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
    )
    subprocess.run(
        [
            "openssl",
            "x509",
            "-req",
            "-in",
            "req.pem",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            f"-{digest}",
            "-set_serial",
            "7",
            "-days",
            "30",
            "-extfile",
            "ext.cnf",
            "-out",
            "out.pem",
        ],
        cwd=workdir,
        check=True,
        capture_output=True,
        timeout=60,
    )
    cert = x509.load_pem_x509_certificate((workdir / "out.pem").read_bytes())
    return Issued(cert, leaf.key)


def keytool_guide(
    d: Path,
    pki: Pki,
    password: str,
    store: str = "letstestcba.jks",
    reply_alias: str = "letstestcba",
    days: int = 365,
) -> Path:
    """The vendor guide's steps with the real keytool: genkeypair, certreq, the CA signs,
    import root and intermediate, import the reply (under `reply_alias`)."""
    keytool(
        "-genkeypair",
        "-alias",
        "letstestcba",
        "-keyalg",
        "RSA",
        "-keysize",
        "2048",
        "-validity",
        str(days),
        "-keystore",
        store,
        "-storepass",
        password,
        "-dname",
        "CN=letstestcba, O=Acme",
        cwd=d,
    )
    keytool(
        "-certreq",
        "-alias",
        "letstestcba",
        "-file",
        "mycsr.pem",
        "-keystore",
        store,
        "-storepass",
        password,
        cwd=d,
    )
    signed = sign_csr((d / "mycsr.pem").read_bytes(), pki.intermediate, days=days)
    (d / "SignedServerCert.pem").write_bytes(signed.public_bytes(serialization.Encoding.PEM))
    for alias, issued in (("root", pki.root), ("intermediate", pki.intermediate)):
        (d / f"{alias}.pem").write_bytes(issued.pem)
        keytool(
            "-import",
            "-trustcacerts",
            "-noprompt",
            "-alias",
            alias,
            "-file",
            f"{alias}.pem",
            "-keystore",
            store,
            "-storepass",
            password,
            cwd=d,
        )
    keytool(
        "-importcert",
        "-noprompt",
        "-alias",
        reply_alias,
        "-file",
        "SignedServerCert.pem",
        "-keystore",
        store,
        "-storepass",
        password,
        cwd=d,
    )
    return d / store


# --- Harder keystores for the Java fidelity suite ----------------------------------


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def rsa_pss_leaf(cn: str, issuer: Issued, workdir: Path, org: str = "Acme") -> tuple[x509.Certificate, bytes]:
    """An RSASSA-PSS key (SPKI OID rsassa-pss, which cryptography cannot make) and its
    certificate issued by `issuer`, made with openssl. Returns the certificate and the PKCS#8
    DER of the key (pyjks stores it as such)."""
    tag = cn.replace(" ", "_")
    (workdir / "issuer.pem").write_bytes(issuer.pem)
    (workdir / "issuer.key").write_bytes(issuer.key_pem)
    (workdir / "pss.cnf").write_text(
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=clientAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
    )
    _openssl(
        "genpkey",
        "-algorithm",
        "RSA-PSS",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        f"{tag}.key",
        cwd=workdir,
    )
    _openssl(
        "req", "-new", "-key", f"{tag}.key", "-subj", f"/O={org}/CN={cn}", "-out", f"{tag}.csr", cwd=workdir
    )
    _openssl(
        "x509", "-req", "-in", f"{tag}.csr", "-CA", "issuer.pem", "-CAkey", "issuer.key", "-set_serial", "99",
        "-days", "30", "-extfile", "pss.cnf", "-out", f"{tag}.pem", cwd=workdir,
    )  # fmt: skip
    _openssl(
        "pkcs8",
        "-topk8",
        "-nocrypt",
        "-in",
        f"{tag}.key",
        "-outform",
        "DER",
        "-out",
        f"{tag}.p8",
        cwd=workdir,
    )
    cert = x509.load_pem_x509_certificate((workdir / f"{tag}.pem").read_bytes())
    return cert, (workdir / f"{tag}.p8").read_bytes()


def write_jks_raw(
    path: Path, storepass: str, keys: Sequence[tuple[str, bytes, Sequence[x509.Certificate]]]
) -> Path:
    """A JKS whose key entries hold PKCS#8 DER as given (keys cryptography cannot re-encode),
    written in the order given."""
    import jks

    entries = []
    for alias, pkcs8, chain in keys:
        entry = jks.PrivateKeyEntry.new(alias, [der(c) for c in chain], pkcs8)
        entry.encrypt(storepass)
        entries.append(entry)
    jks.KeyStore.new("jks", entries).save(str(path), storepass)
    return path


def reencoded_name(base: x509.Name, string_type: str, transform: str = "") -> x509.Name:
    """The same DN with its values encoded as `string_type` (PrintableString, BMPString,
    T61String, UTF8String) and optionally upper-cased or with doubled/outer spaces, as CA names
    appear when a server's CA file was made by other tools."""
    from cryptography.x509.name import _ASN1Type

    kind = _ASN1Type[string_type]
    rdns = []
    for attribute in base:
        value = str(attribute.value)
        if transform == "upper":
            value = value.upper()
        elif transform == "spaces":
            value = "  " + value.replace(" ", "   ") + " "
        rdns.append(x509.NameAttribute(attribute.oid, value, _type=kind))
    return x509.Name(rdns)


def name_holder(subject: x509.Name, key: CertificateIssuerPrivateKeyTypes) -> x509.Certificate:
    """A self-signed certificate that only carries `subject`: what a server's CA file needs to
    put that exact name (its encoding kept) in its CertificateRequest."""
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())  # type: ignore[arg-type]
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())  # type: ignore[arg-type]
    )


def cross_signed(new_root: Issued, old_root: Issued) -> x509.Certificate:
    """`new_root`'s subject and key, issued by `old_root`: the cross certificate that lets
    clients of the old root trust chains under the new one."""
    return (
        x509.CertificateBuilder()
        .subject_name(new_root.cert.subject)
        .issuer_name(old_root.cert.subject)
        .public_key(new_root.key.public_key())  # type: ignore[arg-type]
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=1))
        .not_valid_after(NOW + dt.timedelta(days=300))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(old_root.key, hashes.SHA256())  # type: ignore[arg-type]
    )


def openssl_pkcs12(
    path: Path, storepass: str, key_pem: bytes, chain: Sequence[x509.Certificate], *options: str
) -> Path:
    """`openssl pkcs12 -export` as users run it (options: -legacy, -name X, ...)."""
    workdir = path.parent
    (workdir / f"{path.stem}.key.pem").write_bytes(key_pem)
    (workdir / f"{path.stem}.chain.pem").write_bytes(
        b"".join(c.public_bytes(serialization.Encoding.PEM) for c in chain)
    )
    _openssl(
        "pkcs12", "-export", "-inkey", f"{path.stem}.key.pem", "-in", f"{path.stem}.chain.pem",
        "-passout", f"pass:{storepass}", "-out", path.name, *options, cwd=workdir,
    )  # fmt: skip
    return path


def der_to_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)
