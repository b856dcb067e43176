"""`explain`: every finding code the tool can report, with its explanation — the registry, once
every rule module has registered its codes (they are imported on demand elsewhere)."""

from __future__ import annotations

from inspector.findings import CodeSpec


def finding_codes() -> dict[str, CodeSpec]:
    """Code → its spec, every rule module loaded."""
    from inspector.rules import load_all

    return load_all()
