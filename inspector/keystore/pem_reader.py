"""PEM bundles (a private key plus certificates) and single DER certificates."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from inspector.keystore.certificates import read_certificate
from inspector.keystore.model import CertificateProblem, KeyEntry, Keystore, StoreType, TrustedEntry
from inspector.pki import certs as C
from inspector.system.errors import InputError

#: One marker line; blocks are paired in a single pass (a lazy BEGIN…END regex is quadratic
#: when many BEGIN lines have no END).
_MARKER = re.compile(rb"-----(BEGIN|END) ([A-Z0-9 ]{1,64})-----")


def pem_blocks(data: bytes) -> Iterator[tuple[str, bytes]]:
    """(label, whole block) for each BEGIN with a matching END, in file order; linear time."""
    open_label: bytes | None = None
    start = 0
    for marker in _MARKER.finditer(data):
        kind, label = marker.group(1), marker.group(2)
        if kind == b"BEGIN":
            open_label, start = label, marker.start()
        elif open_label == label:
            yield label.decode("ascii"), data[start : marker.end()]
            open_label = None


def _is_encrypted(label: str, block: bytes) -> bool:
    return label == "ENCRYPTED PRIVATE KEY" or b"Proc-Type: 4,ENCRYPTED" in block


def _load_key(name: str, label: str, block: bytes, password: str | None) -> PrivateKeyTypes:
    """A password is used only for an encrypted key (a store password given anyway is harmless)."""
    encrypted = _is_encrypted(label, block)
    if encrypted and password is None:
        raise InputError(
            f"{name}: the private key is encrypted",
            "give its password with --storepass-env VAR or --storepass-file F",
        )
    secret = password.encode("utf-8") if encrypted and password is not None else None
    try:
        return serialization.load_pem_private_key(block, secret, unsafe_skip_rsa_key_validation=False)
    except UnsupportedAlgorithm as exc:
        raise InputError(
            f"{name}: the private key is of a type this tool cannot read ({C.one_line(exc)})",
            "give an RSA, EC, DSA, Ed25519 or Ed448 key",
        ) from None
    except TypeError:
        raise InputError(
            f"{name}: the private key is encrypted",
            "give its password with --storepass-env VAR or --storepass-file F",
        ) from None
    except ValueError as exc:
        if encrypted:
            raise InputError(
                f"{name}: the password does not open the private key (or the key is corrupt)",
                "check --storepass-env/--storepass-file",
            ) from None
        raise InputError(
            f"{name}: a {label} block does not parse ({C.one_line(exc)})",
            "check the PEM was copied whole",
        ) from None


def read_pem(path: Path, data: bytes, password: str | None) -> Keystore:
    """A key in the bundle makes one key entry (alias = file stem) with the certs in file order."""
    name = str(path)
    key: PrivateKeyTypes | None = None
    blobs: list[bytes] = []
    for label, block in pem_blocks(data):
        if label in ("CERTIFICATE", "TRUSTED CERTIFICATE", "X509 CERTIFICATE"):
            try:
                blobs.append(x509.load_pem_x509_certificate(block).public_bytes(serialization.Encoding.DER))
            except ValueError:
                blobs.append(_pem_body(block, name))
        elif label.endswith("PRIVATE KEY"):
            if key is not None:
                raise InputError(
                    f"{name}: more than one private key in one PEM file",
                    "split the bundle: one key with its chain per file",
                )
            key = _load_key(name, label, block, password)
    if key is None and not blobs:
        raise InputError(
            f"{name}: no certificate or private key in this PEM file",
            "give a PEM with BEGIN CERTIFICATE / BEGIN PRIVATE KEY blocks",
        )
    store = Keystore(
        path=path, store_type=StoreType.PEM, integrity_checked=True, chain_order_note="file order"
    )
    stem = C.escape_text(path.stem)
    problems: list[CertificateProblem] = store.certificate_problems
    if key is not None:
        read = [read_certificate(der, stem, i, problems) for i, der in enumerate(blobs)]
        chain = tuple(c for c in read if c is not None)
        store.key_entries.append(KeyEntry(alias=stem, chain=chain, private_key=key))
    else:
        for index, der in enumerate(blobs):
            alias = f"{stem}-{index + 1}"
            cert = read_certificate(der, alias, None, problems)
            if cert is not None:
                store.trusted_entries.append(TrustedEntry(alias=alias, certificate=cert))
    return store


def _pem_body(block: bytes, name: str) -> bytes:
    """The DER inside a PEM block cryptography refused (read leniently afterwards)."""
    import base64
    import binascii

    lines = block.splitlines()[1:-1]
    body = b"".join(line.strip() for line in lines if b":" not in line)
    try:
        return base64.b64decode(body, validate=False)
    except (binascii.Error, ValueError):
        raise InputError(
            f"{name}: a CERTIFICATE block is not valid base64", "check the PEM was copied whole"
        ) from None


def read_der_certificate(path: Path, data: bytes) -> Keystore:
    store = Keystore(path=path, store_type=StoreType.DER_CERTIFICATE)
    cert = read_certificate(data, C.escape_text(path.stem), None, store.certificate_problems)
    if cert is None:
        problem = store.certificate_problems[-1].problems[-1] if store.certificate_problems else ""
        raise InputError(
            f"{path}: a DER certificate that does not parse ({problem})", "check the file was copied whole"
        )
    store.trusted_entries.append(TrustedEntry(alias=C.escape_text(path.stem), certificate=cert))
    return store
