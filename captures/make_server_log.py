"""Regenerate the sample server log in captures/ with a real nginx and real clients.

    python captures/make_server_log.py

nginx-error.log: nginx (error_log at info) serving captures/server.pem and requiring a client
certificate from captures/acme-root.pem (`ssl_verify_client on`), met by openssl s_client three
times: with no certificate; with the self-signed certificate of captures/letstestcba.jks's key
entry (the CA's reply sits under another alias there); with the CA-signed certificate of that
keystore but without its intermediate. nginx's own lines about the three, and nothing else.
Needs nginx and openssl; run as root (nginx's `user root`).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives import serialization

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from inspector.keystore import load_keystore  # noqa: E402
from tests.live.conftest import started_nginx  # noqa: E402

OUT = HERE / "nginx-error.log"


def main() -> None:
    store = load_keystore(HERE / "letstestcba.jks", "changeit")
    entry = store.key_entries[0]
    signed = next(t.certificate for t in store.trusted_entries if t.alias == "letstestcba-signed")
    assert entry.private_key is not None
    key = entry.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        (d / "client.key").write_bytes(key)
        (d / "self-signed.pem").write_bytes(entry.chain[0].public_bytes(serialization.Encoding.PEM))
        (d / "signed.pem").write_bytes(signed.public_bytes(serialization.Encoding.PEM))

        def server(port: int) -> str:
            return f"""  server {{
    listen 127.0.0.1:{port} ssl;
    server_name api.partner.example;
    ssl_certificate {HERE / "server.pem"};
    ssl_certificate_key {HERE / "server.key"};
    ssl_client_certificate {HERE / "acme-root.pem"};
    ssl_verify_client on;
    location / {{ return 200 "hello\\n"; }}
  }}"""

        with started_nginx(d / "nginx", server) as port:
            for cert in (None, "self-signed.pem", "signed.pem"):
                args = ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-quiet"]
                if cert is not None:
                    args += ["-cert", str(d / cert), "-key", str(d / "client.key")]
                request = b"GET / HTTP/1.1\r\nHost: api.partner.example\r\nConnection: close\r\n\r\n"
                subprocess.run(args, input=request, capture_output=True, timeout=20)
        lines = (d / "nginx" / "logs" / "error.log").read_text().splitlines()
    kept = [line for line in lines if "client SSL certificate" in line or "no required SSL" in line]
    OUT.write_text("\n".join(kept) + "\n")
    print(f"wrote {OUT} ({len(kept)} lines)")


if __name__ == "__main__":
    main()
