"""The JKS file format read by hand (JCEKS still goes through pyjks).

Why: importing pyjks costs ~65 ms (its BKS half loads pycryptodomex, its ASN.1 specs pyasn1),
more than the rest of `keystore` and a third of a live probe, while JKS — the store keytool made
until Java 9 and the one most integration platforms still ship — is a small format: a list of
entries and a SHA-1 over the password and the bytes. tests/test_jks_format.py holds this reader
equal to pyjks on every store the tests build (pyjks and real keytool).

Layout (sun.security.provider.JavaKeyStore): magic FEEDFEED, version 1|2, entry count; each
entry a tag (1 private key, 2 trusted certificate), alias (Java modified UTF-8), timestamp;
a key entry holds an EncryptedPrivateKeyInfo (Sun's KeyProtector) and its chain; version 2
prefixes each certificate with its type. Trailer: SHA-1(password UTF-16BE, "Mighty Aphrodite",
everything before). The KeyProtector XORs the PKCS#8 key with SHA-1(password, previous digest)
blocks started from a 20-byte salt, and appends SHA-1(password, key) to check the password.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from dataclasses import dataclass, field

SUN_KEY_PROTECTOR = "1.3.6.1.4.1.42.2.17.1.1"
WHITENER = b"Mighty Aphrodite"
DIGEST = 20


class JksFormatError(ValueError):
    """The bytes are not a well-formed JKS store (truncated, corrupt)."""


class JksPasswordError(ValueError):
    """The store digest does not match: a wrong password, or altered bytes."""


@dataclass
class JksKeyEntry:
    alias: str
    #: the EncryptedPrivateKeyInfo's encrypted data (salt + XORed PKCS#8 + check digest)
    protected_key: bytes
    algorithm: str
    chain: list[tuple[str, bytes]] = field(default_factory=list)  # (type, DER)


#: a trusted certificate entry: (alias, certificate type, DER)
JksTrusted = tuple[str, str, bytes]


@dataclass
class JksStore:
    #: every entry in file order, as (alias as written, entry); which of them Java shows under
    #: which alias: java_aliases.as_java_shows
    entries: list[tuple[str, JksKeyEntry | JksTrusted]] = field(default_factory=list)

    @property
    def written(self) -> list[tuple[str, list[tuple[str, bytes]]]]:
        """Every entry's certificates in file order, replaced ones too (Java parses them all on load)."""
        return [
            (alias, entry.chain if isinstance(entry, JksKeyEntry) else [(entry[1], entry[2])])
            for alias, entry in self.entries
        ]


def _password_bytes(password: str) -> bytes:
    return password.encode("utf-16-be")


class _Cursor:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise JksFormatError(f"truncated at byte {self.pos} (wanted {n} more)")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def u16(self) -> int:
        return int(struct.unpack(">H", self.take(2))[0])

    def u32(self) -> int:
        return int(struct.unpack(">I", self.take(4))[0])

    def utf(self) -> str:
        try:
            return java_utf(self.take(self.u16()))
        except UnicodeDecodeError as exc:
            raise JksFormatError(f"a name is not modified UTF-8 (byte {exc.start})") from None


def java_utf(raw: bytes) -> str:
    """Java's modified UTF-8 (DataInput.readUTF): NUL as C0 80, supplementary characters as two
    encoded surrogates (what keytool writes for an emoji alias). Pairs are joined; a lone
    surrogate stays (and is escaped when shown)."""
    text = raw.replace(b"\xc0\x80", b"\x00").decode("utf-8", "surrogatepass")
    if not any("\ud800" <= ch <= "\udfff" for ch in text):
        return text
    return text.encode("utf-16-be", "surrogatepass").decode("utf-16-be", "surrogatepass")


def parse(data: bytes, storepass: str | None) -> JksStore:
    """Entries of a JKS store; with a password the trailing digest is checked first."""
    if len(data) < 12 + DIGEST or data[:4] != b"\xfe\xed\xfe\xed":
        raise JksFormatError("not a JKS store, or truncated")
    body, digest = data[:-DIGEST], data[-DIGEST:]
    if storepass is not None:
        expected = hashlib.sha1(_password_bytes(storepass) + WHITENER + body).digest()
        if not hmac.compare_digest(expected, digest):
            raise JksPasswordError("store digest mismatch")
    cur = _Cursor(body)
    cur.take(4)
    version = cur.u32()
    if version not in (1, 2):
        raise JksFormatError(f"unknown JKS version {version}")
    store = JksStore()
    for _ in range(cur.u32()):
        tag = cur.u32()
        alias = cur.utf()
        cur.take(8)  # creation time
        if tag == 1:
            algorithm, protected = _encrypted_private_key_info(cur.take(cur.u32()))
            entry = JksKeyEntry(alias, protected, algorithm)
            for _ in range(cur.u32()):
                kind = cur.utf() if version == 2 else "X.509"
                entry.chain.append((kind, cur.take(cur.u32())))
            store.entries.append((alias, entry))
        elif tag == 2:
            kind = cur.utf() if version == 2 else "X.509"
            store.entries.append((alias, (alias, kind, cur.take(cur.u32()))))
        else:
            raise JksFormatError(f"unknown entry tag {tag} for alias '{alias}'")
    if cur.pos != len(body):
        raise JksFormatError(f"{len(body) - cur.pos} unexpected bytes after the last entry")
    return store


def _encrypted_private_key_info(der: bytes) -> tuple[str, bytes]:
    from asn1crypto import keys

    try:
        info = keys.EncryptedPrivateKeyInfo.load(der)
        return info["encryption_algorithm"]["algorithm"].dotted, info["encrypted_data"].native
    except (ValueError, TypeError, KeyError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise JksFormatError(f"key entry is not an EncryptedPrivateKeyInfo ({first})") from None


def unprotect(entry: JksKeyEntry, password: str) -> bytes | None:
    """The PKCS#8 PrivateKeyInfo DER, or None when this password does not open the key."""
    if entry.algorithm != SUN_KEY_PROTECTOR or len(entry.protected_key) < 2 * DIGEST:
        return None
    salt = entry.protected_key[:DIGEST]
    encrypted = entry.protected_key[DIGEST:-DIGEST]
    check = entry.protected_key[-DIGEST:]
    secret = _password_bytes(password)
    stream = bytearray()
    block = salt
    while len(stream) < len(encrypted):
        block = hashlib.sha1(secret + block).digest()
        stream += block
    plain = (int.from_bytes(encrypted, "big") ^ int.from_bytes(stream[: len(encrypted)], "big")).to_bytes(
        len(encrypted), "big"
    )
    if not hmac.compare_digest(hashlib.sha1(secret + plain).digest(), check):
        return None
    return plain
