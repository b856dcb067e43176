"""Distinguished names as Java prints them (`CN=Acme Root CA, O=Acme`), back into x509 Names.

Java prints RFC 2253 order (most specific first) with `, ` between RDNs, quoting values that hold
a comma. A TLS 1.2 CertificateRequest joins several DNs with the same `, `, so a list has to be cut
where the attribute order starts again (a `CN=` after `C=`): `split_dn_list` does that.
"""

from __future__ import annotations

import functools

from cryptography import x509
from cryptography.x509.oid import NameOID

KEYWORDS: dict[str, x509.ObjectIdentifier] = {
    "CN": NameOID.COMMON_NAME,
    "C": NameOID.COUNTRY_NAME,
    "L": NameOID.LOCALITY_NAME,
    "ST": NameOID.STATE_OR_PROVINCE_NAME,
    "S": NameOID.STATE_OR_PROVINCE_NAME,
    "O": NameOID.ORGANIZATION_NAME,
    "OU": NameOID.ORGANIZATIONAL_UNIT_NAME,
    "STREET": NameOID.STREET_ADDRESS,
    "DC": NameOID.DOMAIN_COMPONENT,
    "UID": NameOID.USER_ID,
    "EMAILADDRESS": NameOID.EMAIL_ADDRESS,
    "EMAIL": NameOID.EMAIL_ADDRESS,
    "SERIALNUMBER": NameOID.SERIAL_NUMBER,
    "T": NameOID.TITLE,
    "TITLE": NameOID.TITLE,
    "GIVENNAME": NameOID.GIVEN_NAME,
    "SURNAME": NameOID.SURNAME,
    "INITIALS": NameOID.INITIALS,
    "DNQ": NameOID.DN_QUALIFIER,
    "DNQUALIFIER": NameOID.DN_QUALIFIER,
    "GENERATION": NameOID.GENERATION_QUALIFIER,
    "POSTALCODE": NameOID.POSTAL_CODE,
}

#: How specific an attribute usually is: inside one printed DN the rank never goes down.
_RANK = {"CN": 0, "UID": 0, "EMAILADDRESS": 0, "SERIALNUMBER": 0, "OU": 1, "O": 2, "STREET": 3}
_RANK |= {"L": 3, "ST": 4, "S": 4, "POSTALCODE": 4, "C": 5, "DC": 6}


def _split_top(text: str, sep: str) -> list[str]:
    """Split on `sep` outside quotes and backslash escapes."""
    parts, current, quoted, escaped = [], [], False, False
    for ch in text:
        if escaped:
            current.append(ch)
            escaped = False
        elif ch == "\\":
            current.append(ch)
            escaped = True
        elif ch == '"':
            current.append(ch)
            quoted = not quoted
        elif ch == sep and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == '"' and value[-1] == '"':
        value = value[1:-1]
    out, escaped = [], False
    for ch in value:
        if escaped:
            out.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        else:
            out.append(ch)
    return "".join(out)


def _oid(keyword: str) -> x509.ObjectIdentifier | None:
    key = keyword.strip().upper()
    if key in KEYWORDS:
        return KEYWORDS[key]
    dotted = key.removeprefix("OID.")
    if dotted.replace(".", "").isdigit() and "." in dotted:
        try:
            return x509.ObjectIdentifier(dotted)
        except ValueError:
            return None
    return None


def _attribute(ava: str) -> x509.NameAttribute[str] | None:
    keyword, eq, value = ava.partition("=")
    oid = _oid(keyword)
    if not eq or oid is None:
        return None
    text = _unquote(value)
    if oid == NameOID.COUNTRY_NAME and len(text) != 2:
        return x509.NameAttribute(NameOID.COUNTRY_NAME, text[:2].ljust(2, "?")) if text else None
    try:
        return x509.NameAttribute(oid, text)
    except ValueError:
        return None


@functools.lru_cache(maxsize=1024)
def parse_dn(text: str) -> x509.Name | None:
    """`CN=A, O=B, C=US` (Java's order) → x509.Name in DER order; None when it is not a DN."""
    rdns: list[x509.RelativeDistinguishedName] = []
    for rdn in _split_top(text.strip(), ","):
        attrs = [_attribute(ava) for ava in _split_top(rdn, "+")]
        if not attrs or any(a is None for a in attrs):
            return None
        rdns.append(x509.RelativeDistinguishedName([a for a in attrs if a is not None]))
    if not rdns:
        return None
    return x509.Name(list(reversed(rdns)))


def split_dn_list(text: str) -> tuple[list[str], bool]:
    """Cut a TLS 1.2 `[DN, DN]` list into DNs; the flag says whether the cut had to be guessed."""
    rdns = _split_top(text.strip(), ",")
    names: list[list[str]] = []
    last_rank = -1
    for rdn in rdns:
        keyword = rdn.partition("=")[0].strip().upper()
        rank = _RANK.get(keyword, last_rank if last_rank >= 0 else 0)
        if not names or rank < last_rank:
            names.append([])
        names[-1].append(rdn)
        last_rank = rank
    return [", ".join(n) for n in names], len(names) > 1
