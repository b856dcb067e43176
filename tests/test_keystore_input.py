"""Loading every supported type, and every kind of bad input: one line, exit 2, no traceback."""

from __future__ import annotations

import os
import stat

import pytest

from tests import pki as P

PW = "changeit"


@pytest.fixture
def good_jks(tmp_path, acme):  # type: ignore[no-untyped-def]
    return P.write_jks(
        tmp_path / "good.jks",
        PW,
        keys=[("a", acme.leaf.key, [acme.leaf.cert, acme.intermediate.cert, acme.root.cert])],
    )


def assert_one_line_error(result, *needles: str) -> None:  # type: ignore[no-untyped-def]
    assert result.status == 2
    assert result.out == ""
    lines = [line for line in result.err.splitlines() if line.strip() and not line.startswith("warning:")]
    assert len(lines) == 1, result.err
    assert "Traceback" not in result.err and "internal error" not in result.err
    for needle in needles:
        assert needle in lines[0]


def test_wrong_jks_password(cli, good_jks):  # type: ignore[no-untyped-def]
    result = cli("keystore", str(good_jks), "--storepass", "wrong")
    assert_one_line_error(result, str(good_jks), "wrong password, or the file is corrupted")


def test_flipped_byte_in_jks(cli, good_jks):  # type: ignore[no-untyped-def]
    data = bytearray(good_jks.read_bytes())
    data[len(data) // 2] ^= 0xFF
    good_jks.write_bytes(bytes(data))
    result = cli("keystore", str(good_jks), "--storepass", PW)
    assert_one_line_error(result, str(good_jks), "wrong password, or the file is corrupted")


@pytest.mark.parametrize("kind", ["jks", "jceks"])
def test_flipped_bytes_without_password_are_a_report_or_one_line(cli, tmp_path, acme, kind):  # type: ignore[no-untyped-def]
    """Without a password nothing checks the digest first: ~80 bytes spread over the file,
    flipped in turn, must each end in a report (0/1) or one line naming the file (2)."""
    chain = [acme.leaf.cert, acme.intermediate.cert]
    path = tmp_path / f"store.{kind}"
    if kind == "jks":
        P.write_jks(path, PW, keys=[("a", acme.leaf.key, chain)], trusted=[("root", acme.root.cert)])
    else:
        if P.KEYTOOL is None:
            pytest.skip("keytool makes the JCEKS store")
        source = P.write_jks(tmp_path / "src.jks", PW, keys=[("a", acme.leaf.key, chain)])
        P.keytool(
            "-importkeystore", "-srckeystore", source.name, "-srcstoretype", "JKS", "-srcstorepass", PW,
            "-destkeystore", path.name, "-deststoretype", "JCEKS", "-deststorepass", PW, cwd=tmp_path,
        )  # fmt: skip
    data = path.read_bytes()
    for offset in range(0, len(data), max(1, len(data) // 80)):
        broken = bytearray(data)
        broken[offset] ^= 0xFF
        path.write_bytes(bytes(broken))
        result = cli("keystore", str(path))
        assert "internal error" not in result.err and "Traceback" not in result.err, (offset, result.err)
        if result.status == 2:
            assert_one_line_error(result, str(path))
        else:
            assert result.status in (0, 1) and result.out.startswith("Keystore "), offset


def test_truncated_jks(cli, good_jks):  # type: ignore[no-untyped-def]
    good_jks.write_bytes(good_jks.read_bytes()[:300])
    assert_one_line_error(cli("keystore", str(good_jks), "--storepass", PW), str(good_jks))


def test_truncated_pkcs12(cli, tmp_path, acme):  # type: ignore[no-untyped-def]
    path = P.write_pkcs12(tmp_path / "c.p12", PW, "a", acme.leaf.key, [acme.leaf.cert])
    path.write_bytes(path.read_bytes()[:500])
    assert_one_line_error(cli("keystore", str(path), "--storepass", PW), "truncated")


def test_wrong_pkcs12_password(cli, tmp_path, acme):  # type: ignore[no-untyped-def]
    path = P.write_pkcs12(tmp_path / "c.p12", PW, "a", acme.leaf.key, [acme.leaf.cert])
    assert_one_line_error(cli("keystore", str(path), "--storepass", "bad"), "wrong password")


def test_pkcs12_without_password_asks_for_it(cli, tmp_path, acme):  # type: ignore[no-untyped-def]
    path = P.write_pkcs12(tmp_path / "c.p12", PW, "a", acme.leaf.key, [acme.leaf.cert])
    assert_one_line_error(cli("keystore", str(path)), "needs its password", "--storepass-env")


def test_not_a_keystore(cli, tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "notes.jks"
    path.write_text("hello, this is text\n")
    assert_one_line_error(cli("keystore", str(path)), "not a keystore")


def test_bks_is_named_unsupported(cli, tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "store.bks"
    path.write_bytes(b"\x00\x00\x00\x02" + os.urandom(64))
    assert_one_line_error(cli("keystore", str(path)), "BKS", "not supported")


def test_missing_file_and_directory(cli, tmp_path):  # type: ignore[no-untyped-def]
    assert_one_line_error(cli("keystore", str(tmp_path / "nope.jks")), "no such file")
    # a directory is a set of keystores: one holding none is still one line, exit 2
    assert_one_line_error(cli("keystore", str(tmp_path)), "no keystore found")


def test_empty_file(cli, tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "empty.p12"
    path.write_bytes(b"")
    assert_one_line_error(cli("keystore", str(path)), "empty")


def test_password_from_env_and_file(cli, good_jks, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("KS_PASS", PW)
    assert cli("keystore", str(good_jks), "--storepass-env", "KS_PASS").status == 0
    secret = tmp_path / "pass.txt"
    secret.write_text(PW + "\n")
    secret.chmod(stat.S_IRUSR)
    result = cli("keystore", str(good_jks), "--storepass-file", str(secret))
    assert result.status == 0 and PW not in result.out + result.err
    assert_one_line_error(
        cli("keystore", str(good_jks), "--storepass-env", "UNSET_VAR_X"), "UNSET_VAR_X", "not set"
    )


def test_storepass_flag_warns_and_is_never_printed(cli, good_jks):  # type: ignore[no-untyped-def]
    result = cli("keystore", str(good_jks), "--storepass", PW, "--json")
    assert "visible to other users" in result.err
    assert PW not in result.out


def test_pem_bundle_and_der_certificate(cli, tmp_path, acme):  # type: ignore[no-untyped-def]
    bundle = tmp_path / "client.pem"
    bundle.write_bytes(acme.leaf.key_pem + acme.leaf.pem + acme.intermediate.pem + acme.root.pem)
    result = cli("keystore", str(bundle), "--json")
    assert result.status == 0
    doc = result.json()["keystore"]
    assert doc["type"] == "PEM" and doc["entries"][0]["alias"] == "client"
    assert len(doc["entries"][0]["chain"]) == 3
    der = tmp_path / "root.cer"
    der.write_bytes(P.der(acme.root.cert))
    result = cli("keystore", str(der), "--json")
    assert result.json()["keystore"]["type"] == "DER certificate"


def test_private_keys_never_printed(cli, tmp_path, acme):  # type: ignore[no-untyped-def]
    bundle = tmp_path / "client.pem"
    bundle.write_bytes(acme.leaf.key_pem + acme.leaf.pem)
    result = cli("keystore", str(bundle))
    body = acme.leaf.key_pem.decode().splitlines()[1]
    assert body not in result.out and "PRIVATE KEY" not in result.out


def test_bad_date(cli, good_jks):  # type: ignore[no-untyped-def]
    assert_one_line_error(
        cli("keystore", str(good_jks), "--storepass", PW, "--at", "tomorrow"), "--at tomorrow", "YYYY-MM-DD"
    )


def test_traceback_flag_shows_the_exception(cli, tmp_path):  # type: ignore[no-untyped-def]
    from inspector.system.errors import InputError

    with pytest.raises(InputError):
        cli("--traceback", "keystore", str(tmp_path / "nope.jks"))
