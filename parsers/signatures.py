"""Handshake signatures checked from the wire: a CertificateVerify or a ServerKeyExchange
signature, verified against the public key of the certificate its sender presented.

Why here: the capture holds the proof. A CertificateVerify that does not verify with the
sender's certificate key was made with another private key (a keystore entry whose key and
certificate do not belong together); one that verifies while the server answers decrypt_error
puts the fault on the server. This module does the cryptography only: which bytes are signed
is the handshake layer's business (parsers.handshake).

Verdicts are memoised by (public key, scheme, digest of the signed content, signature): a
capture replaying one handshake thousands of times verifies it once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import Enum

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

RSA_ENCRYPTION_OID = "1.2.840.113549.1.1.1"
RSASSA_PSS_OID = "1.2.840.113549.1.1.10"

TLS13_SERVER_CONTEXT = b"TLS 1.3, server CertificateVerify"
TLS13_CLIENT_CONTEXT = b"TLS 1.3, client CertificateVerify"


class Family(str, Enum):
    PKCS1 = "rsa_pkcs1"
    PSS_RSAE = "rsa_pss_rsae"
    PSS_PSS = "rsa_pss_pss"
    ECDSA = "ecdsa"
    ED25519 = "ed25519"
    ED448 = "ed448"
    DSA = "dsa"


_HASHES: dict[int, type[hashes.HashAlgorithm]] = {
    1: hashes.MD5,
    2: hashes.SHA1,
    3: hashes.SHA224,
    4: hashes.SHA256,
    5: hashes.SHA384,
    6: hashes.SHA512,
}
_PSS = {
    0x0804: (Family.PSS_RSAE, hashes.SHA256),
    0x0805: (Family.PSS_RSAE, hashes.SHA384),
    0x0806: (Family.PSS_RSAE, hashes.SHA512),
    0x0809: (Family.PSS_PSS, hashes.SHA256),
    0x080A: (Family.PSS_PSS, hashes.SHA384),
    0x080B: (Family.PSS_PSS, hashes.SHA512),
}
#: TLS 1.3 ties each ECDSA scheme to one curve (TLS 1.2 does not)
_TLS13_CURVES = {0x0403: "secp256r1", 0x0503: "secp384r1", 0x0603: "secp521r1"}


@dataclass(frozen=True, slots=True)
class Scheme:
    family: Family
    hash: type[hashes.HashAlgorithm] | None  # None: EdDSA signs the content itself


def scheme(code: int) -> Scheme | None:
    """A SignatureScheme (TLS 1.2 hash+signature pair or TLS 1.3 scheme) we can verify."""
    if code in _PSS:
        family, digest = _PSS[code]
        return Scheme(family, digest)
    if code == 0x0807:
        return Scheme(Family.ED25519, None)
    if code == 0x0808:
        return Scheme(Family.ED448, None)
    hash_code, sig_code = code >> 8, code & 0xFF
    digest_type = _HASHES.get(hash_code)
    signer = {1: Family.PKCS1, 2: Family.DSA, 3: Family.ECDSA}.get(sig_code)
    if digest_type is None or signer is None:
        return None
    return Scheme(signer, digest_type)


@dataclass(frozen=True, slots=True)
class Verdict:
    """verified None: not checkable, `why` says why; False: `why` says what failed."""

    verified: bool | None
    why: str = ""
    #: None when it could not be judged (unknown scheme, unreadable key)
    fits_key: bool | None = None


def tls13_content(transcript_hash: bytes, server: bool) -> bytes:
    """RFC 8446 §4.4.3: 64 spaces, the context string, a zero byte, the transcript hash."""
    context = TLS13_SERVER_CONTEXT if server else TLS13_CLIENT_CONTEXT
    return b" " * 64 + context + b"\x00" + transcript_hash


def _key_oid(cert: x509.Certificate) -> str:
    try:
        return cert.public_key_algorithm_oid.dotted_string
    except ValueError:
        return ""


def fits(code: int, cert: x509.Certificate, tls13: bool) -> tuple[bool | None, str]:
    """Whether scheme `code` can be made with the certificate's key at all, and if not why."""
    k = _key(cert)
    if k.key is None:
        return None, "the certificate's public key is not readable"
    return _fits(code, k.key, k.oid, tls13)


