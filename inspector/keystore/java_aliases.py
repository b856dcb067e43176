"""Which entry Java shows under each alias of a JKS or JCEKS file, from its entries in file order.

Java's JavaKeyStore and JceKeyStore put each entry in a Hashtable keyed by the alias as written:
an alias written again replaces the earlier entry, whatever its kind, and keytool -list shows the
last. They look every alias up lower-cased (Locale.ENGLISH): an alias with upper case beside its
lower-case twin shows the twin's entry. Measured with keytool 17 on spliced files
(tests/test_keystore_duplicate_alias.py, both formats). One rule for both readers: the JKS one
(jks_format, by hand) and the JCEKS one (jceks_load, through pyjks).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

E = TypeVar("E")


@dataclass
class AliasView(Generic[E]):
    #: alias as listed → the entry Java shows under it; a replaced alias and a twin come after
    #: the others, in the order they were settled (the order the readers list ties in)
    shown: dict[str, E]
    #: aliases written more than once: how many earlier entries the last one replaced
    shadowed: dict[str, int]
    #: upper-case aliases showing their lower-case twin's entry
    twinned: list[str]


def as_java_shows(written: Iterable[tuple[str, E]]) -> AliasView[E]:
    shown: dict[str, E] = {}
    shadowed: dict[str, int] = {}
    for alias, entry in written:
        if alias in shown:
            shadowed[alias] = shadowed.get(alias, 0) + 1
            del shown[alias]  # put again: it goes after the others
        shown[alias] = entry
    twinned = sorted(a for a in shown if a != a.lower() and a.lower() in shown)
    for alias in twinned:
        del shown[alias]
        shown[alias] = shown[alias.lower()]
    return AliasView(shown, shadowed, twinned)
