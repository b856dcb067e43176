"""`keystore --repair` judged by a real handshake: a Java (JSSE) client with the guide's keystore,
the CA reply imported under a new alias, fails against openssl s_server (-Verify, the Acme root as
its CA list); with the repaired store (PKCS#12, and JKS) the same client is accepted."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests import pki as P
from tests.conftest import needs_keytool
from tests.live.conftest import JAVA, Files

PW = "changeit"
pytestmark = [needs_keytool]


def java_handshake(java_oracle: object, store: Path, port: int) -> tuple[str, str]:
    """(the alias Java's PKIX key manager chose, the error the handshake ended with or '')."""
    assert JAVA is not None
    classpath = str(java_oracle.classpath)  # type: ignore[attr-defined]
    argv = [JAVA, "-cp", classpath, "ChooseAlias", str(store), PW, "127.0.0.1", str(port), "PKIX", "TLSv1.2"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    lines = done.stdout.splitlines()
    assert "ASKED=true" in lines, done.stdout + done.stderr
    alias = next(line.split("=", 1)[1] for line in lines if line.startswith("ALIAS="))
    error = next((line.split("=", 1)[1] for line in lines if line.startswith("ERROR=")), "")
    return alias, error


@pytest.mark.parametrize("kind", ["PKCS12", "JKS"])
def test_repaired_store_is_accepted_where_the_broken_one_failed(
    cli, files: Files, tmp_path, s_server, java_oracle, monkeypatch, kind
):  # type: ignore[no-untyped-def]
    broken = P.keytool_guide(tmp_path, files.acme, PW, reply_alias="letstestcba-signed")
    port = s_server("-CAfile", str(files / "acme-root.pem"), version="1.2")
    alias, error = java_handshake(java_oracle, broken, port)
    assert alias == "null" and error, (alias, error)  # nothing sent: the server refuses the handshake
    monkeypatch.setenv("SP", PW)
    fixed = tmp_path / f"fixed.{kind.lower()}"
    (tmp_path / "names.pem").write_bytes(files.acme.root.pem)
    # the CA names from a file (PKCS12), or read from the live server's CertificateRequest (JKS)
    names = (
        ["--ca-names", str(tmp_path / "names.pem")]
        if kind == "PKCS12"
        else ["--from-server", f"127.0.0.1:{port}"]
    )
    result = cli(
        "keystore",
        str(broken),
        "--storepass-env",
        "SP",
        "--repair",
        str(fixed),
        "--repair-type",
        kind,
        *names,
        "--json",
    )
    doc = result.json()["repair"]
    assert doc["java_before"]["pkix"] is None and doc["java_after"]["pkix"] == "letstestcba"
    port = s_server("-CAfile", str(files / "acme-root.pem"), version="1.2")
    alias, error = java_handshake(java_oracle, fixed, port)
    assert alias.endswith("letstestcba") and error == "", (alias, error)
