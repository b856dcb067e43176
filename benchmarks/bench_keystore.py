"""Time `mtls-inspect keystore F` against `keytool -list -v -keystore F`, alternating runs.

Usage: python benchmarks/bench_keystore.py [--runs N] [--keystore F --storepass-env VAR]
Without a keystore it builds the vendor guide's one with keytool (PKCS#12 named .jks).
Target: ratio < 1.0, aiming at 0.5.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import sysconfig
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def build_keystore(workdir: Path, password: str) -> Path:
    from tests import pki as P

    return P.keytool_guide(workdir, P.make_pki(), password)


def timed(cmd: list[str], env: dict[str, str]) -> float:
    from benchmarks.common import timed_run

    # ours exits 1 when the store has error findings (the guide's store does)
    return timed_run(cmd, ok=(0, 1), expect="Keystore" if "keystore" in cmd else "Alias name", env=env)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--keystore", type=Path)
    parser.add_argument("--storepass-env", default="BENCH_STOREPASS")
    args = parser.parse_args()
    keytool = shutil.which("keytool")
    if keytool is None:
        print("keytool is not on PATH: nothing to compare against", file=sys.stderr)
        return 2
    env = dict(os.environ)
    env.setdefault(args.storepass_env, "ServiceNow123")
    with tempfile.TemporaryDirectory() as tmp:
        store = args.keystore or build_keystore(Path(tmp), env[args.storepass_env])
        script = Path(sysconfig.get_path("scripts")) / "mtls-inspect"
        ours = [str(script)] if script.exists() else [sys.executable, "-m", "inspector"]
        ours += ["keystore", str(store), "--storepass-env", args.storepass_env]
        theirs = [keytool, "-list", "-v", "-keystore", str(store), "-storepass:env", args.storepass_env]
        from benchmarks.common import byte_compile

        byte_compile()
        timed(ours, env), timed(theirs, env)  # warm the page cache
        mine: list[float] = []
        java: list[float] = []
        for _ in range(args.runs):
            mine.append(timed(ours, env))
            java.append(timed(theirs, env))
    m, j = statistics.median(mine), statistics.median(java)
    print(f"keystore: {store.name if args.keystore else 'letstestcba.jks (PKCS12, keytool-made)'}")
    print(f"mtls-inspect keystore : median {m * 1000:7.1f} ms  (min {min(mine) * 1000:.1f})")
    print(f"keytool -list -v      : median {j * 1000:7.1f} ms  (min {min(java) * 1000:.1f})")
    print(f"ratio (ours / keytool): {m / j:.2f}   target < 1.0, aim 0.5")
    return 0


if __name__ == "__main__":
    sys.exit(main())
