"""The failure catalogue played by a real Java client against openssl s_server on 127.0.0.1.

Everything is made at run time: a PKI (with a server certificate that has SANs, as Java's HTTPS
endpoint identification needs), JKS keystores and truststores, one s_server per server setup, and
one JVM per javax.net.debug value that runs every scenario and writes one log per scenario.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID

from inspector.pki.throwaway import NOW, Issued, issue, make_pki, new_key, write_jks
from tests.servers import accepted_port, free_port, wait_port

PW = "changeit"
SOURCE = Path(__file__).resolve().parent / "LogClient.java"


@dataclass(frozen=True)
class Scenario:
    name: str
    keystore: str  # file name or "-"
    truststore: str
    server: str  # key of SERVERS
    protocol: str
    host: str = "localhost"
    verify_host: bool = True


#: server setups: TLS version and extra s_server options (certificate files are fixed per setup)
CHAIN = ("-cert_chain", "acme-intermediate.pem")
SERVERS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "s13": ("1.3", CHAIN, "server"),
    "s12": ("1.2", CHAIN, "server"),
    "s13-nonames": ("1.3", ("-no_ca_names", *CHAIN), "server"),
    "s12-expired": ("1.2", CHAIN, "server-expired"),
    "s12-leafonly": ("1.2", (), "server"),
}

SCENARIOS = [
    Scenario("success13", "good.jks", "trust-acme.jks", "s13", "TLSv1.3"),
    Scenario("success12", "good.jks", "trust-acme.jks", "s12", "TLSv1.2"),
    Scenario("nocert13", "stranger.jks", "trust-acme.jks", "s13", "TLSv1.3"),
    Scenario("nocert12", "stranger.jks", "trust-acme.jks", "s12", "TLSv1.2"),
    Scenario("wrongalias12", "wrongalias.jks", "trust-acme.jks", "s12", "TLSv1.2"),
    Scenario("leafonly13", "leafonly.jks", "trust-acme.jks", "s13", "TLSv1.3"),
    Scenario("expired12", "expired.jks", "trust-acme.jks", "s12", "TLSv1.2"),
    Scenario("mismatch12", "mismatch.jks", "trust-acme.jks", "s12", "TLSv1.2"),
    Scenario("weakkey12", "weak.jks", "trust-acme.jks", "s12", "TLSv1.2"),
    Scenario("untrusted12", "good.jks", "trust-stranger.jks", "s12", "TLSv1.2"),
    Scenario("untrusted13", "good.jks", "trust-stranger.jks", "s13", "TLSv1.3"),
    Scenario("hostname12", "good.jks", "trust-acme.jks", "s12", "TLSv1.2", host="wrong.example"),
    Scenario(
        "nohostcheck12",
        "good.jks",
        "trust-acme.jks",
        "s12",
        "TLSv1.2",
        host="wrong.example",
        verify_host=False,
    ),
    Scenario("protocol", "good.jks", "trust-acme.jks", "s12", "TLSv1.3"),
    Scenario("nonames13", "good.jks", "trust-acme.jks", "s13-nonames", "TLSv1.3"),
    Scenario("srvexpired12", "good.jks", "trust-acme.jks", "s12-expired", "TLSv1.2"),
    Scenario("srvleafonly12", "good.jks", "trust-acme.jks", "s12-leafonly", "TLSv1.2"),
    Scenario("nginx-nocert12", "stranger.jks", "trust-acme.jks", "nginx", "TLSv1.2"),
    Scenario("anchor-intermediate12", "good.jks", "trust-intermediate.jks", "s12", "TLSv1.2"),
]


@dataclass
class World:
    d: Path
    pki: object
    ports: dict[str, int]
    procs: list[subprocess.Popen[bytes]]


def _server_cert(cn: str, issuer: Issued, *, expired: bool = False) -> Issued:
    key = new_key("ec", 256)
    before = NOW - dt.timedelta(days=100 if expired else 1)
    after = NOW - dt.timedelta(days=2) if expired else NOW + dt.timedelta(days=300)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name.from_rfc4514_string(f"CN={cn},O=Acme"))
        .issuer_name(issuer.cert.subject)
        .public_key(key.public_key())  # type: ignore[arg-type]
        .serial_number(x509.random_serial_number())
        .not_valid_before(before)
        .not_valid_after(after)
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
        .sign(issuer.key, hashes.SHA256())  # type: ignore[arg-type]
    )
    return Issued(cert, key)


def build_files(d: Path) -> object:
    acme = make_pki()
    stranger = make_pki("stranger", org="Stranger")
    server = _server_cert("localhost", acme.intermediate)
    old_server = _server_cert("localhost", acme.intermediate, expired=True)
    expired = issue(
        "old-client",
        acme.intermediate,
        not_before=NOW - dt.timedelta(days=100),
        not_after=NOW - dt.timedelta(days=2),
    )
    selfsigned = issue("letstestcba", None, key=acme.leaf.key)
    weak = issue("weak-client", acme.intermediate, key=new_key("rsa", 1024))
    (d / "acme-root.pem").write_bytes(acme.root.pem)
    (d / "acme-intermediate.pem").write_bytes(acme.intermediate.pem)
    (d / "stranger-root.pem").write_bytes(stranger.root.pem)
    (d / "server.pem").write_bytes(server.pem + acme.intermediate.pem)
    (d / "server.key").write_bytes(server.key_pem)
    (d / "server-expired.pem").write_bytes(old_server.pem + acme.intermediate.pem)
    (d / "server-expired.key").write_bytes(old_server.key_pem)
    full = [acme.leaf.cert, acme.intermediate.cert, acme.root.cert]
    tail = [acme.intermediate.cert, acme.root.cert]
    stores = {
        "good.jks": [("letstestcba", acme.leaf.key, full)],
        "stranger.jks": [("stranger", stranger.leaf.key, [stranger.leaf.cert, stranger.intermediate.cert])],
        "leafonly.jks": [("letstestcba", acme.leaf.key, [acme.leaf.cert])],
        "expired.jks": [("old", expired.key, [expired.cert, *tail])],
        "mismatch.jks": [("letstestcba", stranger.leaf.key, full)],
        "weak.jks": [("weak", weak.key, [weak.cert, *tail])],
    }
    for file, keys in stores.items():
        write_jks(d / file, PW, keys=keys)
    write_jks(
        d / "wrongalias.jks",
        PW,
        keys=[("letstestcba", acme.leaf.key, [selfsigned.cert])],
        trusted=[("signed", acme.leaf.cert)],
    )
    write_jks(d / "trust-acme.jks", PW, trusted=[("acme-root", acme.root.cert)])
    write_jks(d / "trust-stranger.jks", PW, trusted=[("stranger-root", stranger.root.cert)])
    write_jks(d / "trust-intermediate.jks", PW, trusted=[("acme-issuing", acme.intermediate.cert)])
    return acme


NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


def _nginx(d: Path, port: int) -> subprocess.Popen[str]:
    """nginx with ssl_verify_client on: it finishes the handshake and answers HTTP 400."""
    run = d / "nginx"
    for sub in ("logs", "tmp"):
        (run / sub).mkdir(parents=True, exist_ok=True)
    (d / "server-chain.pem").write_bytes(
        (d / "server.pem").read_bytes() + (d / "acme-intermediate.pem").read_bytes()
    )
    temp = " ".join(f"{k}_temp_path {run}/tmp;" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (run / "nginx.conf").write_text(
        f"user root; worker_processes 1; pid {run}/nginx.pid; error_log {run}/logs/error.log info;\n"
        "events { worker_connections 64; }\n"
        f"http {{ access_log off; {temp}\n"
        f"  server {{ listen 127.0.0.1:{port} ssl; ssl_protocols TLSv1.2 TLSv1.3;\n"
        f"    ssl_certificate {d}/server-chain.pem; ssl_certificate_key {d}/server.key;\n"
        f"    ssl_client_certificate {d}/acme-root.pem; ssl_verify_client on; ssl_verify_depth 3;\n"
        '    location / { return 200 "hello $ssl_client_s_dn\\n"; } } }\n'
    )
    assert NGINX is not None
    return subprocess.Popen(
        [NGINX, "-c", str(run / "nginx.conf"), "-p", str(run), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )


def _announced_port(output: IO[str]) -> int:
    """The port s_server listens on (it picked it: port 0), once it says so."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        port = accepted_port(output.readline())
        if port is not None:
            return port
    raise RuntimeError("openssl s_server did not start")


