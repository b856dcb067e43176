"""Certificate facts in the words keytool and openssl users know (DNs, key sizes, EKU names)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from hashlib import sha256

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificatePublicKeyTypes,
    PrivateKeyTypes,
)
from cryptography.x509.oid import ExtendedKeyUsageOID

EKU_NAMES = {
    ExtendedKeyUsageOID.SERVER_AUTH: "serverAuth",
    ExtendedKeyUsageOID.CLIENT_AUTH: "clientAuth",
    ExtendedKeyUsageOID.CODE_SIGNING: "codeSigning",
    ExtendedKeyUsageOID.EMAIL_PROTECTION: "emailProtection",
    ExtendedKeyUsageOID.TIME_STAMPING: "timeStamping",
    ExtendedKeyUsageOID.OCSP_SIGNING: "OCSPSigning",
    ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE: "anyExtendedKeyUsage",
}


def dn(name: x509.Name) -> str:
    """RFC 4514 form, most specific first, as keytool prints it."""
    return name.rfc4514_string() or "(empty DN)"


def short_dn(name: x509.Name) -> str:
    """The CN when there is one, else the whole DN: for narrow table columns."""
    cns = name.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return f"CN={cns[0].value!s}" if cns else dn(name)


def fingerprint(cert: x509.Certificate) -> str:
    return sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def key_algorithm(key: CertificatePublicKeyTypes | PrivateKeyTypes) -> tuple[str, int | None]:
    """('RSA', 2048), ('EC', 256), ('Ed25519', 256) ... for public or private keys."""
    if isinstance(key, (rsa.RSAPublicKey, rsa.RSAPrivateKey)):
        return "RSA", key.key_size
    if isinstance(key, (ec.EllipticCurvePublicKey, ec.EllipticCurvePrivateKey)):
        return "EC", key.curve.key_size
    if isinstance(key, (dsa.DSAPublicKey, dsa.DSAPrivateKey)):
        return "DSA", key.key_size
    if isinstance(key, (ed25519.Ed25519PublicKey, ed25519.Ed25519PrivateKey)):
        return "Ed25519", 256
    if isinstance(key, (ed448.Ed448PublicKey, ed448.Ed448PrivateKey)):
        return "Ed448", 456
    return type(key).__name__, None


def describe_key(key: CertificatePublicKeyTypes | PrivateKeyTypes) -> str:
    name, size = key_algorithm(key)
    if isinstance(key, (ec.EllipticCurvePublicKey, ec.EllipticCurvePrivateKey)):
        return f"EC {key.curve.name}"
    return f"{name} {size}" if size else name


def public_key_bytes(key: CertificatePublicKeyTypes) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def same_public_key(a: CertificatePublicKeyTypes, b: CertificatePublicKeyTypes) -> bool:
    return public_key_bytes(a) == public_key_bytes(b)


def private_matches(key: PrivateKeyTypes, cert: x509.Certificate) -> bool:
    public = key.public_key()
    return public_key_bytes(public) == public_key_bytes(cert.public_key())  # type: ignore[arg-type]


def signature_hash(cert: x509.Certificate) -> str | None:
    try:
        algo = cert.signature_hash_algorithm
    except UnsupportedAlgorithm:
        return "unknown"
    return algo.name if algo else None


def is_ca(cert: x509.Certificate) -> bool | None:
    """None when the certificate has no basicConstraints extension."""
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return None


def ext_key_usage(cert: x509.Certificate) -> list[str] | None:
    """EKU names, or None when the extension is absent (any usage allowed)."""
    try:
        value = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return None
    return [EKU_NAMES.get(oid, oid.dotted_string) for oid in value]


def key_usage(cert: x509.Certificate) -> list[str] | None:
    try:
        value = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return None
    names = [
        "digital_signature",
        "content_commitment",
        "key_encipherment",
        "data_encipherment",
        "key_agreement",
        "key_cert_sign",
        "crl_sign",
    ]
    used = [n for n in names if getattr(value, n)]
    if value.key_agreement:
        used += [n for n in ("encipher_only", "decipher_only") if getattr(value, n)]
    return used


def subject_key_id(cert: x509.Certificate) -> bytes | None:
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        return None


def authority_key_id(cert: x509.Certificate) -> bytes | None:
    try:
        aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    except x509.ExtensionNotFound:
        return None
    return aki.key_identifier


def signature_by(child: x509.Certificate, issuer: x509.Certificate) -> bool | None:
    """Does issuer's key verify child's signature? None when the algorithm is not checkable."""
    try:
        child.verify_directly_issued_by(issuer)
        return True
    except InvalidSignature:
        return False
    except ValueError:
        # issuer name mismatch is reported separately; retry ignoring the name is not offered
        # by cryptography, so an unrelated name means "not issued by".
        return False if child.issuer != issuer.subject else None
    except (TypeError, UnsupportedAlgorithm):
        return None


def is_self_signed(cert: x509.Certificate) -> bool:
    return cert.issuer == cert.subject and signature_by(cert, cert) is not False


@dataclass(frozen=True)
class Link:
    """Is chain[i] really issued by chain[i+1]? Each check kept apart for the evidence."""

    name_matches: bool
    #: None: AKI of the child or SKI of the parent is absent, nothing to compare.
    key_id_matches: bool | None
    #: None: the signature algorithm could not be checked here.
    signature_valid: bool | None

    @property
    def ok(self) -> bool:
        return self.name_matches and self.key_id_matches is not False and self.signature_valid is not False

    def describe(self) -> str:
        parts = ["issuer DN " + ("matches" if self.name_matches else "differs")]
        if self.key_id_matches is not None:
            parts.append("AKI/SKI " + ("match" if self.key_id_matches else "differ"))
        if self.signature_valid is not None:
            parts.append("signature " + ("verified" if self.signature_valid else "does NOT verify"))
        return ", ".join(parts)


def link(child: x509.Certificate, parent: x509.Certificate) -> Link:
    name_ok = child.issuer == parent.subject
    aki, ski = authority_key_id(child), subject_key_id(parent)
    key_id = None if aki is None or ski is None else aki == ski
    signature = signature_by(child, parent) if name_ok else None
    return Link(name_ok, key_id, signature)


def validity_state(cert: x509.Certificate, at: dt.datetime) -> str:
    if at < cert.not_valid_before_utc:
        return "not-yet-valid"
    if at > cert.not_valid_after_utc:
        return "expired"
    return "valid"
