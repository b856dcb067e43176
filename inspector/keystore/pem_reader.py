"""PEM bundles (a private key plus certificates) and single DER certificates."""

from __future__ import annotations

import re
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from inspector.errors import InputError
from inspector.keystore.model import KeyEntry, Keystore, StoreType, TrustedEntry

_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----.*?-----END \1-----", re.S)


def read_pem(path: Path, data: bytes, password: str | None) -> Keystore:
    """A key in the bundle makes one key entry (alias = file stem) with the certs in file order."""
    name = str(path)
    key: PrivateKeyTypes | None = None
    certs: list[x509.Certificate] = []
    for match in _BLOCK.finditer(data):
        label = match.group(1).decode()
        block = match.group(0)
        try:
            if label == "CERTIFICATE" or label == "TRUSTED CERTIFICATE":
                certs.append(x509.load_pem_x509_certificate(block))
            elif label.endswith("PRIVATE KEY"):
                if key is not None:
                    raise InputError(
                        f"{name}: more than one private key in one PEM file",
                        "split the bundle: one key with its chain per file",
                    )
                secret = password.encode() if password is not None else None
                key = serialization.load_pem_private_key(block, secret)
        except TypeError:
            raise InputError(
                f"{name}: the private key is encrypted",
                "give its password with --storepass-env VAR or --storepass-file F",
            ) from None
        except ValueError as exc:
            raise InputError(
                f"{name}: a {label} block does not parse ({exc})", "check the PEM was copied whole"
            ) from None
    if key is None and not certs:
        raise InputError(
            f"{name}: no certificate or private key in this PEM file",
            "give a PEM with BEGIN CERTIFICATE / BEGIN PRIVATE KEY blocks",
        )
    store = Keystore(
        path=path, store_type=StoreType.PEM, integrity_checked=True, chain_order_note="file order"
    )
    if key is not None:
        store.key_entries.append(KeyEntry(alias=path.stem, chain=tuple(certs), private_key=key))
    else:
        for index, cert in enumerate(certs):
            store.trusted_entries.append(TrustedEntry(alias=f"{path.stem}-{index + 1}", certificate=cert))
    return store


def read_der_certificate(path: Path, data: bytes) -> Keystore:
    try:
        cert = x509.load_der_x509_certificate(data)
    except ValueError as exc:
        raise InputError(
            f"{path}: a DER certificate that does not parse ({exc})", "check the file was copied whole"
        ) from None
    store = Keystore(path=path, store_type=StoreType.DER_CERTIFICATE)
    store.trusted_entries.append(TrustedEntry(alias=path.stem, certificate=cert))
    return store
