"""The hand-written JKS reader must read exactly what pyjks reads, and fail the same way."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st
from inspector.system.errors import InputError

from inspector.keystore.jks_reader import read_jks_by_hand, read_with_pyjks
from inspector.keystore.model import Keystore, StoreType
from tests import pki as P

PW = "changeit"


def _summary(store: Keystore) -> list[object]:
    """Everything the rules read from a store, in comparable form."""
    keys = []
    for e in store.key_entries:
        key = (
            None
            if e.private_key is None
            else e.private_key.private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        keys.append((e.alias, [P.der(c) for c in e.chain], key, e.key_password_differs, e.key_decrypted))
    trusted = [(t.alias, P.der(t.certificate)) for t in store.trusted_entries]
    return [keys, trusted, store.integrity_checked, store.secret_aliases]


def _both(path: Path, storepass: str | None, keypass: str | None = None) -> None:
    data = path.read_bytes()
    mine = read_jks_by_hand(path, data, storepass, keypass)
    theirs = read_with_pyjks(path, data, StoreType.JKS, storepass, keypass)
    assert _summary(mine) == _summary(theirs)


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("jks")
    acme = P.make_pki()
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ec_leaf = P.issue("ec-client", acme.intermediate, key=ec_key)
    full = [acme.leaf.cert, acme.intermediate.cert, acme.root.cert]
    return {
        "one": P.write_jks(d / "one.jks", PW, keys=[("letstestcba", acme.leaf.key, full)]),
        "two": P.write_jks(
            d / "two.jks",
            PW,
            keys=[("zeta", acme.leaf.key, full[:1]), ("Alpha", ec_key, [ec_leaf.cert])],
            trusted=[("root", acme.root.cert), ("intermediate", acme.intermediate.cert)],
        ),
        "keypass": P.write_jks(
            d / "keypass.jks", PW, keys=[("k", acme.leaf.key, full)], keypass="another-one"
        ),
        "trusted": P.write_jks(d / "trusted.jks", PW, trusted=[("root", acme.root.cert)]),
        "empty": P.write_jks(d / "empty.jks", PW),
        "unicode": P.write_jks(d / "unicode.jks", "pässwörd€", keys=[("clé", acme.leaf.key, full)]),
    }


@pytest.mark.parametrize("name", ["one", "two", "keypass", "trusted", "empty"])
def test_same_as_pyjks(stores, name):  # type: ignore[no-untyped-def]
    _both(stores[name], PW)
    _both(stores[name], None)  # no password: nothing checked, no key opened


def test_non_ascii_password_and_alias(stores):  # type: ignore[no-untyped-def]
    _both(stores["unicode"], "pässwörd€")
    assert (
        read_jks_by_hand(stores["unicode"], stores["unicode"].read_bytes(), "pässwörd€", None)
        .key_entries[0]
        .alias
        == "clé"
    )


def test_key_password_that_differs(stores):  # type: ignore[no-untyped-def]
    path = stores["keypass"]
    _both(path, PW, "another-one")
    store = read_jks_by_hand(path, path.read_bytes(), PW, None)
    assert store.key_entries[0].key_password_differs and store.key_entries[0].private_key is None
    with pytest.raises(InputError, match="the key password does not open key entry 'k'"):
        read_jks_by_hand(path, path.read_bytes(), PW, "wrong")


def test_wrong_store_password_is_the_same_error(stores):  # type: ignore[no-untyped-def]
    path = stores["one"]
    errors = []
    for reader in (
        lambda: read_jks_by_hand(path, path.read_bytes(), "wrong", None),
        lambda: read_with_pyjks(path, path.read_bytes(), StoreType.JKS, "wrong", None),
    ):
        with pytest.raises(InputError) as info:
            reader()
        errors.append(str(info.value))
    assert errors[0] == errors[1] and "wrong password" in errors[0]


@pytest.mark.skipif(P.KEYTOOL is None, reason="keytool (Java) is not installed")
def test_keytool_made_jks(tmp_path):  # type: ignore[no-untyped-def]
    acme = P.make_pki()
    store = "real.jks"
    P.keytool(
        "-genkeypair",
        "-alias",
        "letstestcba",
        "-keyalg",
        "RSA",
        "-keysize",
        "2048",
        "-storetype",
        "JKS",
        "-keystore",
        store,
        "-storepass",
        PW,
        "-keypass",
        PW,
        "-dname",
        "CN=letstestcba, O=Acme",
        cwd=tmp_path,
    )
    P.keytool(
        "-genkeypair",
        "-alias",
        "ec-own-pass",
        "-keyalg",
        "EC",
        "-storetype",
        "JKS",
        "-keystore",
        store,
        "-storepass",
        PW,
        "-keypass",
        "key-secret",
        "-dname",
        "CN=ec, O=Acme",
        cwd=tmp_path,
    )
    (tmp_path / "root.pem").write_bytes(acme.root.pem)
    P.keytool(
        "-importcert",
        "-noprompt",
        "-alias",
        "root",
        "-file",
        "root.pem",
        "-storetype",
        "JKS",
        "-keystore",
        store,
        "-storepass",
        PW,
        cwd=tmp_path,
    )
    path = tmp_path / store
    assert path.read_bytes()[:4] == b"\xfe\xed\xfe\xed"
    _both(path, PW)
    _both(path, PW, "key-secret")
    mine = read_jks_by_hand(path, path.read_bytes(), PW, "key-secret")
    assert [e.alias for e in mine.key_entries] == ["ec-own-pass", "letstestcba"]
    assert mine.key_entries[0].key_password_differs and mine.key_entries[0].key_decrypted


@settings(max_examples=150, deadline=None)
@given(cut=st.integers(4, 6000), flip=st.integers(0, 10**6), with_password=st.booleans())
def test_damaged_files_are_one_line_errors(stores, cut, flip, with_password):  # type: ignore[no-untyped-def]
    data = bytearray(stores["two"].read_bytes())
    data[flip % len(data)] ^= 0x5A  # every flip lands somewhere: header, alias, key, certificate
    data = data[:cut]
    try:
        store = read_jks_by_hand(stores["two"], bytes(data), PW if with_password else None, None)
    except InputError as exc:
        assert str(exc).startswith(str(stores["two"]))
    else:
        # without a password nothing checks the digest: a flip in a key or a signature passes
        assert not with_password
        assert isinstance(store, Keystore)
