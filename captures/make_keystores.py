"""Regenerate the sample keystores in captures/ with the real keytool (the vendor guide's steps).

    python captures/make_keystores.py

letstestcba.jks: keytool's default type (PKCS#12, named .jks); the CA reply was imported under
the alias 'letstestcba-signed' instead of 'letstestcba' — the most common keystore mistake.
Store password: changeit (a sample; never use it for real).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tests import pki as P  # noqa: E402

PASSWORD = "changeit"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        made = P.keytool_guide(
            Path(tmp), P.make_pki(days=3650), PASSWORD, reply_alias="letstestcba-signed", days=3650
        )
        (HERE / made.name).write_bytes(made.read_bytes())
    print(f"wrote {HERE / made.name}")


if __name__ == "__main__":
    main()
