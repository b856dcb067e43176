"""Certificate facts in the words keytool and openssl users know (DNs, key sizes, EKU names)."""

from __future__ import annotations

import contextlib
import datetime as dt
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from hashlib import sha256
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import (
    CertificatePublicKeyTypes,
    PrivateKeyTypes,
)
from cryptography.x509.oid import ExtendedKeyUsageOID

from parsers.printable import escape_text as escape_text

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
    """RFC 4514 form, most specific first, as keytool prints it (control characters escaped)."""
    return escape_text(name.rfc4514_string()) or "(empty DN)"


def short_dn(name: x509.Name) -> str:
    """The CN when there is one, else the whole DN: for narrow table columns."""
    cns = name.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return escape_text(f"CN={cns[0].value!s}") if cns else dn(name)


def name_der(name: x509.Name) -> bytes:
    return name.public_bytes()


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


def public_key(cert: x509.Certificate) -> CertificatePublicKeyTypes | None:
    """The certificate's key, or None when it is invalid (an EC point off its curve...)."""
    try:
        return cert.public_key()
    except (ValueError, UnsupportedAlgorithm):
        return None


def describe_public_key(cert: x509.Certificate) -> str:
    key = public_key(cert)
    return describe_key(key) if key is not None else "invalid key"


def public_key_algorithm(cert: x509.Certificate) -> tuple[str, int | None]:
    key = public_key(cert)
    return key_algorithm(key) if key is not None else ("invalid", None)


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


@dataclass(frozen=True)
class LoadedCertificate:
    """A certificate as far as it can be read, and what could not be read as written."""

    cert: x509.Certificate | None
    #: What the strict parser refused (one line each); the certificate is shown without it.
    problems: tuple[str, ...] = ()
    #: Accepted by Java but not DER-strict (e.g. explicit NULL ECDSA parameters): said, not judged.
    nonstandard: tuple[str, ...] = ()


#: Signed bytes of certificates re-encoded for reading: their signature is checked on these.
_SIGNED_AS_WRITTEN: dict[str, tuple[bytes, bytes]] = {}
_SIGNED_AS_WRITTEN_MAX = 4096


def load_certificate(der: bytes) -> LoadedCertificate:
    """Read a DER certificate strictly; where cryptography refuses it, read it leniently
    (asn1crypto, re-encoded) and say what was wrong, so one odd certificate never costs the report."""
    problems: list[str] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            cert = x509.load_der_x509_certificate(der)
            _ = cert.serial_number
        if any("serial number" in str(w.message) for w in caught):
            problems.append("its serial number is negative or zero (RFC 5280 forbids it)")
        refused = _refusals(cert)
        if not refused:
            problems += _key_problems(cert)
            return LoadedCertificate(cert, tuple(problems))
    except (ValueError, x509.InvalidVersion):
        pass
    return _lenient(der, problems)


def one_line(exc: BaseException) -> str:
    """An exception's message made fit for one terminal line: first line, escaped, bounded."""
    lines = str(exc).splitlines()
    return escape_text(lines[0][:160]) if lines else type(exc).__name__


def _refusals(cert: x509.Certificate) -> list[str]:
    """The parts of an already loaded certificate cryptography refuses to decode."""
    refused = []
    for part in ("subject", "issuer", "extensions"):
        try:
            value = getattr(cert, part)
            if isinstance(value, x509.Name):
                value.rfc4514_string()
        except (ValueError, x509.DuplicateExtension, x509.UnsupportedGeneralNameType) as exc:
            refused.append(f"{part}: {one_line(exc)}")
    return refused


def _key_problems(cert: x509.Certificate) -> list[str]:
    try:
        cert.public_key()
    except UnsupportedAlgorithm:
        return []
    except ValueError as exc:
        return [f"its public key is invalid ({one_line(exc)})"]
    return []


#: ecdsa-with-SHA1, -SHA224, -SHA256, -SHA384, -SHA512: RFC 5758 says no parameters
_ECDSA_OIDS = frozenset(f"1.2.840.10045.4.{tail}" for tail in ("1", "3.1", "3.2", "3.3", "3.4"))


