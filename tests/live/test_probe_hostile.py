"""The probe on keystores that OpenSSL itself refuses to use: a report, not an internal error."""

from __future__ import annotations

import pytest

from tests import pki as P
from tests.live.conftest import PW, Files


@pytest.fixture(scope="module")
def mismatch_store(files: Files) -> str:
    """Entry 'letstestcba': Acme's chain, but another PKI's private key (a CA reply imported
    onto the wrong key pair)."""
    path = files / "mismatch.jks"
    if not path.exists():
        full = [files.acme.leaf.cert, files.acme.intermediate.cert, files.acme.root.cert]
        P.write_jks(path, PW, keys=[("letstestcba", files.stranger.leaf.key, full)])
    return str(path)


@pytest.mark.parametrize("pick", ["java", "alias"])
def test_key_that_is_not_the_certificates_is_reported(cli, s_server, mismatch_store, pick):  # type: ignore[no-untyped-def]
    port = s_server("-CAfile", "acme-root.pem")
    extra = ("--alias", "letstestcba") if pick == "alias" else ()
    result = cli(
        *("probe", f"127.0.0.1:{port}", "--keystore", mismatch_store, "--storepass", PW),
        *("--insecure", "--json", *extra),
    )
    assert result.status == 1, result.err
    assert "internal error" not in result.err
    assert "key-cert-mismatch" in result.error_codes()
    doc = result.json()
    finding = next(f for f in doc["findings"] if f["code"] == "key-cert-mismatch")
    assert "server answers decrypt_error" in finding["summary"]
    assert doc["connections"][0]["client_cert"] == "empty"  # nothing presented
    assert any("OpenSSL refuses the pair" in step for step in doc["probe"]["steps"])
