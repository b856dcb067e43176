"""`--redact` that holds: every host name and address — SNI, the probe's
target, the --from-server host, the proxy, server names inside a Java log — is gone from the
whole page (title, headings, verdict, SVG, attributes, embedded JSON): the test greps the page
for each original name."""

from __future__ import annotations

import re
from pathlib import Path

from tests.live.proxy import ConnectProxy

CAPTURES = Path(__file__).resolve().parents[2] / "captures"


def _modern(message: str, ms: int = 0) -> str:
    return f"javax.net.ssl|DEBUG|01|main|2026-11-27 13:15:35.{ms:03d} UTC|Foo.java:1|{message}"


def _java_log_with_sni(host: str) -> str:
    """A JDK 11+ client log: a ClientHello with SNI `host`, then Java refusing the server's name."""
    refusal = f"No subject alternative DNS name matching {host} found."
    return "\n".join(
        [
            _modern("Produced ClientHello handshake message ("),
            '"ClientHello": {',
            '  "client version"      : "TLSv1.2",',
            '  "cipher suites"       : "[TLS_AES_128_GCM_SHA256(0x1301)]",',
            '  "extensions"          : [',
            '    "server_name (0)": {',
            f"      type=host_name (0), value={host}",
            "    },",
            "  ]",
            "}",
            ")",
            _modern("Consuming ServerHello handshake message (", 5),
            '"ServerHello": {',
            '  "server version"      : "TLSv1.2",',
            '  "cipher suite"        : "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384(0xC030)",',
            "}",
            ")",
            _modern(f"Fatal (CERTIFICATE_UNKNOWN): {refusal} (", 9),
            '"throwable" : {',
            f"  java.security.cert.CertificateException: {refusal}",
            "}",
            ")",
            f"javax.net.ssl.SSLHandshakeException: {refusal}",
        ]
    )


def _leaks(page: str, *names: str) -> dict[str, int]:
    return {name: n for name in names if (n := len(re.findall(re.escape(name), page, re.I)))}


def test_log_page_keeps_no_sni(cli, tmp_path):  # type: ignore[no-untyped-def]
    log = tmp_path / "client.log"
    log.write_text(_java_log_with_sni("wrong.example"))
    page = tmp_path / "log.html"
    result = cli("log", str(log), "--html", str(page), "--redact")
    assert result.status == 1, result.err
    text = page.read_text()
    assert _leaks(text, "wrong.example") == {}  # was 8: summary, evidence, fix, embedded JSON
    assert "host-1" in text


def test_select_from_server_page_keeps_no_host(cli, files, serve, tmp_path):  # type: ignore[no-untyped-def]
    server = serve()
    page = tmp_path / "select.html"
    result = cli(
        "select",
        "--keystore",
        str(files / "good.jks"),
        "--storepass",
        "changeit",
        "--from-server",
        f"localhost:{server.port}",
        "--html",
        str(page),
        "--redact",
    )
    assert result.status in (0, 1), result.err
    text = page.read_text()
    assert _leaks(text, "localhost", "127.0.0.1") == {}  # was 4: title, h1, verdict
    assert "<title>mtls-inspector select report: server host-1:" in text


def test_probe_through_a_proxy_page_keeps_no_host(cli, files, serve, tmp_path):  # type: ignore[no-untyped-def]
    server = serve()
    page = tmp_path / "probe.html"
    with ConnectProxy() as proxy:
        result = cli(
            "probe",
            f"localhost:{server.port}",
            "--proxy",
            f"127.0.0.1:{proxy.port}",
            "--insecure",
            "--html",
            str(page),
            "--redact",
        )
    assert result.status in (0, 1), result.err
    assert _leaks(page.read_text(), "localhost", "127.0.0.1") == {}


def test_pcap_page_keeps_no_host(cli, tmp_path):  # type: ignore[no-untyped-def]
    page = tmp_path / "pcap.html"
    result = cli("pcap", str(CAPTURES / "several.pcap"), "--html", str(page), "--redact")
    assert result.status == 1, result.err
    assert _leaks(page.read_text(), "localhost", "127.0.0.1") == {}
