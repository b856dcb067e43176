"""RSASSA-PSS keys (SPKI OID rsassa-pss): Java treats them as their own key type, and OpenSSL
signs with them only as RSA-PSS keys. `cryptography` reads such a key as a plain RSA key, so
the probe re-labels it before handing it to OpenSSL — otherwise OpenSSL finds no usable
signature scheme for the certificate and sends an empty Certificate."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from inspector.keystore.model import KeyEntry
from parsers.der import element

RSASSA_PSS_OID = "1.2.840.113549.1.1.10"
_PSS_ALGORITHM = bytes.fromhex("300b06092a864886f70d01010a")  # AlgorithmIdentifier, no params


def is_rsassa_pss(entry: KeyEntry) -> bool:
    return bool(entry.chain) and entry.chain[0].public_key_algorithm_oid.dotted_string == RSASSA_PSS_OID


def install_private_key(ctx: Any, entry: KeyEntry) -> None:
    """ctx.use_privatekey with the entry's key; an RSASSA-PSS one as an RSA-PSS EVP_PKEY (a
    pyOpenSSL PKey: cryptography has no such key type, hence the silenced deprecation)."""
    key = entry.private_key
    if not (is_rsassa_pss(entry) and isinstance(key, rsa.RSAPrivateKey)):
        ctx.use_privatekey(key)
        return
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.use_privatekey(_as_rsa_pss(key))


def _as_rsa_pss(key: rsa.RSAPrivateKey) -> Any:
    from OpenSSL import crypto

    inner = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    pkcs8 = element(0x30, bytes.fromhex("020100") + _PSS_ALGORITHM + element(0x04, inner))
    return crypto.load_privatekey(crypto.FILETYPE_ASN1, pkcs8)
