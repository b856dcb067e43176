"""A faithful multi-entry PKCS#12 reader.

`cryptography.load_pkcs12` returns one key and loose certificates; keytool's files hold several
key entries and trusted-cert entries (marked with Java's trusted-key-usage attribute). So we walk
the SafeBags ourselves (asn1crypto for the ASN.1, hashlib / cryptography for the PBE) and rebuild
each key entry's chain the way Java's PKCS12KeyStore does: leaf by localKeyId, then issuer by
subject until a self-issued certificate.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from inspector.errors import InputError
from inspector.keystore.model import KeyEntry, Keystore, StoreType, TrustedEntry

WRONG_PASSWORD_HINT = "check the password (--storepass-env VAR, --storepass-file F or the prompt)"


@dataclass
class _CertBag:
    cert: x509.Certificate
    friendly_name: str | None
    local_key_id: bytes | None
    trusted: bool


@dataclass
class _KeyBag:
    friendly_name: str | None
    local_key_id: bytes | None
    key: PrivateKeyTypes | None


def pkcs12_kdf(
    hash_name: str, password: bytes, salt: bytes, purpose: int, iterations: int, size: int
) -> bytes:
    """RFC 7292 appendix B.2 key derivation (purpose 1 = key, 2 = IV, 3 = MAC key)."""
    u = hashlib.new(hash_name).digest_size
    v = hashlib.new(hash_name).block_size
    diversifier = bytes([purpose]) * v

    def stretch(data: bytes) -> bytes:
        if not data:
            return b""
        count = -(-len(data) // v) * v
        return (data * (count // len(data) + 1))[:count]

    block = bytearray(stretch(salt) + stretch(password))
    out = b""
    while len(out) < size:
        digest = hashlib.new(hash_name, diversifier + bytes(block)).digest()
        for _ in range(iterations - 1):
            digest = hashlib.new(hash_name, digest).digest()
        out += digest
        addend = int.from_bytes((digest * (v // u + 1))[:v], "big") + 1
        for start in range(0, len(block), v):
            chunk = int.from_bytes(block[start : start + v], "big")
            block[start : start + v] = ((chunk + addend) % (1 << (v * 8))).to_bytes(v, "big")
    return out[:size]


def _bmp_password(password: str) -> bytes:
    return password.encode("utf-16-be") + b"\x00\x00"


def _decrypt(algorithm: Any, ciphertext: bytes, password: str) -> bytes:
    """Decrypt PBES2 (PBKDF2 + AES/3DES) or PKCS#12 PBE (SHA-1 + 3DES / RC2)."""
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    kdf = algorithm.kdf
    cipher_name = algorithm.encryption_cipher
    iterations = int(algorithm.kdf_iterations)
    salt = bytes(algorithm.kdf_salt)
    key_length = int(algorithm.key_length)
    if kdf == "pbkdf2":
        key = hashlib.pbkdf2_hmac(algorithm.kdf_hmac, password.encode("utf-8"), salt, iterations, key_length)
        iv = bytes(algorithm.encryption_iv)
    elif kdf == "pkcs12_kdf":
        bmp = _bmp_password(password)
        key = pkcs12_kdf("sha1", bmp, salt, 1, iterations, key_length)
        iv = pkcs12_kdf("sha1", bmp, salt, 2, iterations, 8)
    else:
        raise InputError(f"unsupported PKCS#12 encryption (key derivation {kdf})")
    if cipher_name == "aes":
        cipher_algo: Any = algorithms.AES(key)
    elif cipher_name == "tripledes":
        from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES

        cipher_algo = TripleDES(key)
    elif cipher_name == "rc2":
        # cryptography's RC2 only takes 128-bit keys; pycryptodomex (a pyjks dependency) does 40.
        from Cryptodome.Cipher import ARC2

        rc2 = ARC2.new(key, ARC2.MODE_CBC, iv=iv, effective_keylen=len(key) * 8)  # type: ignore[call-arg]
        plain = rc2.decrypt(ciphertext)
        return _unpad(plain)
    else:
        raise InputError(f"unsupported PKCS#12 cipher {cipher_name}")
    decryptor = Cipher(cipher_algo, modes.CBC(iv)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    unpadder = padding.PKCS7(cipher_algo.block_size).unpadder()
    return unpadder.update(padded) + unpadder.finalize()


def _unpad(plain: bytes) -> bytes:
    pad = plain[-1] if plain else 0
    if not 1 <= pad <= 8 or plain[-pad:] != bytes([pad]) * pad:
        raise ValueError("bad padding")
    return plain[:-pad]


def _check_mac(pfx: Any, content: bytes, password: str, name: str) -> None:
    mac_data = pfx["mac_data"]
    hash_name = mac_data["mac"]["digest_algorithm"]["algorithm"].native
    if hash_name not in ("sha1", "sha224", "sha256", "sha384", "sha512"):
        raise InputError(f"{name}: unsupported PKCS#12 MAC algorithm {hash_name}")
    salt = bytes(mac_data["mac_salt"].native)
    iterations = int(mac_data["iterations"].native)
    expected = bytes(mac_data["mac"]["digest"].native)
    size = hashlib.new(hash_name).digest_size
    # OpenSSL and Java disagree on how an empty password is encoded: accept both.
    candidates = [_bmp_password(password)] + ([b""] if password == "" else [])
    for bmp in candidates:
        key = pkcs12_kdf(hash_name, bmp, salt, 3, iterations, size)
        if hmac.compare_digest(hmac.new(key, content, hash_name).digest(), expected):
            return
    raise InputError(f"{name}: wrong password, or the file is corrupted", WRONG_PASSWORD_HINT)


def _attributes(bag: Any) -> tuple[str | None, bytes | None, bool]:
    friendly: str | None = None
    key_id: bytes | None = None
    trusted = False
    attrs = bag["bag_attributes"]
    for attr in attrs if attrs.native is not None else []:
        kind = attr["type"].native
        values = attr["values"]
        if kind == "friendly_name" and len(values):
            friendly = str(values[0].native)
        elif kind == "local_key_id" and len(values):
            key_id = bytes(values[0].native)
        elif kind == "trusted_key_usage":
            trusted = True
    return friendly, key_id, trusted


def read_pkcs12(path: Path, data: bytes, password: str | None) -> Keystore:
    from asn1crypto import cms, pkcs12

    name = str(path)
    try:
        pfx = pkcs12.Pfx.load(data)
        auth_type = pfx["auth_safe"]["content_type"].native
        if auth_type != "data":
            raise InputError(
                f"{name}: PKCS#12 in public-key integrity mode ({auth_type})",
                "re-export it with password integrity",
            )
        content = bytes(pfx["auth_safe"]["content"].native)
        has_mac = pfx["mac_data"].native is not None
        safes = list(pfx.authenticated_safe)
    except InputError:
        raise
    except Exception:
        raise InputError(
            f"{name}: PKCS#12 structure does not parse (truncated or corrupt?)",
            "copy the file again in binary mode",
        ) from None

    if has_mac:
        if password is None:
            raise InputError(
                f"{name}: this PKCS#12 keystore needs its password",
                "use --storepass-env VAR, --storepass-file F or the prompt",
            )
        _check_mac(pfx, content, password, name)

    keys: list[_KeyBag] = []
    certs: list[_CertBag] = []
    secrets: list[str] = []
    undecryptable = 0
    for info in safes:
        kind = info["content_type"].native
        if kind == "data":
            bags = pkcs12.SafeContents.load(bytes(info["content"].native))
        elif kind == "encrypted_data":
            if password is None:
                undecryptable += 1
                continue
            enc = info["content"]["encrypted_content_info"]
            try:
                plain = _decrypt(
                    enc["content_encryption_algorithm"], bytes(enc["encrypted_content"].native), password
                )
            except (ValueError, KeyError):
                raise InputError(
                    f"{name}: wrong password, or the file is corrupted", WRONG_PASSWORD_HINT
                ) from None
            bags = pkcs12.SafeContents.load(plain)
        else:
            undecryptable += 1
            continue
        _walk(bags, password, keys, certs, secrets, cms)
    if undecryptable and not certs and not keys:
        raise InputError(f"{name}: the PKCS#12 content is encrypted", "give the store password")
    return _assemble(path, keys, certs, secrets, integrity=has_mac and password is not None)


def _walk(
    bags: Any, password: str | None, keys: list[_KeyBag], certs: list[_CertBag], secrets: list[str], cms: Any
) -> None:
    for bag in bags:
        bag_id = bag["bag_id"].native
        friendly, key_id, trusted = _attributes(bag)
        value = bag["bag_value"]
        if bag_id == "cert_bag":
            if value["cert_id"].native != "x509":
                continue
            der = value["cert_value"].parsed.dump()
            certs.append(_CertBag(x509.load_der_x509_certificate(der), friendly, key_id, trusted))
        elif bag_id == "pkcs8_shrouded_key_bag":
            key: PrivateKeyTypes | None = None
            if password is not None:
                try:
                    der = _decrypt(
                        value["encryption_algorithm"], bytes(value["encrypted_data"].native), password
                    )
                    key = serialization.load_der_private_key(
                        der, None, unsafe_skip_rsa_key_validation=True
                    )  # the MAC vouches
                except (ValueError, KeyError):
                    key = None
            keys.append(_KeyBag(friendly, key_id, key))
        elif bag_id == "key_bag":
            keys.append(
                _KeyBag(
                    friendly,
                    key_id,
                    serialization.load_der_private_key(
                        value.dump(), None, unsafe_skip_rsa_key_validation=True
                    ),
                )
            )
        elif bag_id == "secret_bag":
            secrets.append(friendly or "(unnamed secret)")


def build_chain(leaf: x509.Certificate, pool: list[x509.Certificate]) -> list[x509.Certificate]:
    """Follow issuer → subject through the pool as Java's PKCS12KeyStore does."""
    by_subject = {c.subject.public_bytes(): c for c in pool}
    chain = [leaf]
    while chain[-1].issuer != chain[-1].subject and len(chain) < 16:
        nxt = by_subject.get(chain[-1].issuer.public_bytes())
        if nxt is None or nxt in chain:
            break
        chain.append(nxt)
    return chain


def _assemble(
    path: Path, keys: list[_KeyBag], certs: list[_CertBag], secrets: list[str], integrity: bool
) -> Keystore:
    store = Keystore(
        path=path,
        store_type=StoreType.PKCS12,
        integrity_checked=integrity,
        chain_order_note="rebuilt by issuer, as Java does for PKCS#12",
    )
    pool = [c.cert for c in certs]
    used: set[int] = set()
    for index, kb in enumerate(keys):
        alias = kb.friendly_name or f"key-{index + 1}"
        leaf_bag = next((c for c in certs if kb.local_key_id and c.local_key_id == kb.local_key_id), None)
        if leaf_bag is None and kb.key is not None:
            pub = kb.key.public_key()
            leaf_bag = next((c for c in certs if c.cert.public_key() == pub), None)
        chain = build_chain(leaf_bag.cert, pool) if leaf_bag else []
        used.update(id(c) for c in certs if c.cert in chain)
        store.key_entries.append(
            KeyEntry(alias=alias, chain=tuple(chain), private_key=kb.key, key_decrypted=kb.key is not None)
        )
    for index, cb in enumerate(certs):
        if cb.trusted:
            store.trusted_entries.append(
                TrustedEntry(alias=cb.friendly_name or f"cert-{index + 1}", certificate=cb.cert)
            )
    loose = [c for c in certs if not c.trusted and id(c) not in used]
    if loose:
        store.notes.append(
            f"{len(loose)} certificate(s) stored without an entry of their own "
            "(chain material only; Java does not list them)"
        )
    store.secret_aliases.extend(secrets)
    return store
