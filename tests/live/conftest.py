"""Real peers on 127.0.0.1: our reference server, openssl s_server, nginx, and a Java client."""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.x509.oid import ExtendedKeyUsageOID

from tests import pki as P
from tests.servers import accepted_port, free_port, wait_port

PW = "changeit"


@dataclass
class Files:
    d: Path
    acme: P.Pki
    stranger: P.Pki

    def __truediv__(self, name: str) -> Path:
        return self.d / name


@pytest.fixture(scope="session")
def files(tmp_path_factory: pytest.TempPathFactory) -> Files:
    d = tmp_path_factory.mktemp("live")
    acme, stranger = P.make_pki(), P.make_pki("stranger", org="Stranger")
    server = P.issue("localhost", acme.intermediate, eku=[ExtendedKeyUsageOID.SERVER_AUTH])
    import datetime as dt

    expired = P.issue(
        "old-client",
        acme.intermediate,
        not_before=P.NOW - dt.timedelta(days=100),
        not_after=P.NOW - dt.timedelta(days=2),
    )
    server_only = P.issue("server-eku-client", acme.intermediate, eku=[ExtendedKeyUsageOID.SERVER_AUTH])
    (d / "acme-root.pem").write_bytes(acme.root.pem)
    (d / "stranger-root.pem").write_bytes(stranger.root.pem)
    (d / "server.pem").write_bytes(server.pem + acme.intermediate.pem)
    (d / "server.key").write_bytes(server.key_pem)
    full = [acme.leaf.cert, acme.intermediate.cert, acme.root.cert]
    stranger_full = [stranger.leaf.cert, stranger.intermediate.cert, stranger.root.cert]
    tail = [acme.intermediate.cert, acme.root.cert]
    stores = {
        "good.jks": [("letstestcba", acme.leaf.key, full)],
        "stranger.jks": [("stranger", stranger.leaf.key, stranger_full)],
        "two.jks": [("acme", acme.leaf.key, full), ("stranger", stranger.leaf.key, stranger_full)],
        "leafonly.jks": [("letstestcba", acme.leaf.key, [acme.leaf.cert])],
        "expired.jks": [("old", expired.key, [expired.cert, *tail])],
        "servereku.jks": [("svc", server_only.key, [server_only.cert, *tail])],
    }
    for name, keys in stores.items():
        P.write_jks(d / name, PW, keys=keys)
    P.write_jks(
        d / "keypass.jks", PW, keys=[("letstestcba", acme.leaf.key, full)], keypass="a-different-key-password"
    )
    return Files(d, acme, stranger)


@pytest.fixture
def serve(files: Files) -> Iterator[object]:
    """Start our reference server with keyword options; stopped after the test."""
    from inspector.live.reference_server import ReferenceServer

    started: list[ReferenceServer] = []

    def start(**options: object) -> ReferenceServer:
        server = ReferenceServer(
            files / "server.pem", files / "server.key", [files / "acme-root.pem"], **options
        )  # type: ignore[arg-type]
        started.append(server.start())
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def s_server(files: Files) -> Iterator[object]:
    procs: list[subprocess.Popen[str]] = []

    def start(*extra: str, version: str = "1.3") -> int:
        proc = subprocess.Popen(
            [
                "openssl",
                "s_server",
                "-accept",
                "127.0.0.1:0",
                "-cert",
                "server.pem",
                "-key",
                "server.key",
                "-Verify",
                "3",
                "-verify_return_error",
                "-www",
                f"-tls{version.replace('.', '_')}",
                *extra,
            ],
            cwd=files.d,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        procs.append(proc)
        assert proc.stdout is not None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            port = accepted_port(proc.stdout.readline())
            if port is not None:
                return port
        raise RuntimeError("openssl s_server did not start")

    yield start
    for proc in procs:
        proc.kill()
        proc.wait(timeout=5)


NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


def write_nginx_conf(prefix: Path, server: Callable[[int], str]) -> tuple[Path, int]:
    """An nginx.conf under `prefix` (pid, logs, temp files there) with one server block,
    `server(port)`, on a free 127.0.0.1 port: (the file, the port)."""
    port = free_port()
    for sub in ("logs", "tmp"):
        (prefix / sub).mkdir(parents=True, exist_ok=True)
    conf = prefix / "nginx.conf"
    temp = prefix / "tmp"
    conf.write_text(f"""
user root;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/logs/error.log info;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {temp}; proxy_temp_path {temp};
  fastcgi_temp_path {temp}; uwsgi_temp_path {temp}; scgi_temp_path {temp};
{server(port)}
}}
""")
    return conf, port


@contextlib.contextmanager
def started_nginx(prefix: Path, server: Callable[[int], str]) -> Iterator[int]:
    """nginx in the foreground under `prefix` with one server block, `server(port)`, on a free
    127.0.0.1 port (write_nginx_conf); stopped on exit. Yields the port."""
    assert NGINX is not None
    conf, port = write_nginx_conf(prefix, server)
    proc = subprocess.Popen(
        [NGINX, "-c", str(conf), "-p", str(prefix), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_port(port)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def nginx(files: Files, tmp_path: Path) -> Iterator[int]:
    if NGINX is None:
        pytest.skip("nginx is not installed (apt-get install nginx): nginx scenarios skipped")

    def server(port: int) -> str:
        return f"""  server {{
    listen 127.0.0.1:{port} ssl;
    ssl_certificate {files / "server.pem"};
    ssl_certificate_key {files / "server.key"};
    ssl_client_certificate {files / "acme-root.pem"};
    ssl_verify_client on;
    ssl_verify_depth 3;
    location / {{ return 200 "hello $ssl_client_s_dn\\n"; }}
  }}"""

    with started_nginx(tmp_path, server) as port:
        yield port


JAVA, JAVAC = shutil.which("java"), shutil.which("javac")


@pytest.fixture(scope="session")
def java_oracle(tmp_path_factory: pytest.TempPathFactory) -> object:
    if JAVA is None or JAVAC is None:
        pytest.skip("java/javac are not on PATH: the Java oracle is skipped")
    out = tmp_path_factory.mktemp("java")
    source = Path(__file__).resolve().parent.parent / "java" / "ChooseAlias.java"
    subprocess.run([JAVAC, "-d", str(out), str(source)], check=True, capture_output=True, timeout=120)

    def choose(keystore: Path, port: int, algorithm: str = "PKIX", protocol: str = "TLSv1.3") -> str | None:
        done = subprocess.run(
            [
                JAVA,
                "-cp",
                str(out),
                "ChooseAlias",
                str(keystore),
                PW,
                "127.0.0.1",
                str(port),
                algorithm,
                protocol,
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        lines = done.stdout.splitlines()
        if "ASKED=true" not in lines:  # no CertificateRequest reached the key manager
            pytest.fail(f"the Java client was never asked for a certificate: {done.stdout}")
        alias = next(line.split("=", 1)[1] for line in lines if line.startswith("ALIAS="))
        if alias == "null":
            return None
        # PKIX names its choice "builder.entry.alias" (e.g. 1.0.letstestcba)
        return re.sub(r"^\d+\.\d+\.", "", alias) if algorithm == "PKIX" else alias

    choose.classpath = out  # type: ignore[attr-defined]  # for tests that run java themselves
    return choose
