"""`log` on pasted client error text (Deliver 2): the forms that cannot be produced here
(.NET, Postman, the integration platform's own texts), written from their documented formats —
.NET's resource strings (System.Net.Http / System.Net.Security Strings.resx), Postman's console
and response pane, Apache HttpClient's "peer not authenticated", nginx's 400 pages
(ngx_http_special_response.c) — and the pasting that real text goes through: prefixes, wraps,
CRLF, UTF-16, colour codes, HTML escapes. The real clients' own output is in
test_error_text_clients.py; the fixed lines here that imitate it are copied from those runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.findings import REGISTRY
from inspector.rules import load_all
from inspector.rules.errortext_rules import CODES, RULES, ErrorTextContext
from parsers.errortext import decode, read_error_text
from parsers.errortext.alerts import rfc_name
from parsers.errortext.model import Family, Kind, Speaker
from tests import pki as P
from tests.conftest import CliResult

ROOT = Path(__file__).resolve().parent.parent

# copied from real runs (curl 7.88 / OpenSSL 3.0, Python 3.11 + requests 2.34, Go 1.19)
CURL_56 = (
    "curl: (56) OpenSSL SSL_read: OpenSSL/3.0.19: error:0A000412:SSL routines::sslv3 alert bad certificate,"
    " errno 0"
)
PY_UNKNOWN_CA = (
    "requests.exceptions.SSLError: HTTPSConnectionPool(host='api.partner.example', port=8443): Max retries "
    "exceeded with url: /v1/orders (Caused by SSLError(SSLError(1, '[SSL: TLSV1_ALERT_UNKNOWN_CA] tlsv1 "
    "alert unknown ca (_ssl.c:2580)')))"
)
GO_UNKNOWN_AUTHORITY = 'Get "https://api.partner.example/v1": x509: certificate signed by unknown authority'


def paste(tmp_path: Path, text: str | bytes, name: str = "paste.txt") -> str:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", newline="")
    return str(path)


def diagnoses(cli: Callable[..., CliResult], path: str, *extra: str) -> tuple[int, list[dict[str, Any]]]:
    result = cli("log", path, "--json", *extra)
    return result.status, result.json()["error_text"]["diagnoses"]


def shape(ds: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    return [(d["code"], d["alert"]) for d in ds]


# --- .NET (documented formats: not runnable here) -------------------------------------------------


def test_dotnet_remote_certificate_invalid(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    text = (
        "System.Net.Http.HttpRequestException: The SSL connection could not be established, see inner "
        "exception.\n"
        " ---> System.Security.Authentication.AuthenticationException: The remote certificate is invalid "
        "according to the validation procedure: RemoteCertificateNameMismatch, RemoteCertificateChainErrors\n"
        "   at System.Net.Security.SslStream.SendAuthResetSignal(ProtocolToken message, "
        "ExceptionDispatchInfo exception)\n"
    )
    status, ds = diagnoses(cli, paste(tmp_path, text))
    assert status == 1
    assert [d["code"] for d in ds] == ["client-text-server-cert-rejected", "client-text-hostname-mismatch"]
    assert all(d["client"] == "dotnet" for d in ds)
    assert ds[0]["said_by"] == "the client (.NET), about what it found itself"


def test_dotnet7_chain_reason_and_linux_openssl(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    text = (
        "System.Security.Authentication.AuthenticationException: The remote certificate is invalid because "
        "of errors in the certificate chain: NotTimeValid"
    )
    _, ds = diagnoses(cli, paste(tmp_path, text))
    assert ds[0]["kind"] == "server-cert-expired"
    # .NET on Linux quotes OpenSSL: the alert the server sent is what counts
    text = (
        "System.Net.Http.HttpRequestException: The SSL connection could not be established, see inner "
        "exception.\n"
        " ---> System.Security.Authentication.AuthenticationException: Authentication failed, see inner "
        "exception.\n"
        " ---> Interop+OpenSsl+SslException: SSL Handshake failed with OpenSSL error - SSL_ERROR_SSL.\n"
        " ---> Interop+Crypto+OpenSslCryptographicException: error:14094412:SSL "
        "routines:ssl3_read_bytes:sslv3 alert bad certificate\n"
    )
    _, ds = diagnoses(cli, paste(tmp_path, text))
    assert shape(ds) == [("client-text-server-alert", "bad_certificate")]
    assert ds[0]["client"] == "dotnet"


def test_dotnet_credentials_and_generic(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    _, ds = diagnoses(
        cli,
        paste(
            tmp_path,
            "System.ComponentModel.Win32Exception (0x80090331): The credentials supplied to the package were "
            "not recognized",
        ),
    )
    assert shape(ds) == [("client-text-client-cert-unusable", None)]
    status, ds = diagnoses(
        cli, paste(tmp_path, "The SSL connection could not be established, see inner exception.")
    )
    assert status == 1
    assert shape(ds) == [("client-text-handshake-failed", None)]
    assert all(c["inference"] for c in ds[0]["causes"])


# --- Postman (documented formats) ------------------------------------------------------------------


def test_postman_console_and_response_pane(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    console = (
        "GET https://api.partner.example:8443/v1/orders\n"
        "Error: write EPROTO 140736408069056:error:10000410:SSL routines:OPENSSL_internal:"
        "SSLV3_ALERT_HANDSHAKE_FAILURE:../../third_party/boringssl/src/ssl/tls_record.cc:592:"
        "SSL alert number 40\n"
    )
    status, ds = diagnoses(cli, paste(tmp_path, console))
    assert status == 1
    assert shape(ds) == [("client-text-server-alert", "handshake_failure")]
    assert (
        ds[0]["next"][0] == "mtls-inspect select --keystore KEYSTORE --from-server api.partner.example:8443"
    )
    pane = "Could not get response\nSSL Error: Unable to verify the first certificate\n"
    _, ds = diagnoses(cli, paste(tmp_path, pane))
    assert ds[0]["client"] == "postman"
    assert ds[0]["code"] == "client-text-server-cert-rejected"
    assert "intermediate" in ds[0]["causes"][0]["cause"]  # "first certificate": the chain is cut


# --- the integration platform's own words (documented formats) ---------------------------------------


def test_platform_texts(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    status, ds = diagnoses(cli, paste(tmp_path, "Error: peer not authenticated\n"))
    assert status == 1
    assert shape(ds) == [("client-text-handshake-failed", None)]
    assert ds[0]["client"] == "platform"
    assert "hides the cause" in ds[0]["meaning"]
    _, ds = diagnoses(
        cli, paste(tmp_path, "Method failed: (/api/now/orders) with code: 1\nSocket is closed\n")
    )
    assert shape(ds) == [("client-text-connection-closed", None)]
    assert ds[0]["said_by"].startswith("nobody")


NGINX_PAGE = (
    "<html>\r\n<head><title>400 No required SSL certificate was sent</title></head>\r\n<body>\r\n"
    "<center><h1>400 Bad Request</h1></center>\r\n<center>No required SSL certificate was sent</center>\r\n"
    "<hr><center>nginx/1.22.1</center>\r\n</body>\r\n</html>\r\n"
)


def test_rest_test_result_with_nginx_page(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    # a REST message's test result: the endpoint, the status, the body (on one line, HTML-escaped
    # as a web page shows it)
    body = NGINX_PAGE.replace("\r\n", "").replace("<", "&lt;").replace(">", "&gt;")
    text = f"Endpoint: https://api.partner.example/v1/orders\nHTTP status: 400\nResponse body: {body}\n"
    status, ds = diagnoses(cli, paste(tmp_path, text))
    assert status == 1
    assert shape(ds) == [("http-rejected-client-cert", None)]  # the 400 and "Bad Request" restate it
    assert ds[0]["next"][0] == "mtls-inspect select --keystore KEYSTORE --from-server api.partner.example:443"
    bare = "<html><head><title>400 Bad Request</title></head><body><center><h1>400 Bad Request</h1></center>"
    _, ds = diagnoses(cli, paste(tmp_path, bare))
    assert shape(ds) == [("client-text-http-error", None)]
    assert ds[0]["causes"][0]["inference"] is True


# --- what the paste went through --------------------------------------------------------------------

PLAIN = f"$ curl --cert client.p12:secret https://api.partner.example:8443/v1\n{CURL_56}\n"


def _variants() -> dict[str, bytes]:
    go = 'Get "https://api.partner.example:8443/v1": remote error: tls: unknown certificate authority'
    wrapped_go = go[:80] + "\n    " + go[80:]  # a console's width cuts the alert's name
    return {
        "web console prefix": "".join(f"  | {line}\n" for line in PLAIN.splitlines()).encode(),
        "timestamps": "".join(
            f"2026-03-02T10:15:0{i}.123Z ERROR [outbound] {line}\n"
            for i, line in enumerate(PLAIN.splitlines())
        ).encode(),
        "kubectl --prefix": "".join(f"[pod/mid-7f9c/app] {line}\n" for line in PLAIN.splitlines()).encode(),
        "CRLF": PLAIN.replace("\n", "\r\n").encode(),
        "UTF-16LE (PowerShell >)": b"\xff\xfe" + PLAIN.replace("\n", "\r\n").encode("utf-16-le"),
        "ANSI colours": PLAIN.replace("curl: (56)", "\x1b[1;31mcurl: (56)\x1b[0m").encode(),
        "wrapped": (PLAIN.splitlines()[0] + "\n" + CURL_56[:70] + "\n" + CURL_56[70:] + "\n").encode(),
        "Go wrapped": (wrapped_go + "\n").encode(),
    }


@pytest.mark.parametrize("variant", list(_variants()))
def test_pasting_keeps_the_diagnosis(variant: str, cli: Callable[..., CliResult], tmp_path: Path) -> None:
    data = _variants()[variant]
    status, ds = diagnoses(cli, paste(tmp_path, data))
    assert status == 1
    if variant == "Go wrapped":
        assert shape(ds) == [("client-text-server-alert", "unknown_ca")]
        assert (
            ds[0]["next"][1]
            == "mtls-inspect select --keystore KEYSTORE --from-server api.partner.example:8443"
        )
        return
    assert shape(ds) == [("client-text-server-alert", "bad_certificate")], variant
    assert ds[0]["next"] == [
        "mtls-inspect keystore client.p12",
        "mtls-inspect select --keystore client.p12 --from-server api.partner.example:8443",
        "mtls-inspect probe api.partner.example:8443 --keystore client.p12",
    ], variant


def test_gzip_file(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    import gzip

    status, ds = diagnoses(cli, paste(tmp_path, gzip.compress(PLAIN.encode()), "paste.txt.gz"))
    assert status == 1
    assert shape(ds) == [("client-text-server-alert", "bad_certificate")]


def test_decode_utf16_without_bom_and_html() -> None:
    assert decode("a &lt;b&gt;\n".encode("utf-16-le")) == "a <b>\n"


# --- exit status, stdin, what is printed -------------------------------------------------------------


def _run(args: list[str], stdin: bytes) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "inspector", *args], input=stdin, capture_output=True, timeout=120, env=env
    )


def test_stdin_text_and_status() -> None:
    done = _run(["log", "-"], (GO_UNKNOWN_AUTHORITY + "\n").encode())
    assert done.returncode == 1, done.stderr
    out = done.stdout.decode()
    assert out.startswith("Client error text stdin: 1 line, written by Go (crypto/tls)\n")
    assert "error[client-text-server-cert-rejected]" in out
    assert "   = next: mtls-inspect probe api.partner.example:443 --insecure" in out
    assert "(inference)" in out


def test_nothing_recognisable_exits_2_with_one_line() -> None:
    done = _run(["log", "-"], b"hello\nthe weather is fine\n")
    assert done.returncode == 2
    assert done.stdout == b""
    assert len(done.stderr.decode().strip().splitlines()) == 1


def test_success_only_exits_0(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    result = cli("log", paste(tmp_path, "* Connected to api (10.0.0.1) port 443 (#0)\n< HTTP/1.1 200 OK\n"))
    assert result.status == 0
    assert "info[client-text-success]" in result.out


def test_input_never_reaches_the_terminal_raw(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    hostile = CURL_56.replace("OpenSSL SSL_read", "OpenSSL\x07\x9b2J\u202e SSL_read") + "\n"
    for args in ((), ("--json",)):
        result = cli("log", paste(tmp_path, hostile), *args)
        assert result.status == 1
        assert all(ch.isprintable() or ch == "\n" for ch in result.out), args
    assert "\\07" in cli("log", paste(tmp_path, hostile)).out


def test_mixed_input_without_java_log(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    text = (
        "2026-03-02 10:15:00 INFO  Starting outbound sync job 42\n"
        "2026-03-02 10:15:01 INFO  Calling partner endpoint\n"
        f"2026-03-02 10:15:02 ERROR {GO_UNKNOWN_AUTHORITY}\n"
        "2026-03-02 10:15:02 INFO  Job 42 finished with errors\n"
    )
    status, ds = diagnoses(cli, paste(tmp_path, text))
    assert status == 1
    assert shape(ds) == [("client-text-server-cert-rejected", None)]
    assert ds[0]["lines"] == [3]


def test_a_java_exception_stays_with_the_java_reader(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    text = "javax.net.ssl.SSLHandshakeException: Received fatal alert: bad_certificate\n" + CURL_56 + "\n"
    result = cli("log", paste(tmp_path, text), "--json")
    assert "error_text" not in result.json()  # the Java log reader explains it (parsers/javalog)


def test_java_caused_by_lines_are_left_to_the_java_reader(
    cli: Callable[..., CliResult], tmp_path: Path
) -> None:
    text = (
        "Caused by: javax.net.ssl.SSLHandshakeException: Empty server certificate chain\n\n"
        "Caused by: javax.net.ssl.SSLHandshakeException: Received fatal alert: bad_certificate\n"
    )
    result = cli("log", paste(tmp_path, text))
    assert not result.out.startswith("Client error text"), result.out


def test_keystore_given_fills_the_commands(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    p = P.make_pki()
    store = P.write_pkcs12(tmp_path / "outbound.p12", "changeit", "client", p.leaf.key, [p.leaf.cert])
    status, ds = diagnoses(
        cli, paste(tmp_path, PY_UNKNOWN_CA), "--keystore", str(store), "--storepass", "changeit"
    )
    assert status == 1
    assert ds[0]["next"][0] == f"mtls-inspect keystore {store}"


# --- the reader's pieces, and the registry ------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "name"),
    [
        ("unknown certificate authority", "unknown_ca"),
        ("expired certificate", "certificate_expired"),
        ("TLSV13_ALERT_CERTIFICATE_REQUIRED", "certificate_required"),
        ("sslv3 alert bad certificate", "bad_certificate"),
        ("tlsv1 alert unknown ca", "unknown_ca"),
        ("no such alert", None),
    ],
)
def test_alert_names(words: str, name: str | None) -> None:
    assert rfc_name(words) == name


def test_curl_verbose_alert_direction() -> None:
    r = read_error_text(
        "* TLSv1.3 (OUT), TLS alert, unknown CA (560):\n* TLSv1.2 (IN), TLS alert, bad certificate (554):\n"
    )
    got = [(s.kind, s.speaker, s.alert) for s in r.sightings]
    assert got == [
        (Kind.ALERT_SENT, Speaker.CLIENT_ALERT, "unknown_ca"),
        (Kind.ALERT_RECEIVED, Speaker.SERVER_ALERT, "bad_certificate"),
    ]
    assert {s.family for s in r.sightings} == {Family.CURL}


def test_docs_urls_are_not_the_server() -> None:
    r = read_error_text(
        "curl: (60) SSL certificate problem: self-signed certificate\n"
        "More details here: https://curl.se/docs/sslcerts.html\n"
    )
    assert r.target is None
    assert r.sightings[0].kind is Kind.SERVER_CERT_SELF_SIGNED


def test_codes_are_registered_and_documented() -> None:
    load_all()
    for spec in CODES:
        assert REGISTRY[spec.code] is spec
    page = (ROOT / "docs" / "findings.md").read_text(encoding="utf-8")
    assert "## client error text" in page
    assert "`client-text-server-alert`" in page


def test_rule_findings_use_declared_codes() -> None:
    declared = {c.code for r in RULES.rules for c in r.codes}
    texts = [
        CURL_56,
        PY_UNKNOWN_CA,
        GO_UNKNOWN_AUTHORITY,
        NGINX_PAGE,
        "peer not authenticated",
        "< HTTP/2 200",
    ]
    for text in texts:
        for rule, finding in RULES.run_by_rule(ErrorTextContext(read_error_text(text), "t")):
            assert finding.code in {c.code for c in rule.codes} <= declared


def test_json_document_shape(cli: Callable[..., CliResult], tmp_path: Path) -> None:
    result = cli("log", paste(tmp_path, PY_UNKNOWN_CA), "--json")
    doc = json.loads(result.out)
    assert doc["schema"] == "mtls-inspector/log"
    assert doc["log"]["format"] == "client error text"
    assert doc["handshakes"] == []
    assert doc["summary"] == {"error": 1, "warning": 0, "info": 0}
    d = doc["error_text"]["diagnoses"][0]
    assert d["said_by"] == "the server: a TLS alert it sent (Python (ssl/urllib3/requests) only reports it)"
    assert [c["rank"] for c in d["causes"]] == list(range(1, len(d["causes"]) + 1))
    assert doc["error_text"]["server"] == {
        "host": "api.partner.example",
        "port": 8443,
        "address": "api.partner.example:8443",
        "line": 1,
        "how": "Python's host= and port=",
    }
    assert doc["findings"][0]["inference"] is True


#: one line per recognised form: its sign must find it (so a sign nothing exercises, or a form a
#: change stops reading, fails here). Lines from the real runs in test_error_text_clients.py or
#: from the documented formats named in this module's docstring.
SIGN_EXAMPLES: dict[str, str] = {
    "curl (58)": "curl: (58) unable to set private key file: 'client.key' type PEM",
    "curl (60)": "curl: (60) SSL certificate problem: unable to get local issuer certificate",
    "curl (60)/(51) host name": "curl: (60) SSL: no alternative certificate subject name matches target host "
    "name 'api.example'",
    "curl (60) without a reason": "curl: (60) SSL certificate verification failed",
    "curl -v alert in": "* TLSv1.3 (IN), TLS alert, unknown (628):",
    "curl -v alert out": "* TLSv1.3 (OUT), TLS alert, unknown CA (560):",
    "curl -v HTTP status": "< HTTP/1.1 200 OK",
    "curl -v HTTP 400": "< HTTP/1.1 400 Bad Request",
    "Go remote error": 'Get "https://127.0.0.1:8443/": remote error: tls: bad certificate',
    "Go local error": "local error: tls: bad record MAC",
    "Go x509 unknown authority": "x509: certificate signed by unknown authority",
    "Go x509 expired": "x509: certificate has expired or is not yet valid: current time 2026-01-01",
    "Go x509 host name": "x509: certificate is valid for localhost, not api.example",
    "Go key pair": "tls: private key does not match public key",
    "Go not TLS": 'Get "https://a:80/": tls: first record does not look like a TLS handshake',
    "Go handshake EOF": 'Get "https://127.0.0.1:8443/": EOF',
    "Python hostname mismatch": "certificate verify failed: Hostname mismatch, certificate is not valid for "
    "'api.example'. (_ssl.c:1006)",
    "Python PEM lib": "ssl.SSLError: [SSL] PEM lib (_ssl.c:3900)",
    "Python SSLError": "requests.exceptions.SSLError: HTTPSConnectionPool(host='a', port=443): Max retries "
    "exceeded with url: /",
    ".NET remote certificate invalid": "The remote certificate is invalid according to the validation "
    "procedure: RemoteCertificateChainErrors",
    ".NET remote certificate name": "The remote certificate is invalid according to the validation procedure:"
    " RemoteCertificateNameMismatch, RemoteCertificateChainErrors",
    ".NET validation callback": "The remote certificate was rejected by the provided "
    "RemoteCertificateValidationCallback.",
    ".NET credentials": "The credentials supplied to the package were not recognized",
    ".NET unexpected EOF": "Received an unexpected EOF or 0 bytes from the transport stream.",
    ".NET handshake failed": "The SSL connection could not be established, see inner exception.",
    "Node alert code": "  code: 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA'",
    "Node verify code": "  code: 'DEPTH_ZERO_SELF_SIGNED_CERT'",
    "Node host name": "Error: Hostname/IP does not match certificate's altnames: Host: api.example. is not "
    "in the cert's altnames: DNS:localhost",
    "Node socket closed": "Error: socket hang up",
    "Node key mismatch": "  code: 'ERR_OSSL_X509_KEY_VALUES_MISMATCH'",
    "Postman SSL Error": "SSL Error: Unable to verify the first certificate",
    "nginx 400 no certificate": "<head><title>400 No required SSL certificate was sent</title></head>",
    "nginx 400 certificate error": "<head><title>400 The SSL certificate error</title></head>",
    "nginx 400 plain HTTP": "<head><title>400 The plain HTTP request was sent to HTTPS port</title></head>",
    "HTTP 400 page": "<head><title>400 Bad Request</title></head>",
    "OpenSSL received-alert reason": "error:0A000412:SSL routines::sslv3 alert bad certificate",
    "OpenSSL received-alert reason (upper case)": "SSL routines:OPENSSL_internal:TLSV1_ALERT_UNKNOWN_CA",
    "OpenSSL SSL alert number": "ssl3_read_bytes:reason(1116):SSL alert number 116",
    "OpenSSL certificate verify failed": "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: "
    "self-signed certificate (_ssl.c:1006)",
    "OpenSSL verify reason": "Error: unable to verify the first certificate",
    "OpenSSL key values mismatch": "error:05800074:x509 certificate routines::key values mismatch",
    "OpenSSL unexpected eof": "error:0A000126:SSL routines::unexpected eof while reading",
    "OpenSSL wrong version number": "error:0A00010B:SSL routines::wrong version number",
    "s_client verify error": "verify error:num=20:unable to get local issuer certificate",
    "s_client verify return code": "Verify return code: 10 (certificate has expired)",
    "s_client verified": "    Verify return code: 0 (ok)",
    "s_client write errno": "write:errno=104",
    "openssl verify error": "error 20 at 0 depth lookup: unable to get local issuer certificate",
    "openssl verify failed": "error client.pem: verification failed",
    "openssl verify OK": "client.pem: OK",
    "peer not authenticated": "peer not authenticated",
    "Socket is closed": "Socket is closed",
    "Received fatal alert": "Received fatal alert: certificate_unknown",
    "REST test result status 400": "Method failed: (/v1/orders) with code: 400",
    "curl (35)": "curl: (35) Recv failure: Connection was aborted",
    "curl (56)": "curl: (56) Failure when receiving data from the peer",
}


def test_every_sign_has_an_example() -> None:
    from parsers.errortext import SIGNS

    assert set(SIGN_EXAMPLES) == {s.name for s in SIGNS}


@pytest.mark.parametrize("name", list(SIGN_EXAMPLES))
def test_sign_reads_its_example(name: str) -> None:
    from parsers.errortext import hot

    line = SIGN_EXAMPLES[name]
    assert hot(line), "no trigger word: add one to parsers.errortext.TRIGGER_WORDS"
    assert name in {s.sign for s in read_error_text(line).sightings}, line


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(list(SIGN_EXAMPLES.values())),
            st.text(max_size=80),
            st.sampled_from(["https://", "host='", "Connected to ", " port ", "-connect ", "(", ")", ":"]),
        ),
        max_size=12,
    ),
    st.sampled_from(["", " ", "\n", "\r\n", "  | "]),
)
def test_any_mix_is_read_without_a_crash(parts: list[str], glue: str) -> None:
    """Pieces of every recognised form cut and joined with anything: read and diagnosed, never a
    crash, and what is quoted is printable."""
    from inspector.rules.errortext_rules import diagnose

    reading = read_error_text(glue.join(parts))
    for d in diagnose(ErrorTextContext(reading, "t")):
        assert d.finding.code in {c.code for c in CODES}
    for s in reading.sightings:
        assert s.text.isprintable()
