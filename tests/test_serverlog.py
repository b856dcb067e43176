"""Lines the real servers wrote in the server-stack oracle (tests/live/test_server_stacks_oracle.py),
read by the reader `log` uses (parsers/serverlog): the stack, the problem, OpenSSL's code where
the stack logs one, and the client as logged."""

from __future__ import annotations

import pytest

from parsers.serverlog import Problem, read_server_log

KIND = {
    "verify-error": Problem.VERIFY_FAILED,
    "no-certificate": Problem.NO_CERTIFICATE,
    "chain-too-long": Problem.VERIFY_FAILED,
    "certificate-not-trusted": Problem.VERIFY_FAILED,
    "ca-chain-failed": Problem.VERIFY_FAILED,
    "handshake-failure": Problem.HANDSHAKE_FAILED,
}


class Kind:
    """The oracle's first names for what a line says (kept so the table reads as written)."""

    VERIFY_ERROR = "verify-error"
    NO_CERTIFICATE = "no-certificate"
    CHAIN_TOO_LONG = "chain-too-long"
    CERT_NOT_TRUSTED = "certificate-not-trusted"
    CA_CHAIN_FAILED = "ca-chain-failed"
    HANDSHAKE_FAILURE = "handshake-failure"


LINES = [
    (
        "2026/12/07 16:25:13 [info] 19306#19306: *3 client SSL certificate verify error: "
        "(21:unable to verify "
        "the first certificate) while reading client request headers, client: 127.0.0.1, "
        'server: , request: "GET '
        '/ HTTP/1.0", host: "localhost"',
        ("nginx", Kind.VERIFY_ERROR, 21, "unable to verify the first certificate", "127.0.0.1"),
    ),
    (
        "2026/12/07 16:36:09 [info] 1535#1535: *2 client sent no required SSL "
        "certificate while reading client "
        'request headers, client: 127.0.0.1, server: , request: "GET / HTTP/1.0", host: "localhost"',
        ("nginx", Kind.NO_CERTIFICATE, None, "client sent no required SSL certificate", "127.0.0.1"),
    ),
    (
        "[Mon Dec 07 16:26:25.769303 2026] [ssl:info] [pid 25227:tid 25231] [client "
        "127.0.0.1:54822] AH02276: "
        "Certificate Verification: Error (20): unable to get local issuer certificate "
        "[subject: CN=client,O=Acme "
        "/ issuer: CN=Acme Issuing CA,O=Acme / serial: 01]",
        ("apache", Kind.VERIFY_ERROR, 20, "unable to get local issuer certificate", "127.0.0.1:54822"),
    ),
    (
        "[Mon Dec 07 16:26:25.704506 2026] [ssl:error] [pid 25227:tid 25230] [client "
        "127.0.0.1:54806] AH02040: "
        "Certificate Verification: Certificate Chain too long (chain has 2 certificates, "
        "but maximum allowed are "
        "only 1)",
        (
            "apache",
            Kind.CHAIN_TOO_LONG,
            None,
            "Certificate Chain too long (chain has 2 certificates, but maximum allowed are only 1)",
            "127.0.0.1:54806",
        ),
    ),
    (
        "127.0.0.1:58168 [07/Dec/2026:16:26:27.919] fe/1: SSL client CA chain cannot be verified",
        ("haproxy", Kind.CA_CHAIN_FAILED, None, "SSL client CA chain cannot be verified", "127.0.0.1"),
    ),
    (
        "127.0.0.1:58126 [07/Dec/2026:16:26:27.517] fe/1: SSL client certificate not trusted",
        ("haproxy", Kind.CERT_NOT_TRUSTED, None, "SSL client certificate not trusted", "127.0.0.1"),
    ),
    (
        "2026/12/07 16:26:43 http: TLS handshake error from 127.0.0.1:54186: tls: failed to verify client "
        "certificate: x509: certificate signed by unknown authority",
        # Go logs no number: its words imply OpenSSL's 20
        ("go", Kind.VERIFY_ERROR, 20, "x509: certificate signed by unknown authority", "127.0.0.1:54186"),
    ),
    (
        "2026/12/07 16:36:12 http: TLS handshake error from 127.0.0.1:50358: tls: client didn't provide a "
        "certificate",
        ("go", Kind.NO_CERTIFICATE, None, "tls: client didn't provide a certificate", "127.0.0.1:50358"),
    ),
    (
        "authorizationError=UNABLE_TO_VERIFY_LEAF_SIGNATURE from 127.0.0.1",
        ("node", Kind.VERIFY_ERROR, 21, "UNABLE_TO_VERIFY_LEAF_SIGNATURE", "127.0.0.1"),  # OpenSSL's name
    ),
    (
        "REJECT javax.net.ssl.SSLHandshakeException: PKIX path validation failed: "
        "java.security.cert.CertPathValidatorException: validity check failed | "
        "sun.security.validator.ValidatorException: PKIX path validation failed",
        (
            "java",
            Kind.VERIFY_ERROR,
            None,
            "PKIX path validation failed: java.security.cert.CertPathValidatorException: "
            "validity check failed",
            None,
        ),
    ),
    (
        "REJECT javax.net.ssl.SSLHandshakeException: Empty client certificate chain",
        ("java", Kind.NO_CERTIFICATE, None, "Empty client certificate chain", None),
    ),
    (
        "verify error:num=68:CA signature digest algorithm too weak",
        ("openssl", Kind.VERIFY_ERROR, 68, "CA signature digest algorithm too weak", None),
    ),
]


@pytest.mark.parametrize(("line", "expected"), LINES)
def test_line(line: str, expected: tuple[str, str, int | None, str, str | None]) -> None:
    events = read_server_log(line).events
    assert len(events) == 1
    event = events[0]
    stack, kind, code, words, client = expected
    if kind == Kind.CHAIN_TOO_LONG:
        code = 22
    assert (event.stack.value, event.problem, event.code, event.client) == (stack, KIND[kind], code, client)
    assert words in event.stack_says
    assert event.verdict.value == "reject"


def test_other_lines_are_not_events() -> None:
    lines = [
        "2026/12/07 16:25:13 [info] 19306#19306: *1 client closed connection while SSL handshaking, client: "
        "127.0.0.1, server: 127.0.0.1:39573",
        "127.0.0.1:58112 [07/Dec/2026:16:26:27.455] fe~ fe/<NOSRV> 0/-1/-1/-1/0 200 73 - "
        '- LR-- 1/1/0/0/0 0/0 "GET '
        '/ HTTP/1.0"',
        "2026/12/07 16:26:42 http: TLS handshake error from 127.0.0.1:54160: EOF",
        "x" * 100_000,
        "",
    ]
    assert read_server_log("\n".join(lines)).events == ()


def test_s_client_output_is_the_clients_words() -> None:
    """s_client prints the same `verify error:num=` as s_server, about the server's chain: a
    paste of s_client's output is the client error-text reader's, never a server event."""
    s_client = (
        "CONNECTED(00000003)\n"
        "depth=1 CN = Partner Issuing CA\n"
        "verify error:num=20:unable to get local issuer certificate\n"
        "---\n"
        "Verify return code: 20 (unable to get local issuer certificate)\n"
    )
    assert read_server_log(s_client).events == ()
    assert [
        e.code for e in read_server_log("verify error:num=20:unable to get local issuer certificate").events
    ] == [20]
