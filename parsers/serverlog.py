"""Server log lines about a client certificate, read into typed events (issue 23, point 2).

Pure text in, events out: nginx's error log, Apache httpd mod_ssl, HAProxy, Go net/http, Node
(an `authorizationError` as an application logs it), a Java server's SSLHandshakeException,
Envoy and openssl s_server. Each event names the stack, the client and time when the line has
them, whether the client certificate was refused, the OpenSSL verify code where the stack gives
one, and the reason in the server's words. The line formats are the ones the real servers wrote
in tests/live/test_server_stacks_oracle.py. Not wired into `log` (its owner decides).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum

#: Lines longer than this are cut before matching (a log line is never this long legitimately).
MAX_LINE = 8192


class Kind(str, Enum):
    VERIFY_ERROR = "verify-error"
    NO_CERTIFICATE = "no-certificate"
    CHAIN_TOO_LONG = "chain-too-long"
    CERT_NOT_TRUSTED = "certificate-not-trusted"
    CA_CHAIN_FAILED = "ca-chain-failed"
    HANDSHAKE_FAILURE = "handshake-failure"


@dataclass(frozen=True)
class ServerLogEvent:
    stack: str
    kind: Kind
    #: the OpenSSL verify code (X509_V_ERR_*), where the stack logs one
    code: int | None
    #: the reason in the server's own words
    reason: str
    client: str | None
    time: str | None
    line: str

    @property
    def verdict(self) -> str:
        return "reject"


_NGINX_TIME = r"(?P<time>\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}) \[\w+\] \d+#\d+: (?:\*\d+ )?"
_CLIENT = r".*?client: (?P<client>[^,\s]+)"
_HAPROXY = r"^(?P<client>\S+?):\d+ \[(?P<time>[^\]]+)\] \S+: "
_GO = r"^(?P<time>\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}) http: TLS handshake error from (?P<client>\S+?): "

PATTERNS: tuple[tuple[str, Kind, re.Pattern[str]], ...] = (
    (
        "nginx",
        Kind.VERIFY_ERROR,
        re.compile(
            _NGINX_TIME
            + r"client SSL certificate verify error: \((?P<code>\d+):(?P<reason>[^)]*)\)"
            + _CLIENT
        ),
    ),
    (
        "nginx",
        Kind.NO_CERTIFICATE,
        re.compile(_NGINX_TIME + r"(?P<reason>client sent no required SSL certificate)" + _CLIENT),
    ),
    (
        "apache",
        Kind.VERIFY_ERROR,
        re.compile(
            r"^\[(?P<time>[^\]]+)\] \[ssl:\w+\] (?:\[pid [^\]]*\] )?(?:\[client (?P<client>[^\]]+)\] )?"
            r"AH0(?:2039|2276): Certificate Verification: Error \((?P<code>\d+)\): "
            r"(?P<reason>.+?)(?: \[subject:.*)?$"
        ),
    ),
    (
        "apache",
        Kind.CHAIN_TOO_LONG,
        re.compile(
            r"^\[(?P<time>[^\]]+)\] \[ssl:\w+\] (?:\[pid [^\]]*\] )?(?:\[client (?P<client>[^\]]+)\] )?"
            r"AH02040: Certificate Verification: (?P<reason>Certificate Chain too long .*)$"
        ),
    ),
    (
        "apache",
        Kind.NO_CERTIFICATE,
        re.compile(
            r"^\[(?P<time>[^\]]+)\] \[ssl:\w+\] (?:\[pid [^\]]*\] )?(?:\[client (?P<client>[^\]]+)\] )?"
            r"SSL Library Error: .*?(?P<reason>peer did not return a certificate)"
        ),
    ),
    (
        "haproxy",
        Kind.CERT_NOT_TRUSTED,
        re.compile(
            r"^(?P<client>\S+?):\d+ \[(?P<time>[^\]]+)\] \S+: (?P<reason>SSL client certificate not trusted)"
        ),
    ),
    (
        "haproxy",
        Kind.CA_CHAIN_FAILED,
        re.compile(_HAPROXY + r"(?P<reason>SSL client CA chain cannot be verified)"),
    ),
    (
        "haproxy",
        Kind.HANDSHAKE_FAILURE,
        re.compile(r"^(?P<client>\S+?):\d+ \[(?P<time>[^\]]+)\] \S+: (?P<reason>SSL handshake failure)"),
    ),
    (
        "go",
        Kind.NO_CERTIFICATE,
        re.compile(_GO + r"(?P<reason>tls: client didn't provide a certificate)"),
    ),
    (
        "go",
        Kind.VERIFY_ERROR,
        re.compile(_GO + r"tls: failed to verify client certificate: (?P<reason>x509: .*)$"),
    ),
    ("node", Kind.NO_CERTIFICATE, re.compile(r"(?P<reason>ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE)")),
    (
        "node",
        Kind.VERIFY_ERROR,
        re.compile(r"authorizationError[=: ]+(?P<reason>[A-Z][A-Z0-9_]+)(?: from (?P<client>\S+))?"),
    ),
    (
        "java",
        Kind.NO_CERTIFICATE,
        re.compile(r"SSLHandshakeException: (?P<reason>Empty client certificate chain)"),
    ),
    (
        "java",
        Kind.VERIFY_ERROR,
        re.compile(
            r"SSLHandshakeException: (?P<reason>(?:PKIX path (?:building|validation) failed|"
            r"Extended key usage|"
            r"KeyUsage does not allow)[^|]*?)\s*(?:\||$)"
        ),
    ),
    (
        "envoy",
        Kind.NO_CERTIFICATE,
        re.compile(r"(?P<reason>OPENSSL_internal:PEER_DID_NOT_RETURN_A_CERTIFICATE)"),
    ),
    ("envoy", Kind.VERIFY_ERROR, re.compile(r"(?P<reason>OPENSSL_internal:CERTIFICATE_VERIFY_FAILED)")),
    ("openssl", Kind.VERIFY_ERROR, re.compile(r"^verify error:num=(?P<code>\d+):(?P<reason>.+)$")),
    (
        "openssl",
        Kind.NO_CERTIFICATE,
        re.compile(r"tls_process_client_certificate:(?P<reason>peer did not return a certificate)"),
    ),
)


def parse_line(line: str) -> ServerLogEvent | None:
    """The first pattern the line matches, as an event; None for a line about something else."""
    line = line.rstrip("\r\n")[:MAX_LINE]
    for stack, kind, pattern in PATTERNS:
        m = pattern.search(line)
        if m is None:
            continue
        groups = m.groupdict()
        code = groups.get("code")
        return ServerLogEvent(
            stack=stack,
            kind=kind,
            code=int(code) if code else None,
            reason=(groups.get("reason") or "").strip(),
            client=groups.get("client"),
            time=groups.get("time"),
            line=line,
        )
    return None


def parse_lines(lines: Iterable[str]) -> Iterator[ServerLogEvent]:
    for line in lines:
        event = parse_line(line)
        if event is not None:
            yield event
