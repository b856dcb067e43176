"""Which key entry a Java (JSSE) client would send for a CertificateRequest — and what OpenSSL
(curl, s_client) would send instead.

Modelled on the JDK's own code and checked against a real JDK client (tests/live/
test_java_fidelity.py):

* JSSE turns the request into an ordered list of key types: one per signature scheme the server
  lists (signature_algorithms_cert, else signature_algorithms), in the server's order, kept only
  when the client could sign a CertificateVerify of that type (and, in TLS 1.2, when
  certificate_types admits it). RSASSA-PSS keys are their own type (rsa_pss_pss_* only).
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
from cryptography.hazmat.primitives.asymmetric import ec

from inspector.java.alias_order import java_alias_order, sunx509_map_order
from inspector.java.versions import JavaProfile, profile
from inspector.keystore.model import KeyEntry, Keystore
from inspector.pki import certs as C
from inspector.pki.x500 import canonical_dn

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


@dataclass(frozen=True)
class Scheme:
    """A TLS signature scheme as JSSE sees it (sun.security.ssl.SignatureScheme)."""

    key: str  # Java's key algorithm: RSA, RSASSA-PSS, EC, EdDSA, DSA
    algorithm: str  # the JCA signature algorithm name certificates are checked against
    curve: int | None = None  # ecdsa_secpNNN: the key's curve must match
    tls13: bool = True  # usable for CertificateVerify in TLS 1.3


SCHEMES: dict[int, Scheme] = {
    0x0403: Scheme("EC", "SHA256withECDSA", 256),
    0x0503: Scheme("EC", "SHA384withECDSA", 384),
    0x0603: Scheme("EC", "SHA512withECDSA", 521),
    0x0303: Scheme("EC", "SHA224withECDSA", None, False),
    0x0203: Scheme("EC", "SHA1withECDSA", None, False),
    0x0807: Scheme("EdDSA", "Ed25519"),
    0x0808: Scheme("EdDSA", "Ed448"),
    0x0804: Scheme("RSA", "RSASSA-PSS"),
    0x0805: Scheme("RSA", "RSASSA-PSS"),
    0x0806: Scheme("RSA", "RSASSA-PSS"),
    0x0809: Scheme("RSASSA-PSS", "RSASSA-PSS"),
    0x080A: Scheme("RSASSA-PSS", "RSASSA-PSS"),
    0x080B: Scheme("RSASSA-PSS", "RSASSA-PSS"),
    0x0401: Scheme("RSA", "SHA256withRSA", None, False),
    0x0501: Scheme("RSA", "SHA384withRSA", None, False),
    0x0601: Scheme("RSA", "SHA512withRSA", None, False),
    0x0301: Scheme("RSA", "SHA224withRSA", None, False),
    0x0201: Scheme("RSA", "SHA1withRSA", None, False),
    0x0402: Scheme("DSA", "SHA256withDSA", None, False),
    0x0302: Scheme("DSA", "SHA224withDSA", None, False),
    0x0202: Scheme("DSA", "SHA1withDSA", None, False),
}
_SHA1 = {0x0201, 0x0203, 0x0202}
_CERT_TYPE_KEYS = {1: {"RSA", "RSASSA-PSS"}, 2: {"DSA"}, 64: {"EC", "EdDSA"}}

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


@dataclass(frozen=True)
class CaRequest:
    """What the server asked for, independent of where we learnt it (pcap, probe, file)."""

    tls13: bool
    ca_names: tuple[bytes, ...]  # DER of each name
    certificate_types: tuple[int, ...] = ()
    signature_algorithms: tuple[int, ...] = ()
    source: str = ""
    signature_algorithms_cert: tuple[int, ...] = ()
    #: TLS 1.3: False when no certificate_authorities extension was sent at all.
    ca_names_present: bool = True
    #: Set when the request was assumed (no live server): say so, and which list.
    assumed: str = ""


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
        leaf = entry.chain[0]
        if leaf.public_key_algorithm_oid.dotted_string == "1.2.840.113549.1.1.10":
            return "RSASSA-PSS"
        key = leaf.public_key()
    else:
        key = entry.private_key  # type: ignore[assignment]
    if key is None:
        return "?"
    name, _ = C.key_algorithm(key)
    return "EdDSA" if name in ("Ed25519", "Ed448") else name


def _known(schemes: tuple[int, ...], req: CaRequest, java: JavaProfile) -> list[int]:
    """The schemes this JDK supports for the protocol, in the server's order."""
    out = []
    for s in schemes:
        scheme = SCHEMES.get(s)
        if scheme is None or (scheme.key == "EdDSA" and not java.eddsa):
            continue
        if s in _SHA1 and not req.tls13 and not java.tls12_sha1_schemes:
            continue
        if scheme.key == "RSASSA-PSS" and not req.tls13 and not java.rsassa_pss_tls12:
            continue
        out.append(s)
    return out


