"""Distinguished names compared as Java's X500Principal compares them.

Java matches a server's CA names against a keystore's issuers with `X500Principal.equals`, which
compares RFC 2253 *canonical* strings (sun.security.x509.AVA.toRFC2253CanonicalString): a
PrintableString or UTF8String value is trimmed, its runs of spaces collapsed, upper- then
lower-cased and NFKD-normalised; any other string type (BMPString, TeletexString, IA5String,
UniversalString) is kept as the hex of its DER encoding. So case and spacing never matter, but a
CA name written as BMPString never equals the UTF8String issuer in a certificate, even with the
same text. `canonical_dn` reproduces that equivalence (not Java's exact string).

Canonicalising is memoised by DER bytes: a capture repeats the same few names thousands of times.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from asn1crypto import core as acore
from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import NameOID

#: DER tags of the string types Java canonicalises as text; the others compare as hex.
_TEXT_TAGS = {12, 19}  # UTF8String, PrintableString

#: Keywords accepted in text DN files (any case), beyond what RFC 4514 lists.
_KEYWORDS = {
    "CN": NameOID.COMMON_NAME,
    "O": NameOID.ORGANIZATION_NAME,
    "OU": NameOID.ORGANIZATIONAL_UNIT_NAME,
    "C": NameOID.COUNTRY_NAME,
    "L": NameOID.LOCALITY_NAME,
    "ST": NameOID.STATE_OR_PROVINCE_NAME,
    "S": NameOID.STATE_OR_PROVINCE_NAME,
    "STREET": NameOID.STREET_ADDRESS,
    "DC": NameOID.DOMAIN_COMPONENT,
    "UID": NameOID.USER_ID,
    "SERIALNUMBER": NameOID.SERIAL_NUMBER,
    "EMAILADDRESS": NameOID.EMAIL_ADDRESS,
    "E": NameOID.EMAIL_ADDRESS,
    "T": NameOID.TITLE,
    "GIVENNAME": NameOID.GIVEN_NAME,
    "SN": NameOID.SURNAME,
}


def _text_key(text: str) -> str:
    """Java's canonical form of a text value: spaces collapsed, trimmed, case folded, NFKD."""
    collapsed = re.sub(" {2,}", " ", text)
    trimmed = collapsed.strip("".join(chr(c) for c in range(0x21)))  # String.trim()
    return str(unicodedata.normalize("NFKD", trimmed.upper().lower()))


def _value_key(value: acore.Asn1Value) -> str:
    contents: bytes = value.dump()
    tag = contents[0] & 0x1F
    if tag in _TEXT_TAGS:
        try:
            return "t:" + _text_key(bytes(value.contents).decode("utf-8"))
        except UnicodeDecodeError:
            pass
    return "#" + contents.hex()


#: What two names equal under X500Principal.equals have in common: RDNs of sorted (OID, value key).
CanonicalName = tuple[tuple[tuple[str, str], ...], ...]


@lru_cache(maxsize=4096)
def canonical_dn(der: bytes) -> CanonicalName:
    """A key equal for two DER names exactly when Java's X500Principal.equals says so."""
    try:
        name = ax509.Name.load(der)
        rdns = []
        for rdn in name.chosen:
            avas = []
            for ava in rdn:
                oid = ava["type"].dotted
                avas.append((oid, _value_key(ava["value"].chosen)))
            rdns.append(tuple(sorted(avas)))
        return tuple(rdns)
    except Exception:  # a name Java could not parse either: only identical bytes match
        return ((("raw", der.hex()),),)


def parse_dn_text(text: str) -> x509.Name:
    """A DN as people write it (RFC 4514/2253 order, keywords in any case, `, ` or `,`):
    `cn=Partner Root, o=Partner, c=us`. Values become UTF8String (PrintableString for C),
    as keytool writes them: the comparison is canonical anyway."""
    parts = _split_unescaped(text, ",;")
    attributes: list[x509.NameAttribute[str]] = []
    for part in parts:
        if "=" not in part:
            raise ValueError(f"'{part.strip()}' has no '='")
        key, value = part.split("=", 1)
        key = key.strip()
        oid = _KEYWORDS.get(key.upper())
        if oid is None:
            if re.fullmatch(r"(OID\.)?\d+(\.\d+)+", key, re.IGNORECASE):
                oid = x509.ObjectIdentifier(re.sub("^(?i:oid\\.)", "", key))
            else:
                raise ValueError(f"unknown attribute keyword '{key}'")
        value = _unescape(value.strip())
        kind = _ASN1Type.PrintableString if oid == NameOID.COUNTRY_NAME else _ASN1Type.UTF8String
        if oid == NameOID.COUNTRY_NAME:
            value = value.upper()
            if len(value) != 2:
                raise ValueError(f"country '{value}' is not two letters")
        attributes.append(x509.NameAttribute(oid, value, _type=kind))
    if not attributes:
        raise ValueError("empty DN")
    return x509.Name(list(reversed(attributes)))


def _split_unescaped(text: str, separators: str) -> list[str]:
    parts, current, escaped = [], "", False
    for char in text:
        if escaped:
            current += "\\" + char
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in separators:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [p for p in parts if p.strip()]


def _unescape(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return re.sub(r"\\(.)", r"\1", value)