@contextmanager
def servers(d: Path) -> Iterator[dict[str, int]]:
    procs: list[subprocess.Popen[str]] = []
    ports: dict[str, int] = {}
    try:
        if NGINX is not None:
            port = free_port()  # nginx cannot listen on port 0 and say which it got
            procs.append(_nginx(d, port))
            wait_port(port)
            ports["nginx"] = port
        for key, (version, extra, cert) in SERVERS.items():
            proc = subprocess.Popen(
                [
                    "openssl",
                    "s_server",
                    "-accept",
                    "127.0.0.1:0",
                    "-cert",
                    f"{cert}.pem",
                    "-key",
                    f"{cert}.key",
                    "-CAfile",
                    "acme-root.pem",
                    "-Verify",
                    "3",
                    "-verify_return_error",
                    "-www",
                    f"-tls{version.replace('.', '_')}",
                    *extra,
                ],
                cwd=d,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            procs.append(proc)
            assert proc.stdout is not None
            ports[key] = _announced_port(proc.stdout)
        yield ports
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=10)


def compile_client(java_home_bin: Path | None, out: Path, release: str | None = None) -> Path:
    javac = shutil.which("javac")
    assert javac is not None
    args = [javac, "-d", str(out)] + (["--release", release] if release else []) + [str(SOURCE)]
    subprocess.run(args, check=True, capture_output=True, timeout=120)
    return out


def run_java(
    java: str,
    classes: Path,
    debug: str,
    d: Path,
    ports: dict[str, int],
    out: Path,
    scenarios: list[Scenario] | None = None,
) -> dict[str, str]:
    """One JVM plays every scenario under one javax.net.debug value; returns name → verdict."""
    out.mkdir(parents=True, exist_ok=True)
    lines = []
    for s in scenarios or SCENARIOS:
        if s.server not in ports:  # nginx is not installed
            continue
        lines.append(
            f"{s.name} {d / s.keystore if s.keystore != '-' else '-'} {PW} "
            f"{d / s.truststore if s.truststore != '-' else '-'} {s.host} {ports[s.server]} "
            f"{s.protocol} {'true' if s.verify_host else 'false'}"
        )
    plan = out / "scenarios.txt"
    plan.write_text("\n".join(lines) + "\n")
    done = subprocess.run(
        [java, f"-Djavax.net.debug={debug}", "-cp", str(classes), "LogClient", str(plan), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    verdicts = {}
    for line in done.stdout.splitlines():
        name, _, verdict = line.partition(" ")
        verdicts[name] = verdict
    return verdicts
