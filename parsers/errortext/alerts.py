"""TLS alert names as clients spell them, to the RFC's names (RFC 8446 section 6, RFC 5246 7.2)."""

from __future__ import annotations

import re

BY_NUMBER = {
    0: "close_notify",
    10: "unexpected_message",
    20: "bad_record_mac",
    21: "decryption_failed",
    22: "record_overflow",
    30: "decompression_failure",
    40: "handshake_failure",
    41: "no_certificate",
    42: "bad_certificate",
    43: "unsupported_certificate",
    44: "certificate_revoked",
    45: "certificate_expired",
    46: "certificate_unknown",
    47: "illegal_parameter",
    48: "unknown_ca",
    49: "access_denied",
    50: "decode_error",
    51: "decrypt_error",
    70: "protocol_version",
    71: "insufficient_security",
    80: "internal_error",
    86: "inappropriate_fallback",
    90: "user_canceled",
    100: "no_renegotiation",
    109: "missing_extension",
    110: "unsupported_extension",
    112: "unrecognized_name",
    113: "bad_certificate_status_response",
    115: "unknown_psk_identity",
    116: "certificate_required",
    120: "no_application_protocol",
}
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
