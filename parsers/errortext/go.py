"""Go's crypto/tls and crypto/x509 (net/http wraps them: Get "https://...": ...)."""

from __future__ import annotations

from parsers.errortext.model import Family, Kind, Speaker
from parsers.errortext.signs import sign

F, C, SA, CA, U = Family.GO, Speaker.CLIENT, Speaker.SERVER_ALERT, Speaker.CLIENT_ALERT, Speaker.UNKNOWN

SIGNS = (
    # "remote error": an alert the server sent; "local error": one Go sent
    sign("Go remote error", F, r"remote error: tls: (?P<alert>[A-Za-z ]+?)\s*$", Kind.ALERT_RECEIVED, SA),
    sign("Go local error", F, r"local error: tls: (?P<alert>[A-Za-z ]+?)\s*$", Kind.ALERT_SENT, CA),
    sign(
        "Go x509 unknown authority",
        F,
        r"x509: (?P<detail>certificate signed by unknown authority)",
        Kind.SERVER_CERT_UNTRUSTED,
        C,
    ),
    sign(
        "Go x509 expired",
        F,
        r"x509: (?P<detail>certificate has expired or is not yet valid[^\"]*)",
        Kind.SERVER_CERT_EXPIRED,
        C,
    ),
    sign(
        "Go x509 host name",
        F,
        r"x509: (?P<detail>certificate is valid for .+?, not \S+|certificate is not valid for any names"
        r"|cannot validate certificate for \S+ because it doesn't contain any IP SANs)",
        Kind.HOSTNAME_MISMATCH,
        C,
    ),
    sign(
        "Go key pair",
        F,
        r"tls: (?P<detail>private key does not match public key|failed to find any PEM data in \w+ input"
        r"|failed to find \"?\w+\"? PEM block in \w+ input|failed to parse private key)",
        Kind.CLIENT_CERT_UNUSABLE,
        C,
    ),
    sign(
        "Go not TLS",
        F,
        r"tls: (?P<detail>first record does not look like a TLS handshake"
        r"|server gave HTTP response to HTTPS)",
        Kind.HANDSHAKE_FAILED,
        C,
    ),
    sign(
        "Go handshake EOF",
        F,
        r"https?://[^\"]*\": (?:EOF|read: connection reset by peer)\s*$|tls: handshake (?:failure|timeout)",
        Kind.CLOSED_WITHOUT_ALERT,
        U,
    ),
)
