"""Record decryption with secrets from a key log: TLS 1.3 and TLS 1.2 AEAD suites.

TLS 1.3 suites, TLS 1.2 AEAD suites (GCM, ChaCha20-Poly1305) and TLS 1.2 AES-CBC suites (with or
without encrypt-then-MAC). Anything else (3DES, RC4, CCM_8 in 1.2) is reported undecryptable.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESCCM, AESGCM, ChaCha20Poly1305

# suite → (aead, key length, hash)
TLS13_SUITES = {
    0x1301: ("gcm", 16, "sha256"),
    0x1302: ("gcm", 32, "sha384"),
    0x1303: ("chacha", 32, "sha256"),
    0x1304: ("ccm", 16, "sha256"),
}
TLS12_AEAD_SUITES = {
    0xC02B: ("gcm", 16, "sha256"),
    0xC02C: ("gcm", 32, "sha384"),
    0xC02F: ("gcm", 16, "sha256"),
    0xC030: ("gcm", 32, "sha384"),
    0x009C: ("gcm", 16, "sha256"),
    0x009D: ("gcm", 32, "sha384"),
    0x009E: ("gcm", 16, "sha256"),
    0x009F: ("gcm", 32, "sha384"),
    0xCCA8: ("chacha", 32, "sha256"),
    0xCCA9: ("chacha", 32, "sha256"),
    0xCCAA: ("chacha", 32, "sha256"),
}


# suite → (key length, MAC hash, PRF hash): CBC suites, MAC-then-encrypt or encrypt-then-MAC
TLS12_CBC_SUITES = {
    0x002F: (16, "sha1", "sha256"),
    0x0035: (32, "sha1", "sha256"),
    0x003C: (16, "sha256", "sha256"),
    0x003D: (32, "sha256", "sha256"),
    0x0033: (16, "sha1", "sha256"),
    0x0039: (32, "sha1", "sha256"),
    0x0067: (16, "sha256", "sha256"),
    0x006B: (32, "sha256", "sha256"),
    0xC009: (16, "sha1", "sha256"),
    0xC00A: (32, "sha1", "sha256"),
    0xC013: (16, "sha1", "sha256"),
    0xC014: (32, "sha1", "sha256"),
    0xC023: (16, "sha256", "sha256"),
    0xC024: (32, "sha384", "sha384"),
    0xC027: (16, "sha256", "sha256"),
    0xC028: (32, "sha384", "sha384"),
    0x0032: (16, "sha1", "sha256"),  # DHE-DSS
    0x0038: (32, "sha1", "sha256"),
    0x0040: (16, "sha256", "sha256"),
    0x006A: (32, "sha256", "sha256"),
}


class DecryptError(Exception):
    pass


Aead = AESGCM | AESCCM | ChaCha20Poly1305


def _aead(kind: str, key: bytes) -> Aead:
    if kind == "gcm":
        return AESGCM(key)
    if kind == "chacha":
        return ChaCha20Poly1305(key)
    return AESCCM(key)


def hkdf_expand_label(secret: bytes, label: bytes, length: int, hash_name: str) -> bytes:
    full = b"tls13 " + label
    info = struct.pack("!HB", length, len(full)) + full + b"\x00"
    out, block, counter = b"", b"", 1
    while len(out) < length:  # hmac.digest: the one-shot C path (thousands of key switches)
        block = hmac.digest(secret, block + info + bytes([counter]), hash_name)
        out += block
        counter += 1
    return out[:length]


@dataclass
class Tls13Decryptor:
    """One direction, one epoch: nonce = iv XOR sequence number."""

    aead: Aead
    iv: bytes
    seq: int = 0

    @classmethod
    def from_secret(cls, suite: int, secret: bytes) -> Tls13Decryptor:
        kind, key_len, hash_name = TLS13_SUITES[suite]
        key = hkdf_expand_label(secret, b"key", key_len, hash_name)
        iv = hkdf_expand_label(secret, b"iv", 12, hash_name)
        return cls(_aead(kind, key), iv)

    def decrypt(self, header: bytes, body: bytes) -> tuple[int, bytes]:
        """(inner content type, content); raises DecryptError."""
        nonce = (int.from_bytes(self.iv, "big") ^ self.seq).to_bytes(12, "big")
        self.seq += 1
        try:
            plain = self.aead.decrypt(nonce, body, header)
        except InvalidTag:
            raise DecryptError("authentication tag mismatch (wrong secret?)") from None
        end = len(plain)
        while end and plain[end - 1] == 0:
            end -= 1
        if not end:
            raise DecryptError("inner plaintext has no content type")
        return plain[end - 1], plain[: end - 1]

    def skip(self) -> None:
        self.seq += 1


@lru_cache(maxsize=8)
def _key_block(hash_name: str, master: bytes, seed: bytes, size: int, tls10: bool = False) -> bytes:
    """The TLS 1.0-1.2 key expansion: both directions' decryptors slice the same block, made
    once per connection (each direction asks for it in turn)."""
    return _prf_tls10(master, seed, size) if tls10 else _p_hash(hash_name, master, seed, size)


def _p_hash(hash_name: str, secret: bytes, seed: bytes, size: int) -> bytes:
    out, a = b"", seed
    while len(out) < size:
        a = hmac.digest(secret, a, hash_name)
        out += hmac.digest(secret, a + seed, hash_name)
    return out[:size]


#: suites with no encryption (RFC 5246 A.5: TLS_RSA_WITH_NULL_*): suite → MAC length. Their
#: records are read without any key: the MAC is stripped (not checked)
NULL_SUITES = {0x0001: 16, 0x0002: 20, 0x003B: 32}


@dataclass
class NullDecryptor:
    """A NULL-cipher suite's records after ChangeCipherSpec: the plaintext, then the MAC."""

    mac_len: int
    seq: int = 0

    def decrypt(self, content_type: int, version: bytes, body: bytes) -> bytes:
        self.seq += 1
        if len(body) < self.mac_len:
            raise DecryptError("NULL-cipher record shorter than its MAC")
        return body[: len(body) - self.mac_len]

    def skip(self) -> None:
        self.seq += 1


