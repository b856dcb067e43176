"""PKCS#12 password-based cryptography: the RFC 7292 KDF, PBES1/PBES2 decryption and the MAC.

Kept apart from the SafeBag walk so the one limit that bounds the work (Java's own iteration cap)
is enforced in one place, before any round is computed.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

#: sun.security.pkcs12.PKCS12KeyStore.MAX_ITERATION_COUNT (JDK 17: measured with keytool, "MAC
#: iteration count too large"; JDK 25: same constant in its source). Java refuses a larger MAC,
#: certificate-PBE or key-PBE count, so no Java client can use such a store; and 5M rounds of the
#: PKCS#12 KDF already take seconds here. Java has no property to raise it.
MAX_ITERATIONS = 5_000_000


class TooManyIterations(Exception):
    """An iteration count above MAX_ITERATIONS: what it protects, and the count."""

    def __init__(self, what: str, count: int) -> None:
        super().__init__(what)
        self.what, self.count = what, count


class UnsupportedPbe(Exception):
    """An encryption scheme this reader does not implement (not a wrong password)."""


def pkcs12_kdf(
    hash_name: str, password: bytes, salt: bytes, purpose: int, iterations: int, size: int
) -> bytes:
    """RFC 7292 appendix B.2 key derivation (purpose 1 = key, 2 = IV, 3 = MAC key): OpenSSL's
    PKCS12_key_gen_uni when libcrypto is there (a keytool store's 10,000 MAC rounds: ~1 ms
    instead of ~25 ms in Python; tests/test_keystore_set.py holds the two equal), else ours."""
    fast = _openssl_kdf(hash_name, password, salt, purpose, iterations, size)
    return fast if fast is not None else python_kdf(hash_name, password, salt, purpose, iterations, size)


_LIBCRYPTO: list[Any] = []


def _openssl_kdf(
    hash_name: str, password: bytes, salt: bytes, purpose: int, iterations: int, size: int
) -> bytes | None:
    import ctypes

    if not _LIBCRYPTO:
        import ctypes.util

        lib = None
        name = ctypes.util.find_library("crypto")
        try:
            lib = ctypes.CDLL(name) if name else None
            if lib is not None:
                lib.EVP_get_digestbyname.restype = ctypes.c_void_p
                lib.EVP_get_digestbyname.argtypes = [ctypes.c_char_p]
                lib.PKCS12_key_gen_uni.restype = ctypes.c_int
                lib.PKCS12_key_gen_uni.argtypes = [
                    ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_int,
                    ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p,
                ]  # fmt: skip
        except (OSError, AttributeError):
            lib = None
        _LIBCRYPTO.append(lib)
    lib = _LIBCRYPTO[0]
    if lib is None or iterations < 1 or size < 1:
        return None
    md = lib.EVP_get_digestbyname(hash_name.encode("ascii"))
    if not md:
        return None
    out = ctypes.create_string_buffer(size)
    done = lib.PKCS12_key_gen_uni(
        password, len(password), salt, len(salt), purpose, iterations, size, out, md
    )
    return out.raw if done == 1 else None


def python_kdf(
    hash_name: str, password: bytes, salt: bytes, purpose: int, iterations: int, size: int
) -> bytes:
    """RFC 7292 appendix B.2, in Python."""
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
    new_hash = getattr(hashlib, hash_name)  # the constructor itself: ~2x faster than hashlib.new
    while len(out) < size:
        digest = new_hash(diversifier + bytes(block)).digest()
        for _ in range(iterations - 1):
            digest = new_hash(digest).digest()
        out += digest
        addend = int.from_bytes((digest * (v // u + 1))[:v], "big") + 1
        for start in range(0, len(block), v):
            chunk = int.from_bytes(block[start : start + v], "big")
            block[start : start + v] = ((chunk + addend) % (1 << (v * 8))).to_bytes(v, "big")
    return out[:size]


def bmp_password(password: str) -> bytes:
    return password.encode("utf-16-be") + b"\x00\x00"


def decrypt(algorithm: Any, ciphertext: bytes, password: str, what: str) -> bytes:
    """Decrypt PBES2 (PBKDF2 + AES/3DES) or PKCS#12 PBE (SHA-1 + 3DES / RC2)."""
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    try:
        kdf = algorithm.kdf
        cipher_name = algorithm.encryption_cipher
        iterations = int(algorithm.kdf_iterations)
        salt = bytes(algorithm.kdf_salt)
        key_length = int(algorithm.key_length)
    except (ValueError, KeyError, TypeError):
        raise UnsupportedPbe(f"PKCS#12 {what} encryption {_scheme(algorithm)} is not supported") from None
    if iterations > MAX_ITERATIONS:
        raise TooManyIterations(what, iterations)
    if kdf == "pbkdf2":
        key = hashlib.pbkdf2_hmac(algorithm.kdf_hmac, password.encode("utf-8"), salt, iterations, key_length)
        iv = bytes(algorithm.encryption_iv)
    elif kdf == "pkcs12_kdf":
        bmp = bmp_password(password)
        key = pkcs12_kdf("sha1", bmp, salt, 1, iterations, key_length)
        iv = pkcs12_kdf("sha1", bmp, salt, 2, iterations, 8)
    else:
        raise UnsupportedPbe(f"PKCS#12 key derivation {kdf} is not supported")
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
        raise UnsupportedPbe(f"PKCS#12 cipher {cipher_name} is not supported")
    decryptor = Cipher(cipher_algo, modes.CBC(iv)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    unpadder = padding.PKCS7(cipher_algo.block_size).unpadder()
    return unpadder.update(padded) + unpadder.finalize()


def _scheme(algorithm: Any) -> str:
    """The scheme's OIDs as far as they parse (PBES2: its cipher), for a one-line message."""
    try:
        oid = str(algorithm["algorithm"].dotted)
        if algorithm["algorithm"].native == "pbes2":
            oid += " / " + str(algorithm["parameters"]["encryption_scheme"]["algorithm"].dotted)
        return oid
    except (ValueError, KeyError, TypeError):
        return "(unparsable)"


def _unpad(plain: bytes) -> bytes:
    pad = plain[-1] if plain else 0
    if not 1 <= pad <= 8 or plain[-pad:] != bytes([pad]) * pad:
        raise ValueError("bad padding")
    return plain[:-pad]


def mac_matches(pfx: Any, content: bytes, password: str) -> bool:
    mac_data = pfx["mac_data"]
    hash_name = mac_data["mac"]["digest_algorithm"]["algorithm"].native
    if hash_name not in ("sha1", "sha224", "sha256", "sha384", "sha512"):
        return False
    salt = bytes(mac_data["mac_salt"].native)
    iterations = int(mac_data["iterations"].native)
    if iterations > MAX_ITERATIONS:
        raise TooManyIterations("MAC", iterations)
    expected = bytes(mac_data["mac"]["digest"].native)
    size = hashlib.new(hash_name).digest_size
    # OpenSSL and Java disagree on how an empty password is encoded: accept both.
    candidates = [bmp_password(password)] + ([b""] if password == "" else [])
    for bmp in candidates:
        key = pkcs12_kdf(hash_name, bmp, salt, 3, iterations, size)
        if hmac.compare_digest(hmac.new(key, content, hash_name).digest(), expected):
            return True
    return False
