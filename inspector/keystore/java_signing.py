"""Which key entries a Java client can sign a CertificateVerify with (JDK 17, SunEC).

Measured with JDK 17 (Signature.initSign + sign on the keys of real keystores, and a Java client
against `openssl s_server -verify 1`):

* EC keys on a curve other than secp256r1, secp384r1 or secp521r1 — brainpool (brainpoolP256r1
  ...), binary curves (sect409r1 ...), secp256k1 — are listed by keytool but SunEC cannot sign
  with them since JDK 16 ("Curve not supported"). The key managers still choose such an entry
  (its key type is EC) and the handshake then ends, in TLS 1.2 and 1.3 alike: "No supported
  CertificateVerify signature algorithm for EC key".
* XDH (X25519, X448) and DH keys agree keys, they cannot sign ("XDH Signature not available"):
  no CertificateRequest asks for their key type, so Java never chooses them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from inspector.keystore.model import KeyEntry
from inspector.pki import certs as C

#: The EC curves SunEC signs with in JDK 17 (the others were removed in JDK 16).
JAVA_SIGNING_CURVES: dict[str, int] = {"secp256r1": 256, "secp384r1": 384, "secp521r1": 521}


class Unsignable(str, Enum):
    """Why Java cannot sign with an entry's key: rules match on these, never on the text."""

    #: the key managers may choose it (key type EC), then Java aborts the handshake
    EC_CURVE = "ec-curve"
    #: never chosen: no CertificateRequest asks for this key type
    AGREEMENT_ONLY = "agreement-only"


@dataclass(frozen=True)
class SigningVerdict:
    kind: Unsignable
    #: what the key is, as keytool names it ("EC (brainpoolP256r1) 256", "XDH (X25519) 255")
    key: str
    #: one sentence: what Java does with the entry
    said: str


def java_signing(entry: KeyEntry) -> SigningVerdict | None:
    """None when a Java client can sign with the entry's key (or nothing tells); else why not."""
    if not entry.chain:
        return None
    facts = C.certificate_key_facts(entry.chain[0])
    if facts is None:
        return None
    key = facts.describe()
    if facts.algorithm == "EC" and facts.curve not in JAVA_SIGNING_CURVES:
        return SigningVerdict(
            Unsignable.EC_CURVE,
            key,
            f"Java 17 cannot sign with an EC key on {facts.curve} (SunEC signs only on secp256r1, "
            'secp384r1 and secp521r1: "Curve not supported"); a key manager may still choose this '
            'entry and the handshake then ends ("No supported CertificateVerify signature '
            'algorithm for EC key")',
        )
    if facts.algorithm in ("XDH", "DH"):
        return SigningVerdict(
            Unsignable.AGREEMENT_ONLY,
            key,
            f'a {facts.algorithm} key agrees keys and cannot sign (Java: "{facts.algorithm} '
            'Signature not available"): no server asks for its key type, a Java client never '
            "sends this entry",
        )
    return None


def ec_curve(entry: KeyEntry) -> str | None:
    """The named curve of the entry's certificate key (EC keys only)."""
    if not entry.chain:
        return None
    facts = C.certificate_key_facts(entry.chain[0])
    return facts.curve if facts is not None and facts.algorithm == "EC" else None
