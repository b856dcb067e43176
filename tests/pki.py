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

from inspector.throwaway_pki import NOW, Issued, Pki, der, issue, make_pki, name, new_key, write_jks

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
