"""Real servers on 127.0.0.1 that require a client certificate, one per stack, each
trusting one client-CA bundle at its defaults: openssl s_server, nginx, Apache httpd, HAProxy,
Go net/http, Node https, a JDK SSLServerSocket. Each is started once, stopped by its PID, and
writes its log to a file the oracle reads after each handshake."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.live.conftest import NGINX, free_port, write_nginx_conf
from tests.server_chains import write_private

HERE = Path(__file__).resolve().parent / "stack_servers"
APACHE = shutil.which("apache2") or ("/usr/sbin/apache2" if Path("/usr/sbin/apache2").exists() else None)
HAPROXY = shutil.which("haproxy") or ("/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None)
GO, NODE = shutil.which("go"), shutil.which("node")
JAVA, JAVAC = shutil.which("java"), shutil.which("javac")
APACHE_MODULES = Path("/usr/lib/apache2/modules")
#: MTLS_ORACLE_TLS=1.3 runs the oracle's handshakes in TLS 1.3 (default 1.2; nginx 1.22 then
#: needs ssl_protocols to include TLSv1.3, its only change from the defaults)
TLS13 = os.environ.get("MTLS_ORACLE_TLS") == "1.3"


@dataclass
class Running:
    stack: str
    port: int
    log: Path
    proc: subprocess.Popen[bytes]
    offset: int = 0

    def mark(self) -> None:
        self.offset = self.log.stat().st_size if self.log.exists() else 0

    def new_lines(self, wait: float) -> str:
        """What the log gained since mark(): polled up to `wait` seconds for the first bytes."""
        deadline = time.monotonic() + wait
        text = ""
        while True:
            if self.log.exists():
                with self.log.open("rb") as f:
                    f.seek(self.offset)
                    text = f.read().decode("utf-8", "replace")
            if text or time.monotonic() >= deadline:
                time.sleep(0.05)  # the rest of a line being written
                if self.log.exists():
                    with self.log.open("rb") as f:
                        f.seek(self.offset)
                        text = f.read().decode("utf-8", "replace")
                return text
            time.sleep(0.02)


@dataclass
class Files:
    d: Path
    server_cert: Path
    server_key: Path
    server_key_der: Path
    trust: Path


@dataclass
class Stacks:
    """Start the stacks one by one; each start returns a Running or a reason to skip it."""

    files: Files
    started: list[Running] = field(default_factory=list)

    def stop(self) -> None:
        for r in self.started:
            if r.proc.poll() is None:
                r.proc.terminate()
                try:
                    r.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    r.proc.kill()
                    r.proc.wait(timeout=5)

    def _spawn(
        self,
        stack: str,
        argv: list[str],
        log: Path,
        port: int,
        cwd: Path | None = None,
        ready: Callable[[], None] | None = None,
        to_log: bool = True,
    ) -> Running:
        out = log.open("ab") if to_log else subprocess.DEVNULL
        proc = subprocess.Popen(argv, cwd=cwd or self.files.d, stdout=out, stderr=subprocess.STDOUT)
        running = Running(stack, port, log, proc)
        self.started.append(running)
        try:
            (ready or (lambda: _wait_listening(proc, port)))()
        except RuntimeError as e:
            raise RuntimeError(
                f"{stack} did not start: {e}; log: {log.read_text(errors='replace')[-500:]}"
            ) from e
        return running

    def openssl(self) -> Running:
        d = self.files
        port = free_port()
        # -Verify 100: OpenSSL's library default depth (s_server's option requires a number)
        return self._spawn(
            "openssl",
            [
                "openssl",
                "s_server",
                "-accept",
                f"127.0.0.1:{port}",
                "-cert",
                str(d.server_cert),
                "-key",
                str(d.server_key),
                "-CAfile",
                str(d.trust),
                "-Verify",
                "100",
                "-verify_return_error",
                "-www",
                "-naccept",
                "1000",
            ],
            d.d / "openssl.log",
            port,
        )

    def nginx(self) -> Running:
        if NGINX is None:
            raise LookupError("nginx is not installed (apt-get install nginx)")
        d = self.files
        prefix = d.d / "nginx"

        def server(port: int) -> str:
            return f"""  server {{
    listen 127.0.0.1:{port} ssl;
    ssl_certificate {d.server_cert};
    ssl_certificate_key {d.server_key};
    ssl_client_certificate {d.trust};
    ssl_verify_client on;
    {"ssl_protocols TLSv1.2 TLSv1.3;" if TLS13 else ""}
    location / {{ return 200 "ok $ssl_client_verify\\n"; }}
  }}"""

        conf, port = write_nginx_conf(prefix, server)
        return self._spawn(
            "nginx",
            [NGINX, "-c", str(conf), "-p", str(prefix), "-g", "daemon off;"],
            prefix / "logs" / "error.log",
            port,
            to_log=False,
        )

    def apache(self) -> Running:
        if APACHE is None or not (APACHE_MODULES / "mod_ssl.so").exists():
            raise LookupError("Apache httpd is not installed (apt-get install apache2)")
        d = self.files
        prefix = d.d / "apache"
        prefix.mkdir(exist_ok=True)
        # the document root must be readable by the worker's user (www-data): under /tmp, 0755
        docroot = Path(tempfile.mkdtemp(prefix="mtls-apache-"))
        docroot.chmod(0o755)
        (docroot / "index.html").write_text("ok\n")
        (docroot / "index.html").chmod(0o644)
        port = free_port()
        mods = ["mpm_event", "authz_core", "socache_shmcb", "ssl", "dir"]
        loads = "\n".join(f"LoadModule {m}_module {APACHE_MODULES}/mod_{m}.so" for m in mods)
        conf = prefix / "httpd.conf"
        conf.write_text(f"""{loads}
