"""What every keystore rule is handed: the store, the time to judge validity at, and the one
entry to look at (all when None), with the ways its findings name the store and its entries."""

from __future__ import annotations

import datetime as dt
import shlex
from dataclasses import dataclass

from inspector.findings import Location
from inspector.keystore.model import KeyEntry, Keystore, StoreType


@dataclass(frozen=True)
class KeystoreContext:
    store: Keystore
    at: dt.datetime
    alias: str | None = None

    @property
    def file(self) -> str:
        return str(self.store.path)

    @property
    def q(self) -> str:
        """The keystore path quoted for a shell command."""
        return shlex.quote(str(self.store.path))

    def entries(self) -> list[KeyEntry]:
        return [e for e in self.store.key_entries if self.alias in (None, e.alias)]

    def where(self, entry: KeyEntry | None = None, position: int | None = None) -> Location:
        return Location(file=self.file, alias=entry.alias if entry else None, position=position)

    def source(self, entry: KeyEntry, position: int | None = None) -> str:
        pos = f", chain[{position}]" if position is not None else ""
        return f"keystore entry '{entry.alias}'{pos}"


def storetype_flag(store: Keystore) -> str:
    """keytool's -storetype for the store (none for PKCS12, its default)."""
    return "" if store.store_type is StoreType.PKCS12 else f" -storetype {store.store_type.value}"
