"""Writing the report: owner-only, never through a symbolic link, one clear error otherwise."""

from __future__ import annotations

from pathlib import Path

from inspector.system.private_files import open_private


def write_private(path: Path, data: bytes, option: str = "--html") -> int:
    """Reports name partners' hosts and CAs: 0600 like the probe's key log, and never through a
    planted symbolic link (inspector/system/private_files.py); an existing report is replaced."""
    with open_private(path, option, force=True) as handle:
        handle.write(data)
    return len(data)
