"""`keystore FILE`: one store judged, before any connection is made — the keystore rules and the
expiry window, as one sorted list. The many-store run (keystore_set) and --repair judge each store
the same way."""

from __future__ import annotations

import datetime as dt

from inspector.findings import Finding, sort_findings
from inspector.keystore.model import Keystore
from inspector.rules.expiry_rules import DEFAULT_WINDOW_DAYS

__all__ = ["DEFAULT_WINDOW_DAYS", "judge_keystore"]


def judge_keystore(
    store: Keystore, at: dt.datetime, window_days: int, alias: str | None = None
) -> list[Finding]:
    """The store's findings (one entry's with `alias`), sorted; the rules are imported here, not
    at start-up, so a run that judges no keystore does not load them."""
    from inspector.rules import keystore_rules
    from inspector.rules.expiry_rules import check_expiry

    return sort_findings(
        keystore_rules.check_keystore(store, at, alias) + check_expiry(store, at, window_days, alias)
    )
