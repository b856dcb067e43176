"""Certificate facts in the words keytool and openssl users know (DNs, key sizes, EKU names)."""

from __future__ import annotations

import datetime as dt
import warnings
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificatePublicKeyTypes,
    PrivateKeyTypes,
)
from cryptography.x509.oid import ExtendedKeyUsageOID

from parsers import der as der_reader
from parsers.printable import escape_text as escape_text
from parsers.x509_lenient import KeyFacts as KeyFacts
from parsers.x509_lenient import LoadedCertificate as LoadedCertificate
from parsers.x509_lenient import certificate_key_facts as certificate_key_facts
from parsers.x509_lenient import fingerprint as fingerprint
from parsers.x509_lenient import load_certificate as load_certificate
from parsers.x509_lenient import one_line as one_line
from parsers.x509_lenient import signed_as_written, spki_facts

# A negative serial is reported as a finding (load_certificate); cryptography's deprecation
# warning would otherwise be printed on our stderr each time the serial is read.
warnings.filterwarnings("ignore", message="Parsed a serial number which wasn't positive")

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
    """RFC 4514 form, most specific first, as keytool prints it (control characters escaped); a
    value that is RFC 4514's `#hex` (a CN that is not a string, read by parsers.x509_names) is
    shown as keytool and OpenSSL show it, not with its `#` escaped."""
    return escape_text(name.rfc4514_string().replace("=\\#", "=#")) or "(empty DN)"


def short_dn(name: x509.Name) -> str:
    """The CN when there is one, else the whole DN: for narrow table columns."""
    cns = name.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return escape_text(f"CN={cns[0].value!s}") if cns else dn(name)


def name_der(name: x509.Name) -> bytes:
    return name.public_bytes()


def key_algorithm(key: CertificatePublicKeyTypes | PrivateKeyTypes) -> tuple[str, int | None]:
    """('RSA', 2048), ('EC', 256), ('Ed25519', 255), ('XDH', 255) ... as keytool names them."""
    facts = key_facts(key)
    return (facts.algorithm, facts.size) if facts is not None else ("unknown", None)


