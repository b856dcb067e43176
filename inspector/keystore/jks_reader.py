"""JKS and JCEKS through pyjks, converted to our model at the boundary."""

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
    import jks

    name = str(path)
    try:
        ks = jks.KeyStore.loads(data, storepass, try_decrypt_keys=storepass is not None)
    except jks.util.KeystoreSignatureException:
        raise InputError(f"{name}: {WRONG_PASSWORD}",
                         "check --storepass-env/--storepass-file, or copy the file again") from None
    except (jks.util.BadKeystoreFormatException, jks.util.UnexpectedJavaTypeException,
            jks.util.DuplicateAliasException, EOFError) as exc:
        raise InputError(f"{name}: corrupt or truncated {store_type.value} keystore ({exc})",
                         "copy the file again in binary mode") from None
    store = Keystore(path=path, store_type=store_type, integrity_checked=storepass is not None)
    for alias, entry in sorted(ks.private_keys.items()):
        store.key_entries.append(_key_entry(alias, entry, storepass, keypass, name, jks))
    for alias, entry in sorted(ks.certs.items()):
        if entry.type == "X.509":
            cert = x509.load_der_x509_certificate(entry.cert)
            store.trusted_entries.append(TrustedEntry(alias=alias, certificate=cert))
    store.secret_aliases.extend(sorted(ks.secret_keys))
    return store


def _key_entry(alias: str, entry: Any, storepass: str | None, keypass: str | None, name: str,
               jks: Any) -> KeyEntry:
    chain = tuple(x509.load_der_x509_certificate(der) for kind, der in entry.cert_chain
                  if kind == "X.509")
    differs = storepass is not None and not entry.is_decrypted()
    if not entry.is_decrypted() and keypass is not None:
        try:
            entry.decrypt(keypass)
        except jks.util.DecryptionFailureException:
            raise InputError(f"{name}: the key password does not open key entry '{alias}'",
                             "check --keypass-env/--keypass-file") from None
    key: PrivateKeyTypes | None = None
    if entry.is_decrypted():
        key = serialization.load_der_private_key(
            entry.pkey_pkcs8, None, unsafe_skip_rsa_key_validation=True)  # integrity: store hash
    return KeyEntry(alias=alias, chain=chain, private_key=key, key_password_differs=differs,
                    key_decrypted=key is not None)