def _prf_tls10(secret: bytes, seed: bytes, size: int) -> bytes:
    """TLS 1.0 and 1.1's PRF (RFC 2246 5): P_MD5 over the secret's first half XOR P_SHA-1
    over its second (`seed`: label + seed)."""
    half = (len(secret) + 1) // 2
    md5 = _p_hash("md5", secret[:half], seed, size)
    sha1 = _p_hash("sha1", secret[len(secret) - half :], seed, size)
    return bytes(a ^ b for a, b in zip(md5, sha1, strict=True))


@dataclass
class Tls12Decryptor:
    aead: Aead
    iv: bytes
    chacha: bool
    seq: int = 0

    @classmethod
    def from_master(
        cls, suite: int, master: bytes, client_random: bytes, server_random: bytes, client_side: bool
    ) -> Tls12Decryptor:
        kind, key_len, hash_name = TLS12_AEAD_SUITES[suite]
        iv_len = 12 if kind == "chacha" else 4
        block = _key_block(
            hash_name, master, b"key expansion" + server_random + client_random, 2 * key_len + 2 * iv_len
        )
        ckey, skey = block[:key_len], block[key_len : 2 * key_len]
        civ, siv = block[2 * key_len : 2 * key_len + iv_len], block[2 * key_len + iv_len :]
        return cls(_aead(kind, ckey if client_side else skey), civ if client_side else siv, kind == "chacha")

    def decrypt(self, content_type: int, version: bytes, body: bytes) -> bytes:
        seq = self.seq.to_bytes(8, "big")
        self.seq += 1
        if self.chacha:
            nonce = bytes(a ^ b for a, b in zip(self.iv, b"\x00" * 4 + seq, strict=True))
            ciphertext = body
        else:
            nonce, ciphertext = self.iv + body[:8], body[8:]
        length = len(ciphertext) - 16
        if length < 0:
            raise DecryptError("record shorter than its tag")
        aad = seq + bytes([content_type]) + version + length.to_bytes(2, "big")
        try:
            return bytes(self.aead.decrypt(nonce, ciphertext, aad))
        except InvalidTag:
            raise DecryptError("authentication tag mismatch (wrong master secret?)") from None

    def skip(self) -> None:
        self.seq += 1


