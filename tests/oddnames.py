"""Certificates whose subject CN is encoded as OpenSSL accepts and Python's cryptography does not
(an 8-bit T61String, a SEQUENCE, a BIT STRING, an IA5String or PrintableString with a byte above
0x7F), signed by a real key: made at test time by swapping the CN value's tag and bytes for ones
of the same length, so no DER length changes, then signing the new TBS again."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from inspector.pki.throwaway import Issued, issue

#: variant -> (tag, value bytes) put where the UTF8String CN was
ODD_CNS = {
    "t61": (0x14, b"caf\xe9 \xff\xfe"),
    "seq": (0x30, b"\x0c\x03abc"),
    "bitstr": (0x03, b"\x00\xff\xfe"),
    "ia5_8bit": (0x16, b"a\xe9b"),
    "printable_bad": (0x13, b"a\xffb"),
}


def _tlv(tag: int, content: bytes) -> bytes:
    n = len(content)
    length = (
        bytes([n])
        if n < 0x80
        else bytes([0x80 | ((n.bit_length() + 7) // 8)]) + n.to_bytes((n.bit_length() + 7) // 8, "big")
    )
    return bytes([tag]) + length + content


def odd_cn(variant: str, issuer: Issued | None = None) -> tuple[bytes, Issued]:
    """(certificate DER with the odd CN, the Issued whose key it carries); self-signed without
    `issuer` (subject and issuer both odd), else issued by it (subject odd)."""
    tag, value = ODD_CNS[variant]
    placeholder = "Q" * len(value)
    made = issue(placeholder, issuer)
    tbs = made.cert.tbs_certificate_bytes
    old = _tlv(0x0C, placeholder.encode())
    assert old in tbs
    tbs = tbs.replace(old, _tlv(tag, value))
    signer = (issuer or made).key
    if isinstance(signer, rsa.RSAPrivateKey):
        from cryptography.hazmat.primitives.asymmetric import padding

        signature = signer.sign(tbs, padding.PKCS1v15(), hashes.SHA256())
        algorithm = _tlv(0x30, _tlv(0x06, bytes.fromhex("2a864886f70d01010b")) + b"\x05\x00")
    else:
        assert isinstance(signer, ec.EllipticCurvePrivateKey)
        signature = signer.sign(tbs, ec.ECDSA(hashes.SHA256()))
        algorithm = _tlv(0x30, _tlv(0x06, bytes.fromhex("2a8648ce3d040302")))
    return _tlv(0x30, tbs + algorithm + _tlv(0x03, b"\x00" + signature)), made


def pem(der: bytes) -> bytes:
    import base64
    import textwrap

    body = "\n".join(textwrap.wrap(base64.b64encode(der).decode(), 64))
    return f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n".encode()


def key_pem(issued: Issued) -> bytes:
    return issued.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
