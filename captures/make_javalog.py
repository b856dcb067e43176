"""Regenerate the sample Java log in captures/ with a real JDK client (the Java log tests' client).

    python captures/make_javalog.py

java-nocert12.log: tests/javalog/LogClient.java run by the `java` on PATH with
-Djavax.net.debug=ssl:handshake:verbose against openssl s_server on 127.0.0.1 (TLS 1.2, client
auth required, naming only CN=Acme Root CA,O=Acme); the client's keystore holds a key entry
issued by another CA, so Java sends an empty Certificate and the server answers handshake_failure
(the `nocert12` scenario of tests/javalog/scenarios.py). Needs java, javac and openssl.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tests.javalog import scenarios as S  # noqa: E402

SCENARIO = "nocert12"
OUT = HERE / "java-nocert12.log"


def main() -> None:
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
        chosen = [s for s in S.SCENARIOS if s.name == SCENARIO]
        with S.servers(d) as ports:
            S.run_java(java, classes, "ssl:handshake:verbose", d, ports, d / "logs", chosen)
        OUT.write_bytes((d / "logs" / f"{SCENARIO}.log").read_bytes())
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
