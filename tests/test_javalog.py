"""`mtls-inspect log` on logs in the documented formats (docs/reference.md): JDK 8, which cannot be
installed here, pasted exceptions, and bad input. Real JDK 11-25 logs: tests/live/test_java_logs.py."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from parsers.javalog.names import parse_dn, split_dn_list


@pytest.fixture(autouse=True)
def no_jdk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hermetic: the machine's JDK cacerts plays no part (tests/live compares with real Java)."""
    monkeypatch.setattr("inspector.java.trust.find_jdk_cacerts", lambda: None)


JDK8_CHAIN_ENTRY = """chain [{n}] = [
[
  Version: V3
  Subject: {subject}
  Signature Algorithm: SHA256withRSA, OID = 1.2.840.113549.1.1.11

  Key:  Sun RSA public key, 2048 bits
  modulus: 2342
  public exponent: 65537
  Validity: [From: Thu Nov 26 13:15:33 UTC 2026,
               To: Wed Sep 23 13:15:33 UTC 2099]
  Issuer: {issuer}
  SerialNumber: [    2695c868 dc474f5f]

Certificate Extensions: 1
[1]: ObjectId: 2.5.29.17 Criticality=false
SubjectAlternativeName [
  DNSName: api.partner.example
]

]
  Algorithm: [SHA256withRSA]
  Signature:
0000: 12 34 56 78                                        .4Vx

]"""


def chain8(*pairs: tuple[str, str]) -> str:
    return "\n".join(JDK8_CHAIN_ENTRY.format(n=i, subject=s, issuer=iss) for i, (s, iss) in enumerate(pairs))


SERVER8 = chain8(
    ("CN=api.partner.example, O=Partner, C=DE", "CN=Partner Issuing CA, O=Partner, C=DE"),
    ("CN=Partner Issuing CA, O=Partner, C=DE", "CN=Partner Root CA, O=Partner, C=DE"),
)
CLIENT8 = chain8(
    ("CN=duke, O=Acme", "CN=Acme Issuing CA, O=Acme"),
    ("CN=Acme Issuing CA, O=Acme", "CN=Acme Root CA, O=Acme"),
)


def jdk8_log(request_names: list[str], client: str | None, ending: str) -> str:
    names = "\n".join(f"<{n}>" for n in request_names) or "<Empty>"
    client_part = (
        "Warning: no suitable certificate found - continuing without client authentication\n"
        "*** Certificate chain\n<Empty>\n***\n"
        if client is None
        else f"matching alias: duke\n*** Certificate chain\n{client}\n***\n"
    )
    verify = "" if client is None else "*** CertificateVerify\nSignature Algorithm SHA256withRSA\n"
    return f"""keyStore is : /app/client.jks
keyStore type is : jks
init keymanager of type SunX509
***
found key for : duke
{CLIENT8}
***
trustStore is: /usr/lib/jvm/java-8-openjdk/jre/lib/security/cacerts
Allow unsafe renegotiation: false
%% No cached client session
*** ClientHello, TLSv1.2
RandomCookie:  GMT: 1617027553 bytes = {{ 12, 34 }}
Session ID:  {{}}
Cipher Suites: [TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, TLS_RSA_WITH_AES_128_CBC_SHA]
Extension signature_algorithms, signature_algorithms: SHA512withECDSA, SHA256withRSA
Extension server_name, server_name: [type=host_name (0), value=api.partner.example]
***
main, WRITE: TLSv1.2 Handshake, length = 200
2026-11-27 10:00:00,001 INFO  [scheduler-1] c.e.Jobs - nightly job started
main, READ: TLSv1.2 Handshake, length = 89
*** ServerHello, TLSv1.2
Cipher Suite: TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
***
%% Initialized:  [Session-1, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384]
main, READ: TLSv1.2 Handshake, length = 2000
*** Certificate chain
{SERVER8}
***
*** ECDH ServerKeyExchange
Signature Algorithm SHA256withRSA
*** CertificateRequest
Cert Types: RSA, DSS, ECDSA
Supported Signature Algorithms: SHA512withECDSA, SHA512withRSA, SHA256withECDSA, SHA256withRSA
Cert Authorities:
{names}
*** ServerHelloDone
{client_part}*** ECDHClientKeyExchange
ECDH Public value:  {{ 4, 1, 2 }}
main, WRITE: TLSv1.2 Handshake, length = 77
{verify}main, WRITE: TLSv1.2 Change Cipher Spec, length = 1
*** Finished
verify_data:  {{ 1, 2, 3 }}
***
{ending}"""


