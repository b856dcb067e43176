"""Node.js (https, tls, and the clients built on them: axios, node-fetch) and Postman, whose app is
Node underneath and prints Node's words in its console."""

from __future__ import annotations

from parsers.errortext.model import Family, Kind, Speaker
from parsers.errortext.signs import NODE_VERIFY_CODES, sign

C, SA, U = Speaker.CLIENT, Speaker.SERVER_ALERT, Speaker.UNKNOWN

SIGNS = (
    sign(
        "Node alert code",
        Family.NODE,
        r"ERR_SSL_(?P<alert>(?:SSLV3|TLSV1|TLSV13)_ALERT_[A-Z_]+)",
        Kind.ALERT_RECEIVED,
        SA,
    ),
    sign(
        "Node verify code",
        Family.NODE,
        rf"(?P<detail>{NODE_VERIFY_CODES})",
        Kind.SERVER_CERT_UNTRUSTED,
        C,
        by_detail=True,
    ),
    sign(
        "Node host name",
        Family.NODE,
        r"Hostname/IP does not match certificate's altnames: (?P<detail>.+?)\s*$",
        Kind.HOSTNAME_MISMATCH,
        C,
    ),
    sign(
        "Node socket closed",
        Family.NODE,
        r"socket hang up|Client network socket disconnected before secure TLS connection was established",
        Kind.CLOSED_WITHOUT_ALERT,
        U,
    ),
    sign(
        "Node key mismatch",
        Family.NODE,
        r"ERR_OSSL_X509_KEY_VALUES_MISMATCH|ERR_OSSL_PEM_NO_START_LINE|ERR_OSSL_EVP_BAD_DECRYPT",
        Kind.CLIENT_CERT_UNUSABLE,
        C,
    ),
    # Postman: "SSL Error: Unable to verify the first certificate" under the request
    sign(
        "Postman SSL Error",
        Family.POSTMAN,
        r"SSL Error: (?P<detail>[A-Za-z_ '-]+?)\s*$",
        Kind.SERVER_CERT_UNTRUSTED,
        C,
        by_detail=True,
    ),
)
