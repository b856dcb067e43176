"""Certificates as far as they can be read: strictly with cryptography, and where it refuses a
certificate that Java and OpenSSL read (ECDSA with explicit NULL parameters, as older JDKs wrote
them; X.509 v2; a bad string in a DN; a duplicate or undecodable extension; a negative serial),
leniently through asn1crypto, re-encoded, each change said. Used by the keystore readers and by
the capture decoder alike, so one odd certificate never costs a report."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from hashlib import sha256
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from parsers.printable import escape_text
from parsers.x509_names import plain_names

# cryptography warns (UserWarning, once per call site) on a name attribute of the wrong length,
# e.g. keytool's default answer "Unknown" as a two-letter countryName: Java and OpenSSL read such
# names, so do we, and the warning must never reach the user's terminal.
warnings.filterwarnings("ignore", message="Attribute's length must be", category=UserWarning)
# Reading a certificate's finite-field DH key (X9.42 DH certificates sit in XML-encryption
# test stores) makes cryptography announce FFDH's deprecation: nothing for the user to act on.
warnings.filterwarnings("ignore", message="Diffie-Hellman over finite fields", category=UserWarning)


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the certificate as stored: for one re-encoded to be read, of the bytes it was
    read from (as keytool and `openssl x509 -fingerprint` give it), never of our re-encoding."""
    written = _WRITTEN_DER.get(_digest(cert))
    if written is not None and written[0] is cert:
        return sha256(written[1]).hexdigest()
    return _digest(cert)


def stored_der(cert: x509.Certificate) -> bytes:
    """The DER the certificate was read from (its re-encoding only when it was never repaired)."""
    written = _WRITTEN_DER.get(_digest(cert))
    if written is not None and written[0] is cert:
        return written[1]
    return cert.public_bytes(serialization.Encoding.DER)


def _digest(cert: x509.Certificate) -> str:
    return sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


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
#: The stored DER of each certificate re-encoded for reading, under its re-encoding's digest;
#: the object itself is kept so that only that very certificate is given those bytes.
_WRITTEN_DER: dict[str, tuple[x509.Certificate, bytes]] = {}


def load_certificate(der: bytes) -> LoadedCertificate:
    """Read a DER certificate strictly; where cryptography refuses it, read it leniently
    (asn1crypto, re-encoded) and say what was wrong, so one odd certificate never costs the report."""
    problems: list[str] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            cert = x509.load_der_x509_certificate(der)
            _ = cert.serial_number
            refused = _refusals(cert)
        if any("serial number" in str(w.message) for w in caught):
            problems.append("its serial number is negative or zero (RFC 5280 forbids it)")
        if not refused:
            problems += _key_problems(cert)
            return LoadedCertificate(cert, tuple(problems))
    except (ValueError, x509.InvalidVersion):
        pass
    loaded = _lenient(der, list(problems))
    if loaded.cert is None:
        renamed = plain_names(der)  # a name cryptography refuses and Java reads
        again = _lenient(renamed.der, problems, renamed.signed, der) if renamed is not None else None
        if renamed is not None and again is not None and again.cert is not None:
            return LoadedCertificate(again.cert, again.problems, (*renamed.notes, *again.nonstandard))
    return loaded


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
        except (ValueError, TypeError, x509.DuplicateExtension, x509.UnsupportedGeneralNameType) as exc:
            # TypeError: a CN that is a BIT STRING or a SEQUENCE (cryptography cannot give it as text)
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


#: ecdsa-with-SHA1, -SHA224, -SHA256, -SHA384, -SHA512 (RFC 5758) and dsa-with-SHA1, -SHA224,
#: -SHA256 (RFC 3279, RFC 5758): no parameters, yet older JDKs wrote an explicit NULL
_ECDSA_OIDS = frozenset(f"1.2.840.10045.4.{tail}" for tail in ("1", "3.1", "3.2", "3.3", "3.4"))
_DSA_OIDS = frozenset(("1.2.840.10040.4.3", "2.16.840.1.101.3.4.3.1", "2.16.840.1.101.3.4.3.2"))
_NO_PARAMETERS = _ECDSA_OIDS | _DSA_OIDS


