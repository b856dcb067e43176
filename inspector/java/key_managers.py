"""Which key entry a Java (JSSE) client would send for a CertificateRequest — and what OpenSSL
(curl, s_client) would send instead.

Modelled on the JDK's own code and checked against a real JDK client (tests/live/
test_java_fidelity.py):

* JSSE turns the request into an ordered list of key types (cert_request.py): one per signature
  scheme the server lists (signature_algorithms_cert, else signature_algorithms), in the server's
  order, kept only when the client could sign a CertificateVerify of that type (and, in TLS 1.2,
  when certificate_types admits it). RSASSA-PSS keys are their own type (rsa_pss_pss_* only).
* SunX509 tries the types in that order and, for each, the aliases in the iteration order of its
  credentials HashMap (a function of Java's String.hashCode); it takes the first whose key type
  fits and whose chain has an issuer the server names. It checks nothing else.
* PKIX (NewSunX509) walks the keystore in its own alias order (JKS: a Hashtable; PKCS#12: the
  file's order), skips entries whose chain holds a certificate signed with an algorithm the
  server did not list ("does not conform to algorithm constraints"), and ranks the rest:
  EKU/keyUsage first, then validity dates; ties go to the earlier key type, then keystore order.
* Both then need a CertificateVerify scheme for the chosen key (an EC key's curve must match an
  ecdsa_secpNNN scheme): if none, Java aborts the handshake after choosing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import Enum

from cryptography import x509

from inspector.java.alias_order import java_alias_order, sunx509_map_order
from inspector.java.cert_request import (
    SCHEMES,
    CaRequest,
    allowed_key_types,
    java_aborts,
    known_schemes,
    request_key_types,
)
from inspector.java.versions import JavaProfile, profile
from inspector.keystore.java_signing import JAVA_SIGNING_CURVES, ec_curve
from inspector.keystore.model import KeyEntry, Keystore
from inspector.pki import certs as C
from inspector.pki.x500 import CanonicalName, canonical_dn

__all__ = [
    "CaRequest",
    "Candidate",
    "Rank",
    "Reason",
    "Selection",
    "allowed_key_types",
    "canonical_dn",
    "java_aborts",
    "key_type",
    "request_key_types",
    "select",
]


#: Certificate signature OIDs → the JCA name Java's algorithm constraints compare.
_SIGNATURE_NAMES = {
    "1.2.840.113549.1.1.5": "SHA1withRSA",
    "1.2.840.113549.1.1.14": "SHA224withRSA",
    "1.2.840.113549.1.1.11": "SHA256withRSA",
    "1.2.840.113549.1.1.12": "SHA384withRSA",
    "1.2.840.113549.1.1.13": "SHA512withRSA",
    "1.2.840.113549.1.1.4": "MD5withRSA",
    "1.2.840.113549.1.1.10": "RSASSA-PSS",
    "1.2.840.10045.4.1": "SHA1withECDSA",
    "1.2.840.10045.4.3.1": "SHA224withECDSA",
    "1.2.840.10045.4.3.2": "SHA256withECDSA",
    "1.2.840.10045.4.3.3": "SHA384withECDSA",
    "1.2.840.10045.4.3.4": "SHA512withECDSA",
    "1.3.101.112": "Ed25519",
    "1.3.101.113": "Ed448",
    "1.2.840.10040.4.3": "SHA1withDSA",
    "2.16.840.1.101.3.4.3.1": "SHA224withDSA",
    "2.16.840.1.101.3.4.3.2": "SHA256withDSA",
}


class Rank(int, Enum):
    """PKIX key manager's CheckResult (lower is better; INSENSITIVE is server-side only)."""

    EXACT = 0
    EXPIRED = 2
    EXTENSION_MISMATCH = 3


class Reason(str, Enum):
    """Why an entry is or is not acceptable: rules match on these, never on the text."""

    NO_CHAIN = "no certificate chain"
    KEY_TYPE = "key type not accepted by the request"
    ISSUER_NOT_NAMED = "no certificate in the chain is issued by a named CA"
    ISSUER_NAMED = "an issuer in the chain is named by the server"
    NO_NAMES = "the server names no CA"
    KEY_PASSWORD = "key password differs from the store password"
    CONSTRAINTS = "chain does not conform to the algorithm constraints"
    EXPIRED = "expired or not yet valid"
    EXTENSION_MISMATCH = "EKU/keyUsage unfit for clientAuth"
    NO_CERTIFICATE_VERIFY = "no CertificateVerify scheme for this key"
    UNREACHABLE = "Java cannot look the alias up"


