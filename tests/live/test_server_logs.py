"""`log` on a server's own log, made by real servers at test time: nginx (error_log at info),
a Go net/http server and a Node https server, each requiring a client certificate from the Acme
CA, each met by real clients (openssl s_client) sending no certificate, a leaf without its
intermediate, a stranger's chain, an expired certificate and a good one. What each server wrote
is read back, and every refused client must come out with the stack's verdict and reason."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import pki as P
from tests.live.conftest import NGINX, Files, started_nginx
from tests.servers import free_port, wait_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def pem(files: Files, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Server and client PEM files from the live tests' PKI: the server trusts the Acme root only."""
    import datetime as dt

    d = tmp_path_factory.mktemp("server-logs")
    acme, stranger = files.acme, files.stranger
    expired = P.issue(
        "old-client",
        acme.intermediate,
        not_before=P.NOW - dt.timedelta(days=100),
        not_after=P.NOW - dt.timedelta(days=2),
    )
    for name in ("server.pem", "server.key"):
        (d / name).write_bytes((files / name).read_bytes())
    (d / "client-ca.pem").write_bytes(acme.root.pem)
    clients = {
        "good": (acme.leaf, acme.leaf.pem + acme.intermediate.pem),
        "leafonly": (acme.leaf, acme.leaf.pem),
        "stranger": (stranger.leaf, stranger.leaf.pem + stranger.intermediate.pem),
        "expired": (expired, expired.pem + acme.intermediate.pem),
    }
    for name, (issued, chain) in clients.items():
        (d / f"{name}.pem").write_bytes(issued.pem)
        (d / f"{name}-chain.pem").write_bytes(chain)
        (d / f"{name}.key").write_bytes(issued.key_pem)
    return d


def connect(port: int, d: Path, client: str | None, request: bool) -> None:
    """One real client handshake (and an HTTP request when `request`), then gone."""
    args = ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", "localhost", "-quiet"]
    if client is not None:
        args += ["-cert", str(d / f"{client}.pem"), "-key", str(d / f"{client}.key")]
        args += ["-cert_chain", str(d / f"{client}-chain.pem")]
    subprocess.run(
        args,
        input=b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n" if request else b"",
        capture_output=True,
        timeout=20,
    )


