"""Certificate files as CAs send them, read from their bytes: PEM (one certificate or a bundle),
DER, PKCS#7 (.p7b/.p7c, DER or PEM), and certificate signing requests. No I/O.

What is read is what Java's X.509 CertificateFactory.generateCertificates would read (keytool
-importcert uses it): the certificates in file order. What it cannot read is said as a kind, so
the caller can tell an empty file ("Reply has no certificates") from one that is not a
certificate at all."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs7

from inspector.pki import certs as C


class BundleFormat(str, Enum):
    PEM = "PEM"
    DER = "DER certificate"
    PKCS7_DER = "PKCS#7 (DER)"
    PKCS7_PEM = "PKCS#7 (PEM)"
    EMPTY = "empty"
    UNREADABLE = "not a certificate"


@dataclass(frozen=True)
class CertificateFile:
    """The certificates of one file, in file order, and how they were written."""

    format: BundleFormat
    certificates: tuple[x509.Certificate, ...]
    #: why nothing could be read (UNREADABLE only)
    problem: str = ""
    #: PEM blocks that are not certificates (a private key, a CSR) and were left out
    other_blocks: tuple[str, ...] = ()

    @property
    def readable(self) -> bool:
        return bool(self.certificates)

    @property
    def keytool_reads(self) -> bool:
        """Java's CertificateFactory parses every PEM block as a certificate: one private key or
        CSR block in the file and keytool refuses all of it (measured: "signed fields invalid")."""
        return self.readable and not self.other_blocks


_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 #]+)-----(.*?)-----END \1-----", re.S)
_CERT_LABELS = {b"CERTIFICATE", b"X509 CERTIFICATE", b"TRUSTED CERTIFICATE"}
_PKCS7_LABELS = {b"PKCS7", b"PKCS #7 SIGNED DATA", b"CMS"}


def read_certificate_file(data: bytes) -> CertificateFile:
    """The certificates in `data`, whatever of PEM / DER / PKCS#7 it is."""
    if not data.strip():
        return CertificateFile(BundleFormat.EMPTY, ())
    if b"-----BEGIN " in data:
        return _read_pem(data)
    try:
        return CertificateFile(BundleFormat.DER, (_der_certificate(data),))
    except Exception:  # any parser refusal means: not a DER certificate
        pass
    try:
        found = pkcs7.load_der_pkcs7_certificates(data)
    except Exception as exc:
        return CertificateFile(
            BundleFormat.UNREADABLE, (), problem=_reason(exc, "neither PEM, DER nor PKCS#7")
        )
    if not found:
        return CertificateFile(BundleFormat.UNREADABLE, (), problem="a PKCS#7 structure with no certificates")
    return CertificateFile(BundleFormat.PKCS7_DER, tuple(found))


def _read_pem(data: bytes) -> CertificateFile:
    certs: list[x509.Certificate] = []
    others: list[str] = []
    pkcs7_seen = False
    for match in _PEM_BLOCK.finditer(data):
        label = match.group(1)
        if label in _CERT_LABELS:
            try:
                certs.append(_der_certificate(_pem_der(match.group(0))))
            except Exception as exc:
                return CertificateFile(
                    BundleFormat.UNREADABLE,
                    (),
                    problem=_reason(exc, "a CERTIFICATE block that does not decode"),
                )
        elif label in _PKCS7_LABELS:
            pkcs7_seen = True
            try:
                certs.extend(pkcs7.load_pem_pkcs7_certificates(match.group(0)))
            except Exception as exc:
                return CertificateFile(
                    BundleFormat.UNREADABLE, (), problem=_reason(exc, "a PKCS7 block that does not decode")
                )
        else:
            others.append(label.decode("ascii", "replace"))
    if not certs:
        what = f"PEM holding {', '.join(others)}" if others else "no certificate in the PEM text"
        return CertificateFile(BundleFormat.UNREADABLE, (), problem=what, other_blocks=tuple(others))
    fmt = BundleFormat.PKCS7_PEM if pkcs7_seen else BundleFormat.PEM
    return CertificateFile(fmt, tuple(certs), other_blocks=tuple(others))


def _der_certificate(der: bytes) -> x509.Certificate:
    loaded = C.load_certificate(der)
    if loaded.cert is None:
        raise ValueError("not an X.509 certificate")
    return loaded.cert


def _pem_der(block: bytes) -> bytes:
    import base64

    lines = block.splitlines()[1:-1]
    body = b"".join(line.strip() for line in lines if b":" not in line)
    return base64.b64decode(body, validate=False)


def _reason(exc: Exception, default: str) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{default} ({text[:120]})" if text else default


def read_csr(data: bytes) -> x509.CertificateSigningRequest | None:
    """A CSR in PEM (keytool -certreq writes 'NEW CERTIFICATE REQUEST') or DER; None if not one."""
    text = data.replace(b"NEW CERTIFICATE REQUEST", b"CERTIFICATE REQUEST")
    try:
        if b"-----BEGIN" in text:
            return x509.load_pem_x509_csr(text)
        return x509.load_der_x509_csr(data)
    except ValueError:
        return None
