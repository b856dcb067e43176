"""Time `mtls-inspect probe` against a Java client and `openssl s_client` on one local server.

    python benchmarks/bench_probe.py [--runs 10]

The server is `openssl s_server -Verify 2 -www` on 127.0.0.1 requiring client certificates;
the Java client is tests/java/ChooseAlias.java (JSSE default key manager, compiled here).
Each tool connects with the same key and chain; runs alternate. Target: the probe no
slower than the Java client (ratio <= 1.0).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PW = "changeit"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--tls-version", choices=["1.2", "1.3"], default="1.3")
    args = parser.parse_args()
    if not (shutil.which("java") and shutil.which("javac")):
        sys.exit("bench_probe: java and javac are needed for the Java client")
    from cryptography.x509.oid import ExtendedKeyUsageOID

    from benchmarks.common import byte_compile, timed_run
    from tests import pki as P
    from tests.live.conftest import free_port

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        acme = P.make_pki()
        server = P.issue("localhost", acme.intermediate, eku=[ExtendedKeyUsageOID.SERVER_AUTH])
        (d / "root.pem").write_bytes(acme.root.pem)
        (d / "server.pem").write_bytes(server.pem + acme.intermediate.pem)
        (d / "server.key").write_bytes(server.key_pem)
        (d / "client.pem").write_bytes(acme.leaf.pem)
        (d / "chain.pem").write_bytes(acme.intermediate.pem)
        (d / "client.key").write_bytes(acme.leaf.key_pem)
        P.write_jks(
            d / "client.jks",
            PW,
            keys=[("letstestcba", acme.leaf.key, [acme.leaf.cert, acme.intermediate.cert, acme.root.cert])],
        )
        subprocess.run(
            ["javac", "-d", str(d), str(ROOT / "tests" / "java" / "ChooseAlias.java")],
            check=True,
            capture_output=True,
        )
        port = free_port()
        version = f"-tls{args.tls_version.replace('.', '_')}"
        srv = subprocess.Popen(
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
                "root.pem",
                "-Verify",
                "2",
                "-www",
                version,
            ],
            cwd=d,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(0.5)
        script = Path(sysconfig.get_path("scripts")) / "mtls-inspect"
        ours = [str(script)] if script.exists() else [sys.executable, "-m", "inspector"]
        probe = [
            *ours,
            "probe",
            f"127.0.0.1:{port}",
            "--insecure",
            "--keystore",
            "client.jks",
            "--storepass",
            PW,
        ]
        tools = {
            "mtls-inspect probe (Java's choice)": (probe, "", "installed 'letstestcba'"),
            "mtls-inspect probe --alias": ([*probe, "--alias", "letstestcba"], "", "No findings"),
            "java (JSSE, PKIX)": (
                [
                    "java",
                    "-cp",
                    str(d),
                    "ChooseAlias",
                    "client.jks",
                    PW,
                    "127.0.0.1",
                    str(port),
                    "PKIX",
                    f"TLSv{args.tls_version}",
                ],
                "",
                "letstestcba",
            ),
            "openssl s_client": (
                [
                    "openssl",
                    "s_client",
                    "-connect",
                    f"127.0.0.1:{port}",
                    "-cert",
                    "client.pem",
                    "-key",
                    "client.key",
                    "-cert_chain",
                    "chain.pem",
                    version,
                ],
                "GET / HTTP/1.0\r\n\r\n",
                "SSL handshake has read",
            ),
        }
        byte_compile()
        times: dict[str, list[float]] = {name: [] for name in tools}
        try:
            for _ in range(args.runs):
                for name, (cmd, stdin, expect) in tools.items():
                    times[name].append(timed_run(cmd, cwd=d, stdin=stdin, expect=expect))
        finally:
            srv.kill()
    medians = {name: statistics.median(v) for name, v in times.items()}
    java, s_client = medians["java (JSSE, PKIX)"], medians["openssl s_client"]
    print(f"TLS {args.tls_version}, {args.runs} alternating runs each")
    for name, value in medians.items():
        print(
            f"{name:36} median {value * 1000:7.1f} ms   ratio to java {value / java:5.2f}"
            f"   to s_client {value / s_client:5.1f}"
        )
    print("target: probe / java <= 1.0")
    return 0


if __name__ == "__main__":
    sys.exit(main())
