"""Regenerate the sample Java log in captures/ with a real JDK client (the Java log tests' client).

    python captures/make_javalog.py

java-nocert12.log: tests/javalog/LogClient.java run by the `java` on PATH with
-Djavax.net.debug=ssl:handshake:verbose against openssl s_server on 127.0.0.1 (TLS 1.2, client
auth required, naming only CN=Acme Root CA,O=Acme); the client's keystore holds a key entry
issued by another CA, so Java sends an empty Certificate and the server answers handshake_failure
(the `nocert12` scenario of tests/javalog/scenarios.py). Needs java, javac and openssl.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tests.javalog import scenarios as S  # noqa: E402

SCENARIO = "nocert12"


def main() -> None:
    """`make_javalog.py` writes java-nocert12.log; `make_javalog.py expired12` writes
    java-expired12.log (the client sends an expired certificate under the Acme intermediate) and
    java-expired12-ca.pem (that run's Acme root: what the server trusts, for `--server-ca`) and
    java-expired12.pcap (the same handshake captured; needs root and tcpdump)."""
    scenario = sys.argv[1] if len(sys.argv) > 1 else SCENARIO
    out = HERE / f"java-{scenario}.log"
    java, javac = shutil.which("java"), shutil.which("javac")
    if java is None or javac is None:
        sys.exit("java and javac must be on PATH")
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        S.build_files(d)
        classes = d / "classes"
        subprocess.run(
            [javac, "--release", "11", "-d", str(classes), str(S.SOURCE)], check=True, capture_output=True
        )
        chosen = [s for s in S.SCENARIOS if s.name == scenario]
        with S.servers(d) as ports:
            if scenario == SCENARIO:
                S.run_java(java, classes, "ssl:handshake:verbose", d, ports, d / "logs", chosen)
            else:  # the same handshake on the wire too (TLS 1.2: the client's chain in clear)
                with _tcpdump(ports[chosen[0].server], HERE / f"java-{scenario}.pcap"):
                    S.run_java(java, classes, "ssl:handshake:verbose", d, ports, d / "logs", chosen)
                (HERE / f"java-{scenario}-ca.pem").write_bytes((d / "acme-root.pem").read_bytes())
        out.write_bytes((d / "logs" / f"{scenario}.log").read_bytes())
    print(f"wrote {out}")


@contextlib.contextmanager
def _tcpdump(port: int, out: Path) -> Iterator[None]:
    """tcpdump on the loopback for `port` (root), stopped by its PID once the packets are written."""
    argv = ["tcpdump", "-i", "lo", "-s", "0", "-U", "--immediate-mode", "-w", str(out), f"tcp port {port}"]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    while "listening on" not in proc.stderr.readline():
        if proc.poll() is not None:
            sys.exit("tcpdump did not start (run as root)")
    try:
        yield
        time.sleep(2)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