def _fits(code: int, key: object, oid: str, tls13: bool) -> tuple[bool | None, str]:
    s = scheme(code)
    if s is None:
        return None, f"signature scheme 0x{code:04x} is not one this tool verifies"
    if s.family in (Family.PKCS1, Family.PSS_RSAE, Family.PSS_PSS):
        if not isinstance(key, rsa.RSAPublicKey):
            return False, f"{s.family.value} needs an RSA key; the certificate holds {_kind(key)}"
        if s.family is Family.PSS_PSS and oid != RSASSA_PSS_OID:
            return False, "rsa_pss_pss_* needs an RSASSA-PSS key; the certificate's key is rsaEncryption"
        if s.family is not Family.PSS_PSS and oid == RSASSA_PSS_OID:
            return (
                False,
                f"{s.family.value}_* needs an rsaEncryption key; the certificate's key is RSASSA-PSS",
            )
        if s.family is Family.PKCS1 and tls13:
            return False, "TLS 1.3 forbids rsa_pkcs1_* in CertificateVerify"
        return True, ""
    if s.family is Family.ECDSA:
        if not isinstance(key, ec.EllipticCurvePublicKey):
            return False, f"ecdsa needs an EC key; the certificate holds {_kind(key)}"
        wanted = _TLS13_CURVES.get(code)
        if tls13 and wanted is not None and key.curve.name != wanted:
            return (
                False,
                f"in TLS 1.3 this scheme needs a {wanted} key; the certificate's is {key.curve.name}",
            )
        return True, ""
    expected: type = {Family.ED25519: ed25519.Ed25519PublicKey, Family.ED448: ed448.Ed448PublicKey}.get(
        s.family, dsa.DSAPublicKey
    )
    if not isinstance(key, expected):
        return False, f"{s.family.value} needs another key type; the certificate holds {_kind(key)}"
    return True, ""


def _kind(key: object) -> str:
    if isinstance(key, rsa.RSAPublicKey):
        return f"an RSA-{key.key_size} key"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"an EC {key.curve.name} key"
    return f"a {type(key).__name__.removeprefix('_').replace('PublicKey', '')} key"


def signed_digest(code: int | None, data: bytes) -> tuple[bytes, bool]:
    """What to keep of the signed `data` to verify it later: its digest under the scheme's hash
    (prehashed, True) — 32-64 bytes instead of a whole transcript — or the data itself for EdDSA
    (which signs the message, not a hash) and schemes we do not know. TLS 1.0/1.1 (`code`
    None): MD5 || SHA-1, as RSA signs it (ECDSA and DSA sign the SHA-1 part)."""
    if code is None:
        return hashlib.md5(data).digest() + hashlib.sha1(data).digest(), True
    s = scheme(code)
    if s is None or s.hash is None:
        return data, False
    return hashlib.new(s.hash().name, data).digest(), True


#: verdicts remembered; past this the memo starts afresh (bounded memory)
MEMO_ENTRIES = 4096
_MEMO: dict[tuple[bytes, int | None, bytes, bytes, bool], Verdict] = {}


@dataclass(frozen=True, slots=True)
class _Key:
    cert: x509.Certificate  # held so its id() is not reused while cached
    ident: bytes
    key: object | None  # the public key, None when unreadable
    oid: str


_KEYS: dict[int, _Key] = {}


def _key(cert: x509.Certificate) -> _Key:
    """The certificate's public key, read once: the decoder shares one certificate object
    across the connections that sent the same bytes."""
    hit = _KEYS.get(id(cert))
    if hit is not None and hit.cert is cert:
        return hit
    try:
        public: object | None = cert.public_key()
    except (ValueError, UnsupportedAlgorithm):
        public = None
    entry = _Key(cert, hashlib.sha256(cert.tbs_certificate_bytes).digest(), public, _key_oid(cert))
    if len(_KEYS) >= MEMO_ENTRIES:
        _KEYS.clear()
    _KEYS[id(cert)] = entry
    return entry


