"""A small PKI made at test time: CAs, leaves, and keystores written with pyjks or keytool."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOW = dt.datetime.now(dt.timezone.utc)
KEYTOOL = shutil.which("keytool")

_KEY_CACHE: dict[tuple[str, int], list[CertificateIssuerPrivateKeyTypes]] = {}


def new_key(kind: str = "rsa", size: int = 2048) -> CertificateIssuerPrivateKeyTypes:
    if kind == "ec":
        return ec.generate_private_key(ec.SECP256R1() if size == 256 else ec.SECP384R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=size)


def name(cn: str, org: str = "Acme") -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


@dataclass
class Issued:
    cert: x509.Certificate
    key: CertificateIssuerPrivateKeyTypes

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())


def issue(
    cn: str,
    issuer: Issued | None = None,
    *,
    ca: bool = False,
    key: CertificateIssuerPrivateKeyTypes | None = None,
    eku: Sequence[x509.ObjectIdentifier] | None = (ExtendedKeyUsageOID.CLIENT_AUTH,),
    digital_signature: bool = True,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
    hash_algorithm: hashes.HashAlgorithm | None = None,
    public_key: object | None = None,
    org: str = "Acme",
) -> Issued:
    """Issue a certificate; issuer None makes it self-signed."""
    key = key or new_key()
    subject = name(cn, org)
    pub = public_key or key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(pub)  # type: ignore[arg-type]
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or NOW - dt.timedelta(days=1))
        .not_valid_after(not_after or NOW + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(pub), critical=False)  # type: ignore[arg-type]
    )
    signer = issuer.key if issuer else key
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),  # type: ignore[arg-type]
            critical=False)
    if ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
    else:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=digital_signature, content_commitment=False,
            key_encipherment=True, data_encipherment=False, key_agreement=False,
            key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False),
            critical=True)
        if eku is not None:
            builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    cert = builder.sign(signer, hash_algorithm or hashes.SHA256())
    return Issued(cert, key)


@dataclass
class Pki:
    root: Issued
    intermediate: Issued
    leaf: Issued


def make_pki(leaf_cn: str = "letstestcba", org: str = "Acme", days: int = 365,
             **leaf_kwargs: object) -> Pki:
    until = NOW + dt.timedelta(days=days)
    root = issue(f"{org} Root CA", ca=True, org=org, not_after=until)
    inter = issue(f"{org} Issuing CA", root, ca=True, org=org, not_after=until)
    leaf = issue(leaf_cn, inter, org=org, **leaf_kwargs)  # type: ignore[arg-type]
    return Pki(root, inter, leaf)


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def write_jks(
    path: Path,
    storepass: str,
    keys: Sequence[tuple[str, CertificateIssuerPrivateKeyTypes, Sequence[x509.Certificate]]] = (),
    trusted: Sequence[tuple[str, x509.Certificate]] = (),
    keypass: str | None = None,
) -> Path:
    import jks

    entries = []
    for alias, key, chain in keys:
        pkcs8 = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption())
        entry = jks.PrivateKeyEntry.new(alias, [der(c) for c in chain], pkcs8)
        entry.encrypt(keypass or storepass)
        entries.append(entry)
    for alias, cert in trusted:
        entries.append(jks.TrustedCertEntry.new(alias, der(cert)))
    jks.KeyStore.new("jks", entries).save(str(path), storepass)
    return path


def write_pkcs12(path: Path, storepass: str, alias: str, key: CertificateIssuerPrivateKeyTypes,
                 chain: Sequence[x509.Certificate]) -> Path:
    from cryptography.hazmat.primitives.serialization import pkcs12

    data = pkcs12.serialize_key_and_certificates(
        alias.encode(), key, chain[0], list(chain[1:]) or None,
        serialization.BestAvailableEncryption(storepass.encode()))
    path.write_bytes(data)
    return path


def keytool(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    assert KEYTOOL is not None
    return subprocess.run([KEYTOOL, *args], cwd=cwd, capture_output=True, text=True,
                          check=check, timeout=60)


def sign_csr(csr_pem: bytes, issuer: Issued, eku: Sequence[x509.ObjectIdentifier] = (
        ExtendedKeyUsageOID.CLIENT_AUTH,), days: int = 365) -> x509.Certificate:
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
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            issuer.key.public_key()), critical=False)  # type: ignore[arg-type]
        .add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    )
    return builder.sign(issuer.key, hashes.SHA256())


def resign(leaf: Issued, issuer: Issued, digest: str, workdir: Path) -> Issued:
    """Issue leaf's subject and key again with a digest cryptography refuses (sha1, md5)."""
    csr = (x509.CertificateSigningRequestBuilder().subject_name(leaf.cert.subject)
           .sign(leaf.key, hashes.SHA256()))
    (workdir / "req.pem").write_bytes(csr.public_bytes(serialization.Encoding.PEM))
    (workdir / "ca.pem").write_bytes(issuer.pem)
    (workdir / "ca.key").write_bytes(issuer.key_pem)
    (workdir / "ext.cnf").write_text(
        "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=clientAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n")
    subprocess.run(["openssl", "x509", "-req", "-in", "req.pem", "-CA", "ca.pem", "-CAkey",
                    "ca.key", f"-{digest}", "-set_serial", "7", "-days", "30", "-extfile",
                    "ext.cnf", "-out", "out.pem"],
                   cwd=workdir, check=True, capture_output=True, timeout=60)
    cert = x509.load_pem_x509_certificate((workdir / "out.pem").read_bytes())
    return Issued(cert, leaf.key)
