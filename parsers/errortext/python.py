"""Python's ssl module, urllib3 and requests (the OpenSSL reasons they quote are in openssl.py)."""

from __future__ import annotations

from parsers.errortext.model import Family, Kind, Speaker
from parsers.errortext.signs import sign

F, C = Family.PYTHON, Speaker.CLIENT

SIGNS = (
    sign(
        "Python hostname mismatch",
        F,
        r"(?:Hostname mismatch, certificate is not valid for|hostname) '(?P<detail>[^']+)'"
        r"(?: doesn't match)?|IP address mismatch, certificate is not valid for '(?P<ip>[^']+)'",
        Kind.HOSTNAME_MISMATCH,
        C,
    ),
    sign(
        "Python PEM lib",
        F,
        r"\[SSL\] PEM lib \(_ssl\.c|\[X509: KEY_VALUES_MISMATCH\]|\[SSL: KEY_VALUES_MISMATCH\]",
        Kind.CLIENT_CERT_UNUSABLE,
        C,
    ),
    sign(
        "Python SSLError",
        F,
        r"\bSSLError\(|\b(?:ssl|requests\.exceptions|urllib3\.exceptions)\.SSL\w*Error\b|SSLZeroReturnError",
        Kind.HANDSHAKE_FAILED,
        C,
    ),
)
