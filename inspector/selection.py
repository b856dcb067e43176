"""Which key entry a Java (JSSE) client would send for a CertificateRequest — and what OpenSSL
(curl, s_client) would send instead.

JSSE's key managers (SunX509 and PKIX alike) accept a key entry only when its key type fits the
request (TLS 1.2 certificate_types + signature_algorithms; TLS 1.3 signature_algorithms, DSA
never) and, when the server names CAs, the issuer of *some* certificate in the entry's stored
chain is one of those names (X500Principal equality, i.e. canonical DN comparison). SunX509
takes the first acceptable alias; PKIX ranks by validity and EKU, then takes the first.
Java's alias order is not defined, so with several equal candidates we name them all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import Enum

from cryptography import x509

from inspector import certs as C
from inspector.keystore.model import KeyEntry, Keystore

# signature scheme → key type it needs
_SCHEME_KEY = {
    0x0401: "RSA",
    0x0501: "RSA",
    0x0601: "RSA",
    0x0201: "RSA",
    0x0101: "RSA",
    0x0804: "RSA",
    0x0805: "RSA",
    0x0806: "RSA",
    0x0809: "RSASSA-PSS",
    0x080A: "RSASSA-PSS",
    0x080B: "RSASSA-PSS",
    0x0403: "EC",
    0x0503: "EC",
    0x0603: "EC",
    0x0203: "EC",
    0x0807: "Ed25519",
    0x0808: "Ed448",
    0x0402: "DSA",
    0x0502: "DSA",
    0x0602: "DSA",
    0x0202: "DSA",
}
_TLS13_RSA = {0x0804, 0x0805, 0x0806}  # RSA keys sign CertificateVerify with PSS in TLS 1.3
_CERT_TYPE_KEY = {1: "RSA", 2: "DSA", 64: "EC"}


class Rank(int, Enum):
    """PKIX key manager's ranking (lower is better)."""

    EXACT = 0
    EXPIRED = 1
    EXTENSION_MISMATCH = 2


@dataclass(frozen=True)
class CaRequest:
    """What the server asked for, independent of where we learnt it (pcap, probe, file)."""

    tls13: bool
    ca_names: tuple[bytes, ...]  # DER of each name
    certificate_types: tuple[int, ...] = ()
    signature_algorithms: tuple[int, ...] = ()
    source: str = ""


@dataclass
class Candidate:
    alias: str
    key_type: str
    accepted: bool
    reasons: list[str] = field(default_factory=list)
    matched_issuer: str | None = None
    rank: Rank | None = None


@dataclass
class Selection:
    request: CaRequest
    candidates: list[Candidate]
    sunx509: list[str]  # acceptable aliases; SunX509 picks one of them (the first it meets)
    pkix: list[str]  # best-ranked aliases; PKIX picks one of them
    sunx509_fails: str | None = None  # SunX509 cannot even start (key password differs)
    openssl_sends: str | None = None  # what OpenSSL/curl send: the configured cert, regardless

    @property
    def java_sends_nothing(self) -> bool:
        return not self.pkix


def canonical_dn(der: bytes) -> bytes:
    """RFC 5280 / X500Principal-style canonical form: case- and space-insensitive."""
    from asn1crypto import x509 as ax509

    try:
        return bytes(ax509.Name.load(der).hashable.encode("utf-8"))
    except Exception:
        return der


def key_type(entry: KeyEntry) -> str:
    key = entry.chain[0].public_key() if entry.chain else entry.private_key
    if key is None:
        return "?"
    name, _ = C.key_algorithm(key)
    return name


