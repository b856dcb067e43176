"""`probe` and `select --from-server` against hostile servers: a server
certificate whose subject cryptography cannot read, a server that resets the connection at once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.oddnames import ODD_CNS, key_pem, odd_cn, pem
from tests.servers import RawServer, reset

VARIANTS = ODD_CNS
RESET_LINE = "the server reset the connection before the ClientHello could be sent"


@pytest.mark.parametrize("variant", VARIANTS)
def test_probe_reads_an_odd_server_certificate_subject(cli, files, tmp_path, variant):  # type: ignore[no-untyped-def]
    """The server certificate's CN in an encoding OpenSSL accepts and cryptography refuses: a
    report (exit 1: the server refused the probe's empty Certificate), its subject shown as
    OpenSSL reads it — with --insecure and without (exit 70 before)."""
    from inspector.live.reference_server import ReferenceServer

    cert_der, holder = odd_cn(variant)
    (tmp_path / "odd.crt").write_bytes(pem(cert_der))
    (tmp_path / "odd.key").write_bytes(key_pem(holder))
    shown = {
        "t61": "CN=café ÿþ,O=Acme",
        "seq": "CN=#30050c03616263,O=Acme",
        "bitstr": "CN=#030300fffe,O=Acme",
        "ia5_8bit": "CN=a\ufffdb,O=Acme",
        "printable_bad": "CN=a\ufffdb,O=Acme",
    }[variant]
    with ReferenceServer(tmp_path / "odd.crt", tmp_path / "odd.key", [files / "acme-root.pem"]) as server:
        insecure = cli("probe", f"127.0.0.1:{server.port}", "--insecure", "--timeout", "5", "--json")
        checked = cli("probe", f"127.0.0.1:{server.port}", "--timeout", "5", "--json")
    for result in (insecure, checked):
        assert result.status == 1, result.err
        assert result.err == ""
        (attempt,) = result.json()["probe"]["attempts"]
        assert attempt["server_chain"] == [shown]
    problems = checked.json()["probe"]["attempts"][0]["server_verify_errors"]
    assert problems and {p["subject"] for p in problems} == {shown}
    assert "client-rejected" not in insecure.codes()


@pytest.fixture
def resetter() -> Iterator[RawServer]:
    """Accepts and resets at once, as a firewall or an overloaded server does."""
    with RawServer(reset) as server:
        yield server


@pytest.mark.parametrize("tries", range(5))
def test_a_server_resetting_at_once_is_one_line(cli, files, resetter, tries, monkeypatch):  # type: ignore[no-untyped-def]
    """Errno 107 (ENOTCONN) from getpeername after the reset was exit 70 on most runs. A reset
    before the ClientHello left is one line (exit 2); one after it, the connection-reset finding —
    never "No findings" with exit 0."""
    monkeypatch.setenv("MTLS_TEST_PW", "changeit")
    probe = cli("probe", f"127.0.0.1:{resetter.port}", "--timeout", "5")
    assert "internal error" not in probe.err
    if probe.status == 2:  # reset while connecting, or before the ClientHello left
        (line,) = probe.err.splitlines()
        # one line whether the reset beat the end of connect() or came just after it
        assert line.startswith(f"mtls-inspect: error: 127.0.0.1:{resetter.port}: {RESET_LINE} — "), line
    else:
        assert probe.status == 1, (probe.out, probe.err)
        assert "error[connection-reset]" in probe.out
    selected = cli(
        "select",
        "--keystore",
        str(files / "good.jks"),
        "--storepass-env",
        "MTLS_TEST_PW",
        "--from-server",
        f"127.0.0.1:{resetter.port}",
        "--timeout",
        "5",
    )
    assert "internal error" not in selected.err
    assert selected.status == 2, (selected.out, selected.err)
    (line,) = selected.err.splitlines()
    # the reset before the ClientHello left, or just after it (then select's own words: seen in
    # one CI run of many)
    target = f"127.0.0.1:{resetter.port}"
    after_hello = (
        f"mtls-inspect: error: --from-server {target}: the server reset the connection before any "
        f"CertificateRequest — run mtls-inspect probe {target} to see the handshake"
    )
    assert line.startswith(f"mtls-inspect: error: {target}: {RESET_LINE} — ") or line == after_hello, line
