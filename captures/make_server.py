"""Regenerate the sample server files in captures/, for `mtls-inspect serve` and `probe` examples.

    python captures/make_server.py

server.pem (CN=localhost,O=Acme and its issuer CN=Acme Issuing CA), server.key (its key: a
throwaway sample, never use it for real) and acme-root.pem (CN=Acme Root CA,O=Acme, the client
CA the sample server trusts and names). Valid for ten years from generation.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from inspector.pki.throwaway import NOW, Issued, issue, make_pki  # noqa: E402

DAYS = 3650


def main() -> None:
    acme = make_pki(days=DAYS)
    made = issue(
        "localhost",
        acme.intermediate,
        eku=[ExtendedKeyUsageOID.SERVER_AUTH],
        not_after=NOW + dt.timedelta(days=DAYS),
    )
    # the same certificate with subjectAltName DNS:localhost, so --servername localhost verifies
    builder = x509.CertificateBuilder(
        made.cert.issuer,
        made.cert.subject,
        made.cert.public_key(),
        made.cert.serial_number,
        made.cert.not_valid_before_utc,
        made.cert.not_valid_after_utc,
        list(made.cert.extensions),
    ).add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
    server = Issued(builder.sign(acme.intermediate.key, hashes.SHA256()), made.key)  # type: ignore[arg-type]
    pem = serialization.Encoding.PEM
    (HERE / "server.pem").write_bytes(
        server.cert.public_bytes(pem) + acme.intermediate.cert.public_bytes(pem)
    )
    (HERE / "server.key").write_bytes(
        server.key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    (HERE / "acme-root.pem").write_bytes(acme.root.cert.public_bytes(pem))
    print(f"wrote {HERE / 'server.pem'}, {HERE / 'server.key'}, {HERE / 'acme-root.pem'}")


if __name__ == "__main__":
    main()
