"""What `--server-ca` (every stack's verdict) adds to `mtls-inspect select`.

Usage: python benchmarks/bench_server_stacks.py [--runs N]
Builds a client keystore (leaf, intermediate) and the server's client-CA bundle with the oracle's
catalogue, then times `select` without and with `--server-ca`, alternating runs, and the
prediction alone in this process (every stack, each catalogue chain).
Target: at most 50 ms more per `select`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_MS = 50.0


def main() -> int:
    from benchmarks.common import byte_compile, timed_run
    from inspector.server_stacks import predict
    from inspector.server_stacks.described import predict_described
    from parsers.javalog.certtext import rebuild
    from tests import server_chains as SC
    from tests.pki import write_jks
    from tests.test_server_verdicts_described import described_as_jdk8

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    byte_compile()
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        catalogue = SC.build(d / "chains")
        good = catalogue.case("good")
        assert good.key is not None
        store = write_jks(d / "client.jks", "changeit", keys=[("client", good.key, list(good.sent))])
        (d / "server-ca.pem").write_bytes(SC.pem(catalogue.trust))
        (d / "names.txt").write_text("CN=Acme Root CA,O=Acme\n")
        env = {**os.environ, "BENCH_STOREPASS": "changeit", "PYTHONPATH": str(ROOT)}
        base = [sys.executable, "-m", "inspector", "select", "--keystore", str(store)]
        base += ["--storepass-env", "BENCH_STOREPASS", "--ca-names", str(d / "names.txt")]
        with_ca = [*base, "--server-ca", str(d / "server-ca.pem")]
        without, withs = [], []
        for _ in range(args.runs):
            without.append(timed_run(base, ok=(0,), expect="What a Java client would send", env=env))
            withs.append(timed_run(with_ca, ok=(0, 1), expect="The partner's server", env=env))
        # the prediction alone, in this process: every stack, every chain of the catalogue
        at = dt.datetime.now(dt.timezone.utc)
        per_chain = []
        system = Path("/etc/ssl/certs/ca-certificates.crt")
        big: list[float] = []
        if system.exists():  # a server trusting the system bundle too: hundreds of CAs
            from cryptography import x509

            bundle = [*x509.load_pem_x509_certificates(system.read_bytes()), *catalogue.trust]
            for case in catalogue.cases:
                start = time.perf_counter()
                predict(case.sent, bundle, at)
                big.append(time.perf_counter() - start)
        for _ in range(5):
            for case in catalogue.cases:
                start = time.perf_counter()
                predict(case.sent, catalogue.trust, at)
                per_chain.append(time.perf_counter() - start)
        # log --server-ca: the same chains known by their description only (as a log prints them)
        described = []
        for case in catalogue.cases:
            pairs = [(rebuild(p), p) for p in map(described_as_jdk8, case.sent)]
            start = time.perf_counter()
            predict_described(pairs, catalogue.trust, at)
            described.append(time.perf_counter() - start)
    a, b = statistics.median(without) * 1000, statistics.median(withs) * 1000
    added = b - a
    print(f"select without --server-ca: median {a:.1f} ms over {args.runs} runs")
    print(
        f"select with --server-ca:    median {b:.1f} ms (adds {added:.1f} ms; target <= {TARGET_MS:.0f} ms)"
    )
    print(
        f"predict (8 stacks, one chain, in process): median {statistics.median(per_chain) * 1000:.2f} ms, "
        f"max {max(per_chain) * 1000:.2f} ms over {len(per_chain)} predictions"
    )
    print(
        f"predict a described chain (log --server-ca): median {statistics.median(described) * 1000:.2f} ms, "
        f"max {max(described) * 1000:.2f} ms over {len(described)} chains"
    )
    if big:
        print(
            f"predict against the system CA bundle too ({len(bundle)} CAs): median "
            f"{statistics.median(big) * 1000:.2f} ms, max {max(big) * 1000:.2f} ms (first reads included)"
        )
    return 0 if added <= TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
