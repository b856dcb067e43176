"""Subject and issuer names that cryptography refuses but Java and OpenSSL read, re-encoded.

Why: a CN written as a T61String with 8-bit bytes (legacy European CAs issued them), as a
SEQUENCE or a BIT STRING, or a PrintableString / IA5String holding bytes above 0x7F: OpenSSL
accepts the certificate and Java reads it (keytool -printcert shows `CN=café`, `CN=#3005…`),
while cryptography cannot build a Name from it and the certificate would be left out. Each such
value becomes a UTF8String of what Java shows — a T61String as ISO-8859-1, bad bytes as U+FFFD,
a value that is not a string as RFC 4514's `#hex` of its DER — and the change is said. The
signature is still checked on the bytes as written (x509_lenient keeps them).
"""

from __future__ import annotations

from dataclasses import dataclass

from parsers import der as der_reader
from parsers.printable import escape_text

UTF8_STRING, PRINTABLE_STRING, T61_STRING, IA5_STRING = 0x0C, 0x13, 0x14, 0x16
BMP_STRING, UNIVERSAL_STRING = 0x1E, 0x1C
#: values cryptography reads as they are (when their bytes are what the type allows)
_READ_AS_IS = {UTF8_STRING, BMP_STRING, UNIVERSAL_STRING}
_ASCII_ONLY = {PRINTABLE_STRING, IA5_STRING}
_LABELS = {
    "2.5.4.3": "CN",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "2.5.4.6": "C",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
}


@dataclass(frozen=True)
class Renamed:
    """The certificate with its names re-encoded, the TBS as written, and what was changed."""

    der: bytes
    signed: bytes
    notes: tuple[str, ...]


def _as_java_shows(tag: int, value: bytes, whole: bytes) -> tuple[str, str] | None:
    """(text, what it was) for a value cryptography refuses; None for one it reads."""
    if tag in _READ_AS_IS or (tag in _ASCII_ONLY and value.isascii()):
        return None
    if tag == T61_STRING:
        return value.decode("latin-1"), "a T61String, read as ISO-8859-1 as Java reads it"
    if tag in _ASCII_ONLY:
        kind = "PrintableString" if tag == PRINTABLE_STRING else "IA5String"
        return value.decode("utf-8", "replace"), f"a {kind} with bytes above 0x7F (read with \ufffd)"
    return "#" + whole.hex(), f"not a string (tag 0x{tag:02x}): shown as #hex of its DER, as keytool does"


def _name(der: bytes, start: int, end: int, part: str, notes: list[str]) -> bytes:
    """The Name between start and end with each refused value re-encoded as a UTF8String."""
    sets = []
    for _, _, set_body, set_end in der_reader.children(der, start, end):
        attributes = []
        for _, at, seq_body, seq_end in der_reader.children(der, set_body, set_end):
            fields = der_reader.children(der, seq_body, seq_end)
            if len(fields) != 2:
                raise ValueError("an attribute is not a (type, value) pair")
            (_, oid_at, oid_body, oid_end), (tag, value_at, body, value_end) = fields
            shown = _as_java_shows(tag, der[body:value_end], der[value_at:value_end])
            if shown is None:
                attributes.append(der[at:seq_end])
                continue
            text, what = shown
            oid = der_reader.dotted_oid(der[oid_body:oid_end])
            notes.append(f"{part} {_LABELS.get(oid, oid)}={escape_text(text)} is {what}")
            value = der_reader.element(UTF8_STRING, text.encode("utf-8", "surrogatepass"))
            attributes.append(der_reader.element(0x30, der[oid_at:oid_end] + value))
        sets.append(der_reader.element(0x31, b"".join(attributes)))
    return der_reader.element(0x30, b"".join(sets))


def plain_names(der: bytes) -> Renamed | None:
    """The certificate with issuer and subject values re-encoded where cryptography would refuse
    them; None when nothing needed it or the certificate's layout cannot be walked."""
    try:
        _, cert_body, cert_end = der_reader.tlv(der, 0)
        parts = der_reader.children(der, cert_body, cert_end)
        _, tbs_at, tbs_body, tbs_end = parts[0]
        fields = der_reader.children(der, tbs_body, tbs_end)
        first = 1 if fields and fields[0][0] == 0xA0 else 0  # [0] version
        issuer, subject = fields[first + 2], fields[first + 4]
        notes: list[str] = []
        names = {first + 4: _name(der, subject[2], subject[3], "subject", notes)}
        names[first + 2] = _name(der, issuer[2], issuer[3], "issuer", notes)
    except (ValueError, IndexError):
        return None
    if not notes:
        return None
    tbs = der_reader.element(0x30, b"".join(names.get(i, der[f[1] : f[3]]) for i, f in enumerate(fields)))
    rest = b"".join(der[p[1] : p[3]] for p in parts[1:])
    return Renamed(der_reader.element(0x30, tbs + rest), der[tbs_at:tbs_end], tuple(notes))
