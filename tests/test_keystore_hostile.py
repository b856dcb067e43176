"""Hostile and odd keystores: a report or one line naming the input, never raw input
text on the terminal, never a secret, never "internal error"."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys

import pytest

from tests import pki as P
from tests.conftest import needs_keytool

PW = "changeit"


def one_line_error(result, *needles: str) -> str:  # type: ignore[no-untyped-def]
    assert result.status == 2, (result.status, result.err)
    assert result.out == ""
    lines = [line for line in result.err.splitlines() if line.strip() and not line.startswith("warning:")]
    assert len(lines) == 1, result.err
    assert "internal error" not in result.err and "Traceback" not in result.err
    for needle in needles:
        assert needle in lines[0], lines[0]
    return str(lines[0])


def no_raw_controls(text: str) -> None:
    assert not any(ord(ch) < 0x20 and ch not in "\n\t" for ch in text), repr(text)
    assert "\x7f" not in text and "\u202e" not in text and "\x9b" not in text


# --- aliases and names ----------------------------------------------------------------------


@needs_keytool
@pytest.mark.keytool
@pytest.mark.parametrize("storetype", ["JKS", "JCEKS", "PKCS12"])
def test_emoji_and_cyrillic_alias_from_keytool(cli, tmp_path, storetype) -> None:  # type: ignore[no-untyped-def]
    """keytool writes supplementary characters in Java's modified UTF-8 (two encoded surrogates)."""
    alias = "ключ😀é"
    path = tmp_path / f"emoji.{storetype.lower()}"
    P.keytool(
        "-genkeypair", "-keystore", path.name, "-storetype", storetype, "-storepass", PW, "-keypass", PW,
        "-alias", alias, "-dname", "CN=emoji", "-keyalg", "EC", cwd=tmp_path,
    )  # fmt: skip
    listed = P.keytool("-list", "-keystore", path.name, "-storepass", PW, cwd=tmp_path).stdout
    assert alias in listed
    result = cli("keystore", str(path), "--storepass", PW, "--json")
    assert result.status in (0, 1) and "internal error" not in result.err
    assert [e["alias"] for e in result.json()["keystore"]["entries"]] == [alias]
    text = cli("keystore", str(path), "--storepass", PW)
    assert alias in text.out


def test_control_characters_in_alias_and_dn_are_escaped(cli, tmp_path, acme) -> None:  # type: ignore[no-untyped-def]
    evil = P.issue("evil\x1b]0;pwned\x07\x1b[2J\u202e", acme.intermediate)
    path = P.write_jks(
        tmp_path / "evil.jks",
        PW,
        keys=[("\x1b[31mred\x1b[0m", evil.key, [evil.cert, acme.intermediate.cert, acme.root.cert])],
        trusted=[("bell\x07", acme.root.cert)],
    )
    result = cli("keystore", str(path), "--storepass", PW)
    assert result.status in (0, 1), result.err
    no_raw_controls(result.out + result.err)
    assert "\\1B[31mred\\1B[0m" in result.out
    assert "bell\\07" in result.out
    assert "evil\\1B]0;pwned\\07\\1B[2J\\E2\\80\\AE" in result.out


# --- passwords --------------------------------------------------------------------------------


def test_password_bytes_that_are_not_utf8_from_a_file(cli, tmp_path, acme) -> None:  # type: ignore[no-untyped-def]
    store = P.write_jks(tmp_path / "a.jks", PW, keys=[("a", acme.leaf.key, [acme.leaf.cert])])
    secret = tmp_path / "pw.txt"
    secret.write_bytes(b"s3cr\xff\xfet\n")
    line = one_line_error(
        cli("keystore", str(store), "--storepass-file", str(secret)),
        f"--storepass-file {secret}",
        "not valid UTF-8",
    )
    assert "s3cr" not in line and "\\xff" not in line.lower() and "\udcff" not in line