FAILED8 = (
    "main, READ: TLSv1.2 Alert, length = 2\n"
    "main, RECV TLSv1.2 ALERT:  fatal, handshake_failure\n"
    "%% Invalidated:  [Session-1, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384]\n"
    "main, called closeSocket()\n"
    "main, handling exception: javax.net.ssl.SSLHandshakeException: Received fatal alert: handshake_failure\n"
    "javax.net.ssl.SSLHandshakeException: Received fatal alert: handshake_failure\n"
    "\tat sun.security.ssl.Alerts.getSSLException(Alerts.java:192)\n"
)
SUCCESS8 = "main, READ: TLSv1.2 Change Cipher Spec, length = 1\n*** Finished\nverify_data:  { 9 }\n***\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_jdk8_no_suitable_certificate(cli, tmp_path):  # type: ignore[no-untyped-def]
    names = ["CN=Partner Root CA, O=Partner, C=DE", "CN=Other Root, O=Other Org, C=US"]
    path = write(tmp_path, "jdk8.log", jdk8_log(names, None, FAILED8))
    result = cli("log", str(path), "--json")
    document = result.json()
    assert result.status == 1
    assert document["log"]["format"] == "JDK 8"
    assert [(e["alias"], e["chain_length"]) for e in document["log"]["key_entries"]] == [("duke", 2)]
    (hs,) = document["handshakes"]
    assert hs["server_name"] == "api.partner.example"
    assert hs["client_cert"] == "empty"
    assert hs["outcome"] == "handshake_failure from server"
    request = next(e for e in hs["events"] if e["message"].startswith("CertificateRequest"))
    assert request["ca_names"] == ["CN=Partner Root CA,O=Partner,C=DE", "CN=Other Root,O=Other Org,C=US"]
    assert request["certificate_types"] == [1, 2, 64]
    server = next(e for e in hs["events"] if e["direction"] == "server" and e.get("chain"))
    assert [c["subject"] for c in server["chain"]] == [
        "CN=api.partner.example,O=Partner,C=DE",
        "CN=Partner Issuing CA,O=Partner,C=DE",
    ]
    codes = {f["code"] for f in document["findings"] if f["severity"] == "error"}
    assert codes == {"client-cert-not-sent", "server-rejected-client-cert"}
    not_sent = next(f for f in document["findings"] if f["code"] == "client-cert-not-sent")
    assert any("no suitable certificate found" in e["fact"] for e in not_sent["evidence"])
    lines = path.read_text().splitlines()
    line = int(next(e for e in not_sent["evidence"] if "suitable" in e["fact"])["source"].split()[-1])
    assert lines[line - 1].startswith("Warning: no suitable certificate found")


def test_jdk8_success_with_the_clients_chain(cli, tmp_path):  # type: ignore[no-untyped-def]
    path = write(tmp_path, "ok8.log", jdk8_log(["CN=Acme Root CA, O=Acme"], CLIENT8, SUCCESS8))
    result = cli("log", str(path), "--json")
    (hs,) = result.json()["handshakes"]
    assert result.status == 0, result.out
    assert hs["outcome"] == "completed"
    assert hs["client_cert"] == "CN=duke"
    assert hs["matching_aliases"] == ["duke"]
    client = next(e for e in hs["events"] if e["direction"] == "client" and e.get("chain"))
    assert [c["issuer"] for c in client["chain"]] == ["CN=Acme Issuing CA,O=Acme", "CN=Acme Root CA,O=Acme"]