def verify(
    cert: x509.Certificate,
    code: int | None,
    signature: bytes,
    signed: bytes,
    prehashed: bool = False,
    tls13: bool = False,
) -> Verdict:
    """Check `signature` with the certificate's key over `signed`: the content itself, or its
    digest when `prehashed` (signed_digest). `code` None: TLS 1.0/1.1, where RSA signs MD5+SHA-1
    of the content and ECDSA/DSA its SHA-1."""
    key = _key(cert)
    memo_key = (
        key.ident,
        code,
        signed if len(signed) <= 256 else hashlib.sha256(signed).digest(),
        signature,
        tls13,
    )
    hit = _MEMO.get(memo_key)
    if hit is not None:
        return hit
    verdict = _verify(key, code, signature, signed, prehashed, tls13)
    if len(_MEMO) >= MEMO_ENTRIES:
        _MEMO.clear()
    _MEMO[memo_key] = verdict
    return verdict


def _verify(
    k: _Key, code: int | None, signature: bytes, signed: bytes, prehashed: bool, tls13: bool
) -> Verdict:
    key = k.key
    if key is None:
        return Verdict(None, "the certificate's public key is not readable")
    if code is None:
        return _verify_legacy(key, signature, signed if prehashed else signed_digest(None, signed)[0])
    fit, why = _fits(code, key, k.oid, tls13)
    s = scheme(code)
    if s is None or fit is None:
        return Verdict(None, why, fit)
    if not fit and not why.startswith("TLS 1.3 forbids"):
        return Verdict(False, why, False)
    # a scheme TLS 1.3 forbids is still checked: whether the key signed it is the other question
    try:
        if s.hash is not None:
            digest = s.hash()
            algorithm: hashes.HashAlgorithm | Prehashed = Prehashed(digest) if prehashed else digest
            if isinstance(key, rsa.RSAPublicKey):
                pad: padding.AsymmetricPadding = (
                    padding.PKCS1v15()
                    if s.family is Family.PKCS1
                    else padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)
                )
                key.verify(signature, signed, pad, algorithm)
            elif isinstance(key, ec.EllipticCurvePublicKey):
                key.verify(signature, signed, ec.ECDSA(algorithm))
            elif isinstance(key, dsa.DSAPublicKey):
                key.verify(signature, signed, algorithm)
            else:
                return Verdict(None, "this key type is not verified here", fit)
        elif isinstance(key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)) and not prehashed:
            key.verify(signature, signed)
        else:
            return Verdict(None, "this key type is not verified here", fit)
    except InvalidSignature:
        return Verdict(False, "the signature does not verify with the certificate's public key", fit)
    except (ValueError, UnsupportedAlgorithm) as exc:
        return Verdict(None, f"the signature could not be checked ({type(exc).__name__})", fit)
    return Verdict(True, why, fit)


def _verify_legacy(key: object, signature: bytes, md5_sha1: bytes) -> Verdict:
    try:
        if isinstance(key, rsa.RSAPublicKey):
            if key.recover_data_from_signature(signature, padding.PKCS1v15(), None) != md5_sha1:
                raise InvalidSignature
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, md5_sha1[16:], ec.ECDSA(Prehashed(hashes.SHA1())))
        elif isinstance(key, dsa.DSAPublicKey):
            key.verify(signature, md5_sha1[16:], Prehashed(hashes.SHA1()))
        else:
            return Verdict(None, f"TLS 1.0/1.1 signatures with {_kind(key)} are not verified here")
    except InvalidSignature:
        return Verdict(False, "the signature does not verify with the certificate's public key", True)
    except (ValueError, UnsupportedAlgorithm) as exc:
        return Verdict(None, f"the signature could not be checked ({type(exc).__name__})")
    return Verdict(True, "", True)
