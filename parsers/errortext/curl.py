"""curl's error lines (`curl: (N) ...`, libcurl's codes) and its -v trace."""

from __future__ import annotations

from parsers.errortext.model import Family, Kind, Speaker
from parsers.errortext.signs import sign

F, C, SA, CA, SH, U = (
    Family.CURL,
    Speaker.CLIENT,
    Speaker.SERVER_ALERT,
    Speaker.CLIENT_ALERT,
    Speaker.SERVER_HTTP,
    Speaker.UNKNOWN,
)

SIGNS = (
    # (58) CURLE_SSL_CERTPROBLEM: the local client certificate or key could not be used
    sign("curl (58)", F, r"curl: \(58\) (?P<detail>.+?)\s*$", Kind.CLIENT_CERT_UNUSABLE, C),
    # (60) CURLE_PEER_FAILED_VERIFICATION with OpenSSL's reason: curl judged the server's chain
    sign(
        "curl (60)",
        F,
        r"curl: \(60\) SSL certificate problem: (?P<detail>.+?)\s*$",
        Kind.SERVER_CERT_UNTRUSTED,
        C,
        by_detail=True,
    ),
    sign(
        "curl (60)/(51) host name",
        F,
        r"curl: \((?:60|51)\) SSL: (?:no alternative certificate subject name matches|certificate subject "
        r"name .* does not match) target host name '(?P<detail>[^']+)'",
        Kind.HOSTNAME_MISMATCH,
        C,
    ),
    # (60) with no reason: curl (lib/vtls/openssl.c) maps a *received* certificate_expired alert to
    # CURLE_PEER_FAILED_VERIFICATION and, its own verify result being OK, says only this
    sign(
        "curl (60) without a reason",
        F,
        r"curl: \(60\) SSL certificate verification failed\s*$",
        Kind.ALERT_RECEIVED,
        SA,
    ),
    # curl -v: an alert, and who sent it ((IN) the server, (OUT) curl); 0x200 + the alert's number
    sign(
        "curl -v alert in",
        F,
        r"\* (?:TLSv[\d.]+|SSLv3) \(IN\), TLS alert, (?P<words>[^()]*?) \((?P<code>\d+)\)",
        Kind.ALERT_RECEIVED,
        SA,
    ),
    sign(
        "curl -v alert out",
        F,
        r"\* (?:TLSv[\d.]+|SSLv3) \(OUT\), TLS alert, (?P<words>[^()]*?) \((?P<code>\d+)\)",
        Kind.ALERT_SENT,
        CA,
    ),
    sign("curl -v HTTP status", F, r"^\s*< HTTP/[\d.]+ (?P<detail>[23]\d\d)\b", Kind.SUCCESS, SH),
    sign("curl -v HTTP 400", F, r"^\s*< HTTP/[\d.]+ 400\b", Kind.HTTP_BAD_REQUEST, SH),
)

#: tried after every other sign: OpenSSL's reason in the same line, when there, says more
FALLBACKS = (
    # (35) CURLE_SSL_CONNECT_ERROR / (56) CURLE_RECV_ERROR: OpenSSL's reason follows (an alert,
    # a reset); these fallbacks say only that it failed
    sign("curl (35)", F, r"curl: \(35\) (?P<detail>.+?)\s*$", Kind.HANDSHAKE_FAILED, C),
    sign("curl (56)", F, r"curl: \(56\) (?P<detail>.+?)\s*$", Kind.HANDSHAKE_FAILED, C),
)
