"""Keystore loading: the type comes from the bytes, each reader returns the same model."""

from __future__ import annotations

from pathlib import Path

from inspector.keystore.detect import sniff
from inspector.keystore.model import KeyEntry, Keystore, StoreType, TrustedEntry

__all__ = ["KeyEntry", "Keystore", "StoreType", "TrustedEntry", "load_keystore", "read_bytes"]

MAX_KEYSTORE_BYTES = 64 * 1024 * 1024


def read_bytes(path: Path) -> bytes:
    """Read a small input file (a regular file, at most MAX_KEYSTORE_BYTES), turning every OS
    error into a one-line InputError."""
    from inspector.system.input_files import read_limited

    return read_limited(
        path,
        MAX_KEYSTORE_BYTES,
        "a keystore",
        "give the keystore file, not a capture, an archive or a device",
    )


def load_keystore(path: Path, storepass: str | None, keypass: str | None = None) -> Keystore:
    data = read_bytes(path)
    store = _read(path, data, storepass, keypass)
    store.first_bytes = data[:4]
    return store


def _read(path: Path, data: bytes, storepass: str | None, keypass: str | None) -> Keystore:
    store_type = sniff(data, str(path))
    if store_type in (StoreType.JKS, StoreType.JCEKS):
        from inspector.keystore.jks_reader import read_jks

        return read_jks(path, data, store_type, storepass, keypass)
    if store_type is StoreType.PKCS12:
        from inspector.keystore.pkcs12_reader import read_pkcs12

        return read_pkcs12(path, data, storepass)
    from inspector.keystore.pem_reader import read_der_certificate, read_pem

    if store_type is StoreType.PEM:
        return read_pem(path, data, storepass)
    return read_der_certificate(path, data)
