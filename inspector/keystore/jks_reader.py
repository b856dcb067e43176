"""JKS (read by hand, jks_format.py) and JCEKS (through pyjks), converted to our model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from inspector.errors import InputError
from inspector.keystore.model import KeyEntry, Keystore, StoreType, TrustedEntry

WRONG_PASSWORD = "wrong password, or the file is corrupted (a JKS cannot tell these apart)"


def read_jks(
    path: Path, data: bytes, store_type: StoreType, storepass: str | None, keypass: str | None
) -> Keystore:
    if store_type is StoreType.JKS:
        return read_jks_by_hand(path, data, storepass, keypass)
    return read_with_pyjks(path, data, store_type, storepass, keypass)


def read_jks_by_hand(path: Path, data: bytes, storepass: str | None, keypass: str | None) -> Keystore:
    from inspector.keystore import jks_format as F

    name = str(path)
    try:
        parsed = F.parse(data, storepass)
    except F.JksPasswordError:
        raise InputError(
            f"{name}: {WRONG_PASSWORD}", "check --storepass-env/--storepass-file, or copy the file again"
        ) from None
    except F.JksFormatError as exc:
        raise InputError(
            f"{name}: corrupt or truncated JKS keystore ({exc})", "copy the file again in binary mode"
        ) from None
    store = Keystore(path=path, store_type=StoreType.JKS, integrity_checked=storepass is not None)
    for entry in sorted(parsed.keys, key=lambda e: e.alias):
        chain = tuple(_certificate(der, name, entry.alias) for kind, der in entry.chain if kind == "X.509")
        pkcs8 = F.unprotect(entry, storepass) if storepass is not None else None
        differs = storepass is not None and pkcs8 is None
        if pkcs8 is None and keypass is not None:
            pkcs8 = F.unprotect(entry, keypass)
            if pkcs8 is None:
                raise InputError(
                    f"{name}: the key password does not open key entry '{entry.alias}'",
                    "check --keypass-env/--keypass-file",
                )
        store.key_entries.append(
            KeyEntry(
                alias=entry.alias,
                chain=chain,
                private_key=_private_key(pkcs8),
                key_password_differs=differs,
                key_decrypted=pkcs8 is not None,
            )
        )
    for alias, kind, der in sorted(parsed.trusted):
        if kind == "X.509":
            store.trusted_entries.append(TrustedEntry(alias, _certificate(der, name, alias)))
    return store


def read_with_pyjks(
    path: Path, data: bytes, store_type: StoreType, storepass: str | None, keypass: str | None
) -> Keystore:
    import jks

    name = str(path)
    try:
        ks = jks.KeyStore.loads(data, storepass, try_decrypt_keys=storepass is not None)
    except jks.util.KeystoreSignatureException:
        raise InputError(
            f"{name}: {WRONG_PASSWORD}", "check --storepass-env/--storepass-file, or copy the file again"
        ) from None
    except (
        jks.util.BadKeystoreFormatException,
        jks.util.UnexpectedJavaTypeException,
        jks.util.DuplicateAliasException,
        EOFError,
    ) as exc:
        raise InputError(
            f"{name}: corrupt or truncated {store_type.value} keystore ({exc})",
            "copy the file again in binary mode",
        ) from None
    store = Keystore(path=path, store_type=store_type, integrity_checked=storepass is not None)
    for alias, entry in sorted(ks.private_keys.items()):
        store.key_entries.append(_key_entry(alias, entry, storepass, keypass, name, jks))
    for alias, entry in sorted(ks.certs.items()):
        if entry.type == "X.509":
            cert = _certificate(entry.cert, name, alias)
            store.trusted_entries.append(TrustedEntry(alias=alias, certificate=cert))
    store.secret_aliases.extend(sorted(ks.secret_keys))
    return store


def _key_entry(
    alias: str, entry: Any, storepass: str | None, keypass: str | None, name: str, jks: Any
) -> KeyEntry:
    chain = tuple(_certificate(der, name, alias) for kind, der in entry.cert_chain if kind == "X.509")
    differs = storepass is not None and not entry.is_decrypted()
    if not entry.is_decrypted() and keypass is not None:
        try:
            entry.decrypt(keypass)
        except jks.util.DecryptionFailureException:
            raise InputError(
                f"{name}: the key password does not open key entry '{alias}'",
                "check --keypass-env/--keypass-file",
            ) from None
    key = _private_key(entry.pkey_pkcs8 if entry.is_decrypted() else None)
    return KeyEntry(
        alias=alias, chain=chain, private_key=key, key_password_differs=differs, key_decrypted=key is not None
    )


def _certificate(der: bytes, name: str, alias: str) -> x509.Certificate:
    try:
        return x509.load_der_x509_certificate(der)
    except ValueError:
        raise InputError(
            f"{name}: entry '{alias}' holds a certificate that does not parse (corrupt file?)",
            "copy the file again in binary mode; give the password so the store digest is checked",
        ) from None


def _private_key(pkcs8: bytes | None) -> PrivateKeyTypes | None:
    if pkcs8 is None:
        return None
    # the store digest vouches for the bytes: skip cryptography's slow RSA re-validation
    return serialization.load_der_private_key(pkcs8, None, unsafe_skip_rsa_key_validation=True)