def request_key_types(req: CaRequest, java: JavaProfile | None = None) -> list[str]:
    """The key types JSSE asks its key manager for, in its order."""
    java = java or profile()
    signing = _known(req.signature_algorithms, req, java)
    cert_schemes = _known(req.signature_algorithms_cert or req.signature_algorithms, req, java)
    admitted = set().union(*(_CERT_TYPE_KEYS.get(t, set()) for t in req.certificate_types))
    types: list[str] = []
    for s in cert_schemes:
        kind = SCHEMES[s].key
        if kind in types:
            continue
        if req.tls13 and kind == "DSA":
            continue
        if not any(SCHEMES[x].key == kind and (SCHEMES[x].tls13 or not req.tls13) for x in signing):
            continue  # no CertificateVerify possible with this key type
        if not req.tls13 and req.certificate_types and kind not in admitted:
            continue
        types.append(kind)
    return types


def allowed_key_types(req: CaRequest) -> tuple[set[str], str]:
    """Key types the request admits, and a sentence saying why."""
    types = set(request_key_types(req))
    if req.tls13:
        return types, "TLS 1.3 signature_algorithms (DSA never; RSA needs rsa_pss_rsae_*)"
    return types, "TLS 1.2 certificate_types and signature_algorithms"


def _message_size(req: CaRequest) -> int:
    """The CertificateRequest body length, as Java measures it against its limit."""
    names = sum(2 + len(n) for n in req.ca_names)
    if not req.tls13:
        return 1 + len(req.certificate_types) + 2 + 2 * len(req.signature_algorithms) + 2 + names
    size = 1 + 2 + 4 + 2 + 2 * len(req.signature_algorithms)
    if req.signature_algorithms_cert:
        size += 4 + 2 + 2 * len(req.signature_algorithms_cert)
    if req.ca_names_present and req.ca_names:
        size += 4 + 2 + names
    return size


def java_aborts(req: CaRequest, java: JavaProfile | None = None) -> str | None:
    """Why a Java client ends the handshake on this request by itself, or None."""
    java = java or profile()
    size = _message_size(req)
    if size > java.max_handshake_message_size:
        return (
            f"the CertificateRequest is {size} bytes, over Java's limit of "
            f"{java.max_handshake_message_size} (jdk.tls.maxHandshakeMessageSize): Java ends the "
            f'handshake ("The size of the handshake message ({size}) exceeds the maximum allowed '
            f'size"); raise it with -Djdk.tls.maxHandshakeMessageSize={1 << max(size, 1).bit_length()} '
            "or have the server name fewer CAs"
        )
    if req.signature_algorithms and not _known(req.signature_algorithms, req, java):
        return (
            f"none of the server's signature algorithms is enabled in Java {java.version} "
            '(SHA-1 schemes are disabled in TLS 1.2 since JDK 24): Java aborts ("No supported '
            'signature algorithm") before choosing a key entry; have the server offer SHA-256 schemes'
        )
    if req.tls13 and req.ca_names_present and not req.ca_names:
        return (
            "the TLS 1.3 certificate_authorities extension is present but empty: Java rejects "
            'it ("Invalid certificate_authorities extension: insufficient data"); the server '
            "should leave the extension out (openssl s_server -no_ca_names sends it empty)"
        )
    return None


def _conforms(chain: tuple[x509.Certificate, ...], allowed: set[str]) -> str | None:
    """The first certificate signed with an algorithm outside `allowed`, described; else None."""
    for cert in reversed(chain):
        name = _SIGNATURE_NAMES.get(cert.signature_algorithm_oid.dotted_string, "?")
        if name.lower() not in allowed:
            return f"{C.short_dn(cert.subject)} is signed with {name}"
    return None


