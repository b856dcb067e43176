"""Each certificate read once into the facts every stack's model asks about; issuer links and
signatures memoised per prediction (`Facts.signed_by`)."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID

from inspector.pki import certs as C
from inspector.pki.chains import canonical_name

CLIENT_AUTH = ExtendedKeyUsageOID.CLIENT_AUTH.dotted_string
ANY_EKU = ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE.dotted_string

#: Extensions every modelled stack processes (a critical one of these is not "unknown").
KNOWN_EXTENSIONS = frozenset(
    oid.dotted_string
    for oid in (
        ExtensionOID.BASIC_CONSTRAINTS,
        ExtensionOID.KEY_USAGE,
        ExtensionOID.EXTENDED_KEY_USAGE,
        ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
        ExtensionOID.NAME_CONSTRAINTS,
        ExtensionOID.CERTIFICATE_POLICIES,
        ExtensionOID.POLICY_CONSTRAINTS,
        ExtensionOID.POLICY_MAPPINGS,
        ExtensionOID.INHIBIT_ANY_POLICY,
        ExtensionOID.SUBJECT_KEY_IDENTIFIER,
        ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
    )
)


def security_bits(kind: str, size: int | None) -> int:
    """OpenSSL's EVP_PKEY_security_bits for the key types seen in practice."""
    if size is None:
        return 0
    if kind in ("RSA", "DSA"):
        for bits, strength in ((15360, 256), (7680, 192), (3072, 128), (2048, 112), (1024, 80)):
            if size >= bits:
                return strength
        return 0
    if kind == "EC":
        return size // 2
    if kind == "Ed25519":
        return 128
    if kind == "Ed448":
        return 224
    return 0


#: OpenSSL 3's signature security bits by digest (X509_get_signature_info): SHA-1 and MD5 are
#: counted as broken (63 and 39 bits).
SIGNATURE_BITS = {"md5": 39, "sha1": 63, "sha224": 112, "sha256": 128, "sha384": 192, "sha512": 256}


@dataclass(eq=False)
class Facts:
    cert: x509.Certificate
    der: bytes
    subject: object
    issuer: object
    subject_text: str
    cn: str
    ski: bytes | None
    aki: bytes | None
    ca: bool | None
    path_length: int | None
    key_usage: frozenset[str] | None
    eku: frozenset[str] | None
    not_before: dt.datetime
    not_after: dt.datetime
    key_kind: str
    key_bits: int | None
    key_security: int
    sig_hash: str | None
    sig_name: str
    unknown_critical: tuple[str, ...]
    dns_names: tuple[str, ...]
    has_san: bool
    permitted_dns: tuple[str, ...] | None
    excluded_dns: tuple[str, ...]
    self_issued: bool
    #: the SubjectPublicKeyInfo (None: a key this library cannot read)
    spki: bytes | None
    _signed: dict[bytes, bool | None] = field(default_factory=dict)
    #: issuer and serial number: what identifies a certificate known only by its description
    identity: tuple[object, int] = (None, 0)
    #: known from a description (a log's text), not from its bytes: no signature, no key
    described: bool = False

    @property
    def v3(self) -> bool:
        return self.described or self.cert.version == x509.Version.v3

    def signed_by(self, parent: Facts) -> bool | None:
        """None: not known (a described certificate carries no signature to check)."""
        if self.described or parent.described:
            return None
        key = parent.der
        if key not in self._signed:
            self._signed[key] = C.signature_by(self.cert, parent.cert)
        return self._signed[key]

    @property
    def self_signed(self) -> bool:
        return self.self_issued and self.signed_by(self) is not False

    def same(self, other: Facts) -> bool:
        if self.described or other.described:  # inference: the same issuer and serial number
            return self.identity == other.identity
        return self.der == other.der

    def same_key(self, other: Facts) -> bool:
        if self.described or other.described:  # inference: the same subject key identifier
            return self.ski is not None and self.ski == other.ski
        return self.spki is not None and self.spki == other.spki

    def names_issuer(self, parent: Facts) -> bool:
        """Name and key-identifier match (OpenSSL's check_issued, Go's findPotentialParents)."""
        if self.issuer != parent.subject:
            return False
        return self.aki is None or parent.ski is None or self.aki == parent.ski

    def time_problem(self, at: dt.datetime) -> str | None:
        if at < self.not_before:
            return "not-yet-valid"
        if at > self.not_after:
            return "expired"
        return None


def _ext(cert: x509.Certificate, cls: type) -> object | None:
    try:
        return cert.extensions.get_extension_for_class(cls).value  # type: ignore[type-var]
    except (x509.ExtensionNotFound, ValueError):
        return None


