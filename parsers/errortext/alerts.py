"""TLS alert names as clients spell them, to the RFC's names (RFC 8446 section 6, RFC 5246 7.2)."""

from __future__ import annotations

import re

from parsers.constants import ALERT_NAMES

#: the one table of alert numbers (parsers/model.py), a superset of what clients print
BY_NUMBER = ALERT_NAMES
KNOWN = frozenset(BY_NUMBER.values())

#: Go's crypto/tls alert texts (alert.go), which are not the RFC's names
GO_NAMES = {
    "bad certificate": "bad_certificate",
    "unknown certificate authority": "unknown_ca",
    "expired certificate": "certificate_expired",
    "unknown certificate": "certificate_unknown",
    "certificate required": "certificate_required",
    "handshake failure": "handshake_failure",
    "access denied": "access_denied",
    "error decrypting message": "decrypt_error",
    "protocol version not supported": "protocol_version",
    "unsupported certificate": "unsupported_certificate",
    "revoked certificate": "certificate_revoked",
    "internal error": "internal_error",
    "illegal parameter": "illegal_parameter",
    "error decoding message": "decode_error",
    "unexpected message": "unexpected_message",
    "insufficient security level": "insufficient_security",
    "no application protocol": "no_application_protocol",
    "unrecognized name": "unrecognized_name",
    "missing extension": "missing_extension",
    "unsupported extension": "unsupported_extension",
    "inappropriate fallback": "inappropriate_fallback",
}


def rfc_name(words: str) -> str | None:
    """'bad certificate', 'TLSV1_ALERT_UNKNOWN_CA', 'unknown CA', 'UNKNOWN_CA' → the RFC's name."""
    w = words.strip().lower()
    if w in GO_NAMES:
        return GO_NAMES[w]
    w = re.sub(r"^(?:sslv3|tlsv1|tlsv13)[_ ]alert[_ ]", "", w)
    w = re.sub(r"[\s-]+", "_", w)
    if w == "unknown_certificate_authority":
        return "unknown_ca"
    return w if w in KNOWN else None


def by_number(number: int) -> str | None:
    return BY_NUMBER.get(number)
