"""A server's HTTP error page printed by the client: nginx's 400 pages for client certificates
(ngx_http_special_response.c), in a REST test result, curl's output or a browser."""

from __future__ import annotations

from parsers.errortext.model import Family, Kind, Speaker
from parsers.errortext.signs import sign

F, S = Family.HTTP, Speaker.SERVER_HTTP

SIGNS = (
    sign("nginx 400 no certificate", F, r"No required SSL certificate was sent", Kind.HTTP_NO_CERT, S),
    sign("nginx 400 certificate error", F, r"The SSL certificate error", Kind.HTTP_CERT_ERROR, S),
    sign(
        "nginx 400 plain HTTP",
        F,
        r"The plain HTTP request was sent to HTTPS port",
        Kind.HTTP_PLAIN_TO_TLS,
        S,
    ),
    sign(
        "HTTP 400 page",
        F,
        r"<title>\s*400 Bad Request\s*</title>|<h1>\s*400 Bad Request\s*</h1>"
        r"|^\s*HTTP/[\d.]+ 400 Bad Request",
        Kind.HTTP_BAD_REQUEST,
        S,
    ),
)