@dataclass
class Candidate:
    alias: str
    key_type: str
    accepted: bool
    reasons: list[str] = field(default_factory=list)
    matched_issuer: str | None = None
    rank: Rank | None = None
    codes: list[Reason] = field(default_factory=list)
    #: Accepted by SunX509 (which checks neither algorithm constraints nor dates).
    sunx509_ok: bool = False

    def note(self, code: Reason, text: str) -> None:
        self.codes.append(code)
        self.reasons.append(text)


@dataclass
class Selection:
    request: CaRequest
    candidates: list[Candidate]
    sunx509: list[str]  # Java's pick (at most one alias; empty: nothing is sent)
    pkix: list[str]
    sunx509_fails: str | None = None  # SunX509 cannot even start (key password differs)
    openssl_sends: str | None = None  # what OpenSSL/curl send: the configured cert, regardless
    #: Why that entry, in Java's words (the order it tried them in).
    sunx509_why: str = ""
    pkix_why: str = ""
    #: Java chose an entry, then aborts: no CertificateVerify scheme for its key.
    sunx509_aborts: str | None = None
    pkix_aborts: str | None = None
    #: Java aborts on the request itself, before any key manager is asked.
    request_aborts: str | None = None
    java: str = ""  # which JDK's behaviour was simulated

    @property
    def java_sends_nothing(self) -> bool:
        return not self.pkix


def key_type(entry: KeyEntry) -> str:
    """Java's name for the entry's key algorithm (RSASSA-PSS and EdDSA are their own)."""
    if entry.chain:
        # from the stored SubjectPublicKeyInfo: keys cryptography cannot load are typed too
        name, _ = C.public_key_algorithm(entry.chain[0])
    elif entry.private_key is not None:
        name, _ = C.key_algorithm(entry.private_key)
    else:
        return "?"
    if name == "invalid":
        return "?"
    return "EdDSA" if name in ("Ed25519", "Ed448") else name


def _conforms(chain: tuple[x509.Certificate, ...], allowed: set[str]) -> str | None:
    """The first certificate signed with an algorithm outside `allowed`, described; else None."""
    for cert in reversed(chain):
        name = _SIGNATURE_NAMES.get(cert.signature_algorithm_oid.dotted_string, "?")
        if name.lower() not in allowed:
            return f"{C.short_dn(cert.subject)} is signed with {name}"
    return None


def _verify_scheme(entry: KeyEntry, kind: str, req: CaRequest, java: JavaProfile) -> bool:
    """Whether Java finds a CertificateVerify scheme for this key (curve included). SunEC signs
    only on secp256r1/384r1/521r1 (JDK 17): an EC key on another curve (brainpool, binary) has
    none, in TLS 1.2 and 1.3 alike (measured)."""
    named = ec_curve(entry) if kind == "EC" else None
    if kind == "EC" and named not in JAVA_SIGNING_CURVES:
        return False
    curve = JAVA_SIGNING_CURVES.get(named) if named is not None else None
    for s in known_schemes(req.signature_algorithms, req, java):
        scheme = SCHEMES[s]
        if scheme.key != kind or (req.tls13 and not scheme.tls13):
            continue
        if scheme.curve is not None and curve is not None and scheme.curve != curve:
            continue
        return True
    return False


@dataclass(frozen=True)
class _Asked:
    """The request as the checks of each entry read it."""

    #: the key types JSSE asks for, in its order, and the same listed for a reason's text
    types: list[str]
    listed: str
    #: the CA names, in canonical form (empty: the server names none)
    names: set[CanonicalName]
    #: the signature algorithms a PKIX chain must be signed with (lower-cased JCA names)
    algorithms: set[str]

    @classmethod
    def of(cls, req: CaRequest, java: JavaProfile) -> _Asked:
        types = request_key_types(req, java)
        algorithms = {
            SCHEMES[s].algorithm.lower()
            for s in known_schemes(req.signature_algorithms_cert or req.signature_algorithms, req, java)
        }
        return cls(types, ", ".join(types) or "none", {canonical_dn(n) for n in req.ca_names}, algorithms)