_PKIX = (
    "PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: "
    "unable to find valid certification path to requested target"
)
PKIX_TRACE = (
    f"javax.net.ssl.SSLHandshakeException: {_PKIX}\n"
    "\tat java.base/sun.security.ssl.Alert.createSSLException(Alert.java:131)\n"
    "\tat java.base/sun.security.ssl.TransportContext.fatal(TransportContext.java:378)\n"
    f"Caused by: sun.security.validator.ValidatorException: {_PKIX}\n"
    "\tat java.base/sun.security.validator.PKIXValidator.doBuild(PKIXValidator.java:439)\n"
    "Caused by: sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid "
    "certification path to requested target\n"
    "\tat java.base/sun.security.provider.certpath.SunCertPathBuilder.build(SunCertPathBuilder.java:141)\n"
)


def test_a_pasted_pkix_stack_trace_is_explained(cli, tmp_path):  # type: ignore[no-untyped-def]
    path = write(tmp_path, "ticket.txt", PKIX_TRACE)
    result = cli("log", str(path), "--json")
    document = result.json()
    assert result.status == 1
    (finding,) = [f for f in document["findings"] if f["severity"] == "error"]
    assert finding["code"] == "java-exception"
    assert "said by the client (its trust manager)" in finding["summary"]
    assert "mtls-inspect probe HOST:PORT --truststore TRUSTSTORE" in finding["fix"]
    assert [e["source"] for e in finding["evidence"]] == ["log line 1", "log line 4", "log line 6"]
    assert len(document["log"]["exceptions"][0]["chain"]) == 3


def test_an_application_log_line_with_a_server_alert(cli, tmp_path):  # type: ignore[no-untyped-def]
    text = (
        "2026-11-27 10:00:00,123 INFO  [main] c.e.Client - calling partner\n"
        "2026-11-27 10:00:00,456 ERROR [main] c.e.Client - call failed: "
        "javax.net.ssl.SSLHandshakeException: Received fatal alert: bad_certificate\n"
    )
    result = cli("log", str(write(tmp_path, "app.log", text)))
    assert result.status == 1
    assert "Java's trust not judged: no --truststore given" in result.out
    assert "error[java-received-fatal-alert]" in result.out
    assert "said by the server" in result.out
    assert "--> " in result.out and "log line 2" in result.out


def test_tls12_ca_list_is_split_where_the_attribute_order_restarts() -> None:
    names, guessed = split_dn_list(
        "CN=Corpus Root CA, O=Corpus PKI, C=US, CN=Unrelated Root CA, O=Unrelated Org, C=DE"
    )
    assert names == ["CN=Corpus Root CA, O=Corpus PKI, C=US", "CN=Unrelated Root CA, O=Unrelated Org, C=DE"]
    assert guessed
    name = parse_dn('CN=Widget, O="Acme, Inc.", OU=Ops + UID=42, C=US')
    assert name is not None
    assert name.rfc4514_string() == "CN=Widget,O=Acme\\, Inc.,OU=Ops+UID=42,C=US"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b"hello\nthis is not a java log\n",
            "no javax.net.debug output and no Java exception in its 2 lines",
        ),
        (bytes(range(256)) * 40, "binary data, not a text log"),
        (gzip.compress(b"javax.net.ssl|DEBUG|01|main|x\n" * 100)[:40], "cannot read"),
        (b"", "no javax.net.debug output and no Java exception in its 0 lines"),
    ],
)
def test_bad_input_is_one_line(cli, tmp_path, content, message):  # type: ignore[no-untyped-def]
    path = tmp_path / "input.log"
    path.write_bytes(content)
    result = cli("log", str(path))
    err = result.err
    assert result.status == 2
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_missing_file_and_directory(cli, tmp_path):  # type: ignore[no-untyped-def]
    missing = cli("log", str(tmp_path / "nope.log"))
    assert missing.status == 2
    assert "no such file" in missing.err
    directory = cli("log", str(tmp_path))
    assert directory.status == 2
    assert "is a directory" in directory.err


