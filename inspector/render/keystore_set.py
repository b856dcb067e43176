"""Many keystores: one table per store, its findings, and a summary table (text); JSON."""

from __future__ import annotations

from inspector.analysis.keystore_set import SetResult, StoreResult
from inspector.findings import Severity
from inspector.render import text
from inspector.render.json_out import JsonObject, JsonValue, finding_dict


def _first_expiry(result: StoreResult) -> str:
    if not result.expiries:
        return "-"
    first = min(result.expiries, key=lambda e: e.days)
    return f"{int(first.days)} ({first.alias})"


def store_text(result: StoreResult) -> str:
    store = result.store
    if store is None:
        head = f"Keystore {result.path}: not opened"
        return "\n".join([head, text.findings_block(result.findings)])
    integrity = "integrity verified" if store.integrity_checked else "integrity NOT verified"
    parts = [
        f"Keystore {result.path}: {store.store_type.value}, {integrity}, {store.entry_count} entries",
        text.table(store.rows, ["alias", "entry type", "key", "subject", "issuer", "not after", "chain"]),
    ]
    if result.findings:
        parts.append(text.findings_block(result.findings))
    return "\n".join(parts)


def summary_rows(result: SetResult) -> list[list[str]]:
    rows = []
    for s in result.stores:
        kind = s.store.store_type.value if s.store is not None else "unreadable"
        keys = str(len(s.store.key_aliases)) if s.store is not None else "-"
        rows.append(
            [
                s.path,
                kind,
                keys,
                _first_expiry(s),
                str(s.count(Severity.ERROR)),
                str(s.count(Severity.WARNING)),
                str(s.count(Severity.INFO)),
            ]
        )
    return rows


def set_text(result: SetResult) -> str:
    parts = [store_text(s) + "\n" for s in result.stores]
    for path, why in result.skipped:
        parts.append(f"skipped {path}: {why}")
    parts.append(
        f"Summary: {len(result.stores)} keystore(s), judged at {result.at:%Y-%m-%d}, "
        f"expiry window {result.window_days} days"
    )
    parts.append(
        text.table(
            summary_rows(result),
            ["keystore", "type", "keys", "first expiry (days)", "errors", "warnings", "info"],
        )
    )
    parts.append(f"\n{text.summary_line(result.findings)}")
    return "\n".join(parts)


def set_dict(result: SetResult) -> JsonObject:
    stores: list[JsonValue] = []
    for s in result.stores:
        stores.append(
            {
                "path": s.path,
                "type": s.store.store_type.value if s.store is not None else None,
                "error": s.error,
                "key_entries": [
                    {"alias": e.alias, "subject": e.subject, "days_to_expiry": round(e.days, 2)}
                    for e in s.expiries
                ],
                "findings": [finding_dict(f) for f in s.findings],
            }
        )
    return {
        "judged_at": result.at.isoformat(),
        "expiry_window_days": result.window_days,
        "stores": stores,
        "skipped": [{"path": p, "why": w} for p, w in result.skipped],
    }