def select(
    store: Keystore,
    req: CaRequest,
    at: dt.datetime,
    configured_alias: str | None = None,
    java: JavaProfile | None = None,
) -> Selection:
    """Each key entry judged against the request, then what SunX509 and PKIX would each send."""
    java = java or profile()
    asked = _Asked.of(req, java)
    candidates = [_candidate(entry, asked, at) for entry in store.key_entries]
    by_alias = {c.alias: c for c in candidates}
    entries = {e.alias: e for e in store.key_entries}
    sel = Selection(
        req, candidates, [], [], _sunx509_fails(store), configured_alias or next(iter(entries), None)
    )
    sel.java = f"Java {java.version}"
    sel.request_aborts = java_aborts(req, java)
    if sel.request_aborts:
        sel.sunx509_why = sel.pkix_why = sel.request_aborts
        return sel
    failure = store.java_load_failure
    if failure is not None:  # KeyStore.load throws: no key manager is ever made
        said = f'Java cannot load the keystore ("{failure.java_says}"; {failure.where}: {failure.cause})'
        sel.sunx509_fails, sel.pkix_why = said, said
        return sel
    order = java_alias_order(store)
    if not sel.sunx509_fails:
        sel.sunx509, sel.sunx509_why = _sunx509(order, by_alias, asked.types, java)
    sel.pkix, sel.pkix_why = _pkix(order, by_alias, asked.types, java)
    if sel.pkix and entries[sel.pkix[0]].key_password_differs:
        sel.pkix_why = (
            f"PKIX chose '{sel.pkix[0]}' ({sel.pkix_why}), whose key does not open with the store "
            'password: it finds no private key ("no private key") and sends an empty Certificate'
        )
        sel.pkix = []
    if sel.sunx509:
        sel.sunx509_aborts = _aborts_after_choosing(entries[sel.sunx509[0]], by_alias, req, java)
    if sel.pkix:
        sel.pkix_aborts = _aborts_after_choosing(entries[sel.pkix[0]], by_alias, req, java)
    return sel


def _sunx509_fails(store: Keystore) -> str | None:
    """SunX509 recovers every key at start-up: an entry with its own password stops it (the last
    such entry is the one named, as the loop met it)."""
    own = [e.alias for e in store.key_entries if e.key_password_differs]
    if not own:
        return None
    said = (
        "Get Key failed: Given final block not properly padded"
        if store.store_type.value == "PKCS12"
        else "Cannot recover key"
    )
    return f"key entry '{own[-1]}' has its own password: SunX509 fails at start-up (\"{said}\")"


def _candidate(entry: KeyEntry, asked: _Asked, at: dt.datetime) -> Candidate:
    """One entry judged: what both key managers check, then what only PKIX checks and ranks."""
    cand = Candidate(entry.alias, key_type(entry), accepted=True)
    _check_for_both(cand, entry, asked)
    cand.sunx509_ok = cand.accepted
    if cand.accepted:
        _check_for_pkix(cand, entry, asked, at)
    return cand


def _check_for_both(cand: Candidate, entry: KeyEntry, asked: _Asked) -> None:
    """The chain, the alias, the key type, the issuer names and the key password."""
    if not entry.chain:
        cand.accepted = False
        cand.note(Reason.NO_CHAIN, "no certificate chain")
    if not entry.java_reachable:
        cand.accepted = False
        cand.note(
            Reason.UNREACHABLE,
            "alias stored in upper case in a JKS/JCEKS file: Java lists it but cannot look it up",
        )
    if cand.key_type not in asked.types:
        cand.accepted = False
        cand.note(
            Reason.KEY_TYPE, f"key type {cand.key_type} not among the types Java asks for ({asked.listed})"
        )
    if asked.names and entry.chain:
        hit = next((c for c in entry.chain if canonical_dn(c.issuer.public_bytes()) in asked.names), None)
        if hit is None:
            issuers = "; ".join(dict.fromkeys(C.dn(c.issuer) for c in entry.chain))
            cand.accepted = False
            cand.note(
                Reason.ISSUER_NOT_NAMED,
                f"no certificate in the chain is issued by a named CA (issuers: {issuers})",
            )
        else:
            cand.matched_issuer = C.dn(hit.issuer)
            cand.note(Reason.ISSUER_NAMED, f"issuer {cand.matched_issuer} is named by the server")
    elif not asked.names:
        cand.note(Reason.NO_NAMES, "the server names no CA: any entry is acceptable")
    if entry.key_password_differs:
        cand.note(
            Reason.KEY_PASSWORD,
            "key password differs from the store password: PKIX may still choose it, then "
            "finds no private key and sends an empty Certificate",
        )


