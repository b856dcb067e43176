"""Shared TLS field readers: length-prefixed lists, extensions, distinguished names.

The scapy-backed readers (parsers.messages) and the hand readers (parsers.lean) both use these,
so neither imports the other for them.
"""

from __future__ import annotations

import struct

from cryptography import x509

from parsers.model import DistinguishedName
from parsers.printable import escape_text

EXT_SERVER_NAME, EXT_SIG_ALGS, EXT_CERT_AUTHORITIES = 0, 13, 47
EXT_SUPPORTED_VERSIONS, EXT_POST_HANDSHAKE_AUTH, EXT_SIG_ALGS_CERT = 43, 49, 50
EXT_PRE_SHARED_KEY, EXT_ENCRYPT_THEN_MAC = 41, 22
EXT_RENEGOTIATION_INFO = 0xFF01  # RFC 5746 secure renegotiation


class MalformedMessage(Exception):
    """A handshake message whose body does not parse (reported as a Problem of this kind)."""

    kind = "malformed"


class UnreadMessage(MalformedMessage):
    """A well-formed message this installation cannot read (a compression algorithm whose
    package is missing): said as such, not as damage to the capture."""

    kind = "unread"


def u16_list(data: bytes) -> tuple[int, ...]:
    return struct.unpack(f"!{len(data) // 2}H", data[: len(data) // 2 * 2])


def extensions(data: bytes, pos: int) -> dict[int, bytes]:
    out: dict[int, bytes] = {}
    if pos + 2 > len(data):
        return out
    end = pos + 2 + struct.unpack_from("!H", data, pos)[0]
    pos += 2
    while pos + 4 <= min(end, len(data)):
        etype, elen = struct.unpack_from("!HH", data, pos)
        out[etype] = data[pos + 4 : pos + 4 + elen]
        pos += 4 + elen
    return out


def dn_from_der(der: bytes) -> DistinguishedName:
    """A CA name as sent (DER) with a readable RFC 4514 string."""
    from asn1crypto import x509 as ax509

    try:
        name = ax509.Name.load(der)
        parts = []
        for rdn in reversed(list(name.chosen)):
            for atv in rdn:
                key = atv["type"].native
                short = _SHORT.get(key, atv["type"].dotted)
                value = atv["value"].native
                text = str(value)
                for ch in ("\\", ",", "+", '"', "<", ">", ";", "="):
                    text = text.replace(ch, "\\" + ch)
                text = escape_text(text)
                parts.append(f"{short}={text}")
        return DistinguishedName(der, ",".join(parts) or "(empty DN)")
    except Exception:
        return DistinguishedName(der, f"(undecodable DN, {len(der)} bytes)")


_SHORT = {
    "common_name": "CN",
    "organization_name": "O",
    "organizational_unit_name": "OU",
    "country_name": "C",
    "state_or_province_name": "ST",
    "locality_name": "L",
    "email_address": "emailAddress",
    "domain_component": "DC",
    "street_address": "STREET",
    "serial_number": "serialNumber",
    "user_id": "UID",
}


def ca_list(data: bytes) -> tuple[DistinguishedName, ...]:
    """A DistinguishedName list: 2-byte total length, then 2-byte length + DER each."""
    out = []
    if len(data) < 2:
        return ()
    end = 2 + struct.unpack_from("!H", data, 0)[0]
    pos = 2
    while pos + 2 <= min(end, len(data)):
        length = struct.unpack_from("!H", data, pos)[0]
        out.append(dn_from_der(bytes(data[pos + 2 : pos + 2 + length])))
        pos += 2 + length
    return tuple(out)


def load_certificate(der: bytes) -> x509.Certificate | None:
    """A certificate off the wire, or None (see read_one_certificate)."""
    return read_one_certificate(der)[0]


def read_one_certificate(der: bytes) -> tuple[x509.Certificate | None, tuple[str, ...]]:
    """A certificate off the wire and what was odd about it; None when nothing could be read
    (counted as undecodable, so one odd certificate never costs the report). cryptography parses
    lazily, so the parts every report shows (names, validity) are read here, not later in a rule.
    What Java and OpenSSL read but cryptography refuses (explicit NULL ECDSA parameters, X.509 v2,
    a bad DN string) is read leniently, re-encoded (parsers/x509_lenient.py), and said."""
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a negative serial is shown, not shouted
            cert = x509.load_der_x509_certificate(der)
            cert.subject.public_bytes()
            cert.issuer.public_bytes()
            cert.subject.rfc4514_string()
            cert.issuer.rfc4514_string()
            _ = cert.not_valid_before_utc, cert.not_valid_after_utc, cert.serial_number
    except (ValueError, TypeError, OverflowError, x509.InvalidVersion):
        from parsers.x509_lenient import load_certificate as load_leniently

        loaded = load_leniently(der)
        if loaded.cert is None:
            return None, ()
        try:
            _ = loaded.cert.not_valid_before_utc, loaded.cert.not_valid_after_utc
        except (ValueError, OverflowError):
            return None, ()
        notes = tuple(f"malformed: {p}" for p in loaded.problems) + loaded.nonstandard
        return loaded.cert, notes
    return cert, ()
