"""Keystores written from the model (`keystore --repair`): PKCS#12 as Java 17+ and
keytool write it, or JKS. Bytes out, no I/O: the caller writes them (0600, never over the input).

PKCS#12: each key entry is one `serialization.pkcs12.serialize_key_and_certificates` (its key
in a PKCS8ShroudedKeyBag under PBES2/AES-256, its chain as certificate bags, friendlyName the
alias), the trusted entries one `serialize_java_truststore` (the Oracle trusted-key-usage
attribute that makes Java list them as trustedCertEntry); their SafeContents are put side by
side in one PFX and the MAC (HMAC-SHA-256, the PKCS#12 KDF) is computed over the whole. Java
rebuilds each key entry's chain from all the file's certificates, as it would for keytool's.
JKS: pyjks, every key protected by the store password (what Java's key managers need)."""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12

from inspector.keystore.pkcs12_crypto import bmp_password, pkcs12_kdf

#: keytool's defaults since JDK 12 (keystore.pkcs12.*IterationCount)
ITERATIONS = 10_000


@dataclass(frozen=True)
class KeyToWrite:
    alias: str
    key: PrivateKeyTypes
    chain: tuple[x509.Certificate, ...]


@dataclass(frozen=True)
class TrustedToWrite:
    alias: str
    certificate: x509.Certificate


def _encryption(password: str) -> serialization.KeySerializationEncryption:
    return (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(ITERATIONS)
        .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
        .hmac_hash(hashes.SHA256())
        .build(password.encode("utf-8"))
    )


def pkcs12_bytes(keys: Sequence[KeyToWrite], trusted: Sequence[TrustedToWrite], password: str) -> bytes:
    from asn1crypto import cms
    from asn1crypto import pkcs12 as a12

    enc = _encryption(password)
    parts = [
        pkcs12.serialize_key_and_certificates(
            k.alias.encode("utf-8"),
            k.key,  # type: ignore[arg-type]
            k.chain[0],
            list(k.chain[1:]) or None,
            enc,
        )
        for k in keys
    ]
    if trusted:
        certs = [pkcs12.PKCS12Certificate(t.certificate, t.alias.encode("utf-8")) for t in trusted]
        parts.append(pkcs12.serialize_java_truststore(certs, enc))
    if len(parts) == 1:
        return parts[0]
    contents = [ci for part in parts for ci in a12.Pfx.load(part).authenticated_safe]
    content = a12.AuthenticatedSafe(contents).dump()
    salt = os.urandom(16)
    mac_key = pkcs12_kdf("sha256", bmp_password(password), salt, 3, ITERATIONS, 32)
    digest = hmac.new(mac_key, content, hashlib.sha256).digest()
    pfx = a12.Pfx(
        {
            "version": "v3",
            "auth_safe": cms.ContentInfo({"content_type": "data", "content": content}),
            "mac_data": a12.MacData(
                {
                    "mac": {"digest_algorithm": {"algorithm": "sha256"}, "digest": digest},
                    "mac_salt": salt,
                    "iterations": ITERATIONS,
                }
            ),
        }
    )
    return bytes(pfx.dump())


def jks_bytes(keys: Sequence[KeyToWrite], trusted: Sequence[TrustedToWrite], password: str) -> bytes:
    import jks

    der = serialization.Encoding.DER
    entries = []
    for k in keys:
        pkcs8 = k.key.private_bytes(der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        entry = jks.PrivateKeyEntry.new(k.alias, [c.public_bytes(der) for c in k.chain], pkcs8)
        entry.encrypt(password)
        entries.append(entry)
    for t in trusted:
        entries.append(jks.TrustedCertEntry.new(t.alias, t.certificate.public_bytes(der)))
    return bytes(jks.KeyStore.new("jks", entries).saves(password))
