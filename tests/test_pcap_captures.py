"""The sample captures (real handshakes, see captures/README.md): exact findings per capture."""

from __future__ import annotations

from pathlib import Path

import pytest

CAPTURES = Path(__file__).resolve().parent.parent / "captures"


def run(cli, name: str, *extra: str):  # type: ignore[no-untyped-def]
    return cli("pcap", str(CAPTURES / name), "--json", *extra)


def keys(name: str) -> str:
    return str(CAPTURES / name)


# capture → (error codes, other codes, outcome of connection 1)
EXPECTED = {
    "tls12-success.pcap": ([], [], "completed"),
    "tls12-no-client-cert.pcap": (
        ["client-cert-not-sent", "server-rejected-client-cert"],
        [],
        "handshake_failure from server",
    ),
    "tls12-unknown-ca.pcap": (
        ["server-rejected-client-cert"],
        ["issuer-not-in-ca-list"],
        "unknown_ca from server",
    ),
    "tls12-expired.pcap": (
        ["client-cert-expired", "server-rejected-client-cert"],
        [],
        "certificate_expired from server",
    ),
    "tls12-leaf-only.pcap": (
        ["client-chain-incomplete", "server-rejected-client-cert"],
        ["issuer-not-in-ca-list"],
        "unknown_ca from server",
    ),
    "tls12-sigalg-mismatch.pcap": (
        ["client-cert-not-sent", "no-acceptable-key-type", "server-rejected-client-cert"],
        [],
        "handshake_failure from server",
    ),
    "tls12-empty-ca-list.pcap": ([], ["ca-list-empty"], "completed"),
    "tls12-server-untrusted.pcap": (["client-rejected-server-cert"], [], "unknown_ca from client"),
    "tls12-server-only-1.3.pcap": (["negotiation-failed"], [], "protocol_version from server"),
    "tls12-frag512.pcap": ([], [], "completed"),
    "tls12-mss1448.pcap": ([], [], "completed"),
    "tls12-any-interface.pcap": (
        ["server-rejected-client-cert"],
        ["issuer-not-in-ca-list"],
        "unknown_ca from server",
    ),
    "tls13-success.pcap": ([], ["handshake-encrypted-no-keylog"], "completed? (encrypted)"),
    "tls13-certificate-required.pcap": (
        ["handshake-encrypted-no-keylog"],
        [],
        "closed after a 19-byte record (alert?)",
    ),
    "tls13-secrets.pcapng": ([], [], "completed"),
    "tls13-hello-retry.pcap": ([], ["handshake-encrypted-no-keylog"], "completed? (encrypted)"),
    "tls12-resumed.pcap": ([], ["session-resumed"], "completed"),
    "tls13-resumed.pcap": (
        [],
        ["handshake-encrypted-no-keylog", "session-resumed"],
        "completed? (encrypted)",
    ),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_capture_findings(cli, name):  # type: ignore[no-untyped-def]
    errors, others, outcome = EXPECTED[name]
    result = run(cli, name)
    doc = result.json()
    assert doc["schema"] == "mtls-inspector/pcap"
    assert result.error_codes() == sorted(errors)
    assert sorted(set(result.codes()) - set(errors)) == sorted(others)
    assert doc["connections"][0]["outcome"] == outcome
    assert result.status == (1 if errors else 0)


@pytest.mark.parametrize(
    ("name", "alert"),
    [
        ("tls13-certificate-required", "certificate_required"),
        ("tls13-unknown-ca", "unknown_ca"),
    ],
)
def test_tls13_with_keylog_reads_the_alert(cli, name, alert):  # type: ignore[no-untyped-def]
    result = run(cli, f"{name}.pcap", "--keylog", keys(f"{name}.keys"))
    conn = result.json()["connections"][0]
    assert conn["decrypted"] is True
    assert conn["outcome"] == f"{alert} from server"
    assert "server-rejected-client-cert" in result.error_codes()
    assert "handshake-encrypted-no-keylog" not in result.codes()
    request = next(e for e in conn["events"] if e["message"].startswith("CertificateRequest"))
    assert request["ca_names"] == ["CN=Acme Root CA,O=Acme"]
    assert request["encrypted"] is True


def test_tls13_certificate_required_sees_the_empty_certificate(cli):  # type: ignore[no-untyped-def]
    result = run(cli, "tls13-certificate-required.pcap", "--keylog", keys("tls13-certificate-required.keys"))
    assert result.error_codes() == ["client-cert-not-sent", "server-rejected-client-cert"]
    conn = result.json()["connections"][0]
    assert conn["client_cert"] == "empty"
    alert = conn["events"][-1]
    assert alert["alert"] == {
        "level": 2,
        "description": 116,
        "name": "certificate_required",
        "readable": True,
    }


def test_tls12_keylog_decrypts_application_data(cli):  # type: ignore[no-untyped-def]
    result = run(cli, "tls12-success.pcap", "--keylog", keys("tls12-success.keys"))
    events = result.json()["connections"][0]["events"]
    lines = [e["message"] for e in events if e["message"].startswith("ApplicationData")]
    assert any('"GET / HTTP/1.0"' in m for m in lines)
    assert any('"HTTP/1.0 200 ok"' in m for m in lines)
    assert events[-1]["alert"]["name"] == "close_notify"


def test_ipv6_and_resegmented_tls13_with_keylog(cli):  # type: ignore[no-untyped-def]
    for name, keyfile in (
        ("tls13-ipv6.pcap", "tls13-ipv6.keys"),
        ("tls13-mss1448.pcap", "tls13-success.keys"),
    ):
        result = run(cli, name, "--keylog", keys(keyfile))
        conn = result.json()["connections"][0]
        assert conn["outcome"] == "completed", name
        assert conn["client_cert"] == "CN=letstestcba"
        assert result.codes() == []
    assert run(cli, "tls13-ipv6.pcap").json()["connections"][0]["client"].startswith("[::1]:")


def test_pcapng_secrets_are_used_without_keylog(cli):  # type: ignore[no-untyped-def]
    doc = run(cli, "tls13-secrets.pcapng").json()
    assert doc["capture"]["format"] == "pcapng"
    assert doc["capture"]["embedded_secrets"] == 1
    assert doc["connections"][0]["decrypted"] is True


def test_fragmented_records_are_joined(cli):  # type: ignore[no-untyped-def]
    conn = run(cli, "tls12-frag512.pcap").json()["connections"][0]
    cert = next(
        e for e in conn["events"] if e["message"].startswith("Certificate (") and e["direction"] == "client"
    )
    assert [c["subject"] for c in cert["chain"]] == ["CN=letstestcba,O=Acme", "CN=Acme Issuing CA,O=Acme"]


def test_truncated_file_decodes_what_is_there(cli):  # type: ignore[no-untyped-def]
    result = run(cli, "truncated.pcap")
    doc = result.json()
    assert result.status == 0
    assert "truncated capture" in doc["capture"]["problems"][0]
    assert "capture-incomplete" in result.codes()
    assert doc["connections"][0]["cert_requested"] == "yes"


def test_several_connections_and_filters(cli):  # type: ignore[no-untyped-def]
    doc = run(cli, "several.pcap").json()
    assert [c["outcome"] for c in doc["connections"]] == [
        "completed",
        "handshake_failure from server",
        "closed after a 19-byte record (alert?)",
        "unknown_ca from server",
    ]
    one = run(cli, "several.pcap", "--connection", "4").json()
    assert [c["index"] for c in one["connections"]] == [4]
    port = run(cli, "several.pcap", "--port", "44302").json()
    assert [c["index"] for c in port["connections"]] == [2]
    missing = cli("pcap", str(CAPTURES / "several.pcap"), "--connection", "9")
    assert missing.status == 2 and "no TLS connection #9" in missing.err


def test_text_report_has_table_ladder_and_details(cli):  # type: ignore[no-untyped-def]
    result = cli("pcap", str(CAPTURES / "tls12-unknown-ca.pcap"), "--connection", "1")
    out = result.out
    assert "unknown_ca from server" in out
    assert "◄───  Alert unknown_ca  ✗ fails here" in out
    assert "CA names the server accepts (1):" in out and "- CN=Acme Root CA,O=Acme" in out
    assert "error[server-rejected-client-cert]" in out


def test_default_sample_needs_no_argument(cli):  # type: ignore[no-untyped-def]
    result = cli("pcap", "--json")
    assert result.json()["capture"]["path"].endswith("several.pcap")


def test_hello_retry_request_then_decryption(cli):  # type: ignore[no-untyped-def]
    result = run(cli, "tls13-hello-retry.pcap", "--keylog", keys("tls13-hello-retry.keys"))
    conn = result.json()["connections"][0]
    messages = [e["message"] for e in conn["events"]]
    assert messages[:6] == [
        "ClientHello",
        "HelloRetryRequest",
        "ChangeCipherSpec",
        "ChangeCipherSpec",
        "ClientHello",
        "ServerHello",
    ]
    assert conn["outcome"] == "completed" and conn["client_cert"] == "CN=letstestcba"
    assert result.codes() == []


def test_resumed_sessions_are_not_missing_requests(cli):  # type: ignore[no-untyped-def]
    for name in ("tls12-resumed", "tls13-resumed"):
        result = run(cli, f"{name}.pcap", "--keylog", keys(f"{name}.keys"))
        first, second = result.json()["connections"]
        assert first["cert_requested"] == "yes" and first["client_cert"] == "CN=letstestcba"
        assert second["cert_requested"] == "no (resumed)"
        assert "no-certificate-request" not in result.codes()
        assert "session-resumed" in result.codes()


def test_key_log_of_another_session_is_named(cli):  # type: ignore[no-untyped-def]
    result = run(cli, "tls13-success.pcap", "--keylog", keys("tls13-unknown-ca.keys"))
    finding = next(f for f in result.json()["findings"] if f["code"] == "handshake-encrypted-no-keylog")
    assert "has no secrets for this connection" in finding["summary"]
