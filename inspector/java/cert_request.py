"""A CertificateRequest as JSSE reads it, before any key manager is asked: the signature schemes
it knows, the key types it asks its key manager for (in its order), and the requests it aborts on
by itself. Where the request came from (a capture, a probe, a list of names) does not matter here;
which entry is then chosen is key_managers'."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from inspector.java.versions import JavaProfile, profile

if TYPE_CHECKING:
    from parsers.model import CertificateRequest

__all__ = [
    "SCHEMES",
    "CaRequest",
    "Scheme",
    "allowed_key_types",
    "java_aborts",
    "known_schemes",
    "request_key_types",
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
SHA1_SCHEMES = {0x0201, 0x0203, 0x0202}
_CERT_TYPE_KEYS = {1: {"RSA", "RSASSA-PSS"}, 2: {"DSA"}, 64: {"EC", "EdDSA"}}

#: Before TLS 1.2 a request has no signature_algorithms: each certificate type signs its
#: CertificateVerify with SHA-1 (MD5+SHA-1 for RSA), as these schemes stand for (RFC 5246 7.4.1.4.1)
_LEGACY_SCHEMES = (0x0201, 0x0202, 0x0203)


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

    @classmethod
    def from_message(cls, req: CertificateRequest, source: str) -> CaRequest:
        """The request as it came on the wire (a capture, a probe, a Java log's rebuilt one)."""
        return cls(
            tls13=req.tls13,
            ca_names=tuple(n.der for n in req.ca_names),
            certificate_types=req.certificate_types,
            signature_algorithms=_LEGACY_SCHEMES if req.legacy else req.signature_algorithms,
            source=source,
            signature_algorithms_cert=req.signature_algorithms_cert,
            ca_names_present=req.ca_names_present,
        )


def known_schemes(schemes: tuple[int, ...], req: CaRequest, java: JavaProfile) -> list[int]:
    """The schemes this JDK supports for the protocol, in the server's order."""
    out = []
    for s in schemes:
        scheme = SCHEMES.get(s)
        if scheme is None or (scheme.key == "EdDSA" and not java.eddsa):
            continue
        if s in SHA1_SCHEMES and not req.tls13 and not java.tls12_sha1_schemes:
            continue
        if scheme.key == "RSASSA-PSS" and not req.tls13 and not java.rsassa_pss_tls12:
            continue
        out.append(s)
    return out


def request_key_types(req: CaRequest, java: JavaProfile | None = None) -> list[str]:
    """The key types JSSE asks its key manager for, in its order."""
    java = java or profile()
    signing = known_schemes(req.signature_algorithms, req, java)
    cert_schemes = known_schemes(req.signature_algorithms_cert or req.signature_algorithms, req, java)
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
    if req.signature_algorithms and not known_schemes(req.signature_algorithms, req, java):
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
