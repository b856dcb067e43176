"""Certificate chains as Java builds and judges them: no I/O, certificates in, certificates out.

Java's PKCS12KeyStore does not store a key entry's chain: it rebuilds it at load time from all the
certificates in the file (sun.security.pkcs12.PKCS12KeyStore.findIssuer, JDK 11..25). Names are
compared as X500Principal.equals does (canonical form: case and spacing do not matter), and where
several certificates carry the issuer's name the authority key identifier decides: the first
certificate in file order whose subject key identifier matches; one without a subject key
identifier is only a fallback (the last such one); without an AKI the first name match wins.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography import x509

from inspector.pki import certs as C
from inspector.pki.x500 import CanonicalName, canonical_dn

#: Longer chains than this are not built (Java has no limit, but loops are cut by equality).
MAX_CHAIN = 16


def canonical_name(name: x509.Name) -> CanonicalName:
    """The name as X500Principal compares it (canonical: case- and space-insensitive)."""
    return canonical_dn(C.name_der(name))


def same_name(a: x509.Name, b: x509.Name) -> bool:
    """X500Principal.equals. Not cryptography's Name ==, which ignores the string types Java
    tells apart (a BMPString value is compared by its encoding)."""
    return C.name_der(a) == C.name_der(b) or canonical_name(a) == canonical_name(b)


def is_self_issued(cert: x509.Certificate) -> bool:
    return same_name(cert.issuer, cert.subject)


def java_self_signed(cert: x509.Certificate) -> bool:
    """KeyStoreUtil.isSelfSigned: issuer equals subject and the own key verifies the signature."""
    return is_self_issued(cert) and C.signature_by(cert, cert) is not False


def find_issuer(child: x509.Certificate, pool: Sequence[x509.Certificate]) -> x509.Certificate | None:
    """PKCS12KeyStore.findIssuer: AKI/SKI exact match first, else a name match, in file order."""
    wanted = canonical_name(child.issuer)
    key_id = C.authority_key_id(child)
    fallback: x509.Certificate | None = None
    for cert in pool:
        if canonical_name(cert.subject) != wanted:
            continue
        if key_id is None:
            return cert
        subject_id = C.subject_key_id(cert)
        if subject_id is None:
            fallback = cert
        elif subject_id == key_id:
            return cert
    return fallback


def build_chain(leaf: x509.Certificate, pool: Sequence[x509.Certificate]) -> list[x509.Certificate]:
    """leaf, its issuer, ... until a self-signed certificate, a loop or a missing issuer."""
    chain = [leaf]
    while not java_self_signed(chain[-1]) and len(chain) < MAX_CHAIN:
        nxt = find_issuer(chain[-1], pool)
        if nxt is None or nxt in chain:
            break
        chain.append(nxt)
    return chain


def proper_order(chain: Sequence[x509.Certificate], leaf: x509.Certificate) -> list[x509.Certificate] | None:
    """The chain's certificates in leaf → root order, or None if they are not one path."""
    ordered = build_chain(leaf, chain)
    return ordered if len(ordered) == len(chain) else None
