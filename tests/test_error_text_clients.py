"""`log` on the error text real clients print (Deliver 2): curl, openssl s_client and
verify, Python (requests and ssl), Node, Go (a standard-library client built here, offline) and
nginx's 400 pages, each run against a real server on 127.0.0.1 with a PKI made at test time, in
the failure shapes that matter: no client certificate sent, a client certificate from an unknown
CA, an expired one, a server certificate the client does not trust. A client that is not
installed skips its tests with the reason."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

from tests import pki as P
from tests.conftest import CliResult

CURL, OPENSSL, NODE, GO = (shutil.which(n) for n in ("curl", "openssl", "node", "go"))
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
needs_curl = pytest.mark.skipif(CURL is None, reason="curl is not installed (apt-get install curl)")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="openssl is not installed")
needs_node = pytest.mark.skipif(NODE is None, reason="node is not installed (apt-get install nodejs)")
needs_go = pytest.mark.skipif(GO is None, reason="go is not installed (apt-get install golang-go)")
needs_nginx = pytest.mark.skipif(NGINX is None, reason="nginx is not installed (apt-get install nginx)")
pytestmark = pytest.mark.skipif(OPENSSL is None, reason="openssl (the test server) is not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pem_key(issued: P.Issued) -> bytes:
    return issued.key_pem


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """server.pem (leaf with localhost and 127.0.0.1 SANs + intermediate), server-ca.pem; the
    client's client.pem/key (the CA the server trusts), stranger.* (another CA), expired.*."""
    d = tmp_path_factory.mktemp("errtext")
    server_pki = P.make_pki("server", org="Server", eku=[ExtendedKeyUsageOID.SERVER_AUTH])
    key = P.new_key()
    inter = server_pki.intermediate
    leaf = (
        x509.CertificateBuilder()
        .subject_name(P.name("localhost", "Server"))
        .issuer_name(inter.cert.subject)
        .public_key(key.public_key())  # type: ignore[arg-type]
        .serial_number(x509.random_serial_number())
        .not_valid_before(P.NOW - dt.timedelta(days=1))
        .not_valid_after(P.NOW + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(inter.key, hashes.SHA256())  # type: ignore[arg-type]
    )
    client, stranger = P.make_pki("client", org="Acme"), P.make_pki("stranger", org="Stranger")
    expired = P.issue(
        "expired-client",
        client.intermediate,
        not_before=P.NOW - dt.timedelta(days=30),
        not_after=P.NOW - dt.timedelta(days=1),
    )
    files = {
        "server.pem": leaf.public_bytes(serialization.Encoding.PEM) + inter.pem,
        "server.key": P.Issued(leaf, key).key_pem,
        "server-ca.pem": server_pki.root.pem,
        "client-ca.pem": client.root.pem,
        "client.pem": client.leaf.pem + client.intermediate.pem,
        "client.key": client.leaf.key_pem,
        "stranger.pem": stranger.leaf.pem + stranger.intermediate.pem,
        "stranger.key": stranger.leaf.key_pem,
        "expired.pem": expired.pem + client.intermediate.pem,
        "expired.key": expired.key_pem,
    }
    for name, data in files.items():
        (d / name).write_bytes(data)
    return d


@pytest.fixture(scope="module")
def servers(pki: Path) -> Iterator[dict[str, int]]:
    """openssl s_server requiring a client certificate issued by the client's CA, TLS 1.3 and 1.2."""
    procs: list[subprocess.Popen[bytes]] = []
    ports: dict[str, int] = {}
    try:
        for version in ("1.3", "1.2"):
            port = _free_port()
            log = pki / f"s_server-{version}.log"
            with log.open("wb") as out:
                procs.append(
                    subprocess.Popen(
                        [
                            str(OPENSSL),
                            "s_server",
                            "-accept",
                            f"127.0.0.1:{port}",
                            "-cert",
                            "server.pem",
                            "-cert_chain",
                            "server.pem",
                            "-key",
                            "server.key",
                            "-CAfile",
                            "client-ca.pem",
                            "-Verify",
                            "2",
                            "-verify_return_error",
                            "-www",
                            f"-tls{version.replace('.', '_')}",
                        ],
                        cwd=pki,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        stdin=subprocess.DEVNULL,
                    )
                )
            deadline = time.monotonic() + 15
            while "ACCEPT" not in log.read_text(errors="replace"):
                if time.monotonic() > deadline or procs[-1].poll() is not None:
                    raise RuntimeError(f"openssl s_server did not start: {log.read_text(errors='replace')}")
                time.sleep(0.05)
            ports[version] = port
        yield ports
    finally:
        for proc in procs:  # by its own pid, nothing else
            proc.kill()
            proc.wait(timeout=10)


def run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    """The client's whole output (stdout and stderr, as a terminal shows them)."""
    done = subprocess.run(
        cmd,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        timeout=60,
        env={**os.environ, **(env or {})},
    )
    return done.stdout.decode("utf-8", errors="replace")


@dataclass
class Verdict:
    result: CliResult
    text: str

    @property
    def doc(self) -> Any:
        return self.result.json()

    @property
    def first(self) -> Any:
        return self.doc["error_text"]["diagnoses"][0]

    def next_commands(self) -> str:
        return " ; ".join(self.first["next"])


@pytest.fixture
def explain(cli: Callable[..., CliResult], tmp_path: Path) -> Callable[[str], Verdict]:
    def go(text: str) -> Verdict:
        paste = tmp_path / "paste.txt"
        paste.write_text(text, encoding="utf-8")
        result = cli("log", str(paste), "--json")
        assert result.status in (0, 1), (result.err, text)
        return Verdict(result, text)

    return go


def alert_case(v: Verdict, alert: str, status: int = 1) -> None:
    assert v.result.status == status, v.text
    assert v.first["code"] == "client-text-server-alert", v.text
    assert v.first["alert"] == alert, v.text
    assert v.first["said_by"].startswith("the server: a TLS alert it sent"), v.first


# --- curl ------------------------------------------------------------------------------------------


@needs_curl
def test_curl_no_certificate_tls13(
    servers: dict[str, int], pki: Path, explain: Callable[[str], Verdict]
) -> None:
    url = f"https://127.0.0.1:{servers['1.3']}/"
    out = run([str(CURL), "-sS", "--cacert", "server-ca.pem", url], pki)
    assert "curl: (56)" in out and "alert certificate required" in out, out
    v = explain(out)
    alert_case(v, "certificate_required")
    causes = v.first["causes"]
    assert causes[0] == {"rank": 1, "cause": causes[0]["cause"], "inference": False}  # what the alert says
    assert all(c["inference"] for c in causes[1:])
    assert v.first["next"][0] == "mtls-inspect select --keystore KEYSTORE --from-server HOST:PORT"
    assert v.doc["error_text"]["server"] is None  # curl's error line names no server


@needs_curl
def test_curl_verbose_names_the_server_and_shows_the_empty_certificate(
    servers: dict[str, int], pki: Path, explain: Callable[[str], Verdict]
) -> None:
    port = servers["1.3"]
    out = run([str(CURL), "-v", "--cacert", "server-ca.pem", f"https://127.0.0.1:{port}/"], pki)
    v = explain(out)
    alert_case(v, "certificate_required")
    assert v.doc["error_text"]["server"]["address"] == f"127.0.0.1:{port}"
    assert v.doc["error_text"]["server"]["how"] == 'curl\'s "Connected to"'
    assert v.next_commands().startswith(
        f"mtls-inspect select --keystore KEYSTORE --from-server 127.0.0.1:{port}"
    )
    facts = [e["fact"] for e in v.doc["findings"][0]["evidence"]]
    assert "the server asked for a client certificate" in facts
    assert "the client sent a Certificate message and no CertificateVerify: it was empty" in facts
    assert len(v.first["lines"]) == 3  # curl -v's alert line, OpenSSL's reason, curl's summary: one finding
    assert len(v.doc["findings"]) == 1


@needs_curl
def test_curl_no_certificate_tls12(
    servers: dict[str, int], pki: Path, explain: Callable[[str], Verdict]
) -> None:
    out = run([str(CURL), "-sS", "--cacert", "server-ca.pem", f"https://127.0.0.1:{servers['1.2']}/"], pki)
    assert "curl: (35)" in out, out
    v = explain(out)
    alert_case(v, "handshake_failure")
    assert v.first["causes"][0]["inference"] is True  # handshake_failure does not say why
    assert "client certificate" in v.first["causes"][0]["cause"]
    # curl -v shows the request and curl's empty Certificate: the first cause says so
    out = run([str(CURL), "-v", "--cacert", "server-ca.pem", f"https://127.0.0.1:{servers['1.2']}/"], pki)
    v = explain(out)
    alert_case(v, "handshake_failure")
    assert v.doc["error_text"]["tls_version"] == "TLSv1.2"
    assert v.first["causes"][0]["cause"].startswith(
        "the server requires a client certificate and the client's was empty"
    )


@needs_curl
def test_curl_unknown_ca_with_command_line(
    servers: dict[str, int], pki: Path, explain: Callable[[str], Verdict]
) -> None:
    url = f"https://127.0.0.1:{servers['1.3']}/api"
    cmd = [
        str(CURL),
        "-sS",
        "--cacert",
        "server-ca.pem",
        "--cert",
        "stranger.pem",
        "--key",
        "stranger.key",
        url,
    ]
    out = run(cmd, pki)
    v = explain("$ " + " ".join(["curl", *cmd[1:]]) + "\n" + out)  # as pasted from a terminal
    alert_case(v, "unknown_ca")
    assert v.first["next"] == [
        "mtls-inspect keystore stranger.pem",
        f"mtls-inspect select --keystore stranger.pem --from-server 127.0.0.1:{servers['1.3']}",
        f"mtls-inspect probe 127.0.0.1:{servers['1.3']} --keystore stranger.pem",
    ]
    assert v.doc["error_text"]["server"]["how"] == "a URL"


@needs_curl
def test_curl_expired_client_certificate(
    servers: dict[str, int], pki: Path, explain: Callable[[str], Verdict]
) -> None:
    base = [str(CURL), "-sS", "--cacert", "server-ca.pem", "--cert", "expired.pem", "--key", "expired.key"]
    v = explain(run([*base, f"https://127.0.0.1:{servers['1.3']}/"], pki))
    alert_case(v, "certificate_expired")
    # TLS 1.2: curl words the received certificate_expired alert as "(60) SSL certificate
    # verification failed", as if it were its own check of the server: said, and marked inference
    out = run([*base, f"https://127.0.0.1:{servers['1.2']}/"], pki)
    v = explain(out)
    if "SSL certificate verification failed" in out:
        alert_case(v, "certificate_expired")
        assert v.first["causes"][0]["inference"] is True
        assert "curl words a received certificate_expired alert" in v.first["causes"][0]["cause"]
    else:  # another curl version says the alert itself
        alert_case(v, "certificate_expired")


@needs_curl
def test_curl_untrusted_server_certificate(
    servers: dict[str, int], pki: Path, explain: Callable[[str], Verdict]
) -> None:
    out = run(
        [
            str(CURL),
            "-sS",
            "--cert",
            "client.pem",
            "--key",
            "client.key",
            f"https://127.0.0.1:{servers['1.3']}/",
        ],
        pki,
        env={"CURL_CA_BUNDLE": str(pki / "client-ca.pem")},
    )
    assert "curl: (60)" in out, out
    v = explain(out)
    assert v.result.status == 1
    assert v.first["code"] == "client-text-server-cert-rejected"
    assert v.first["said_by"].startswith("the client (curl)")
    assert "unable to get local issuer certificate" in v.first["meaning"]
    assert v.first["next"][0] == "mtls-inspect probe HOST:PORT --insecure"
    assert v.doc["error_text"]["server"] is None  # curl's docs URL below the error is not the server


@needs_curl
def test_curl_key_does_not_match(
    servers: dict[str, int], pki: Path, explain: Callable[[str], Verdict]
) -> None:
    out = run(
        [
            str(CURL),
            "-sS",
            "--cacert",
            "server-ca.pem",
            "--cert",
            "client.pem",
            "--key",
            "stranger.key",
            f"https://127.0.0.1:{servers['1.3']}/",
        ],
        pki,
    )
    assert "curl: (58)" in out, out
    v = explain(out)
    assert v.first["code"] == "client-text-client-cert-unusable"
    assert v.first["next"] == ["mtls-inspect keystore KEYSTORE"]
    assert v.result.status == 1


@needs_curl
def test_curl_success_exits_0(servers: dict[str, int], pki: Path, explain: Callable[[str], Verdict]) -> None:
    out = run(
        [
            str(CURL),
            "-v",
            "--cacert",
            "server-ca.pem",
            "--cert",
            "client.pem",
            "--key",
            "client.key",
            f"https://127.0.0.1:{servers['1.3']}/",
        ],
        pki,
    )
    v = explain(out)
    assert v.result.status == 0
    assert [f["code"] for f in v.doc["findings"]] == ["client-text-success"]


# --- openssl ---------------------------------------------------------------------------------------


@needs_openssl
def test_s_client_unknown_ca(servers: dict[str, int], pki: Path, explain: Callable[[str], Verdict]) -> None:
    port = servers["1.2"]  # TLS 1.2: the alert arrives inside the handshake, whatever s_client reads
    out = run(
        [
            str(OPENSSL),
            "s_client",
            "-connect",
            f"127.0.0.1:{port}",
            "-CAfile",
            "server-ca.pem",
            "-cert",
            "stranger.pem",
            "-key",
            "stranger.key",
        ],
        pki,
    )
    assert "SSL alert number 48" in out, out
    v = explain(f"$ openssl s_client -connect 127.0.0.1:{port} -cert stranger.pem -key stranger.key\n{out}")
    alert_case(v, "unknown_ca")
    assert v.first["client"] == "openssl"
    assert v.doc["error_text"]["server"]["address"] == f"127.0.0.1:{port}"
    facts = " ".join(e["fact"] for e in v.doc["findings"][0]["evidence"])
    assert "CA names the server asked for: O = Acme, CN = Acme Root CA" in facts


@needs_openssl
def test_s_client_untrusted_server(
    servers: dict[str, int], pki: Path, explain: Callable[[str], Verdict]
) -> None:
    out = run(
        [
            str(OPENSSL),
            "s_client",
            "-connect",
            f"127.0.0.1:{servers['1.2']}",
            "-CAfile",
            "client-ca.pem",
            "-cert",
            "client.pem",
            "-key",
            "client.key",
        ],
        pki,
    )
    assert "verify error:num=20" in out, out
    v = explain(out)
    # s_client goes on after its own verify error; the server then refuses the leaf s_client sent
    # without its intermediate (-cert loads one certificate): two distinct failures, each said once
    codes = [d["code"] for d in v.doc["error_text"]["diagnoses"]]
    assert sorted(codes) == ["client-text-server-alert", "client-text-server-cert-rejected"]
    rejected = v.doc["error_text"]["diagnoses"][codes.index("client-text-server-cert-rejected")]
    assert rejected["said_by"] == "the client (openssl), about what it found itself"
    assert v.result.status == 1


@needs_openssl
def test_openssl_verify(pki: Path, explain: Callable[[str], Verdict]) -> None:
    out = run([str(OPENSSL), "verify", "-CAfile", "client-ca.pem", "stranger.pem"], pki)
    v = explain(out)
    assert v.first["code"] == "client-text-verify-failed"
    assert v.first["said_by"] == "openssl verify, on the files given (no server involved)"
    assert v.result.status == 1
    ok = run(
        [str(OPENSSL), "verify", "-CAfile", "client-ca.pem", "-untrusted", "client.pem", "client.pem"], pki
    )
    assert ok.strip() == "client.pem: OK"
    assert explain(ok).result.status == 0


# --- Python ----------------------------------------------------------------------------------------

PY_CLIENT = """
import sys
url, ca, cert, key = sys.argv[1:5]
try:
    import requests
except ImportError:
    requests = None
if requests is not None and sys.argv[5] == "requests":
    try:
        requests.get(url, verify=ca, cert=(cert, key) if cert else None, timeout=10)
    except Exception as exc:
        print(f"{type(exc).__module__}.{type(exc).__name__}: {exc}")
else:
    import ssl, urllib.request
    ctx = ssl.create_default_context(cafile=ca)
    if cert:
        ctx.load_cert_chain(cert, key)
    try:
        urllib.request.urlopen(url, context=ctx, timeout=10).read()
    except Exception as exc:
        print(f"{type(exc).__module__}.{type(exc).__name__}: {exc}")
"""


def _python(pki: Path, url: str, ca: str, cert: str, key: str, lib: str) -> str:
    return run([sys.executable, "-c", PY_CLIENT, url, ca, cert, key, lib], pki)


def _has_requests() -> bool:
    try:
        import requests  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.parametrize("lib", ["requests", "urllib"])
def test_python_no_certificate_and_unknown_ca(
    lib: str, servers: dict[str, int], pki: Path, explain: Callable[[str], Verdict]
) -> None:
    if lib == "requests" and not _has_requests():
        pytest.skip("requests is not installed: the urllib case stands for Python")
    port = servers["1.3"]
    url = f"https://127.0.0.1:{port}/"
    out = _python(pki, url, "server-ca.pem", "", "", lib)
    assert "TLSV13_ALERT_CERTIFICATE_REQUIRED" in out, out
    v = explain(out)
    alert_case(v, "certificate_required")
    assert v.first["client"] == "python"
    if lib == "requests":  # urllib3 names host and port: the commands are filled in
        assert v.first["next"][0] == f"mtls-inspect select --keystore KEYSTORE --from-server 127.0.0.1:{port}"
    out = _python(pki, url, "server-ca.pem", "stranger.pem", "stranger.key", lib)
    assert "TLSV1_ALERT_UNKNOWN_CA" in out, out
    alert_case(explain(out), "unknown_ca")


def test_python_untrusted_server(
    servers: dict[str, int], pki: Path, explain: Callable[[str], Verdict]
) -> None:
    out = _python(
        pki, f"https://127.0.0.1:{servers['1.2']}/", "client-ca.pem", "client.pem", "client.key", "urllib"
    )
    assert "CERTIFICATE_VERIFY_FAILED" in out, out
    v = explain(out)
    assert v.first["code"] == "client-text-server-cert-rejected"
    assert v.first["said_by"].startswith("the client (Python")


# --- Node ------------------------------------------------------------------------------------------

NODE_CLIENT = """
const https = require('https'), fs = require('fs');
const [url, ca, cert, key] = process.argv.slice(1);
const o = { ca: fs.readFileSync(ca) };
if (cert) { o.cert = fs.readFileSync(cert); o.key = fs.readFileSync(key); }
https.get(url, o, r => { console.log('HTTP', r.statusCode); r.resume(); }).on('error', e => console.error(e));
"""


@needs_node
def test_node(servers: dict[str, int], pki: Path, explain: Callable[[str], Verdict]) -> None:
    url = f"https://127.0.0.1:{servers['1.3']}/"
    out = run([str(NODE), "-e", NODE_CLIENT, url, "server-ca.pem", "", ""], pki)
    assert "ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED" in out, out
    v = explain(out)
    alert_case(v, "certificate_required")
    assert v.first["client"] == "node"
    out = run([str(NODE), "-e", NODE_CLIENT, url, "server-ca.pem", "stranger.pem", "stranger.key"], pki)
    alert_case(explain(out), "unknown_ca")
    out = run([str(NODE), "-e", NODE_CLIENT, url, "client-ca.pem", "client.pem", "client.key"], pki)
    assert "UNABLE_TO_GET_ISSUER_CERT_LOCALLY" in out, out
    v = explain(out)
    assert v.first["code"] == "client-text-server-cert-rejected"
    assert v.first["client"] == "node"


# --- Go ----------------------------------------------------------------------------------------------

GO_CLIENT = """package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
)

func main() {
	url, ca, cert, key := os.Args[1], os.Args[2], os.Args[3], os.Args[4]
	pool := x509.NewCertPool()
	pem, _ := os.ReadFile(ca)
	pool.AppendCertsFromPEM(pem)
	cfg := &tls.Config{RootCAs: pool}
	if len(os.Args) > 5 {
		cfg.ServerName = os.Args[5]
	}
	if cert != "" {
		c, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		cfg.Certificates = []tls.Certificate{c}
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg}}
	resp, err := client.Get(url)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	io.Copy(io.Discard, resp.Body)
	fmt.Println(resp.Status)
}
"""


@pytest.fixture(scope="module")
def go_client(pki: Path) -> Path:
    if GO is None:
        pytest.skip("go is not installed (apt-get install golang-go)")
    src = pki / "goclient"
    src.mkdir(exist_ok=True)
    (src / "main.go").write_text(GO_CLIENT)
    env = {
        **os.environ,
        "GO111MODULE": "off",
        "GOFLAGS": "",
        "GOCACHE": str(pki / "gocache"),
        "GOPATH": str(pki / "gopath"),
        "GOPROXY": "off",
        "CGO_ENABLED": "0",
    }
    subprocess.run(
        [str(GO), "build", "-o", str(src / "client"), "main.go"],
        cwd=src,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return src / "client"


@needs_go
def test_go(servers: dict[str, int], pki: Path, go_client: Path, explain: Callable[[str], Verdict]) -> None:
    port = servers["1.3"]
    url = f"https://127.0.0.1:{port}/"
    out = run([str(go_client), url, "server-ca.pem", "", ""], pki)
    assert "remote error: tls: certificate required" in out, out
    v = explain(out)
    alert_case(v, "certificate_required")
    assert v.first["client"] == "go"
    assert v.first["next"][0] == f"mtls-inspect select --keystore KEYSTORE --from-server 127.0.0.1:{port}"
    # Go sends only a certificate whose issuer the server names: a stranger's is not sent at all
    out = run([str(go_client), url, "server-ca.pem", "stranger.pem", "stranger.key"], pki)
    alert_case(explain(out), "certificate_required")
    out = run([str(go_client), url, "server-ca.pem", "expired.pem", "expired.key"], pki)
    assert "remote error: tls: expired certificate" in out, out
    alert_case(explain(out), "certificate_expired")
    out = run([str(go_client), url, "client-ca.pem", "client.pem", "client.key"], pki)
    assert "x509: certificate signed by unknown authority" in out, out
    v = explain(out)
    assert v.first["code"] == "client-text-server-cert-rejected"
    out = run([str(go_client), url, "server-ca.pem", "client.pem", "stranger.key"], pki)
    assert "private key does not match public key" in out, out
    v = explain(out)
    assert v.first["code"] == "client-text-client-cert-unusable"
    assert v.first["causes"][0]["inference"] is False  # Go says so


# --- nginx's 400 pages, through curl ------------------------------------------------------------------


@pytest.fixture(scope="module")
def nginx(pki: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    if NGINX is None:
        pytest.skip("nginx is not installed (apt-get install nginx)")
    prefix = tmp_path_factory.mktemp("nginx")
    (prefix / "logs").mkdir()
    port = _free_port()
    temp = prefix / "tmp"
    temp.mkdir()
    conf = prefix / "nginx.conf"
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf.write_text(f"""{user}worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log info;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {temp}; proxy_temp_path {temp};
  fastcgi_temp_path {temp}; uwsgi_temp_path {temp}; scgi_temp_path {temp};
  server {{
    listen 127.0.0.1:{port} ssl;
    ssl_certificate {pki / "server.pem"};
    ssl_certificate_key {pki / "server.key"};
    ssl_client_certificate {pki / "client-ca.pem"};
    ssl_verify_client on;
    ssl_verify_depth 3;
    location / {{ return 200 "hello\\n"; }}
  }}
}}
""")
    proc = subprocess.Popen(
        [NGINX, "-c", str(conf), "-p", str(prefix), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("nginx did not start") from None
                time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@needs_curl
@needs_nginx
def test_nginx_400_pages(nginx: int, pki: Path, explain: Callable[[str], Verdict]) -> None:
    url = f"https://127.0.0.1:{nginx}/orders"
    out = run([str(CURL), "-sS", "--cacert", "server-ca.pem", url], pki)
    assert "400 No required SSL certificate was sent" in out, out
    v = explain(f"POST {url}\n{out}")  # a REST test result: the endpoint, then the page
    assert v.first["code"] == "http-rejected-client-cert"
    assert v.first["said_by"] == "the server, in its HTTP answer after the handshake"
    assert v.first["causes"][0]["inference"] is False
    assert v.first["next"][0] == f"mtls-inspect select --keystore KEYSTORE --from-server 127.0.0.1:{nginx}"
    assert len(v.doc["findings"]) == 1  # "400 Bad Request" in the same page is not a second failure
    out = run(
        [
            str(CURL),
            "-sS",
            "--cacert",
            "server-ca.pem",
            "--cert",
            "stranger.pem",
            "--key",
            "stranger.key",
            url,
        ],
        pki,
    )
    assert "400 The SSL certificate error" in out, out
    v = explain(out)
    assert v.first["code"] == "http-rejected-client-cert"
    assert v.first["kind"] == "http-cert-error"


# --- Java, as the integration platform shows it: the exception's message alone ------------------------

JAVA = shutil.which("java")
JAVA_CLIENT = """
import java.io.*;
import java.net.URL;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import javax.net.ssl.*;

public class Client {
    public static void main(String[] a) throws Exception {
        KeyStore ts = KeyStore.getInstance("PKCS12");
        ts.load(null, null);
        try (InputStream in = new FileInputStream(a[1])) {
            ts.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(ts);
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, tmf.getTrustManagers(), null);
        HttpsURLConnection c = (HttpsURLConnection) new URL(a[0]).openConnection();
        c.setSSLSocketFactory(ctx.getSocketFactory());
        c.setConnectTimeout(10000);
        c.setReadTimeout(10000);
        try {
            System.out.println("HTTP " + c.getResponseCode());
        } catch (IOException e) {
            System.out.println("Error: " + e.getMessage());  // what a REST test result shows
        }
    }
}
"""


@pytest.mark.skipif(JAVA is None, reason="java is not installed (the system JDK 17)")
def test_java_message_as_the_platform_shows_it(
    servers: dict[str, int], pki: Path, explain: Callable[[str], Verdict]
) -> None:
    (pki / "Client.java").write_text(JAVA_CLIENT)
    port = servers["1.3"]
    out = run([str(JAVA), "Client.java", f"https://127.0.0.1:{port}/", "server-ca.pem"], pki)
    assert "Received fatal alert: certificate_required" in out, out
    v = explain(f"Endpoint: https://127.0.0.1:{port}/\n{out}")
    alert_case(v, "certificate_required")
    assert v.first["client"] == "platform"
    assert v.first["next"][0] == f"mtls-inspect select --keystore KEYSTORE --from-server 127.0.0.1:{port}"
    out = run([str(JAVA), "Client.java", f"https://127.0.0.1:{servers['1.2']}/", "server-ca.pem"], pki)
    assert "Received fatal alert: handshake_failure" in out, out
    alert_case(explain(out), "handshake_failure")


# --- the server's certificate: self-signed, or not for the name used ----------------------------------


@pytest.fixture(scope="module")
def self_signed(pki: Path) -> Iterator[int]:
    """openssl s_server with a self-signed certificate (CN and IP SAN 127.0.0.1), no client auth."""
    key = P.new_key()
    subject = P.name("127.0.0.1", "Lab")
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())  # type: ignore[arg-type]
        .serial_number(x509.random_serial_number())
        .not_valid_before(P.NOW - dt.timedelta(days=1))
        .not_valid_after(P.NOW + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .sign(key, hashes.SHA256())  # type: ignore[arg-type]
    )
    (pki / "self.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (pki / "self.key").write_bytes(P.Issued(cert, key).key_pem)
    port = _free_port()
    log = pki / "s_server-self.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                str(OPENSSL),
                "s_server",
                "-accept",
                f"127.0.0.1:{port}",
                "-cert",
                "self.pem",
                "-key",
                "self.key",
                "-www",
            ],
            cwd=pki,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        deadline = time.monotonic() + 15
        while "ACCEPT" not in log.read_text(errors="replace"):
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("openssl s_server did not start")
            time.sleep(0.05)
        yield port
    finally:
        proc.kill()
        proc.wait(timeout=10)


NODE_NAMED = """
const https = require('https'), fs = require('fs');
const [port, ca, servername] = process.argv.slice(1);
const o = { host: '127.0.0.1', port: Number(port), path: '/', ca: fs.readFileSync(ca),
            cert: fs.readFileSync('client.pem'), key: fs.readFileSync('client.key') };
if (servername) o.servername = servername;
https.get(o, r => { console.log('HTTP', r.statusCode); r.resume(); }).on('error', e => console.error(e));
"""


@needs_curl
def test_curl_self_signed_and_host_name(
    self_signed: int, servers: dict[str, int], pki: Path, explain: Callable[[str], Verdict]
) -> None:
    out = run([str(CURL), "-sS", f"https://127.0.0.1:{self_signed}/"], pki)
    assert "self-signed certificate" in out or "self signed certificate" in out, out
    v = explain(out)
    assert v.first["kind"] == "server-cert-self-signed"
    assert v.first["code"] == "client-text-server-cert-rejected"
    port = servers["1.3"]
    out = run(
        [
            str(CURL),
            "-sS",
            "--cacert",
            "server-ca.pem",
            "--cert",
            "client.pem",
            "--key",
            "client.key",
            "--resolve",
            f"other.example:{port}:127.0.0.1",
            f"https://other.example:{port}/",
        ],
        pki,
    )
    assert "other.example" in out, out
    v = explain(out)
    assert v.first["code"] == "client-text-hostname-mismatch"


@needs_node
def test_node_self_signed_and_host_name(
    self_signed: int, servers: dict[str, int], pki: Path, explain: Callable[[str], Verdict]
) -> None:
    out = run([str(NODE), "-e", NODE_NAMED, str(self_signed), "server-ca.pem", ""], pki)
    assert "DEPTH_ZERO_SELF_SIGNED_CERT" in out, out
    v = explain(out)
    assert v.first["kind"] == "server-cert-self-signed"
    assert v.first["client"] == "node"
    out = run([str(NODE), "-e", NODE_NAMED, str(servers["1.3"]), "server-ca.pem", "other.example"], pki)
    assert "ERR_TLS_CERT_ALTNAME_INVALID" in out, out
    v = explain(out)
    assert v.first["code"] == "client-text-hostname-mismatch"
    assert v.doc["error_text"]["server"]["host"] == "other.example"  # Node's host: 'other.example'


def test_python_host_name(servers: dict[str, int], pki: Path, explain: Callable[[str], Verdict]) -> None:
    script = (
        "import socket, ssl, sys\n"
        "ctx = ssl.create_default_context(cafile='server-ca.pem')\n"
        "ctx.load_cert_chain('client.pem', 'client.key')\n"
        "try:\n"
        f"    with socket.create_connection(('127.0.0.1', {servers['1.3']}), timeout=10) as s:\n"
        "        ctx.wrap_socket(s, server_hostname='other.example')\n"
        "except Exception as exc:\n"
        "    print(f'{type(exc).__module__}.{type(exc).__name__}: {exc}')\n"
    )
    out = run([sys.executable, "-c", script], pki)
    assert "Hostname mismatch" in out, out
    v = explain(out)
    assert v.first["code"] == "client-text-hostname-mismatch"
    assert v.first["client"] == "python"


@needs_go
def test_go_self_signed_and_host_name(
    self_signed: int, servers: dict[str, int], pki: Path, go_client: Path, explain: Callable[[str], Verdict]
) -> None:
    out = run([str(go_client), f"https://127.0.0.1:{self_signed}/", "server-ca.pem", "", ""], pki)
    assert "x509: certificate signed by unknown authority" in out, out
    assert explain(out).first["code"] == "client-text-server-cert-rejected"
    url = f"https://127.0.0.1:{servers['1.3']}/"
    out = run([str(go_client), url, "server-ca.pem", "client.pem", "client.key", "other.example"], pki)
    assert "x509: certificate is valid for" in out, out
    v = explain(out)
    assert v.first["code"] == "client-text-hostname-mismatch"
