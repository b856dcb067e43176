"""Keystores holding a certificate whose CN cryptography refuses but Java and OpenSSL read (an
8-bit T61String, a SEQUENCE, a BIT STRING, a PrintableString with a byte above 0x7F): the entry is
read and shown as keytool shows it, its fingerprint that of the bytes stored, its signature
checked on the bytes as written (a self-signed key entry is still self-signed), and the odd
encoding said as a non-standard encoding — never left out as unreadable. keytool is the truth."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from tests import pki as P
from tests.conftest import needs_keytool
from tests.oddnames import key_pem, odd_cn, pem

PW = "changeit"
REFUSED = ["t61", "seq", "bitstr", "printable_bad"]


def keytool_owner(path: Path) -> str:
    out = P.keytool("-list", "-v", "-keystore", str(path), "-storepass", PW, cwd=path.parent).stdout
    return next(line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("Owner: "))


@needs_keytool
@pytest.mark.parametrize("variant", REFUSED)
def test_a_trusted_entry_is_read_as_keytool_lists_it(cli, variant: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    der, _ = odd_cn(variant)
    (tmp_path / "odd.pem").write_bytes(pem(der))
    P.keytool(
        "-importcert", "-noprompt", "-keystore", "trust.jks", "-storetype", "JKS", "-storepass", PW,
        "-alias", "odd", "-file", "odd.pem", cwd=tmp_path,
    )  # fmt: skip
    result = cli("keystore", str(tmp_path / "trust.jks"), "--storepass", PW, "--json")
    assert result.status in (0, 1), result.err
    entries = result.json()["keystore"]["entries"]
    assert [(e["alias"], e["type"]) for e in entries] == [("odd", "trustedCertEntry")]
    cert = entries[0]["certificate"]
    assert cert["sha256"] == hashlib.sha256(der).hexdigest()
    assert cert["subject"] == keytool_owner(tmp_path / "trust.jks").replace(", ", ",")  # RFC 4514 spacing
    assert "cert-unreadable" not in result.codes() and "cert-left-out" not in result.codes()
    assert "cert-nonstandard-encoding" in result.codes()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")
@pytest.mark.parametrize("variant", REFUSED)
def test_a_key_entry_keeps_its_chain_and_its_signature(cli, variant: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    der, made = odd_cn(variant)
    (tmp_path / "odd.pem").write_bytes(pem(der))
    (tmp_path / "odd.key").write_bytes(key_pem(made))
    subprocess.run(
        ["openssl", "pkcs12", "-export", "-in", "odd.pem", "-inkey", "odd.key", "-name", "odd",
         "-out", "odd.p12", "-passout", f"pass:{PW}"],
        cwd=tmp_path, check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    result = cli("keystore", str(tmp_path / "odd.p12"), "--storepass", PW, "--json")
    assert result.status in (0, 1), result.err
    entries = result.json()["keystore"]["entries"]
    assert [(e["alias"], e["type"], len(e["chain"])) for e in entries] == [("odd", "PrivateKeyEntry", 1)]
    assert entries[0]["chain"][0]["sha256"] == hashlib.sha256(der).hexdigest()
    # the signature verified on the TBS as written: the certificate is self-signed
    assert "self-signed-client-cert" in result.codes()
    assert "no-private-key-entry" not in result.codes() and "cert-unreadable" not in result.codes()