def _sig_name(hash_name: str | None, kind: str) -> str:
    algo = {"RSA": "RSA", "EC": "ECDSA", "DSA": "DSA"}.get(kind, kind)
    return f"{(hash_name or 'unknown').upper()}-{algo}"


@functools.lru_cache(maxsize=4096)
def read_cached(cert: x509.Certificate) -> Facts:
    """read(), once per certificate per process (a keystore's entries share the server's trust)."""
    return read(cert)


def name_key(name: x509.Name) -> tuple[tuple[str, str], ...]:
    """A cheap key under which names that may be equal (canonically: case and spacing aside)
    meet; the real comparison is canonical_name's."""
    try:
        return tuple((a.oid.dotted_string, " ".join(str(a.value).casefold().split())) for a in name)
    except ValueError:
        return ()


def read(cert: x509.Certificate) -> Facts:
    basic = _ext(cert, x509.BasicConstraints)
    eku = _ext(cert, x509.ExtendedKeyUsage)
    nc = _ext(cert, x509.NameConstraints)
    san = _ext(cert, x509.SubjectAlternativeName)
    key = C.public_key(cert)
    kind, bits = C.key_algorithm(key) if key is not None else ("unknown", None)
    try:
        exts = list(cert.extensions)
    except ValueError:
        exts = []
    unknown = tuple(
        e.oid.dotted_string for e in exts if e.critical and e.oid.dotted_string not in KNOWN_EXTENSIONS
    )
    ku = C.key_usage(cert)
    permitted: tuple[str, ...] | None = None
    excluded: tuple[str, ...] = ()
    if isinstance(nc, x509.NameConstraints):
        if nc.permitted_subtrees is not None:
            permitted = tuple(str(g.value) for g in nc.permitted_subtrees if isinstance(g, x509.DNSName))
        if nc.excluded_subtrees is not None:
            excluded = tuple(str(g.value) for g in nc.excluded_subtrees if isinstance(g, x509.DNSName))
    dns = tuple(san.get_values_for_type(x509.DNSName)) if isinstance(san, x509.SubjectAlternativeName) else ()
    cns = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    subject, issuer = canonical_name(cert.subject), canonical_name(cert.issuer)
    sig_hash = C.signature_hash(cert)
    if isinstance(key, (rsa.RSAPublicKey,)):
        kind = "RSA"
    elif isinstance(key, ec.EllipticCurvePublicKey):
        kind = "EC"
    elif isinstance(key, dsa.DSAPublicKey):
        kind = "DSA"
    elif isinstance(key, ed25519.Ed25519PublicKey):
        kind = "Ed25519"
    elif isinstance(key, ed448.Ed448PublicKey):
        kind = "Ed448"
    return Facts(
        cert=cert,
        der=_der(cert),
        subject=subject,
        issuer=issuer,
        subject_text=C.dn(cert.subject),
        cn=str(cns[0].value) if cns else "",
        ski=C.subject_key_id(cert),
        aki=C.authority_key_id(cert),
        ca=basic.ca if isinstance(basic, x509.BasicConstraints) else None,
        path_length=basic.path_length if isinstance(basic, x509.BasicConstraints) else None,
        key_usage=frozenset(ku) if ku is not None else None,
        eku=frozenset(o.dotted_string for o in eku) if isinstance(eku, x509.ExtendedKeyUsage) else None,
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        key_kind=kind,
        key_bits=bits,
        key_security=security_bits(kind, bits),
        sig_hash=sig_hash,
        sig_name=_sig_name(sig_hash, kind),
        unknown_critical=unknown,
        dns_names=dns,
        has_san=isinstance(san, x509.SubjectAlternativeName),
        permitted_dns=permitted,
        excluded_dns=excluded,
        self_issued=subject == issuer,
        spki=C.public_key_bytes(key) if key is not None else None,
        identity=(issuer, cert.serial_number),
    )


def _der(cert: x509.Certificate) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return cert.public_bytes(serialization.Encoding.DER)


def dns_within(name: str, constraint: str) -> bool:
    """RFC 5280 dNSName constraint: equal, or a subdomain ('.x' or 'x' as a suffix label)."""
    name, constraint = name.lower().rstrip("."), constraint.lower().rstrip(".")
    if not constraint:
        return True
    if constraint.startswith("."):
        return name.endswith(constraint)
    return name == constraint or name.endswith("." + constraint)


def dns_violation(leaf: Facts, ca: Facts) -> tuple[str, str] | None:
    """(the name, "permitted" | "excluded") of the first leaf dNSName outside `ca`'s constraints."""
    for name in leaf.dns_names:
        if any(dns_within(name, c) for c in ca.excluded_dns):
            return name, "excluded"
        if ca.permitted_dns is not None and not any(dns_within(name, c) for c in ca.permitted_dns):
            return name, "permitted"
    return None