def test_every_truncation_of_a_jdk8_log_gives_a_report(cli, tmp_path):  # type: ignore[no-untyped-def]
    text = jdk8_log(["CN=Partner Root CA, O=Partner, C=DE"], None, FAILED8).encode()
    for cut in range(0, len(text), max(1, len(text) // 40)):
        path = tmp_path / "cut.log"
        path.write_bytes(text[:cut])
        result = cli("log", str(path))
        err = result.err
        assert result.status in (0, 1, 2)
        assert "internal error" not in err and "Traceback" not in err


PKIX8 = (
    "http-nio-8080-exec-1, SEND TLSv1.2 ALERT:  fatal, description = certificate_unknown\n"
    "http-nio-8080-exec-1, WRITE: TLSv1.2 Alert, length = 2\n"
    "http-nio-8080-exec-1, called closeSocket()\n"
    f"http-nio-8080-exec-1, handling exception: javax.net.ssl.SSLHandshakeException: {_PKIX}\n"
)


def test_jdk8_client_rejecting_the_server(cli, tmp_path):  # type: ignore[no-untyped-def]
    text = jdk8_log(["CN=Partner Root CA, O=Partner, C=DE"], None, "").split("*** CertificateRequest")[0]
    text = text.replace("main, ", "http-nio-8080-exec-1, ") + PKIX8
    result = cli("log", str(write(tmp_path, "pkix8.log", text)), "--json")
    document = result.json()
    assert result.status == 1
    (hs,) = document["handshakes"]
    assert hs["thread"] == "http-nio-8080-exec-1"
    assert hs["outcome"] == "certificate_unknown sent by Java"
    codes = {f["code"] for f in document["findings"] if f["severity"] == "error"}
    assert codes == {"client-rejected-server-cert", "java-pkix-path-failed"}
    pkix = next(f for f in document["findings"] if f["code"] == "java-pkix-path-failed")
    assert "no trust anchor for CN=Partner Root CA,O=Partner,C=DE" in pkix["summary"]


def modern(thread: str, message: str, ms: int = 0) -> str:
    return f"javax.net.ssl|DEBUG|{thread}|2026-11-27 13:15:35.{ms:03d} IRST|Foo.java:1|{message}"


SNIPPET = [
    modern("9B 1E|pool|1", "Produced ClientHello handshake message ("),
    '"ClientHello": {',
    '  "client version"      : "TLSv1.2",',
    '  "cipher suites"       : "[TLS_AES_128_GCM_SHA256(0x1301)]",',
    '  "extensions"          : [',
    '    "server_name (0)": {',
    "      type=host_name (0), value=api.partner.example",
    "    },",
    "  ]",
    "}",
    ")",
    modern("9B 1E|pool|1", "Consuming ServerHello handshake message (", 5),
    '"ServerHello": {',
    '  "server version"      : "TLSv1.2",',
    '  "cipher suite"        : "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384(0xC030)",',
    "}",
    ")",
    modern("9B 1E|pool|1", "Consuming CertificateRequest handshake message (", 9),
    '"CertificateRequest": {',
    '  "certificate types": [rsa_sign, dss_sign, ecdsa_sign]',
    '  "supported signature algorithms": [rsa_pkcs1_sha256, ecdsa_secp256r1_sha256]',
    '  "certificate authorities": [CN=Corpus Root CA, O=Corpus PKI, C=US, '
    "CN=Unrelated Root CA, O=Unrelated Org, C=DE]",
    "}",
    ")",
    modern("9B 1E|pool|1", "No X.509 cert selected for [EC, EdDSA, RSASSA-PSS, RSA, DSA]", 10),
    modern("9B 1E|pool|1", "No available authentication scheme", 10),
    modern("9B 1E|pool|1", "Produced client Certificate handshake message (", 11),
    '"Certificates": <empty list>',
    ")",
]


def test_thread_ids_with_spaces_pipes_in_names_and_an_unknown_zone(cli, tmp_path):  # type: ignore[no-untyped-def]
    path = write(tmp_path, "snippet.log", "\r\n".join(SNIPPET) + "\r\n")
    document = cli("log", str(path), "--json").json()
    (hs,) = document["handshakes"]
    assert hs["thread"] == "pool|1"
    assert hs["server_name"] == "api.partner.example"
    request = next(e for e in hs["events"] if e["message"].startswith("CertificateRequest"))
    assert request["ca_names"] == [
        "CN=Corpus Root CA,O=Corpus PKI,C=US",
        "CN=Unrelated Root CA,O=Unrelated Org,C=DE",
    ]
    assert request["time"] == 0.009
    notes = [f for f in document["findings"] if f["code"] == "log-cannot-show"]
    assert any(
        "split where the attribute order starts again" in e["fact"] for f in notes for e in f["evidence"]
    )
    assert not any("IRST" in f["summary"] for f in notes)  # IRST is a known zone (+03:30)
    assert "client-cert-not-sent" in {f["code"] for f in document["findings"]}


@pytest.mark.parametrize("seed", range(12))
def test_shuffled_and_dropped_lines_never_crash(cli, tmp_path, seed):  # type: ignore[no-untyped-def]
    import random

    rng = random.Random(seed)
    lines = SNIPPET + jdk8_log(["CN=A"], None, FAILED8).splitlines()
    picked = [line for line in lines if rng.random() > 0.2]
    rng.shuffle(picked)
    result = cli("log", str(write(tmp_path, f"soup{seed}.log", "\n".join(picked))))
    assert result.status in (0, 1, 2)
    assert "internal error" not in result.err


def test_a_pasted_hostname_exception_fills_in_the_host(cli, tmp_path):  # type: ignore[no-untyped-def]
    text = (
        "javax.net.ssl.SSLHandshakeException: (certificate_unknown) No subject alternative DNS name "
        "matching api.partner.example found.\n"
        "\tat java.base/sun.security.ssl.Alert.createSSLException(Unknown Source)\n"
        "Caused by: java.security.cert.CertificateException: No subject alternative DNS name matching "
        "api.partner.example found.\n"
    )
    result = cli("log", str(write(tmp_path, "host.txt", text)), "--json")
    (finding,) = result.json()["findings"]
    assert finding["code"] == "java-exception"
    assert "said by the client (HTTPS endpoint identification)" in finding["summary"]
    assert "mtls-inspect probe api.partner.example --insecure" in finding["fix"]


_READ_LOG = """
from parsers.javalog import open_log, read_log

def run(path):
    reader = read_log(open_log(path))
    handshakes = list(reader.handshakes())
    return [len(handshakes), reader.summary.problems, reader.summary.lines, handshakes[0].first_line]
"""


def test_a_line_that_never_ends_is_skipped_with_bounded_memory(tmp_path: Path) -> None:
    """Read in a fresh process, whose peak is its own (tests/helpers/memory.py): a reader that
    held the line grows 80 MB; this one about 20 (its 8 MB limit, read in chunks)."""
    from tests.helpers.memory import measure

    path = tmp_path / "long.log"
    head = jdk8_log(["CN=A"], None, FAILED8)
    with path.open("w") as out:
        out.write("x" * (40 << 20))  # 40 MB without a newline
        out.write("\n" + head)
    read = measure(_READ_LOG, str(path))
    count, problems, lines, first_line = read.result
    assert count == 1
    assert problems == ["1 line(s) longer than 8 MB skipped"]
    assert lines == head.count("\n") + 1
    hello = head.splitlines().index("*** ClientHello, TLSv1.2")
    assert first_line == hello + 2  # line numbers still right after the skipped line
    assert read.grown_mb < 40  # the line is 40 MB: holding it would show (80 MB measured)


def test_gzip_on_stdin(tmp_path: Path) -> None:
    import subprocess
    import sys

    packed = gzip.compress(jdk8_log(["CN=Partner Root CA, O=Partner, C=DE"], None, FAILED8).encode())
    done = subprocess.run(
        [sys.executable, "-m", "inspector", "log", "-"], input=packed, capture_output=True, timeout=60
    )
    assert done.returncode == 1
    assert b"Java log stdin: JDK 8 format" in done.stdout
    assert b"error[client-cert-not-sent]" in done.stdout