def read_back(path: Path) -> tuple[int, dict[str, object]]:
    run = subprocess.run(
        [sys.executable, "-m", "inspector", "log", str(path), "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert run.stderr == ""
    return run.returncode, json.loads(run.stdout)


def verdicts(document: dict[str, object]) -> list[tuple[str, str, str]]:
    events = document["server_events"]
    assert isinstance(events, list)
    return [(e["stack"], e["verdict"], e["reason"]) for e in events]


UNTRUSTED = "no trusted CA issued the chain (missing intermediate, or an untrusted CA)"
NO_ISSUER = (
    "the issuer of the first certificate was neither sent nor trusted (a missing intermediate, or an "
    "untrusted CA)"
)
CLIENTS = (None, "leafonly", "stranger", "expired", "good")
SERVER_FILES = ("client-ca.pem", "server.pem", "server.key")


@pytest.mark.skipif(NGINX is None, reason="nginx is not installed (.ci/run installs it)")
def test_nginx_error_log(pem: Path, tmp_path: Path) -> None:
    def server(port: int) -> str:
        return f"""  server {{
    listen 127.0.0.1:{port} ssl;
    ssl_certificate {pem / "server.pem"};
    ssl_certificate_key {pem / "server.key"};
    ssl_client_certificate {pem / "client-ca.pem"};
    ssl_verify_client on;
    ssl_verify_depth 2;
    location / {{ return 200 "hello\\n"; }}
  }}"""

    with started_nginx(tmp_path / "nginx", server) as port:
        for client in CLIENTS:
            connect(port, pem, client, request=True)
        time.sleep(0.2)  # nginx writes its error log line as the request ends
    status, document = read_back(tmp_path / "nginx" / "logs" / "error.log")
    assert status == 1
    # the good client is accepted without a line (nginx logs refusals only, at info)
    assert verdicts(document) == [
        ("nginx", "reject", "the client sent no certificate"),
        ("nginx", "reject", NO_ISSUER),  # the leaf alone: 21 on the leaf
        ("nginx", "reject", UNTRUSTED),  # a stranger's chain: 20 on its intermediate
        ("nginx", "reject", "a certificate has expired"),
    ]
    codes = [f["code"] for f in document["findings"]]  # type: ignore[index, union-attr]
    assert codes == ["server-log-no-client-cert", *["server-log-rejected-client-cert"] * 3]
    events = document["server_events"]
    assert [e["verify_code"] for e in events] == [None, 21, 20, 10]  # type: ignore[index, union-attr]
    assert all(e["client"] == "127.0.0.1" for e in events)  # type: ignore[index, union-attr]


GO_SERVER = """package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log"
	"net/http"
	"os"
)

func hello(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "hello") }

func main() {
	pool := x509.NewCertPool()
	ca, _ := os.ReadFile(os.Args[2])
	pool.AppendCertsFromPEM(ca)
	srv := &http.Server{
		Addr:      "127.0.0.1:" + os.Args[1],
		TLSConfig: &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool},
		Handler:   http.HandlerFunc(hello),
	}
	log.Fatal(srv.ListenAndServeTLS(os.Args[3], os.Args[4]))
}
"""


@pytest.fixture(scope="module")
def go_server(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not shutil.which("go"):
        pytest.skip("go is not installed (.ci/run installs golang-go)")
    d = tmp_path_factory.mktemp("go-server")
    (d / "main.go").write_text(GO_SERVER)
    env = {"PATH": "/usr/bin:/bin:/usr/local/bin", "HOME": str(d), "GOCACHE": str(d / "cache")}
    env |= {"GO111MODULE": "off", "CGO_ENABLED": "0"}
    subprocess.run(
        ["go", "build", "-o", str(d / "server"), "main.go"], cwd=d, env=env, check=True, timeout=300
    )
    return d / "server"


@pytest.fixture
def running(tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=10)


def test_go_net_http_log(
    pem: Path, go_server: Path, tmp_path: Path, running: list[subprocess.Popen[bytes]]
) -> None:
    port, log = free_port(), tmp_path / "go.log"
    with log.open("wb") as out:
        running.append(
            subprocess.Popen(
                [
                    str(go_server),
                    str(port),
                    str(pem / "client-ca.pem"),
                    str(pem / "server.pem"),
                    str(pem / "server.key"),
                ],
                stderr=out,
            )
        )
        wait_port(port)
        for client in CLIENTS:
            connect(port, pem, client, request=True)
        time.sleep(0.2)
    status, document = read_back(log)
    assert status == 1
    got = verdicts(document)
    # the probe connection of wait_port is a TLS handshake that never started: Go logs it as EOF
    got = [g for g in got if g[2] != "EOF"]
    assert got == [
        ("go", "reject", "the client sent no certificate"),
        ("go", "reject", UNTRUSTED),
        ("go", "reject", UNTRUSTED),
        ("go", "reject", "a certificate has expired"),
    ]


NODE_SERVER = """
const https = require('https'), fs = require('fs');
const [port, ca, cert, key] = process.argv.slice(2);
const server = https.createServer(
  {ca: fs.readFileSync(ca), cert: fs.readFileSync(cert), key: fs.readFileSync(key),
   requestCert: true, rejectUnauthorized: false},
  (req, res) => {
    if (!req.client.authorized) {
      const why = req.socket.authorizationError;
      console.log(`client ${req.socket.remoteAddress} refused: authorizationError: ${why}`);
      res.writeHead(401); res.end('unauthorized\\n'); return;
    }
    console.log(`client ${req.socket.remoteAddress} accepted`);
    res.end('hello\\n');
  });
server.listen(Number(port), '127.0.0.1', () => console.log('listening'));
"""


def test_node_authorization_errors(pem: Path, tmp_path: Path, running: list[subprocess.Popen[bytes]]) -> None:
    if not shutil.which("node"):
        pytest.skip("node is not installed")
    (tmp_path / "server.js").write_text(NODE_SERVER)
    port, log = free_port(), tmp_path / "node.log"
    with log.open("wb") as out:
        running.append(
            subprocess.Popen(
                ["node", str(tmp_path / "server.js"), str(port), *(str(pem / n) for n in SERVER_FILES)],
                stdout=out,
            )
        )  # fmt: skip
        wait_port(port)
        for client in CLIENTS:
            connect(port, pem, client, request=True)
        time.sleep(0.2)
    status, document = read_back(log)
    assert status == 1
    assert verdicts(document) == [
        ("node", "reject", "the client sent no certificate"),
        ("node", "reject", NO_ISSUER),
        ("node", "reject", UNTRUSTED),
        ("node", "reject", "a certificate has expired"),
    ]
    events = document["server_events"]
    assert [(e["stack"], e["stack_says"].split("authorizationError: ")[1]) for e in events] == [  # type: ignore[index, union-attr]
        ("node", "UNABLE_TO_GET_ISSUER_CERT"),  # no certificate at all: Node's word for it
        ("node", "UNABLE_TO_VERIFY_LEAF_SIGNATURE"),  # the leaf alone
        ("node", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY"),  # a stranger's chain
        ("node", "CERT_HAS_EXPIRED"),
    ]


APACHE = shutil.which("apache2") or ("/usr/sbin/apache2" if Path("/usr/sbin/apache2").exists() else None)
HAPROXY = shutil.which("haproxy") or ("/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None)
MODULES = Path("/usr/lib/apache2/modules")


@pytest.mark.skipif(APACHE is None, reason="apache2 is not installed (.ci/run installs it)")
def test_apache_mod_ssl_error_log(pem: Path, tmp_path: Path, running: list[subprocess.Popen[bytes]]) -> None:
    """Apache logs one connection over several lines (the verify error, then 'SSL library error
    in handshake', then OpenSSL's queue): one event each, the most telling line."""
    port = free_port()
    user = "User nobody\nGroup nogroup" if __import__("os").geteuid() == 0 else ""
    (tmp_path / "httpd.conf").write_text(f"""
ServerRoot {tmp_path}
PidFile {tmp_path}/httpd.pid
Listen 127.0.0.1:{port}
LoadModule mpm_event_module {MODULES}/mod_mpm_event.so
LoadModule authz_core_module {MODULES}/mod_authz_core.so
LoadModule ssl_module {MODULES}/mod_ssl.so
{user}
ErrorLog {tmp_path}/error.log
LogLevel warn ssl:info
ServerName localhost
<VirtualHost 127.0.0.1:{port}>
  SSLEngine on
  SSLCertificateFile {pem / "server.pem"}
  SSLCertificateKeyFile {pem / "server.key"}
  SSLCACertificateFile {pem / "client-ca.pem"}
  SSLVerifyClient require
  SSLVerifyDepth 3
</VirtualHost>
""")
    assert APACHE is not None
    running.append(subprocess.Popen([APACHE, "-f", str(tmp_path / "httpd.conf"), "-DFOREGROUND"]))
    wait_port(port)
    for client in CLIENTS:
        connect(port, pem, client, request=True)
    time.sleep(0.3)
    status, document = read_back(tmp_path / "error.log")
    assert status == 1
    assert verdicts(document) == [
        ("apache", "reject", "the client sent no certificate"),
        ("apache", "reject", UNTRUSTED),  # the leaf alone: Apache's callback sees 20 at depth 0
        ("apache", "reject", UNTRUSTED),
        ("apache", "reject", "a certificate has expired"),
    ]
    events = document["server_events"]
    assert [e["verify_code"] for e in events] == [None, 20, 20, 10]  # type: ignore[index, union-attr]
    assert all(str(e["client"]).startswith("127.0.0.1:") for e in events)  # type: ignore[index, union-attr]


@pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed (.ci/run installs it)")
def test_haproxy_log(pem: Path, tmp_path: Path, running: list[subprocess.Popen[bytes]]) -> None:
    port = free_port()
    (tmp_path / "combined.pem").write_bytes(
        (pem / "server.pem").read_bytes() + (pem / "server.key").read_bytes()
    )
    (tmp_path / "haproxy.cfg").write_text(f"""
global
  log stdout format raw local0 info
defaults
  mode http
  log global
  option httplog
  timeout connect 5s
  timeout client 5s
  timeout server 5s
frontend fe-mtls
  bind 127.0.0.1:{port} ssl crt {tmp_path / "combined.pem"} ca-file {pem / "client-ca.pem"} verify required
  http-request return status 200 content-type text/plain string "hello"
""")
    assert HAPROXY is not None
    log = tmp_path / "haproxy.log"
    with log.open("wb") as out:
        running.append(subprocess.Popen([HAPROXY, "-f", str(tmp_path / "haproxy.cfg"), "-db"], stdout=out))
        wait_port(port)
        for client in CLIENTS:
            connect(port, pem, client, request=True)
        time.sleep(0.3)
    status, document = read_back(log)
    assert status == 1
    got = [(e["stack"], e["verdict"], e["stack_says"]) for e in document["server_events"]]  # type: ignore[index, union-attr]
    # the probe connection of wait_port is a handshake that never started: a failure like the rest
    assert got[-4:] == [
        ("haproxy", "reject", "SSL handshake failure"),  # no certificate: HAProxy says only this
        ("haproxy", "reject", "SSL client certificate not trusted"),
        ("haproxy", "reject", "SSL client CA chain cannot be verified"),
        ("haproxy", "reject", "SSL client certificate not trusted"),  # expired
    ]
    codes = {f["code"] for f in document["findings"]}  # type: ignore[index, union-attr]
    assert codes == {"server-log-handshake-failed", "server-log-rejected-client-cert"}
