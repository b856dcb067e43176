"""A JCEKS store through pyjks, with its entries as Java's JceKeyStore shows them.

pyjks refuses a file that writes an alias twice ("Found duplicate alias"); Java loads it, each
entry put in a table keyed by the alias as written, so the last one written is the one keytool
-list shows. And Java looks every alias up lower-cased, so an alias with upper case beside its
lower-case twin shows the twin's entry (measured with keytool 17 on spliced files, as for JKS:
jks_format.JksStore). Names are read as Java writes them (modified UTF-8, not strict UTF-8).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from inspector.keystore.jks_format import java_utf

#: joins an alias written again to its occurrence, so pyjks keeps every entry: a NUL and a number
#: (an alias that already ends so would still collide, and the file is refused as before)
_AGAIN = "\x00"


@dataclass
class JceksEntries:
    """The entries as Java shows them: by alias, each a pyjks entry object."""

    shown: dict[str, Any] = field(default_factory=dict)
    #: aliases written more than once: how many earlier entries the last one replaced
    shadowed: dict[str, int] = field(default_factory=dict)
    #: upper-case aliases showing their lower-case twin's entry
    twinned: list[str] = field(default_factory=list)
    #: every entry's certificates in file order, replaced ones too (Java parses them all on load)
    written: list[tuple[str, list[tuple[str, bytes]]]] = field(default_factory=list)


def load_jceks(jks: Any, data: bytes, storepass: str | None) -> JceksEntries:
    """pyjks' loads (its exceptions pass through), then Java's view of what it read."""
    keystore, order = _keystore_class(jks)
    loaded = keystore.loads(data, storepass, try_decrypt_keys=storepass is not None)
    result = JceksEntries()
    for name, alias in order:
        entry = loaded.entries[name]
        if alias in result.shown:
            result.shadowed[alias] = result.shadowed.get(alias, 0) + 1
        result.shown[alias] = entry
        result.written.append((alias, _certificates(jks, entry)))
    lower = dict(result.shown)
    result.twinned = sorted(a for a in lower if a != a.lower() and a.lower() in lower)
    for alias in result.twinned:
        result.shown[alias] = lower[alias.lower()]
    return result


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
