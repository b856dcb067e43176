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


@dataclass
class JksStore:
    keys: list[JksKeyEntry] = field(default_factory=list)
    trusted: list[tuple[str, str, bytes]] = field(default_factory=list)  # (alias, type, DER)
    #: aliases written more than once: how many earlier entries the last one replaced
    shadowed: dict[str, int] = field(default_factory=dict)
    #: every entry's certificates in file order, replaced ones too (Java parses them all on load)
    written: list[tuple[str, list[tuple[str, bytes]]]] = field(default_factory=list)
    aliases: set[str] = field(default_factory=set)

    def put(self, alias: str, entry: JksKeyEntry | tuple[str, str, bytes]) -> None:
        """Java's `entries.put(alias, entry)` (a Hashtable keyed by the alias as written): an
        alias written again replaces the earlier entry, whatever its kind; keytool lists the last."""
        if alias in self.aliases:  # rare: the lists are filtered only then
            self.shadowed[alias] = self.shadowed.get(alias, 0) + 1
            self.keys = [k for k in self.keys if k.alias != alias]
            self.trusted = [t for t in self.trusted if t[0] != alias]
        self.aliases.add(alias)
        if isinstance(entry, JksKeyEntry):
            self.keys.append(entry)
            self.written.append((alias, entry.chain))
        else:
            self.trusted.append(entry)
            self.written.append((alias, [(entry[1], entry[2])]))

    def as_java_looks_up(self) -> list[str]:
        """Java looks every alias up lower-cased: an alias with upper case whose lower-case twin
        is also in the file shows the twin's entry (its kind, key and certificates), as keytool
        -list does. Returns the aliases so replaced."""
        keys = {k.alias: k for k in self.keys if k.alias == k.alias.lower()}
        trusted = {t[0]: t for t in self.trusted if t[0] == t[0].lower()}
        twinned = sorted(a for a in self.aliases if a != a.lower() and a.lower() in self.aliases)
        if not twinned:
            return []
        self.keys = [k for k in self.keys if k.alias not in twinned]
        self.trusted = [t for t in self.trusted if t[0] not in twinned]
        for alias in twinned:
            twin_key, twin_cert = keys.get(alias.lower()), trusted.get(alias.lower())
            if twin_key is not None:
                self.keys.append(
                    JksKeyEntry(alias, twin_key.protected_key, twin_key.algorithm, twin_key.chain)
                )
            elif twin_cert is not None:
                self.trusted.append((alias, twin_cert[1], twin_cert[2]))
        return twinned


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
            store.put(alias, entry)
        elif tag == 2:
            kind = cur.utf() if version == 2 else "X.509"
            store.put(alias, (alias, kind, cur.take(cur.u32())))
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