@dataclass
class Tls12CbcDecryptor:
    """AES-CBC suites: TLS 1.1 and 1.2 (explicit IV per record) and TLS 1.0 (the IV is the
    previous record's last ciphertext block, the first one from the key block; a record skipped
    unread loses it, and the next is then not read: DecryptError). TLS 1.0 and 1.1 derive keys
    with their own PRF. The record's MAC is checked: padding alone let one wrong key in ~128
    through, its garbage then read as the handshake's Finished."""

    key: bytes
    mac_len: int
    encrypt_then_mac: bool
    seq: int = 0
    #: TLS 1.0: the IV of the next record (None once lost); b"" with explicit IVs
    chained_iv: bytes | None = b""
    #: the MAC's key and hash (RFC 5246 6.2.3.1; RFC 7366 with encrypt-then-MAC)
    mac_key: bytes = b""
    mac_hash: str = ""

    @classmethod
    def from_master(
        cls,
        suite: int,
        master: bytes,
        client_random: bytes,
        server_random: bytes,
        client_side: bool,
        encrypt_then_mac: bool,
        version: int = 0x0303,
    ) -> Tls12CbcDecryptor:
        key_len, mac_hash, prf_hash = TLS12_CBC_SUITES[suite]
        mac_len = hashlib.new(mac_hash).digest_size
        seed = b"key expansion" + server_random + client_random
        size = 2 * mac_len + 2 * key_len + 32
        block = _key_block(prf_hash, master, seed, size, version < 0x0303)
        mac_key = block[:mac_len] if client_side else block[mac_len : 2 * mac_len]
        keys = block[2 * mac_len :]
        key = keys[:key_len] if client_side else keys[key_len : 2 * key_len]
        ivs = keys[2 * key_len :]
        iv = (ivs[:16] if client_side else ivs[16:32]) if version <= 0x0301 else b""
        return cls(key, mac_len, encrypt_then_mac, chained_iv=iv, mac_key=mac_key, mac_hash=mac_hash)

    def _check_mac(self, content_type: int, version: bytes, data: bytes, mac: bytes) -> None:
        """MAC(seq || type || version || length || data): data is the content (MAC-then-encrypt)
        or the IV and ciphertext (encrypt-then-MAC)."""
        if not self.mac_key:
            return
        head = (
            (self.seq - 1).to_bytes(8, "big") + bytes([content_type]) + version + len(data).to_bytes(2, "big")
        )
        if not hmac.compare_digest(hmac.digest(self.mac_key, head + data, self.mac_hash), mac):
            raise DecryptError("record MAC mismatch (wrong master secret?)")

    def decrypt(self, content_type: int, version: bytes, body: bytes) -> bytes:
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

        self.seq += 1
        if self.encrypt_then_mac:
            if len(body) < self.mac_len:
                raise DecryptError("CBC record of an impossible length")
            body, mac = body[: -self.mac_len], body[-self.mac_len :]
            self._check_mac(content_type, version, body, mac)
        chained = self.chained_iv
        if chained == b"":  # explicit IV: the record's first block
            if len(body) < 32 or len(body) % 16:
                raise DecryptError("CBC record of an impossible length")
            iv, body = body[:16], body[16:]
        else:
            if chained is None:
                raise DecryptError("TLS 1.0 CBC: the IV went with a record not read")
            if len(body) < 16 or len(body) % 16:
                self.chained_iv = None
                raise DecryptError("CBC record of an impossible length")
            iv, self.chained_iv = chained, body[-16:]
        decryptor = Cipher(algorithms.AES(self.key), modes.CBC(iv)).decryptor()
        plain = decryptor.update(body) + decryptor.finalize()
        pad = plain[-1]
        if pad + 1 > len(plain) or plain[-pad - 1 :] != bytes([pad]) * (pad + 1):
            raise DecryptError("bad CBC padding (wrong master secret?)")
        plain = plain[: -pad - 1]
        if not self.encrypt_then_mac:
            if len(plain) < self.mac_len:
                raise DecryptError("bad CBC padding (wrong master secret?)")
            plain, mac = plain[: len(plain) - self.mac_len], plain[len(plain) - self.mac_len :]
            self._check_mac(content_type, version, plain, mac)
        return plain

    def skip(self) -> None:
        self.seq += 1
        if self.chained_iv:  # TLS 1.0: the next record's IV was in this one
            self.chained_iv = None
