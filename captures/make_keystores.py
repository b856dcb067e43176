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

from cryptography.hazmat.primitives import serialization

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tests import pki as P  # noqa: E402

PASSWORD = "changeit"


def main() -> None:
    pki = P.make_pki(days=3650)
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        store = "letstestcba.jks"
        P.keytool("-genkeypair", "-alias", "letstestcba", "-keyalg", "RSA", "-keysize", "2048",
                  "-validity", "3650", "-keystore", store, "-storepass", PASSWORD,
                  "-dname", "CN=letstestcba, O=Acme", cwd=d)
        P.keytool("-certreq", "-alias", "letstestcba", "-file", "mycsr.pem", "-keystore", store,
                  "-storepass", PASSWORD, cwd=d)
        signed = P.sign_csr((d / "mycsr.pem").read_bytes(), pki.intermediate, days=3650)
        (d / "SignedServerCert.pem").write_bytes(signed.public_bytes(serialization.Encoding.PEM))
        for alias, issued in (("root", pki.root), ("intermediate", pki.intermediate)):
            (d / f"{alias}.pem").write_bytes(issued.pem)
            P.keytool("-import", "-trustcacerts", "-noprompt", "-alias", alias, "-file",
                      f"{alias}.pem", "-keystore", store, "-storepass", PASSWORD, cwd=d)
        P.keytool("-importcert", "-noprompt", "-alias", "letstestcba-signed", "-file",
                  "SignedServerCert.pem", "-keystore", store, "-storepass", PASSWORD, cwd=d)
        (HERE / store).write_bytes((d / store).read_bytes())
    print(f"wrote {HERE / store}")


if __name__ == "__main__":
    main()
