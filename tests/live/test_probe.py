"""`probe`, `select` and `serve` against real peers on 127.0.0.1."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import stat
import subprocess
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import tls_bytes as TB
from tests.live.conftest import PW
from tests.servers import RawServer, reset


def probe(cli, port, *extra):  # type: ignore[no-untyped-def]
    return cli("probe", f"127.0.0.1:{port}", "--insecure", "--storepass", PW, "--json", *extra)


def ks(files, name):  # type: ignore[no-untyped-def]
    return ["--keystore", str(files / name)]


@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_success_presents_the_java_choice(cli, files, serve, version):  # type: ignore[no-untyped-def]
    server = serve(tls_version=version)
    result = probe(cli, server.port, *ks(files, "good.jks"))
    doc = result.json()
    assert result.status == 0, result.out
    assert doc["connections"][0]["outcome"] == "completed"
    assert [a["alias"] for a in doc["probe"]["attempts"]] == ["letstestcba"]
    assert doc["probe"]["attempts"][0]["certificate_request_seen"] is True
    assert "one handshake" in doc["probe"]["steps"][-1]
    assert doc["connections"][0]["client_cert"] == "CN=letstestcba"
    assert doc["connections"][0]["selection"]["pkix"] == "letstestcba"
    # chosen while the handshake ran: the server saw one connection, and accepted it
    reports = server.wait_for(1)
    assert len(reports) == 1 and reports[0].accepted


@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_issuer_not_in_ca_list_java_sends_empty(cli, files, serve, version):  # type: ignore[no-untyped-def]
    server = serve(tls_version=version)
    result = probe(cli, server.port, *ks(files, "stranger.jks"))
    doc = result.json()
    assert result.status == 1
    assert len(doc["probe"]["attempts"]) == 1 and len(server.wait_for(1)) == 1
    assert "an empty Certificate was sent, as Java does" in doc["probe"]["steps"][-1]
    assert {"client-cert-not-sent", "issuer-not-in-ca-list", "server-rejected-client-cert"} <= set(
        result.error_codes()
    )
    # OpenSSL (curl) sends the configured certificate anyway: unknown_ca
    forced = probe(cli, server.port, *ks(files, "stranger.jks"), "--alias", "stranger")
    assert forced.json()["connections"][0]["outcome"] == "unknown_ca from server"


def test_empty_ca_list_two_entries(cli, files, serve):  # type: ignore[no-untyped-def]
    server = serve(send_ca_names=False)
    result = probe(cli, server.port, *ks(files, "two.jks"))
    doc = result.json()
    assert "ca-list-empty" in result.codes()
    # no longer "one of": Java's JKS Hashtable enumerates stranger first
    assert doc["connections"][0]["selection"]["pkix_possible"] == ["stranger"]


@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_leaf_without_intermediate(cli, files, serve, version):  # type: ignore[no-untyped-def]
    server = serve(tls_version=version)
    java = probe(cli, server.port, *ks(files, "leafonly.jks"))
    assert "issuer-not-in-ca-list" in java.error_codes()  # Java: issuer (intermediate) not named
    forced = probe(cli, server.port, *ks(files, "leafonly.jks"), "--alias", "letstestcba")
    assert {"client-chain-incomplete", "server-rejected-client-cert"} <= set(forced.error_codes())
    assert "unknown_ca" in forced.json()["connections"][0]["outcome"]


def test_expired_client_certificate(cli, files, s_server):  # type: ignore[no-untyped-def]
    port = s_server("-CAfile", "acme-root.pem", version="1.2")
    result = probe(cli, port, *ks(files, "expired.jks"))
    assert {"client-cert-expired", "server-rejected-client-cert"} <= set(result.error_codes())
    assert result.json()["connections"][0]["outcome"] == "certificate_expired from server"


def test_server_auth_only_eku(cli, files, s_server):  # type: ignore[no-untyped-def]
    port = s_server("-CAfile", "acme-root.pem", version="1.3")
    result = probe(cli, port, *ks(files, "servereku.jks"))
    outcome = result.json()["connections"][0]["outcome"]
    assert outcome == "unsupported_certificate from server"
    assert "server-rejected-client-cert" in result.error_codes()


def test_certificate_required_tls13_without_keystore(cli, s_server):  # type: ignore[no-untyped-def]
    port = s_server("-CAfile", "acme-root.pem", version="1.3")
    result = cli("probe", f"127.0.0.1:{port}", "--insecure", "--json")
    conn = result.json()["connections"][0]
    assert conn["outcome"] == "certificate_required from server"
    assert conn["decrypted"] is True  # the probe's own key log decrypts TLS 1.3


def test_verify_cafile_differs_from_named_cas(cli, files, s_server):  # type: ignore[no-untyped-def]
    """The server names Stranger Root but trusts Acme Root: curl works, Java does not."""
    port = s_server("-CAfile", "stranger-root.pem", "-verifyCAfile", "acme-root.pem", version="1.2")
    java = probe(cli, port, *ks(files, "good.jks"))
    assert "issuer-not-in-ca-list" in java.error_codes()
    curl = probe(cli, port, *ks(files, "good.jks"), "--alias", "letstestcba")
    assert curl.json()["connections"][0]["outcome"] == "completed"


def test_nginx_answers_400_after_a_completed_handshake(cli, nginx):  # type: ignore[no-untyped-def]
    result = cli("probe", f"127.0.0.1:{nginx}", "--insecure", "--http-request", "/", "--json")
    doc = result.json()
    assert doc["connections"][0]["outcome"] == "completed"
    assert doc["probe"]["attempts"][-1]["http_status"].startswith("HTTP/1.1 400")
    assert "http-rejected-client-cert" in result.error_codes()


def test_nginx_accepts_the_java_choice(cli, files, nginx):  # type: ignore[no-untyped-def]
    result = cli(
        "probe",
        f"127.0.0.1:{nginx}",
        "--insecure",
        "--http-request",
        "/",
        "--keystore",
        str(files / "two.jks"),
        "--storepass",
        PW,
        "--json",
    )
    attempt = result.json()["probe"]["attempts"][-1]
    assert attempt["alias"] == "acme"
    assert attempt["http_status"].startswith("HTTP/1.1 200")


def test_server_verification_and_name(cli, files, serve):  # type: ignore[no-untyped-def]
    server = serve()
    untrusted = cli(
        "probe", f"127.0.0.1:{server.port}", "--ca-file", str(files / "stranger-root.pem"), "--json"
    )
    assert "client-rejected-server-cert" in untrusted.codes()
    trusted = cli(
        "probe",
        f"127.0.0.1:{server.port}",
        "--ca-file",
        str(files / "acme-root.pem"),
        "--servername",
        "wrong.example",
        "--json",
    )
    assert "client-rejected-server-cert" not in trusted.codes()
    assert "server-name-mismatch" in trusted.codes()


def test_capture_and_keylog_are_private_and_tshark_reads_them(cli, files, serve, tmp_path):  # type: ignore[no-untyped-def]
    server = serve(tls_version="1.3")
    pcap, keys = tmp_path / "out.pcap", tmp_path / "out.keys"
    result = probe(cli, server.port, *ks(files, "good.jks"), "--capture", str(pcap), "--keylog", str(keys))
    assert result.status == 0
    for path in (pcap, keys):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    # our own decoder reads the written pcap back with the key log
    again = cli("pcap", str(pcap), "--keylog", str(keys), "--json")
    assert again.json()["connections"][0]["client_cert"] == "CN=letstestcba"
    tshark = shutil.which("tshark")
    if tshark is None:
        pytest.skip("tshark is not installed: the Wireshark check of --capture is skipped")
    done = subprocess.run(
        [
            tshark,
            "-r",
            str(pcap),
            "-o",
            f"tls.keylog_file:{keys}",
            "-Y",
            "tls.handshake.type == 13",
            "-T",
            "fields",
            "-e",
            "tls.handshake.type",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "13" in done.stdout.replace(",", " ").split()  # tshark decrypted the CertificateRequest


def test_bad_targets_are_one_line_errors(cli):  # type: ignore[no-untyped-def]
    from tests.servers import free_port

    refused = cli("probe", f"127.0.0.1:{free_port()}", "--insecure")
    assert refused.status == 2 and "connection refused" in refused.err
    unknown = cli("probe", "no-such-host.invalid:443", "--insecure")
    assert unknown.status == 2 and "cannot resolve" in unknown.err
    assert cli("probe", "127.0.0.1:99999").status == 2


@contextlib.contextmanager
def misbehaving_server(handle: Callable[[socket.socket], None] | None) -> Iterator[int]:
    """A one-connection TCP server on 127.0.0.1 that does `handle` to its client (None: it
    never even accepts). Yields the port."""
    with RawServer(handle, connections=1) as server:
        yield server.port


def answer_plain_http(conn: socket.socket) -> None:
    conn.recv(4096)
    conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")


def answer_tls_alert(conn: socket.socket) -> None:
    conn.recv(4096)
    conn.sendall(TB.alert_record(TB.PROTOCOL_VERSION, version=TB.TLS10))  # what OpenSSL answers to text


def reset_after_client_hello(conn: socket.socket) -> None:
    conn.recv(4096)
    reset(conn)


def announce_16_mb_server_hello(conn: socket.socket) -> None:
    conn.recv(4096)
    conn.sendall(TB.record(TB.HANDSHAKE, TB.handshake(TB.SERVER_HELLO, b"", length=0xFFFFFF)))
    conn.recv(4096)


def test_plain_http_server_is_named_non_tls(cli):  # type: ignore[no-untyped-def]
    with misbehaving_server(answer_plain_http) as port:
        result = cli("probe", f"127.0.0.1:{port}", "--insecure")
    assert result.status == 2
    assert "non-TLS data" in result.err and "HTTP/1.1 400 Bad Request" in result.err


def test_silent_server_times_out(cli):  # type: ignore[no-untyped-def]
    start = time.monotonic()
    with misbehaving_server(None) as port:
        result = cli("probe", f"127.0.0.1:{port}", "--insecure", "--timeout", "1", "--json")
    assert time.monotonic() - start < 5
    assert result.status == 2 and "no TLS answer within 1 s" in result.err


def test_reset_mid_handshake(cli):  # type: ignore[no-untyped-def]
    with misbehaving_server(reset_after_client_hello) as port:
        result = cli("probe", f"127.0.0.1:{port}", "--insecure", "--json")
    assert result.status == 1
    assert "connection-reset" in result.codes()


def test_oversized_handshake_message(cli):  # type: ignore[no-untyped-def]
    with misbehaving_server(announce_16_mb_server_hello) as port:
        result = cli("probe", f"127.0.0.1:{port}", "--insecure", "--timeout", "3", "--json")
    assert result.status == 1, result.err
    conn = result.json()["connections"][0]
    assert any("absurd" in p["detail"] for p in conn["problems"])
    assert "capture-incomplete" in result.codes()


@contextlib.contextmanager
def s_server_typing(files, args: list[str], command: str) -> Iterator[tuple[int, list[str]]]:  # type: ignore[no-untyped-def]
    """openssl s_server that gets `command` typed on its stdin ('R' renegotiate and ask, 'c'
    TLS 1.3 post-handshake CertificateRequest) once the client's GET has arrived — as IIS asks
    only after it has seen the request. Yields the port and the server's output lines so far."""
    from tests.servers import free_port

    port = free_port()
    server = subprocess.Popen(
        [
            "openssl",
            "s_server",
            "-accept",
            f"127.0.0.1:{port}",
            "-cert",
            "server.pem",
            "-key",
            "server.key",
            "-CAfile",
            "acme-root.pem",
            "-naccept",
            "1",
            *args,
        ],
        cwd=files.d,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert server.stdout is not None and server.stdin is not None
    while "ACCEPT" not in server.stdout.readline():
        pass
    seen: list[str] = []

    def type_after_request() -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            line = server.stdout.readline()  # type: ignore[union-attr]
            if not line:
                return
            seen.append(line)
            if "GET /" in line:
                server.stdin.write(command + "\n")  # type: ignore[union-attr]
                server.stdin.flush()  # type: ignore[union-attr]

    watcher = threading.Thread(target=type_after_request, daemon=True)
    watcher.start()
    try:
        yield port, seen
    finally:
        server.kill()
        server.wait(timeout=5)
        watcher.join(timeout=5)


@pytest.mark.parametrize("keystore", [False, True])
def test_renegotiation_after_the_request_is_reported(cli, files, keystore):  # type: ignore[no-untyped-def]
    """IIS-style: the server asks again (HelloRequest) only after it has seen the request."""
    with s_server_typing(files, ["-verify", "2", "-tls1_2"], "R") as (port, _):
        result = cli(
            "probe",
            f"127.0.0.1:{port}",
            "--insecure",
            "--http-request",
            "/",
            "--timeout",
            "3",
            "--json",
            *([*ks(files, "good.jks"), "--storepass", PW] if keystore else []),
        )
    conn = result.json()["connections"][0]
    messages = [e["message"] for e in conn["events"]]
    assert "HelloRequest" in messages  # decrypted with the probe's own key log
    # the renegotiated handshake's Finished messages decrypt with its own CLIENT_RANDOM
    assert messages.count("Finished") == 4, messages
    assert not [p for p in conn["problems"] if p["kind"] == "undecryptable"]
    assert "client-cert-requested-later" in result.codes()
    sent = [
        e for e in conn["events"] if e["message"].startswith("Certificate (") and e["direction"] == "client"
    ]
    # s_server -verify asks in the first handshake too (and only once): Java's choice goes there
    assert [c["subject"] for c in sent[0]["chain"]][:1] == (["CN=letstestcba,O=Acme"] if keystore else []), (
        sent
    )
    assert result.json()["probe"]["attempts"][0]["certificate_request_seen"] is True


@pytest.mark.parametrize("etm", [True, False])
def test_tls12_cbc_suites_are_decrypted(cli, files, s_server, etm):  # type: ignore[no-untyped-def]
    extra = ["-cipher", "ECDHE-RSA-AES128-SHA"] + ([] if etm else ["-no_etm"])
    port = s_server("-CAfile", "acme-root.pem", *extra, version="1.2")
    result = probe(cli, port, *ks(files, "good.jks"), "--http-request", "/")
    conn = result.json()["connections"][0]
    assert conn["outcome"] == "completed"
    assert not [p for p in conn["problems"] if p["kind"] == "undecryptable"]
    assert any('"HTTP/1.0 200 ok"' in e["message"] for e in conn["events"])


def test_key_password_that_differs_makes_java_send_nothing(cli, files, serve):  # type: ignore[no-untyped-def]
    server = serve(tls_version="1.3")
    result = probe(cli, server.port, *ks(files, "keypass.jks"))
    doc = result.json()
    assert {"key-password-differs", "client-cert-not-sent"} <= set(result.error_codes())
    assert doc["connections"][0]["selection"]["sunx509_fails"] is not None
    assert len(doc["probe"]["attempts"]) == 1
    assert doc["probe"]["key_manager"] == "PKIX"
    sun = probe(cli, server.port, *ks(files, "keypass.jks"), "--key-manager", "SunX509").json()
    assert "a SunX509 client would not even connect" in sun["probe"]["steps"][-1]
    assert sun["probe"]["key_manager"] == "SunX509"
    locked = cli(
        "probe",
        f"127.0.0.1:{server.port}",
        "--insecure",
        "--storepass",
        PW,
        "--keystore",
        str(files / "keypass.jks"),
        "--alias",
        "letstestcba",
    )
    assert locked.status == 2 and "is locked" in locked.err
    opened = probe(
        cli,
        server.port,
        *ks(files, "keypass.jks"),
        "--alias",
        "letstestcba",
        "--keypass",
        "a-different-key-password",
    )
    assert opened.json()["connections"][0]["outcome"] == "completed"


@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_live_decoding_matches_scapy_on_the_recorded_bytes(files, serve, version):  # type: ignore[no-untyped-def]
    """The probe decodes while the handshake runs, by hand; scapy decoding the same recorded
    bytes afterwards (with the whole key log known) must tell the same story."""
    from inspector.keystore import load_keystore
    from inspector.live.attempt import Target
    from inspector.live.probe import handshake
    from parsers.keylog import KeyLog
    from parsers.model import Certificate, CertificateRequest
    from parsers.stream import transcript_from_chunks

    store = load_keystore(files / "good.jks", PW)
    server = serve(tls_version=version)
    target = Target("127.0.0.1", server.port, None, version, 10.0, None, True, None)
    attempt = handshake(target, None, lambda _t: store.key_entries[0])
    keys = KeyLog()
    keys.add_text("\n".join(attempt.keylog))
    again = transcript_from_chunks(
        attempt.chunks,
        attempt.client,
        attempt.server,
        keys,
        attempt.start,
        attempt.closed_by,
        attempt.reset_by,
        lean=False,
    )
    assert attempt.transcript is not None
    assert attempt.transcript.events == again.events
    assert attempt.transcript.problems == again.problems == []
    kinds = [type(e.message) for e in again.events]
    assert kinds.count(Certificate) == 2 and CertificateRequest in kinds
    assert attempt.request_seen and attempt.alias == "letstestcba"
    reports = server.wait_for(1)
    assert len(reports) == 1 and reports[0].accepted


def test_iis_style_request_only_in_the_renegotiation(cli, files):  # type: ignore[no-untyped-def]
    """No CertificateRequest in the first handshake; after the HTTP request the server
    renegotiates and asks. Java's choice is installed when that request arrives (decrypted with
    the probe's key log) and goes out in the renegotiated handshake, as a Java client's would."""
    # no resumption: the renegotiation is a full handshake, as on IIS
    with s_server_typing(files, ["-tls1_2", "-no_ticket", "-no_cache"], "R") as (port, seen):
        result = cli(
            "probe",
            f"127.0.0.1:{port}",
            "--insecure",
            "--http-request",
            "/",
            "--timeout",
            "3",
            "--json",
            *ks(files, "good.jks"),
            "--storepass",
            PW,
        )
    conn = result.json()["connections"][0]
    requests = [e for e in conn["events"] if e["message"].startswith("CertificateRequest")]
    sent = [
        e for e in conn["events"] if e["message"].startswith("Certificate (") and e["direction"] == "client"
    ]
    assert len(requests) == 1 and requests[0]["encrypted"]  # only in the renegotiation
    assert len(sent) == 1 and sent[0]["encrypted"]
    assert sent[0]["chain"][0]["subject"] == "CN=letstestcba,O=Acme"
    assert any("letstestcba" in line for line in seen)  # the server received it
    assert "client-cert-requested-later" in result.codes()
    assert "in the renegotiated handshake" in result.json()["probe"]["steps"][0]


def test_hello_retry_request_then_java_choice(cli, files, s_server):  # type: ignore[no-untyped-def]
    """The server wants a group the client did not offer a key share for: HelloRetryRequest,
    a second ClientHello, then the (encrypted) request — still one connection, Java's choice."""
    port = s_server("-CAfile", "acme-root.pem", "-groups", "secp384r1", version="1.3")
    result = probe(cli, port, *ks(files, "good.jks"))
    conn = result.json()["connections"][0]
    messages = [e["message"] for e in conn["events"]]
    assert messages.count("ClientHello") == 2 and any("HelloRetryRequest" in m for m in messages)
    assert conn["outcome"] == "completed" and conn["client_cert"] == "CN=letstestcba"
    assert result.status == 0 and "one handshake" in result.json()["probe"]["steps"][-1]


def test_tls13_post_handshake_auth(cli, files):  # type: ignore[no-untyped-def]
    """Offered with --post-handshake-auth, the server's post-handshake CertificateRequest
    (s_server's 'c' command, after the request) is decrypted and answered with Java's choice."""
    with s_server_typing(files, ["-tls1_3"], "c") as (port, seen):
        result = cli(
            "probe",
            f"127.0.0.1:{port}",
            "--insecure",
            "--http-request",
            "/",
            "--timeout",
            "3",
            "--post-handshake-auth",
            "--json",
            *ks(files, "good.jks"),
            "--storepass",
            PW,
        )
    doc = result.json()
    events = doc["connections"][0]["events"]
    labels = [e["message"] for e in events]
    assert any(m.startswith("CertificateRequest") and "post-handshake" in m for m in labels), labels
    sent = [e for e in events if e["message"].startswith("Certificate (") and e["direction"] == "client"]
    assert len(sent) == 1 and sent[0]["chain"][0]["subject"] == "CN=letstestcba,O=Acme"
    assert any("letstestcba" in line for line in seen)  # the server received it
    assert "after the handshake (TLS 1.3 post-handshake auth)" in doc["probe"]["steps"][0]
    later = [f for f in doc["findings"] if f["code"] == "client-cert-requested-later"]
    assert later and "post-handshake authentication" in later[0]["fix"]


def test_probe_imports_neither_scapy_nor_pyjks(files, serve):  # type: ignore[no-untyped-def]
    """The speed design: the probe decodes by hand and reads JKS by hand."""
    from tests.test_cli import modules_after

    server = serve(tls_version="1.3")
    loaded = modules_after(
        "probe",
        f"127.0.0.1:{server.port}",
        "--insecure",
        "--keystore",
        str(files / "good.jks"),
        "--storepass",
        PW,
    )
    assert "inspector.live.bio_client" in loaded and "parsers.lean" in loaded  # it really probed
    assert not {m for m in loaded if m.split(".")[0] in ("scapy", "jks")}


def test_probe_through_an_http_proxy(cli, files, serve):  # type: ignore[no-untyped-def]
    from tests.live.proxy import ConnectProxy

    server = serve(tls_version="1.3")
    with ConnectProxy() as proxy:
        result = probe(cli, server.port, *ks(files, "good.jks"), "--proxy", f"127.0.0.1:{proxy.port}")
    doc = result.json()
    assert result.status == 0, result.out
    assert proxy.requests == [f"CONNECT 127.0.0.1:{server.port} HTTP/1.1"]
    assert doc["probe"]["proxy"] == f"127.0.0.1:{proxy.port}"
    assert doc["probe"]["steps"][0].startswith(f"through proxy 127.0.0.1:{proxy.port}")
    assert doc["connections"][0]["client_cert"] == "CN=letstestcba"
    assert server.wait_for(1)[0].accepted


def test_proxy_refusals_are_one_line_errors(cli, files, serve):  # type: ignore[no-untyped-def]
    from tests.live.proxy import ConnectProxy
    from tests.servers import free_port

    server = serve()
    with ConnectProxy(refuse_with="407 Proxy Authentication Required") as proxy:
        refused = cli("probe", f"127.0.0.1:{server.port}", "--insecure", "--proxy", f"127.0.0.1:{proxy.port}")
    assert refused.status == 2 and "407 Proxy Authentication Required" in refused.err
    assert "--proxy-user" in refused.err and "Traceback" not in refused.err
    closed = cli("probe", f"127.0.0.1:{server.port}", "--proxy", f"127.0.0.1:{free_port()}")
    assert closed.status == 2 and "proxy 127.0.0.1:" in closed.err and "refused" in closed.err
    assert cli("probe", f"127.0.0.1:{server.port}", "--proxy", "127.0.0.1").status == 2
    # a web server that is no proxy answers CONNECT with 400; a TLS server with an alert
    with misbehaving_server(answer_plain_http) as plain:
        odd = cli("probe", f"127.0.0.1:{server.port}", "--insecure", "--proxy", f"127.0.0.1:{plain}")
    assert odd.status == 2 and "refused: HTTP/1.1 400 Bad Request" in odd.err
    # a TLS server that answers text with an alert (our reference server answers HTTP 400, as nginx)
    with misbehaving_server(answer_tls_alert) as tls_port:
        tls = cli(
            "probe",
            f"127.0.0.1:{server.port}",
            *("--insecure", "--timeout", "3", "--proxy", f"127.0.0.1:{tls_port}"),
        )
    assert tls.status == 2 and "not an HTTP proxy" in tls.err, tls.err


def test_proxy_with_basic_authentication(cli, files, serve, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    from tests.live.proxy import ConnectProxy

    server = serve(tls_version="1.2")
    secret = "pr0xy-s3cret"
    monkeypatch.setenv("PROXY_PW", secret)
    with ConnectProxy(credentials=f"svc-integration:{secret}") as proxy:
        where = f"127.0.0.1:{proxy.port}"
        anonymous = cli("probe", f"127.0.0.1:{server.port}", "--insecure", "--proxy", where)
        wrong = cli(
            "probe",
            f"127.0.0.1:{server.port}",
            "--insecure",
            "--proxy",
            where,
            "--proxy-user",
            "svc-integration",
            "--proxy-pass",
            "nope",
        )
        right = probe(
            cli,
            server.port,
            *ks(files, "good.jks"),
            "--proxy",
            where,
            "--proxy-user",
            "svc-integration",
            "--proxy-pass-env",
            "PROXY_PW",
        )
    assert anonymous.status == 2 and "--proxy-user" in anonymous.err
    assert wrong.status == 2 and "refused these credentials" in wrong.err
    assert right.status == 0 and right.json()["connections"][0]["client_cert"] == "CN=letstestcba"
    for result in (anonymous, wrong, right):
        assert secret not in result.out + result.err and "nope" not in result.out
    lonely = cli("probe", f"127.0.0.1:{server.port}", "--proxy-pass-env", "PROXY_PW")
    assert lonely.status == 2 and "needs --proxy-user" in lonely.err


def test_select_from_server_through_a_proxy(cli, files, serve):  # type: ignore[no-untyped-def]
    from tests.live.proxy import ConnectProxy

    server = serve(tls_version="1.3")
    with ConnectProxy() as proxy:
        result = cli(
            "select",
            "--keystore",
            str(files / "good.jks"),
            "--storepass",
            PW,
            "--from-server",
            f"127.0.0.1:{server.port}",
            "--proxy",
            f"127.0.0.1:{proxy.port}",
            "--json",
        )
    assert result.status == 0 and result.json()["selection"]["pkix"] == "letstestcba"
    assert proxy.requests == [f"CONNECT 127.0.0.1:{server.port} HTTP/1.1"]
    misplaced = cli(
        "select",
        "--keystore",
        str(files / "good.jks"),
        "--storepass",
        PW,
        "--empty-ca-list",
        "--proxy",
        f"127.0.0.1:{proxy.port}",
    )
    assert misplaced.status == 2 and "--proxy goes with --from-server" in misplaced.err


def _server_hello_like(body: bytes) -> bytes:
    """A plausible server flight start: a handshake record whose content is random."""
    return TB.record(TB.HANDSHAKE, body)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(
        st.one_of(
            st.binary(max_size=300),
            st.binary(max_size=300).map(_server_hello_like),
            st.binary(max_size=40).map(lambda b: TB.record(TB.ALERT, b[:2], length=2)),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_a_server_answering_garbage_never_crashes_the_probe(cli, files, answers):  # type: ignore[no-untyped-def]
    """Whatever a broken peer sends after our ClientHello: a report or a one-line error."""

    def answer(conn: socket.socket) -> None:
        conn.recv(65536)
        for chunk in answers:
            conn.sendall(chunk)

    with misbehaving_server(answer) as port:
        result = cli(
            "probe",
            f"127.0.0.1:{port}",
            "--insecure",
            "--timeout",
            "1",
            "--json",
            *ks(files, "good.jks"),
            "--storepass",
            PW,
        )
    assert result.status in (0, 1, 2), result.err
    assert "Traceback" not in result.err
    if result.status == 2:
        errors = [line for line in result.err.splitlines() if not line.startswith("warning:")]
        assert len(errors) == 1 and errors[0].startswith("mtls-inspect: error:"), result.err
    else:
        assert result.json()["connections"]


def test_java_trusting_the_server_leaves_no_openssl_error(cli, files, serve):  # type: ignore[no-untyped-def]
    """With --truststore, Java's verdict is the one a Java client acts on: OpenSSL's rejection
    (here: the system store, which lacks the test CA) is evidence on it, not an error of its own."""
    server = serve()
    args = ("probe", f"127.0.0.1:{server.port}", "--servername", "localhost", "--json")
    alone = cli(*args)
    assert "client-rejected-server-cert" in alone.codes()
    judged = cli(*args, "--truststore", str(files / "acme-root.pem"))
    assert "client-rejected-server-cert" not in judged.codes()
    assert "java-truststore-accepts" in judged.codes()
    accepted = next(f for f in judged.json()["findings"] if f["code"] == "java-truststore-accepts")
    said = [e for e in accepted["evidence"] if e["source"] == "OpenSSL's own check (not Java's)"]
    assert len(said) == 1 and "does not verify against the system trust store" in said[0]["fact"]
