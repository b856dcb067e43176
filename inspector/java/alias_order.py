"""The order in which Java meets a keystore's aliases: deterministic, so we reproduce it.

* `KeyStore.aliases()` for JKS and JCEKS enumerates a `java.util.Hashtable` (JavaKeyStore,
  JceKeyStore): 11 buckets to start, grown to 2n+1 when 3/4 full, new entries at the head of
  their bucket, enumerated from the last bucket down. Keys are filled in the file's order.
* PKCS#12 (PKCS12KeyStore) keeps a LinkedHashMap: the order of the file.
* SunX509 copies the entries into a `java.util.HashMap` (16 buckets, doubled when 3/4 full,
  bucket = (h ^ h >>> 16) & (n - 1), appended at the tail) and iterates that.
Both hash the alias with `String.hashCode` (UTF-16 code units, 32-bit overflow).
"""

from __future__ import annotations

from pathlib import Path

from inspector.keystore.model import Keystore, StoreType


def string_hash(text: str) -> int:
    """Java's String.hashCode, as a signed 32-bit int."""
    h = 0
    data = text.encode("utf-16-be")
    for i in range(0, len(data), 2):
        h = (31 * h + int.from_bytes(data[i : i + 2], "big")) & 0xFFFFFFFF
    return h - (1 << 32) if h & 0x80000000 else h


def hashtable_order(keys: list[str]) -> list[str]:
    """The enumeration order of a Hashtable filled with `keys` in this order."""
    capacity, count = 11, 0
    table: list[list[str]] = [[] for _ in range(capacity)]
    threshold = int(capacity * 0.75)
    seen: set[str] = set()
    for key in keys:
        if key in seen:
            continue
        if count >= threshold:
            new_capacity = capacity * 2 + 1
            new_table: list[list[str]] = [[] for _ in range(new_capacity)]
            for i in range(capacity - 1, -1, -1):
                for old in table[i]:
                    new_table[(string_hash(old) & 0x7FFFFFFF) % new_capacity].insert(0, old)
            table, capacity = new_table, new_capacity
            threshold = int(capacity * 0.75)
        table[(string_hash(key) & 0x7FFFFFFF) % capacity].insert(0, key)
        seen.add(key)
        count += 1
    return [key for i in range(capacity - 1, -1, -1) for key in table[i]]


def hashmap_order(keys: list[str]) -> list[str]:
    """The iteration order of a HashMap filled with `keys` in this order."""
    unique = list(dict.fromkeys(keys))
    capacity = 16
    while len(unique) > capacity * 3 // 4:
        capacity *= 2

    def bucket(key: str) -> int:
        h = string_hash(key) & 0xFFFFFFFF
        return (h ^ (h >> 16)) & (capacity - 1)

    return sorted(unique, key=bucket)  # sorted() is stable: insertion order within a bucket


def java_alias_order(store: Keystore) -> list[str]:
    """The key entries' aliases in the order `KeyStore.aliases()` gives them."""
    aliases = [e.alias for e in store.key_entries]
    if store.store_type in (StoreType.JKS, StoreType.JCEKS):
        in_file = jks_file_order(store.path)
        everything = in_file or [*aliases, *(t.alias for t in store.trusted_entries)]
        ordered = [a for a in hashtable_order(everything) if a in set(aliases)]
        return ordered + [a for a in aliases if a not in set(ordered)]
    return aliases


def jks_file_order(path: Path) -> list[str] | None:
    """The aliases of a JKS or JCEKS file in the order it stores them (the order Java fills its
    Hashtable in); None when the file does not walk cleanly (JCEKS secret-key entries are Java
    serialised objects, not walked)."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if data[:4] not in (b"\xfe\xed\xfe\xed", b"\xce\xce\xce\xce"):
        return None
    pos, aliases = 12, []

    def take(size: int) -> bytes:
        nonlocal pos
        if pos + size > len(data):
            raise ValueError("truncated")
        chunk = data[pos : pos + size]
        pos += size
        return chunk

    def u(size: int) -> int:
        return int.from_bytes(take(size), "big")

    try:
        for _ in range(int.from_bytes(data[8:12], "big")):
            tag = u(4)
            aliases.append(take(u(2)).decode("utf-8", "replace"))
            take(8)  # timestamp
            if tag == 1:  # private key: protected key, then the chain
                take(u(4))
                for _ in range(u(4)):
                    take(u(2))  # certificate type
                    take(u(4))
            elif tag == 2:  # trusted certificate
                take(u(2))
                take(u(4))
            else:
                return None
    except ValueError:
        return None
    return aliases


def sunx509_map_order(aliases: list[str]) -> list[str]:
    """SunX509's credentials map: filled in `aliases()` order, iterated in HashMap order."""
    return hashmap_order(aliases)
