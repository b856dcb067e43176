"""A throwaway PKI made on the spot (root, intermediate, leaves, JKS keystores): for `demo`
and for the tests, which must build their certificates at run time, never ship them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOW = dt.datetime.now(dt.timezone.utc)


def new_key(kind: str = "rsa", size: int = 2048) -> CertificateIssuerPrivateKeyTypes:
    if kind == "ec":
        return ec.generate_private_key(ec.SECP256R1() if size == 256 else ec.SECP384R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=size)


def name(cn: str, org: str = "Acme") -> x509.Name:
    return x509.Name(
        [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org), x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    )


@dataclass
class Issued:
    cert: x509.Certificate
    key: CertificateIssuerPrivateKeyTypes

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )


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
            critical=False,
        )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    else:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=digital_signature,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        if eku is not None:
            builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    cert = builder.sign(signer, hash_algorithm or hashes.SHA256())  # type: ignore[arg-type]
    return Issued(cert, key)


@dataclass
class Pki:
    root: Issued
    intermediate: Issued
    leaf: Issued


def make_pki(leaf_cn: str = "letstestcba", org: str = "Acme", days: int = 365, **leaf_kwargs: object) -> Pki:
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
        pkcs8 = key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        entry = jks.PrivateKeyEntry.new(alias, [der(c) for c in chain], pkcs8)
        entry.encrypt(keypass or storepass)
        entries.append(entry)
    for alias, cert in trusted:
        entries.append(jks.TrustedCertEntry.new(alias, der(cert)))
    jks.KeyStore.new("jks", entries).save(str(path), storepass)
    return path