def key_facts(key: CertificatePublicKeyTypes | PrivateKeyTypes) -> KeyFacts | None:
    """Algorithm, size and curve of a public or private key, in keytool's words."""
    public = key.public_key() if hasattr(key, "public_key") else key
    try:
        spki = public.public_bytes(  # type: ignore[union-attr]
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    except (ValueError, TypeError, AttributeError):
        return None
    return spki_facts(spki)


def describe_key(key: CertificatePublicKeyTypes | PrivateKeyTypes) -> str:
    facts = key_facts(key)
    return facts.describe() if facts is not None else "unknown key"


def public_key(cert: x509.Certificate) -> CertificatePublicKeyTypes | None:
    """The certificate's key, or None when it is invalid (an EC point off its curve...)."""
    try:
        return cert.public_key()
    except (ValueError, UnsupportedAlgorithm):
        return None


def describe_public_key(cert: x509.Certificate) -> str:
    """keytool's name for the key; one cryptography finds invalid (a point off its curve) says so."""
    facts = certificate_key_facts(cert)
    if facts is None:
        return "invalid key"
    try:
        cert.public_key()
    except ValueError:
        return f"{facts.describe()} (invalid key)"
    except UnsupportedAlgorithm:
        pass
    return facts.describe()


def public_key_algorithm(cert: x509.Certificate) -> tuple[str, int | None]:
    """From the stored SubjectPublicKeyInfo: keys cryptography cannot load are named too."""
    facts = certificate_key_facts(cert)
    return (facts.algorithm, facts.size) if facts is not None else ("invalid", None)


def public_key_bytes(key: CertificatePublicKeyTypes) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def same_public_key(a: CertificatePublicKeyTypes, b: CertificatePublicKeyTypes) -> bool:
    return public_key_bytes(a) == public_key_bytes(b)


def same_certificate_key(a: x509.Certificate, b: x509.Certificate) -> bool:
    return _spki(a) == _spki(b)


def private_matches(key: PrivateKeyTypes, cert: x509.Certificate) -> bool:
    """Same public half (compared as encoded SubjectPublicKeyInfo, so an invalid key still compares)."""
    return public_key_bytes(key.public_key()) == _spki(cert)  # type: ignore[arg-type]


def _spki(cert: x509.Certificate) -> bytes:
    key = public_key(cert)
    if key is not None:
        return public_key_bytes(key)
    from asn1crypto import x509 as ax

    return bytes(ax.Certificate.load(cert.public_bytes(serialization.Encoding.DER)).public_key.dump())


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
    """Does issuer's key verify child's signature? None when the algorithm is not checkable.

    A certificate re-encoded to be read (load_certificate) is verified on the bytes its issuer
    signed, but only after the ordinary check failed: the same certificate loaded as written
    elsewhere is never judged by another input's bytes."""
    result = _verify_directly(child, issuer)
    if result is not True:
        as_written = signed_as_written(child)
        if as_written is not None:
            written = _verify_as_written(child, issuer, *as_written)
            if written is not None:
                return written
    return result


def _verify_directly(child: x509.Certificate, issuer: x509.Certificate) -> bool | None:
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


def _verify_as_written(
    child: x509.Certificate, issuer: x509.Certificate, tbs: bytes, sig: bytes
) -> bool | None:
    """The signature over the bytes as signed, for a certificate re-encoded to be read."""
    from cryptography.hazmat.primitives.asymmetric import padding

    if child.issuer != issuer.subject:
        return False
    key = public_key(issuer)
    try:
        digest = child.signature_hash_algorithm
        if isinstance(key, rsa.RSAPublicKey) and digest is not None:
            key.verify(sig, tbs, padding.PKCS1v15(), digest)
        elif isinstance(key, ec.EllipticCurvePublicKey) and digest is not None:
            key.verify(sig, tbs, ec.ECDSA(digest))
        elif isinstance(key, dsa.DSAPublicKey) and digest is not None:
            key.verify(sig, tbs, digest)
        elif isinstance(key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
            key.verify(sig, tbs)
        else:
            return None
    except InvalidSignature:
        return False
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return None
    return True


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


# --- reading certificates cryptography refuses ---------------------------------------------------


def readable(der: bytes) -> x509.Certificate | None:
    """The certificate as the lenient reader reads it, or None when its names still cannot be
    read (a CN that is a BIT STRING or a SEQUENCE, an 8-bit T61String: OpenSSL accepts them,
    cryptography does not)."""
    try:
        cert = load_certificate(der).cert
        if cert is None:
            return None
        cert.subject.rfc4514_string()
        cert.issuer.rfc4514_string()
    except (ValueError, TypeError):
        return None
    return cert


def subject_of(der: bytes, short: bool = False) -> str:
    """A certificate's subject from its DER, whatever the encoding of its values: through the
    lenient reader when it reads the certificate, else by hand — strings decoded as Java reads
    them (a T61String as ISO-8859-1, bad bytes as U+FFFD), any other value as RFC 4514's
    `#hex` — escaped for a terminal. Never raises."""
    cert = readable(der)
    if cert is not None:
        return short_dn(cert.subject) if short else dn(cert.subject)
    try:
        attributes = _subject_attributes(der)
    except (ValueError, IndexError):
        return "(subject not readable)"
    if short:
        cns = [value for label, value in attributes if label == "CN"]
        if cns:
            return escape_text(f"CN={cns[0]}")
    return escape_text(",".join(f"{label}={value}" for label, value in attributes)) or "(empty DN)"


def _oid_text(body: bytes) -> str:
    dotted = der_reader.dotted_oid(body)
    from cryptography.x509.name import _NAMEOID_TO_NAME

    return _NAMEOID_TO_NAME.get(x509.ObjectIdentifier(dotted), dotted)


_STRING_CODECS = {
    0x0C: "utf-8",  # UTF8String
    0x13: "utf-8",  # PrintableString (bad bytes: U+FFFD, as the lenient reader shows them)
    0x16: "utf-8",  # IA5String
    0x14: "latin-1",  # T61String: Java reads it as ISO-8859-1
    0x1E: "utf-16-be",  # BMPString
    0x1C: "utf-32-be",  # UniversalString
}


def _subject_attributes(der: bytes) -> list[tuple[str, str]]:
    """The subject's attributes, most specific first (as RFC 4514 and keytool order them)."""
    _, cert_body, _ = der_reader.tlv(der, 0)
    _, tbs_body, tbs_end = der_reader.tlv(der, cert_body)
    fields = der_reader.children(der, tbs_body, tbs_end)
    if fields and fields[0][0] == 0xA0:  # [0] version
        fields = fields[1:]
    _, _, subject_body, subject_end = fields[4]  # serial, signature, issuer, validity, subject
    attributes: list[tuple[str, str]] = []
    for _, _, set_body, set_end in der_reader.children(der, subject_body, subject_end):
        for _, _, seq_body, seq_end in der_reader.children(der, set_body, set_end):
            (_, _, oid_body, oid_end), (tag, at, body, end) = der_reader.children(der, seq_body, seq_end)[:2]
            label = _oid_text(der[oid_body:oid_end])
            codec = _STRING_CODECS.get(tag)
            value = der[body:end].decode(codec, "replace") if codec is not None else "#" + der[at:end].hex()
            attributes.append((label, value))
    return attributes[::-1]
