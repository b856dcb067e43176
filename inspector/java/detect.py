"""Which JDK the user runs: the `java` on PATH, read from its `release` file.

The file is what the JDK itself ships beside `bin/` (JAVA_VERSION="17.0.15"); reading it costs
a stat and a read, where `java -version` starts a JVM (~100 ms on every select, probe and pcap).
`java -version` is asked only when there is no such file."""

from __future__ import annotations

import re
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=1)
def installed_version() -> int | None:
    """The major version of the `java` on PATH (None when there is none or it does not answer)."""
    java = shutil.which("java")
    if java is None:
        return None
    release = Path(java).resolve().parent.parent / "release"
    try:
        found = re.search(r'^JAVA_VERSION="([^"]+)"', release.read_text(errors="replace"), re.M)
    except OSError:
        found = None
    if found is None:
        try:
            said = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=5).stderr
        except (OSError, subprocess.SubprocessError):
            return None
        found = re.search(r'version "([^"]+)"', said)
    return major(found.group(1)) if found else None


def major(version: str) -> int | None:
    """17 from "17.0.15", 8 from "1.8.0_402", 25 from "25"."""
    parts = re.findall(r"\d+", version)
    if not parts:
        return None
    first = int(parts[0])
    return int(parts[1]) if first == 1 and len(parts) > 1 else first
