"""Regenerate the sample keystores in captures/ with the real keytool (the vendor guide's steps).

    python captures/make_keystores.py

letstestcba.jks: keytool's default type (PKCS#12, named .jks); the CA reply was imported under
the alias 'letstestcba-signed' instead of 'letstestcba' — the most common keystore mistake.
Store password: changeit (a sample; never use it for real).

guide/: the guide's steps 1-3 before the import (README "Check the CA's reply before
importing it"): letstestcba.p12 after -genkeypair and -certreq, mycsr.pem, the CA's answer
SignedServerCert.pem (a single certificate), its chain as chain.p7b, and the CA's root.pem and
intermediate.pem; other-reply.pem is a certificate the same CA signed for another key.
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
    make_guide()


def make_guide() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs7

    out = HERE / "guide"
    out.mkdir(exist_ok=True)
    pki = P.make_pki(days=3650)
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        P.keytool(
            "-genkeypair", "-alias", "letstestcba", "-keyalg", "RSA", "-keysize", "2048", "-validity", "3650",
            "-keystore", "letstestcba.p12", "-storepass", PASSWORD, "-dname", "CN=letstestcba, O=Acme", cwd=d,
        )  # fmt: skip
        P.keytool(
            "-certreq", "-alias", "letstestcba", "-file", "mycsr.pem", "-keystore", "letstestcba.p12",
            "-storepass", PASSWORD, cwd=d,
        )  # fmt: skip
        signed = P.sign_csr((d / "mycsr.pem").read_bytes(), pki.intermediate, days=3650)
        pem = serialization.Encoding.PEM
        files = {
            "letstestcba.p12": (d / "letstestcba.p12").read_bytes(),
            "mycsr.pem": (d / "mycsr.pem").read_bytes(),
            "SignedServerCert.pem": signed.public_bytes(pem),
            "chain.p7b": pkcs7.serialize_certificates(
                [signed, pki.intermediate.cert], serialization.Encoding.DER
            ),
            "root.pem": pki.root.pem,
            "intermediate.pem": pki.intermediate.pem,
            "other-reply.pem": pki.leaf.pem,
        }
    for name, data in files.items():
        (out / name).write_bytes(data)
        print(f"wrote {out / name}")


if __name__ == "__main__":
    main()