def test_password_bytes_that_are_not_utf8_from_the_environment(cli, tmp_path, acme, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    store = P.write_jks(tmp_path / "a.jks", PW, keys=[("a", acme.leaf.key, [acme.leaf.cert])])
    monkeypatch.setenv("KS_PW", os.fsdecode(b"zq\xffxv"))
    line = one_line_error(cli("keystore", str(store), "--storepass-env", "KS_PW"), "--storepass-env KS_PW")
    assert "zq" not in line and "xv" not in line and "\udcff" not in line


# --- PEM ----------------------------------------------------------------------------------------


def test_many_begin_lines_without_end(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """560 KB of BEGIN lines: the block pairing is one pass (the old lazy regex took > 120 s)."""
    path = tmp_path / "begins.pem"
    path.write_bytes(b"-----BEGIN CERTIFICATE-----\nAAAA\n" * 17_500)
    assert path.stat().st_size > 560_000
    one_line_error(cli("keystore", str(path)), str(path), "no certificate or private key")


def test_begin_without_end_then_a_good_block(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from inspector.keystore.pem_reader import pem_blocks

    data = (
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----BEGIN PRIVATE KEY-----\nBBBB\n-----END PRIVATE KEY-----\n"
    )
    assert list(pem_blocks(data)) == [
        ("PRIVATE KEY", b"-----BEGIN PRIVATE KEY-----\nBBBB\n-----END PRIVATE KEY-----")
    ]


def test_password_for_an_unencrypted_pem_key_is_not_needed(cli, tmp_path, acme) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "client.pem"
    path.write_bytes(acme.leaf.key_pem + acme.leaf.pem + acme.intermediate.pem)
    result = cli("keystore", str(path), "--storepass", "unneeded", "--json")
    assert result.status == 0, result.err
    assert "encrypted" not in result.err
    assert result.json()["keystore"]["entries"][0]["key_decrypted"] is True


def test_wrong_password_for_an_encrypted_pem_key(cli, tmp_path, acme) -> None:  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives import serialization

    key = acme.leaf.key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"right"),
    )
    path = tmp_path / "client.pem"
    path.write_bytes(key + acme.leaf.pem)
    one_line_error(
        cli("keystore", str(path), "--storepass", "wrong"), str(path), "does not open the private key"
    )
    one_line_error(cli("keystore", str(path)), str(path), "the private key is encrypted")
    assert cli("keystore", str(path), "--storepass", "right").status == 0


# --- JCEKS through pyjks / javaobj ---------------------------------------------------------------


@needs_keytool
@pytest.mark.keytool
def test_corrupted_jceks_sealed_key_prints_no_key_material(cli, tmp_path, caplog) -> None:  # type: ignore[no-untyped-def]
    """Every third byte of the serialized SealedObject flipped in turn, read without a password
    (so no digest stops it first): javaobj's "Oops ... state dump" (logged at ERROR, printed by
    logging's last-resort handler) must never be emitted, and no window of the object's bytes
    may appear in what we print. One case also runs as a real process, watching its stderr."""
    path = tmp_path / "secret.jceks"
    P.keytool(
        "-genseckey", "-alias", "mysecret", "-keyalg", "AES", "-keysize", "128", "-keystore", path.name,
        "-storetype", "JCEKS", "-storepass", PW, "-keypass", PW, cwd=tmp_path,
    )  # fmt: skip
    data = path.read_bytes()
    start = data.index(b"\xac\xed\x00\x05")  # Java serialization magic
    sealed = data[start:-20]
    windows = {sealed[i : i + 6].hex() for i in range(0, len(sealed) - 6)}
    caplog.set_level(logging.DEBUG)
    for offset in range(4, len(sealed), 3):
        broken = bytearray(data)
        broken[start + offset] ^= 0xFF
        path.write_bytes(bytes(broken))
        result = cli("keystore", str(path))
        everything = result.out + result.err + caplog.text
        assert not [r for r in caplog.records if r.name.startswith("javaobj")], offset
        assert "Oops" not in everything and "internal error" not in everything, offset
        assert result.status in (0, 1, 2)
        if result.status == 2:
            assert len([x for x in result.err.splitlines() if not x.startswith("warning:")]) == 1
        compact = everything.replace(" ", "").replace(":", "").lower()
        assert not any(w in compact for w in windows), offset
    broken = bytearray(data)
    broken[start + 40] ^= 0xFF  # measured: javaobj dumps its state for this one
    path.write_bytes(bytes(broken))
    run = subprocess.run(
        [sys.executable, "-m", "inspector", "keystore", str(path)], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.count("\n") == 1 and "Oops" not in run.stderr and str(path) in run.stderr


# --- found by flipping bytes -------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not on PATH")
def test_pkcs12_without_mac_with_flipped_bytes(cli, tmp_path, acme) -> None:  # type: ignore[no-untyped-def]
    """openssl pkcs12 -nomac: nothing vouches for the bytes, every structure is parsed as found
    (a bad ContentType used to escape as an internal error)."""
    (tmp_path / "key.pem").write_bytes(acme.leaf.key_pem)
    (tmp_path / "chain.pem").write_bytes(acme.leaf.pem + acme.intermediate.pem)
    subprocess.run(
        [
            *("openssl", "pkcs12", "-export", "-inkey", "key.pem", "-in", "chain.pem", "-nomac"),
            *("-name", "a", "-passout", f"pass:{PW}", "-out", "nomac.p12"),
        ],
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    path = tmp_path / "nomac.p12"
    data = path.read_bytes()
    assert cli("keystore", str(path), "--storepass", PW).status in (0, 1)
    for offset in range(0, 160):  # the outer structures, where the failures were
        broken = bytearray(data)
        broken[offset] ^= 0xFF
        path.write_bytes(bytes(broken))
        result = cli("keystore", str(path), "--storepass", PW)
        assert "internal error" not in result.err, (offset, result.err)
        if result.status == 2:
            one_line_error(result, str(path))
        else:
            assert result.status in (0, 1), offset


def test_pem_key_of_an_unknown_algorithm(cli, tmp_path, acme) -> None:  # type: ignore[no-untyped-def]
    import base64

    from cryptography.hazmat.primitives import serialization

    der = acme.leaf.key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    rsa_oid = bytes.fromhex("06092a864886f70d010101")
    assert der.count(rsa_oid) == 1
    odd = der.replace(rsa_oid, bytes.fromhex("06092a864886f70d010163"))  # 1.2.840.113549.1.1.99
    body = base64.encodebytes(odd).decode()
    path = tmp_path / "odd.pem"
    key_pem = f"-----BEGIN PRIVATE KEY-----\n{body}-----END PRIVATE KEY-----\n"
    path.write_text(key_pem + acme.leaf.pem.decode())
    one_line_error(cli("keystore", str(path)), str(path), "a type this tool cannot read")


@needs_keytool
@pytest.mark.keytool
@pytest.mark.parametrize("storetype", ["JKS", "JCEKS"])
def test_upper_case_alias_is_listed_but_unreachable_in_java(cli, tmp_path, acme, storetype) -> None:  # type: ignore[no-untyped-def]
    """Writers other than keytool may keep the case; Java then lists the entry and cannot open it."""
    import hashlib

    path = P.write_jks(tmp_path / "case.jks", PW, keys=[("mykey", acme.leaf.key, [acme.leaf.cert])])
    if storetype == "JCEKS":
        P.keytool(
            "-importkeystore", "-srckeystore", path.name, "-srcstorepass", PW, "-destkeystore", "case.jceks",
            "-deststoretype", "JCEKS", "-deststorepass", PW, "-destkeypass", PW, cwd=tmp_path,
        )  # fmt: skip
        path = tmp_path / "case.jceks"
    body = path.read_bytes()[:-20]
    assert body.count(b"\x00\x05mykey") == 1
    body = body.replace(b"\x00\x05mykey", b"\x00\x05MyKey")
    path.write_bytes(body + hashlib.sha1(PW.encode("utf-16-be") + b"Mighty Aphrodite" + body).digest())
    java = P.keytool("-list", "-keystore", path.name, "-storepass", PW, cwd=tmp_path, check=False)
    assert java.returncode == 1 and "Alias <MyKey> does not exist" in java.stdout
    result = cli("keystore", str(path), "--storepass", PW, "--json")
    assert result.status == 1
    assert result.error_codes() == ["alias-unreachable-in-java"]
    assert [e["alias"] for e in result.json()["keystore"]["entries"]] == ["MyKey"]


@needs_keytool
@pytest.mark.keytool
@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not on PATH")
def test_pkcs12_with_a_cipher_neither_we_nor_java_read(cli, tmp_path, acme) -> None:  # type: ignore[no-untyped-def]
    """ARIA-256 for the certificates (openssl can): not "wrong password" but what it is."""
    (tmp_path / "key.pem").write_bytes(acme.leaf.key_pem)
    (tmp_path / "chain.pem").write_bytes(acme.leaf.pem + acme.intermediate.pem)
    made = subprocess.run(
        [
            *("openssl", "pkcs12", "-export", "-inkey", "key.pem", "-in", "chain.pem", "-name", "a"),
            *("-certpbe", "ARIA-256-CBC", "-passout", f"pass:{PW}", "-out", "aria.p12"),
        ],
        cwd=tmp_path,
        capture_output=True,
    )
    if made.returncode != 0:
        pytest.skip("this openssl cannot write ARIA")
    java = P.keytool("-list", "-keystore", "aria.p12", "-storepass", PW, cwd=tmp_path, check=False)
    assert java.returncode != 0
    line = one_line_error(cli("keystore", str(tmp_path / "aria.p12"), "--storepass", PW), "aria.p12")
    assert "is not supported" in line and "wrong password" not in line