def _check_for_pkix(cand: Candidate, entry: KeyEntry, asked: _Asked, at: dt.datetime) -> None:
    """The algorithm constraints (SunX509 does not check them), then PKIX's rank."""
    bad = _conforms(entry.chain, asked.algorithms)
    if bad:
        cand.accepted = False
        cand.note(
            Reason.CONSTRAINTS,
            f"{bad}, not among the server's signature algorithms: PKIX skips it "
            '("certificate list does not conform to algorithm constraints"); SunX509 '
            "does not check",
        )
        return
    cand.rank = _rank(entry.chain[0], at)
    if cand.rank is Rank.EXPIRED:
        cand.note(Reason.EXPIRED, "expired or not yet valid (PKIX ranks it lower, still sends it)")
    elif cand.rank is Rank.EXTENSION_MISMATCH:
        cand.note(Reason.EXTENSION_MISMATCH, "EKU/keyUsage unfit for clientAuth (PKIX ranks it lower)")


def _aborts_after_choosing(
    entry: KeyEntry, by_alias: dict[str, Candidate], req: CaRequest, java: JavaProfile
) -> str | None:
    """Java chose `entry`, then finds no CertificateVerify scheme for its key: why it aborts."""
    kind = by_alias[entry.alias].key_type
    if _verify_scheme(entry, kind, req, java):
        return None
    curve = ec_curve(entry) if kind == "EC" else None
    if kind == "EC" and curve not in JAVA_SIGNING_CURVES:
        return (
            f"'{entry.alias}' holds an EC key on {curve}, which Java cannot sign with (SunEC signs "
            'only on secp256r1/384r1/521r1: "Curve not supported"): Java aborts ("No supported '
            'CertificateVerify signature algorithm for EC key")'
        )
    return (
        f"'{entry.alias}' has no CertificateVerify scheme among the server's signature "
        f"algorithms (its {kind} key, curve included): Java aborts "
        '("No supported CertificateVerify signature algorithm")'
    )


def _sunx509(
    order: list[str], by_alias: dict[str, Candidate], types: list[str], java: JavaProfile
) -> tuple[list[str], str]:
    """SunX509: key types in the request's order, then its HashMap's alias order."""
    tried = sunx509_map_order([a for a in order if a in by_alias])
    for kind in types:
        for alias in tried:
            cand = by_alias[alias]
            if cand.sunx509_ok and cand.key_type == kind:
                return [alias], (
                    f"first fitting {kind} entry in SunX509's alias order "
                    f"({', '.join(tried)}: Java's HashMap order of the aliases)"
                )
    return [], "no entry fits"


def _pkix(
    order: list[str], by_alias: dict[str, Candidate], types: list[str], java: JavaProfile
) -> tuple[list[str], str]:
    """PKIX (X509KeyManagerImpl.getAliases/chooseAlias): keystore order, early exits, ranking."""
    listing = ", ".join(order)
    if java.one_call_per_key_type:
        for kind in types:
            found = [a for a in order if by_alias[a].accepted and by_alias[a].key_type == kind]
            if found:
                first = min(found, key=lambda a: (by_alias[a].rank or 0, order.index(a)))
                return [first], f"first {kind} entry, best ranked, in keystore order ({listing})"
        return [], "no entry fits"
    results: list[tuple[Rank, int, str]] = []
    for alias in order:
        cand = by_alias[alias]
        if not cand.accepted or cand.rank is None:
            continue
        index = types.index(cand.key_type)
        if cand.rank is Rank.EXACT and index == 0:
            return [alias], f"first fitting entry of the first key type in keystore order ({listing})"
        results.append((cand.rank, index, alias))
    if not results:
        return [], "no entry fits"
    if results[0][0] is Rank.EXACT:
        return [results[0][2]], f"first fully valid entry in keystore order ({listing})"
    best = min(results, key=lambda r: (r[0], r[1]))  # min keeps the first of equals: a stable sort
    return [best[2]], f"best ranked ({best[0].name}), ties in keystore order ({listing})"


def _rank(leaf: x509.Certificate, at: dt.datetime) -> Rank:
    """X509KeyManagerImpl.CheckType.check: extensions first, then dates."""
    eku, ku = C.ext_key_usage(leaf), C.key_usage(leaf)
    if eku is not None and not {"clientAuth", "anyExtendedKeyUsage"} & set(eku):
        return Rank.EXTENSION_MISMATCH
    if ku is not None and "digital_signature" not in ku:
        return Rank.EXTENSION_MISMATCH
    if C.validity_state(leaf, at) != "valid":
        return Rank.EXPIRED
    return Rank.EXACT