def _lenient(der: bytes, problems: list[str]) -> LoadedCertificate:
    """Re-encode what asn1crypto reads into a certificate cryptography accepts, noting each change."""
    from asn1crypto import algos
    from asn1crypto import x509 as ax

    nonstandard: list[str] = []
    try:
        parsed = ax.Certificate.load(der)
        signed = parsed["tbs_certificate"].dump()
        tbs = ax.TbsCertificate.load(signed)
        outer = parsed["signature_algorithm"]
        if outer["algorithm"].dotted in _ECDSA_OIDS and outer["parameters"].dump():
            outer = algos.SignedDigestAlgorithm({"algorithm": outer["algorithm"].dotted})
        inner = tbs["signature"]
        if inner["algorithm"].dotted in _ECDSA_OIDS and inner["parameters"].dump():
            tbs["signature"] = algos.SignedDigestAlgorithm({"algorithm": inner["algorithm"].dotted})
            nonstandard.append(
                f"{inner['algorithm'].native} is written with explicit NULL parameters "
                "(as older JDKs wrote EC certificates; Java and OpenSSL read it)"
            )
        if tbs["version"].native == "v2":  # v1 and v3 are fine; cryptography refuses v2
            problems.append("X.509 v2 (read as v3)")
            tbs["version"] = ax.Version("v3")
        for part in ("subject", "issuer"):
            if _repair_name(tbs[part], part, problems):
                tbs[part] = ax.Name.load(tbs[part].dump(force=True))
        _repair_extensions(tbs, outer, parsed["signature_value"], problems)
        cert = _rebuild(tbs, outer, parsed["signature_value"])
        left = _refusals(cert)
        if left:
            return LoadedCertificate(None, (*problems, *left), tuple(nonstandard))
    except (ValueError, TypeError, KeyError, IndexError, OverflowError, x509.InvalidVersion) as exc:
        return LoadedCertificate(None, (*problems, f"the certificate does not parse ({one_line(exc)})"))
    if len(_SIGNED_AS_WRITTEN) >= _SIGNED_AS_WRITTEN_MAX:
        _SIGNED_AS_WRITTEN.pop(next(iter(_SIGNED_AS_WRITTEN)))
    _SIGNED_AS_WRITTEN[fingerprint(cert)] = (signed, bytes(parsed["signature_value"].native))
    problems += _key_problems(cert)
    return LoadedCertificate(cert, tuple(problems), tuple(nonstandard))


def _rebuild(tbs: Any, algorithm: Any, signature: Any) -> x509.Certificate:
    from asn1crypto import x509 as ax

    body = ax.TbsCertificate.load(tbs.dump())
    der = ax.Certificate(
        {"tbs_certificate": body, "signature_algorithm": algorithm, "signature_value": signature}
    ).dump()
    with _quiet_warnings():
        return x509.load_der_x509_certificate(der)


@contextlib.contextmanager
def _quiet_warnings() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _repair_name(name: Any, part: str, problems: list[str]) -> bool:
    """Attribute values that do not decode become UTF8String with U+FFFD where bytes were bad."""
    from asn1crypto import x509 as ax

    changed = False
    for rdn in name.chosen:
        for attr in rdn:
            value = attr["value"]
            try:
                value.native  # noqa: B018 - decoding is the check
            except (ValueError, UnicodeDecodeError):
                inner = value.chosen if isinstance(value, ax.DirectoryString) else value
                text = bytes(inner.contents).decode("utf-8", "replace")
                problems.append(f"{part} {attr['type'].native}: invalid string encoding (read with \ufffd)")
                attr["value"] = ax.DirectoryString(name="utf8_string", value=text)
                changed = True
    return changed


def _repair_extensions(tbs: Any, algorithm: Any, signature: Any, problems: list[str]) -> None:
    """Keep the first of duplicate extensions; leave out each one cryptography cannot decode."""
    from asn1crypto import x509 as ax

    if not tbs["extensions"].contents:
        return
    kept = []
    seen: set[str] = set()
    for ext in tbs["extensions"]:
        oid, label = ext["extn_id"].dotted, ext["extn_id"].native
        if oid in seen:
            problems.append(f"extension {label} appears twice (the first is read; Java refuses this)")
            continue
        seen.add(oid)
        alone = ax.TbsCertificate.load(tbs.dump())
        alone["extensions"] = ax.Extensions([ext])
        try:
            _rebuild(alone, algorithm, signature).extensions  # noqa: B018 - decoding is the check
        except (ValueError, TypeError, x509.DuplicateExtension, x509.UnsupportedGeneralNameType) as exc:
            problems.append(f"extension {label} does not decode ({one_line(exc)}; left out)")
            continue
        kept.append(ext)
    tbs["extensions"] = ax.Extensions(kept)


def signed_as_written(cert: x509.Certificate) -> tuple[bytes, bytes] | None:
    """(TBS bytes, signature) as the issuer signed them, for a certificate re-encoded for reading."""
    return _SIGNED_AS_WRITTEN.get(fingerprint(cert))
