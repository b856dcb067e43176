"""Options several commands share: --keystore with its passwords, and --at.

Kept out of the *_cmd modules so that commands never import one another.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from inspector.commands.password_args import resolve_password
from inspector.keystore import Keystore, load_keystore
from inspector.system.errors import InputError


def parse_date(value: str | None, option: str = "--at") -> dt.datetime:
    if value is None:
        return dt.datetime.now(dt.timezone.utc)
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{option} {value}: not a date", "write it as YYYY-MM-DD") from None
    return dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.timezone.utc)


def load_from_args(args: argparse.Namespace, path: Path) -> Keystore:
    """Load a keystore with the password options; shared by every command taking --keystore."""
    storepass = resolve_password(args, "storepass", "Enter keystore password: ")
    keypass = resolve_password(args, "keypass", None)
    store = load_keystore(path, storepass, keypass)
    locked = [e.alias for e in store.key_entries if e.key_password_differs and not e.key_decrypted]
    if locked and keypass is None:
        # as keytool does: ask for the key password when the store password does not open a key
        keypass = resolve_password(args, "keypass", f"Enter key password for <{locked[0]}>: ")
        if keypass is not None:
            store = load_keystore(path, storepass, keypass)
    if not store.integrity_checked:
        print(
            f"warning: {path}: no password given: the integrity of this keystore has NOT "
            "been verified and its keys were not opened",
            file=sys.stderr,
        )
    return store