ServerRoot {prefix}
PidFile {prefix}/httpd.pid
Mutex file:{prefix}
User www-data
Group www-data
ServerName localhost
Listen 127.0.0.1:{port}
ErrorLog {prefix}/error.log
LogLevel warn ssl:info
DocumentRoot {docroot}
DirectoryIndex index.html
StartServers 1
ServerLimit 1
SSLSessionCache none
<VirtualHost 127.0.0.1:{port}>
  SSLEngine on
  SSLCertificateFile {d.server_cert}
  SSLCertificateKeyFile {d.server_key}
  SSLCACertificateFile {d.trust}
  SSLVerifyClient require
  <Directory {docroot}>
    Require all granted
  </Directory>
</VirtualHost>
""")
        return self._spawn(
            "apache", [APACHE, "-f", str(conf), "-DFOREGROUND"], prefix / "error.log", port, to_log=False
        )

    def haproxy(self) -> Running:
        if HAPROXY is None:
            raise LookupError("HAProxy is not installed (apt-get install haproxy)")
        d = self.files
        prefix = d.d / "haproxy"
        prefix.mkdir(exist_ok=True)
        bundle = prefix / "server.pem"
        write_private(bundle, d.server_cert.read_bytes() + d.server_key.read_bytes())
        port = free_port()
        conf = prefix / "haproxy.cfg"
        conf.write_text(f"""global
  log stdout format raw local0 info
defaults
  mode http
  log global
  option httplog
  timeout connect 5s
  timeout client 5s
  timeout server 5s
frontend fe
  bind 127.0.0.1:{port} ssl crt {bundle} ca-file {d.trust} verify required
  http-request return status 200 content-type text/plain string "ok"
""")
        return self._spawn("haproxy", [HAPROXY, "-db", "-f", str(conf)], prefix / "haproxy.log", port)

    def go(self) -> Running:
        if GO is None:
            raise LookupError("Go is not installed (apt-get install golang-go)")
        d = self.files
        prefix = d.d / "go"
        prefix.mkdir(exist_ok=True)
        binary = prefix / "server"
        env = {**os.environ, "GO111MODULE": "off", "GOFLAGS": "-mod=mod", "CGO_ENABLED": "0"}
        env.setdefault("GOCACHE", str(Path(tempfile.gettempdir()) / "mtls-go-cache"))
        built = subprocess.run(
            [GO, "build", "-o", str(binary), str(HERE / "server.go")],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        if built.returncode != 0:
            raise LookupError(f"the Go server did not build offline: {built.stderr.strip()[-300:]}")
        port = free_port()
        return self._spawn(
            "go",
            [str(binary), str(port), str(d.server_cert), str(d.server_key), str(d.trust)],
            prefix / "go.log",
            port,
        )

    def node(self) -> Running:
        if NODE is None:
            raise LookupError("node is not installed")
        d = self.files
        port = free_port()
        return self._spawn(
            "node",
            [NODE, str(HERE / "server.js"), str(port), str(d.server_cert), str(d.server_key), str(d.trust)],
            d.d / "node.log",
            port,
        )

    def java(self) -> Running:
        if JAVA is None or JAVAC is None:
            raise LookupError("java/javac are not on PATH")
        d = self.files
        prefix = d.d / "java"
        prefix.mkdir(exist_ok=True)
        subprocess.run(
            [JAVAC, "-d", str(prefix), str(HERE / "ClientAuthServer.java")],
            check=True,
            capture_output=True,
            timeout=180,
        )
        port = free_port()
        return self._spawn(
            "java",
            [
                JAVA,
                "-cp",
                str(prefix),
                "ClientAuthServer",
                str(port),
                str(d.server_key_der),
                str(d.server_cert),
                str(d.trust),
            ],
            prefix / "java.log",
            port,
        )


def _wait_listening(proc: subprocess.Popen[bytes], port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"exited with status {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


@dataclass(frozen=True)
class Outcome:
    accepted: bool
    detail: str


def handshake(port: int, chain: Path | None, key: Path | None, timeout: float = 8.0) -> Outcome:
    """One TLS 1.2 handshake sending `chain` (as the file lists it) and one HTTP request: accepted
    when an HTTP response other than 400 (nginx's answer to a refused certificate) comes back."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if TLS13:
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    else:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")  # the client must be able to send what is judged
    if chain is not None and key is not None:  # None: the client sends an empty Certificate
        ctx.load_cert_chain(str(chain), str(key))
    data = b""
    try:
        with (
            socket.create_connection(("127.0.0.1", port), timeout=timeout) as raw,
            ctx.wrap_socket(raw) as tls,
        ):
            tls.sendall(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
            with contextlib.suppress(ssl.SSLZeroReturnError, ssl.SSLEOFError, ConnectionResetError):
                while len(data) < 65536:
                    chunk = tls.recv(4096)
                    if not chunk:
                        break
                    data += chunk
    except (ssl.SSLError, OSError) as e:
        return Outcome(False, f"{type(e).__name__}: {e}")
    status = data.split(b"\r\n", 1)[0].decode("latin-1")
    if status.startswith("HTTP/") and " 400 " not in status + " ":
        return Outcome(True, status)
    return Outcome(False, status or "no HTTP response")


@contextlib.contextmanager
def stacks(files: Files) -> Iterator[Stacks]:
    s = Stacks(files)
    try:
        yield s
    finally:
        s.stop()


def settle(server: Running, quiet: float = 0.4) -> None:
    """Let the readiness probe's own log line (a connection closed at once) be written before the
    first handshake is judged."""
    time.sleep(quiet)
