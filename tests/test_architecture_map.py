"""docs/architecture.md is the map a newcomer reads: every package and module under inspector/
and parsers/ is named in it, so a module added without its line fails here, not in review."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAP = ROOT / "docs" / "architecture.md"


def named_in_the_map() -> list[str]:
    text = MAP.read_text()
    missing = []
    for top in ("inspector", "parsers"):
        for path in sorted((ROOT / top).rglob("*.py")):
            name = path.parent.name if path.name == "__init__.py" else path.stem
            if name == "__main__":
                continue
            if not re.search(rf"(?<![\w]){re.escape(name)}(?!\w)", text):
                missing.append(str(path.relative_to(ROOT)))
    return missing


def test_every_module_and_package_is_on_the_map() -> None:
    assert named_in_the_map() == []