def _lenient(
    der: bytes, problems: list[str], signed_as_written: bytes | None = None, written: bytes | None = None
) -> LoadedCertificate:
    """Re-encode what asn1crypto reads into a certificate cryptography accepts, noting each change.
    `signed_as_written` / `written`: the TBS and DER as stored, when `der` is already re-encoded."""
    from asn1crypto import algos
    from asn1crypto import x509 as ax

    nonstandard: list[str] = []
    try:
        parsed = ax.Certificate.load(der)
        signed = parsed["tbs_certificate"].dump()
        tbs = ax.TbsCertificate.load(signed)
        outer = parsed["signature_algorithm"]
        if outer["algorithm"].dotted in _NO_PARAMETERS and outer["parameters"].dump():
            outer = algos.SignedDigestAlgorithm({"algorithm": outer["algorithm"].dotted})
        inner = tbs["signature"]
        if inner["algorithm"].dotted in _NO_PARAMETERS and inner["parameters"].dump():
            tbs["signature"] = algos.SignedDigestAlgorithm({"algorithm": inner["algorithm"].dotted})
            kind = "EC" if inner["algorithm"].dotted in _ECDSA_OIDS else "DSA"
            nonstandard.append(
                f"{inner['algorithm'].native} is written with explicit NULL parameters "
                f"(as older JDKs wrote {kind} certificates; Java and OpenSSL read it)"
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
        failed = _failing_part(der)
        where = f"its {failed} does not parse" if failed else "the certificate does not parse"
        return LoadedCertificate(None, (*problems, f"{where} ({one_line(exc)})"))
    if len(_SIGNED_AS_WRITTEN) >= _SIGNED_AS_WRITTEN_MAX:
        _SIGNED_AS_WRITTEN.pop(next(iter(_SIGNED_AS_WRITTEN)))
    if len(_WRITTEN_DER) >= _SIGNED_AS_WRITTEN_MAX:
        _WRITTEN_DER.pop(next(iter(_WRITTEN_DER)))
    _SIGNED_AS_WRITTEN[_digest(cert)] = (signed_as_written or signed, bytes(parsed["signature_value"].native))
    _WRITTEN_DER[_digest(cert)] = (cert, bytes(written or der))
    problems += _key_problems(cert)
    return LoadedCertificate(cert, tuple(problems), tuple(nonstandard))


def _failing_part(der: bytes) -> str | None:
    """The first part of the certificate asn1crypto cannot decode (tbs field names), if any."""
    from asn1crypto import x509 as ax

    try:
        parsed = ax.Certificate.load(der)
        tbs = parsed["tbs_certificate"]
    except (ValueError, TypeError, KeyError):
        return None
    for name in ("version", "serial_number", "signature", "issuer", "validity", "subject"):
        try:
            tbs[name].native  # noqa: B018 - decoding is the check
        except (ValueError, TypeError, KeyError):
            return f"{name} field" if name != "signature" else "TBS signature algorithm"
    for name in ("subject_public_key_info", "extensions"):
        try:
            tbs[name].native  # noqa: B018
        except (ValueError, TypeError, KeyError):
            return name.replace("_", " ")
    try:
        parsed["signature_algorithm"].native  # noqa: B018
    except (ValueError, TypeError, KeyError):
        return "outer signature algorithm"
    return None


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
    bare = ax.TbsCertificate.load(tbs.dump())
    bare["extensions"] = ax.Extensions([])
    try:
        _rebuild(bare, algorithm, signature)
    except (ValueError, TypeError):
        return  # the certificate fails without any extension: the fault is elsewhere, named there
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
    return _SIGNED_AS_WRITTEN.get(_digest(cert))


@dataclass(frozen=True)
class KeyFacts:
    """A public key as keytool names it ("256-bit EC (secp256r1) key", "255-bit XDH key"),
    read from the SubjectPublicKeyInfo itself, so keys cryptography cannot load (binary curves,
    X9.42 DH) are named too."""

    #: Java's algorithm name: RSA, RSASSA-PSS, DSA, EC, Ed25519, Ed448, XDH, DH
    algorithm: str
    size: int | None
    #: the named curve (EC: secp256r1, brainpoolP256r1, sect409r1 ...; XDH: X25519 or X448)
    curve: str | None = None

    def describe(self) -> str:
        """'EC (secp256r1) 256', 'XDH (X25519) 255', 'RSA 2048'."""
        curve = f" ({self.curve})" if self.curve else ""
        size = f" {self.size}" if self.size else ""
        return f"{self.algorithm}{curve}{size}"


_FIXED_KEYS = {
    "1.3.101.112": KeyFacts("Ed25519", 255),
    "1.3.101.113": KeyFacts("Ed448", 448),
    "1.3.101.110": KeyFacts("XDH", 255, "X25519"),
    "1.3.101.111": KeyFacts("XDH", 448, "X448"),
}


def curve_name(name: str) -> str:
    """asn1crypto's / OpenSSL's lower-case curve name as Java spells it (brainpoolP256r1)."""
    return "brainpoolP" + name[len("brainpoolp") :] if name.startswith("brainpoolp") else name


def curve_bits(name: str) -> int | None:
    """The field size in a curve's name (secp256r1 → 256, sect409r1 → 409, prime256v1 → 256)."""
    import re

    found = re.search(r"(\d{3})", name)
    return int(found.group(1)) if found else None


def spki_facts(spki: bytes) -> KeyFacts | None:
    """The key's algorithm, size and curve from a DER SubjectPublicKeyInfo, or None."""
    from asn1crypto import keys

    try:
        info = keys.PublicKeyInfo.load(spki)
        algorithm = info["algorithm"]
        oid = algorithm["algorithm"].dotted
        if oid in _FIXED_KEYS:
            return _FIXED_KEYS[oid]
        if oid in ("1.2.840.113549.1.1.1", "1.2.840.113549.1.1.10"):
            name = "RSA" if oid.endswith(".1") else "RSASSA-PSS"
            modulus = info["public_key"].parsed["modulus"].native
            return KeyFacts(name, int(modulus).bit_length())
        if oid == "1.2.840.10045.2.1":
            params = algorithm["parameters"]
            if params.name != "named":
                return KeyFacts("EC", None, "explicit parameters")
            named = params.chosen
            text = named.native if named.native != named.dotted else named.dotted
            return KeyFacts("EC", curve_bits(str(text)), curve_name(str(text)))
        if oid in ("1.2.840.10040.4.1", "1.2.840.10046.2.1", "1.2.840.113549.1.3.1"):
            name = "DSA" if oid == "1.2.840.10040.4.1" else "DH"
            params = algorithm["parameters"]
            p = params["p"].native if params.native else None
            return KeyFacts(name, int(p).bit_length() if p is not None else None)
        return KeyFacts(algorithm["algorithm"].native or oid, None)
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def certificate_key_facts(cert: x509.Certificate) -> KeyFacts | None:
    """The certificate's key as keytool names it (from the stored SubjectPublicKeyInfo)."""
    from asn1crypto import x509 as ax

    try:
        spki = ax.Certificate.load(stored_der(cert))["tbs_certificate"]["subject_public_key_info"].dump()
    except (ValueError, TypeError, KeyError):
        return None
    return spki_facts(spki)
