"""Server log lines read into events, for the stacks not run live in tests/live/test_server_logs.py
(Apache httpd, HAProxy, Envoy, Caddy, nginx's access log): written from each stack's documented
format and its source's messages (named in parsers/serverlog/stacks.py), and pasted as people
paste them (a journald or container prefix, CRLF). nginx, Go and Node are checked live."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from parsers.serverlog import Problem, Stack, Verdict, read_server_log

ROOT = Path(__file__).resolve().parent.parent

# (line, stack, verdict, problem, verify code, alert, client)
LINES = [
    (
        "[Mon Dec 07 16:50:05.123456 2026] [ssl:info] [pid 123:tid 456] [client 10.1.2.3:54321] "
        "AH02039: Certificate Verification: Error (10): certificate has expired",
        Stack.APACHE, Verdict.REJECT, Problem.VERIFY_FAILED, 10, None, "10.1.2.3:54321",
    ),
    (
        "[Mon Dec 07 16:50:06.123456 2026] [ssl:error] [pid 123:tid 456] [client 10.1.2.3:54322] "
        "AH02040: Certificate Verification: Certificate Chain too long (chain has 3 certificates, "
        "but maximum allowed are only 1)",
        Stack.APACHE, Verdict.REJECT, Problem.VERIFY_FAILED, 22, None, "10.1.2.3:54322",
    ),
    (
        "[Mon Dec 07 16:50:07.1 2026] [ssl:error] [pid 123:tid 456] [client 10.1.2.3:54323] SSL Library "
        "Error: error:0A0000C7:SSL routines::peer did not return a certificate -- No CAs known to "
        "server for verification?",
        Stack.APACHE, Verdict.REJECT, Problem.NO_CERTIFICATE, None, None, "10.1.2.3:54323",
    ),
    (
        "Dec  7 16:50:07 gw haproxy[123]: 10.1.2.4:40001 [07/Dec/2026:16:50:07.123] fe-mtls/1: "
        "SSL client certificate not trusted",
        Stack.HAPROXY, Verdict.REJECT, Problem.VERIFY_FAILED, None, None, "10.1.2.4",
    ),
    (
        "Dec  7 16:50:08 gw haproxy[123]: 10.1.2.4:40002 [07/Dec/2026:16:50:08.001] fe-mtls/1: "
        "SSL handshake failure",
        Stack.HAPROXY, Verdict.REJECT, Problem.HANDSHAKE_FAILED, None, None, "10.1.2.4",
    ),
    (
        "10.1.2.4:40003 [07/Dec/2026:16:50:09.001] fe-mtls~ be/srv1 0/0/1/2/3 200 120 - - ---- "
        "ssl_c_verify=20 ssl_c_err=0 ssl_c_ca_err=0",
        Stack.HAPROXY, Verdict.REJECT, Problem.VERIFY_FAILED, 20, None, "10.1.2.4",
    ),
    (
        '[2026-12-07T16:50:10.000Z] "- - -" 0 - 0 0 1 - "-" "-" "-" "-" "-" 10.1.2.5:51000 '
        "TLS_error:|268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED:verify cert "
        "failed: X509_verify_cert: certificate verification error at depth 0: certificate has expired:"
        "TLS_error_end",
        Stack.ENVOY, Verdict.REJECT, Problem.VERIFY_FAILED, None, None, "10.1.2.5:51000",
    ),
    (
        '[2026-12-07T16:50:11.000Z] "- - -" 0 - 0 0 1 - 10.1.2.5:51001 TLS_error:|268435612:SSL '
        "routines:OPENSSL_internal:PEER_DID_NOT_RETURN_A_CERTIFICATE:TLS_error_end",
        Stack.ENVOY, Verdict.REJECT, Problem.NO_CERTIFICATE, None, None, "10.1.2.5:51001",
    ),
    (
        '{"level":"debug","ts":1796660000.5,"logger":"http.stdlib","msg":"http: TLS handshake error '
        'from 10.1.2.6:52000: tls: failed to verify certificate: x509: certificate specifies an '
        'incompatible key usage"}',
        Stack.CADDY, Verdict.REJECT, Problem.VERIFY_FAILED, 26, None, "10.1.2.6:52000",
    ),
    (
        '10.1.2.7 - - [07/Dec/2026:16:50:12 +0000] "GET /api HTTP/1.1" 400 237 "-" "Java/17" '
        '"FAILED:unable to get local issuer certificate"',
        Stack.NGINX, Verdict.REJECT, Problem.VERIFY_FAILED, None, None, "10.1.2.7",
    ),
    (
        "2026/12/07 16:50:13 [info] 77#77: *9 SSL_do_handshake() failed (SSL: error:0A000418:SSL "
        "routines::tlsv1 alert unknown ca:SSL alert number 48) while SSL handshaking, client: 10.1.2.8, "
        "server: 0.0.0.0:443",
        Stack.NGINX, Verdict.REJECT, Problem.CLIENT_ALERT, None, "unknown_ca", "10.1.2.8",
    ),
    (
        "2026/12/07 16:50:14 http: TLS handshake error from 10.1.2.9:53000: remote error: tls: bad "
        "certificate",
        Stack.GO, Verdict.REJECT, Problem.CLIENT_ALERT, None, "bad_certificate", "10.1.2.9:53000",
    ),
    (
        "2026/12/07 16:50:15 http: TLS handshake error from 10.1.2.9:53001: tls: failed to verify "
        "certificate: x509: certificate has expired or is not yet valid: current time "
        "2026-12-07T16:50:15Z is before 2026-12-09T00:00:00Z",
        Stack.GO, Verdict.REJECT, Problem.VERIFY_FAILED, 9, None, "10.1.2.9:53001",
    ),
]  # fmt: skip

#: how people paste a server's log: as it is, from journald, from kubectl/docker compose, CRLF
PASTED = [
    lambda line: line,
    lambda line: "Dec 07 16:50:01 gw nginx[77]: " + line,
    lambda line: "[pod/gateway-7d9/proxy] " + line,
    lambda line: "gateway-1  | " + line + "\r",
]


@pytest.mark.parametrize("paste", range(len(PASTED)))
def test_each_stack_line_is_read(paste: int) -> None:
    text = "\n".join(PASTED[paste](case[0]) for case in LINES)
    events = read_server_log(text).events
    got = [(e.stack, e.verdict, e.problem, e.code, e.alert, e.client) for e in events]
    assert got == [case[1:] for case in LINES]


def test_reason_words_name_the_code_for_stacks_that_log_no_number() -> None:
    """Envoy's and nginx's access log words are matched to OpenSSL's table: the finding says the
    cause (an expired certificate), not only 'verify failed'."""
    from inspector.rules.serverlog_rules import code_of

    events = read_server_log("\n".join(case[0] for case in LINES)).events
    assert [code_of(e) for e in events if e.stack in (Stack.ENVOY, Stack.NGINX)] == [10, None, 20, None]


def test_client_error_text_is_not_a_server_log(tmp_path: Path) -> None:
    """curl's and Python's words about the same alerts stay the client's (the error-text reader's)."""
    client_side = (
        "curl: (56) OpenSSL SSL_read: error:0A000418:SSL routines::tlsv1 alert unknown ca, errno 0\n"
        "ssl.SSLError: [SSL: TLSV1_ALERT_UNKNOWN_CA] tlsv1 alert unknown ca (_ssl.c:2580)\n"
    )
    assert read_server_log(client_side).events == ()


def test_log_command_reports_each_refusal_once_with_a_count(tmp_path: Path) -> None:
    line = (
        "2026/12/07 16:5{n}:01 [info] 77#77: *{n} client SSL certificate verify error: (21:unable to "
        "verify the first certificate) while reading client request headers, client: 10.1.2.{n}, server: api"
    )
    log = tmp_path / "error.log"
    log.write_text("\n".join(line.format(n=n) for n in range(1, 4)) + "\n")
    run = subprocess.run(
        [sys.executable, "-m", "inspector", "log", str(log), "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert (run.returncode, run.stderr) == (1, "")
    doc = json.loads(run.stdout)
    assert [f["code"] for f in doc["findings"]] == ["server-log-rejected-client-cert"]
    facts = [e["fact"] for e in doc["findings"][0]["evidence"]]
    assert facts[1] == "3 lines say this (lines 1..3, 2026/12/07 16:51:01 to 2026/12/07 16:53:01)"
    assert facts[2] == "10.1.2.1, 10.1.2.2, 10.1.2.3"
    assert [e["verdict"] for e in doc["server_events"]] == ["reject"] * 3