def _verify_scheme(entry: KeyEntry, kind: str, req: CaRequest, java: JavaProfile) -> bool:
    """Whether Java finds a CertificateVerify scheme for this key (curve included)."""
    key = entry.chain[0].public_key() if entry.chain else None
    curve = key.curve.key_size if isinstance(key, ec.EllipticCurvePublicKey) else None
    for s in _known(req.signature_algorithms, req, java):
        scheme = SCHEMES[s]
        if scheme.key != kind or (req.tls13 and not scheme.tls13):
            continue
        if scheme.curve is not None and curve is not None and scheme.curve != curve:
            continue
        return True
    return False


def select(
    store: Keystore,
    req: CaRequest,
    at: dt.datetime,
    configured_alias: str | None = None,
    java: JavaProfile | None = None,
) -> Selection:
    java = java or profile()
    names = {canonical_dn(n) for n in req.ca_names}
    types = request_key_types(req, java)
    why = ", ".join(types) or "none"
    constraint_names = {
        SCHEMES[s].algorithm.lower()
        for s in _known(req.signature_algorithms_cert or req.signature_algorithms, req, java)
    }
    candidates: list[Candidate] = []
    sunx509_fails = None
    for entry in store.key_entries:
        kt = key_type(entry)
        cand = Candidate(entry.alias, kt, accepted=True)
        if not entry.chain:
            cand.accepted = False
            cand.note(Reason.NO_CHAIN, "no certificate chain")
        if not entry.java_reachable:
            cand.accepted = False
            cand.note(
                Reason.UNREACHABLE,
                "alias stored in upper case in a JKS/JCEKS file: Java lists it but cannot look it up",
            )
        if kt not in types:
            cand.accepted = False
            cand.note(Reason.KEY_TYPE, f"key type {kt} not among the types Java asks for ({why})")
        if names and entry.chain:
            hit = next((c for c in entry.chain if canonical_dn(c.issuer.public_bytes()) in names), None)
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
        elif not names:
            cand.note(Reason.NO_NAMES, "the server names no CA: any entry is acceptable")
        if entry.key_password_differs:
            sunx509_fails = (
                f"key entry '{entry.alias}' has its own password: SunX509 fails at "
                'start-up ("Cannot recover key")'
            )
            cand.accepted = False
            cand.note(Reason.KEY_PASSWORD, "key password differs from the store password: PKIX skips it")
        cand.sunx509_ok = cand.accepted
        if cand.accepted:
            bad = _conforms(entry.chain, constraint_names)
            if bad:
                cand.accepted = False
                cand.note(
                    Reason.CONSTRAINTS,
                    f"{bad}, not among the server's signature algorithms: PKIX skips it "
                    '("certificate list does not conform to algorithm constraints"); SunX509 '
                    "does not check",
                )
        if cand.accepted:
            cand.rank = _rank(entry.chain[0], at)
            if cand.rank is Rank.EXPIRED:
                cand.note(Reason.EXPIRED, "expired or not yet valid (PKIX ranks it lower, still sends it)")
            elif cand.rank is Rank.EXTENSION_MISMATCH:
                cand.note(
                    Reason.EXTENSION_MISMATCH, "EKU/keyUsage unfit for clientAuth (PKIX ranks it lower)"
                )
        candidates.append(cand)
    by_alias = {c.alias: c for c in candidates}
    entries = {e.alias: e for e in store.key_entries}
    order = java_alias_order(store)
    sel = Selection(req, candidates, [], [], sunx509_fails, configured_alias or next(iter(entries), None))
    sel.java = f"Java {java.version}"
    sel.request_aborts = java_aborts(req, java)
    if sel.request_aborts:
        sel.sunx509_why = sel.pkix_why = sel.request_aborts
        return sel
    if not sunx509_fails:
        sel.sunx509, sel.sunx509_why = _sunx509(order, by_alias, types, java)
    sel.pkix, sel.pkix_why = _pkix(order, by_alias, types, java)
    for picks, attr in ((sel.sunx509, "sunx509_aborts"), (sel.pkix, "pkix_aborts")):
        if picks and not _verify_scheme(entries[picks[0]], by_alias[picks[0]].key_type, req, java):
            setattr(
                sel,
                attr,
                f"'{picks[0]}' has no CertificateVerify scheme among the server's signature "
                f"algorithms (its {by_alias[picks[0]].key_type} key, curve included): Java aborts "
                '("No supported CertificateVerify signature algorithm")',
            )
    return sel


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