def allowed_key_types(req: CaRequest) -> tuple[set[str], str]:
    """Key types the request admits, and a sentence saying why."""
    schemes = set(req.signature_algorithms)
    if req.tls13:
        types = {
            _SCHEME_KEY[s]
            for s in schemes
            if s in _SCHEME_KEY and s not in (0x0401, 0x0501, 0x0601, 0x0201, 0x0101, 0x0203)
        }
        if not schemes & _TLS13_RSA:
            types.discard("RSA")
        types.discard("DSA")
        return types, "TLS 1.3 signature_algorithms (DSA never; RSA needs rsa_pss_rsae_*)"
    by_sig = (
        {_SCHEME_KEY[s] for s in schemes if s in _SCHEME_KEY}
        if schemes
        else {"RSA", "DSA", "EC", "Ed25519", "Ed448", "RSASSA-PSS"}
    )
    by_type = {_CERT_TYPE_KEY[t] for t in req.certificate_types if t in _CERT_TYPE_KEY}
    if "RSA" in by_type:
        by_type.add("RSASSA-PSS")
    if "EC" in by_type:
        by_type |= {"Ed25519", "Ed448"}
    types = by_sig & by_type if req.certificate_types else by_sig
    return types, "TLS 1.2 certificate_types and signature_algorithms"


def select(
    store: Keystore, req: CaRequest, at: dt.datetime, configured_alias: str | None = None
) -> Selection:
    names = {canonical_dn(n) for n in req.ca_names}
    allowed, why = allowed_key_types(req)
    candidates: list[Candidate] = []
    sunx509_fails = None
    for entry in store.key_entries:
        kt = key_type(entry)
        cand = Candidate(entry.alias, kt, accepted=True)
        if not entry.chain:
            cand.accepted = False
            cand.reasons.append("no certificate chain")
        if kt not in allowed:
            cand.accepted = False
            cand.reasons.append(
                f"key type {kt} not accepted by the request ({why}: {', '.join(sorted(allowed)) or 'none'})"
            )
        if names and entry.chain:
            hit = next((c for c in entry.chain if canonical_dn(c.issuer.public_bytes()) in names), None)
            if hit is None:
                issuers = "; ".join(dict.fromkeys(C.dn(c.issuer) for c in entry.chain))
                cand.accepted = False
                cand.reasons.append(
                    f"no certificate in the chain is issued by a named CA (issuers: {issuers})"
                )
            else:
                cand.matched_issuer = C.dn(hit.issuer)
                cand.reasons.append(f"issuer {cand.matched_issuer} is named by the server")
        elif not names:
            cand.reasons.append("the server names no CA: any entry is acceptable")
        if entry.key_password_differs:
            sunx509_fails = (
                f"key entry '{entry.alias}' has its own password: SunX509 fails at "
                'start-up ("Cannot recover key")'
            )
            cand.accepted = False
            cand.reasons.append("key password differs from the store password: PKIX skips it")
        if cand.accepted:
            cand.rank = _rank(entry.chain[0], at)
            if cand.rank is Rank.EXPIRED:
                cand.reasons.append("expired or not yet valid (PKIX ranks it lower, still sends it)")
            elif cand.rank is Rank.EXTENSION_MISMATCH:
                cand.reasons.append("EKU/keyUsage unfit for clientAuth (PKIX ranks it lower)")
        candidates.append(cand)
    accepted = [c for c in candidates if c.accepted]
    best = min((c.rank for c in accepted if c.rank is not None), default=None)
    pkix = [c.alias for c in accepted if c.rank == best]
    configured = configured_alias or (store.key_entries[0].alias if store.key_entries else None)
    return Selection(
        req,
        candidates,
        [c.alias for c in accepted] if not sunx509_fails else [],
        pkix,
        sunx509_fails,
        configured,
    )


def _rank(leaf: x509.Certificate, at: dt.datetime) -> Rank:
    if C.validity_state(leaf, at) != "valid":
        return Rank.EXPIRED
    eku, ku = C.ext_key_usage(leaf), C.key_usage(leaf)
    if eku is not None and not {"clientAuth", "anyExtendedKeyUsage"} & set(eku):
        return Rank.EXTENSION_MISMATCH
    if ku is not None and "digital_signature" not in ku:
        return Rank.EXTENSION_MISMATCH
    return Rank.EXACT
