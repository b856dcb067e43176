"""Sniff a keystore's real type from its bytes; the file name is never trusted."""

from __future__ import annotations

from inspector.keystore.model import StoreType
from inspector.system.errors import InputError

JKS_MAGIC = b"\xfe\xed\xfe\xed"
JCEKS_MAGIC = b"\xce\xce\xce\xce"
#: BouncyCastle BKS / UBER start with a 4-byte version 1 or 2; we cannot read them.
_BKS_VERSIONS = (b"\x00\x00\x00\x01", b"\x00\x00\x00\x02")


def sniff(data: bytes, name: str) -> StoreType:
    """Return the store type, or raise InputError saying what the file seems to be."""
    if not data:
        raise InputError(f"{name}: the file is empty", "give the keystore file itself")
    head = data[:4]
    if head == JKS_MAGIC:
        return StoreType.JKS
    if head == JCEKS_MAGIC:
        return StoreType.JCEKS
    if b"-----BEGIN " in data[:65536]:
        return StoreType.PEM
    if data[0] == 0x30:
        return _sniff_der(data, name)
    if head in _BKS_VERSIONS:
        raise InputError(
            f"{name}: looks like a BouncyCastle BKS/UBER keystore, which is not supported",
            "convert it: keytool -importkeystore -srcstoretype BKS -providerpath bcprov.jar "
            "-deststoretype PKCS12 ...",
        )
    raise InputError(
        f"{name}: not a keystore (no JKS/JCEKS magic, not PKCS#12, not PEM or DER)",
        "give a .jks/.p12/.pfx/.pem file",
    )


def _der_header(data: bytes, offset: int) -> tuple[int, int, int]:
    """Return (tag, content length, header length) of the DER element at offset."""
    tag = data[offset]
    first = data[offset + 1]
    if first < 0x80:
        return tag, first, 2
    count = first & 0x7F
    if count == 0 or count > 4:
        raise ValueError("indefinite or absurd length")
    length = int.from_bytes(data[offset + 2 : offset + 2 + count], "big")
    return tag, length, 2 + count


def _sniff_der(data: bytes, name: str) -> StoreType:
    """PKCS#12 is SEQUENCE { INTEGER 3, ...}; a certificate is SEQUENCE { SEQUENCE tbs, ...}."""
    try:
        _, length, header = _der_header(data, 0)
        inner_tag = data[header]
    except (IndexError, ValueError):
        raise InputError(
            f"{name}: starts like DER but does not parse (truncated or corrupt?)",
            "check the file was copied whole, in binary mode",
        ) from None
    if header + length > len(data):
        raise InputError(
            f"{name}: truncated: the DER structure announces {header + length} bytes, "
            f"the file has {len(data)}",
            "copy the file again in binary mode",
        )
    if inner_tag == 0x02:
        return StoreType.PKCS12
    if inner_tag == 0x30:
        return StoreType.DER_CERTIFICATE
    raise InputError(
        f"{name}: a DER file that is neither PKCS#12 nor a certificate", "give a .jks/.p12/.pfx/.pem file"
    )
