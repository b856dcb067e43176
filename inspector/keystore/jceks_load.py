"""A JCEKS store through pyjks, with its entries as Java's JceKeyStore shows them.

pyjks refuses a file that writes an alias twice ("Found duplicate alias"), which Java loads
(java_aliases says which entry it shows): here pyjks reads each repeat under a name of its own,
and the entries go to java_aliases in file order. Names are read as Java writes them (modified
UTF-8, not strict UTF-8).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from inspector.keystore.java_aliases import AliasView, as_java_shows
from inspector.keystore.jks_format import java_utf

#: joins an alias written again to its occurrence, so pyjks keeps every entry: a NUL and a number
#: (an alias that already ends so would still collide, and the file is refused as before)
_AGAIN = "\x00"


@dataclass
class JceksEntries:
    """The entries (pyjks entry objects) as Java shows them, and every entry's certificates in
    file order, replaced ones too (Java parses them all on load)."""

    view: AliasView[Any]
    written: list[tuple[str, list[tuple[str, bytes]]]]


def load_jceks(jks: Any, data: bytes, storepass: str | None) -> JceksEntries:
    """pyjks' loads (its exceptions pass through), then Java's view of what it read."""
    keystore, order = _keystore_class(jks)
    loaded = keystore.loads(data, storepass, try_decrypt_keys=storepass is not None)
    entries = [(alias, loaded.entries[name]) for name, alias in order]
    written = [(alias, _certificates(jks, entry)) for alias, entry in entries]
    return JceksEntries(as_java_shows(entries), written)


def _certificates(jks: Any, entry: Any) -> list[tuple[str, bytes]]:
    """(type, bytes) of its certificates (pyjks' entries answer a missing attribute with a
    KeyError: asked by kind)."""
    if isinstance(entry, jks.PrivateKeyEntry):
        return list(entry.cert_chain)
    if isinstance(entry, jks.TrustedCertEntry):
        return [(entry.type, entry.cert)]
    return []  # a secret key


def _keystore_class(jks: Any) -> tuple[Any, list[tuple[str, str]]]:
    """A pyjks KeyStore class for one load, and the list its loads fills, in file order, with
    each entry's name in pyjks (an alias written again gets a name of its own) and its alias."""
    order: list[tuple[str, str]] = []
    seen: dict[str, int] = {}

    class JavaKeyStore(jks.KeyStore):  # type: ignore[misc,name-defined]
        @classmethod
        def _read_utf(cls, data: bytes, pos: int, kind: str | None = None) -> tuple[str, int]:
            size = int.from_bytes(data[pos : pos + 2], "big")
            if pos + 2 + size > len(data):
                raise jks.util.BadKeystoreFormatException(f"truncated {kind or 'name'}")
            try:
                text = java_utf(data[pos + 2 : pos + 2 + size])
            except UnicodeDecodeError:
                raise jks.util.BadKeystoreFormatException(
                    f"{kind or 'a name'} is not modified UTF-8"
                ) from None
            if kind == "entry alias":
                count = seen.get(text, 0)
                seen[text] = count + 1
                name = text if not count else f"{text}{_AGAIN}{count}"
                order.append((name, text))
                text = name
            return text, pos + 2 + size

    return JavaKeyStore, order
