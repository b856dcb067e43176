"""Writing the report: owner-only, never through a symbolic link, one clear error otherwise."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from inspector.system.private_files import open_private

CHUNK = 64 << 10  # characters gathered before a write: the template yields small pieces


def write_pieces(
    path: Path, pieces: Iterable[str], option: str = "--html", errors: str = "backslashreplace"
) -> int:
    """The page written as it is drawn; returns the bytes written. Reports name partners' hosts
    and CAs: 0600 like the probe's key log, never through a planted symbolic link
    (inspector/system/private_files.py); an existing report is replaced only once the new one is
    whole, and a new file left half-written by a failure is removed."""
    existed = path.exists() or path.is_symlink()
    size = 0
    try:
        with open_private(path, option, force=True) as handle:
            gathered: list[str] = []
            count = 0
            for piece in pieces:
                gathered.append(piece)
                count += len(piece)
                if count >= CHUNK:
                    size += handle.write("".join(gathered).encode("utf-8", errors))
                    gathered, count = [], 0
            size += handle.write("".join(gathered).encode("utf-8", errors))
    except BaseException:
        if not existed:
            path.unlink(missing_ok=True)
        raise
    return size
