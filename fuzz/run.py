"""Mutation fuzzing of every file input, held to the tool's contract (bounded, no extra library).

Each target takes real seed files (the sample captures, keystores of every format made here with
the throwaway PKI, DN text, CA bundles), mutates them — bit flips, byte runs, truncation, splices,
duplicated or deleted chunks, interesting integers written over length fields — and runs the real
command line in-process on each. A run breaks the contract when:

- the exit status is not 0/1 (a report) or 2 (bad input);
- exit 2 does not come with exactly one stderr line that names the input file;
- anything says "internal error" or shows a traceback;
- stdout/stderr hold a raw control character (terminal escapes from the input);
- the password appears in the output;
- one input takes longer than the per-input limit (a hang or super-linear work).

Two targets vary what surrounds the bytes instead of the bytes: `names` gives a real input a
hostile file name each run (terminal escapes, OSC title sequences, bytes that are not UTF-8,
format characters), `encodings` runs a real input with stdout and stderr in an encoding that
cannot take every character (Latin-1, cp1252, ASCII): the output must still be whole, encoded,
and free of raw control characters. The `peer-*` targets (fuzz/peers.py) make a certificate
whose CN has a random tag and bytes each run and have a live peer on 127.0.0.1 present it to
`probe` and to `serve` (or `keystore` read it as a file, mutated).

Every violation is written to fuzz/findings/<target>-<sha1>.bin with a .txt saying why.

    python3 -m fuzz.run                      # every target, 60 s each
    python3 -m fuzz.run pcap keystore-jks --seconds 600 --seed 7
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import os
import random
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

ROOT = Path(__file__).resolve().parent.parent
CAPTURES = ROOT / "captures"
FINDINGS = Path(__file__).resolve().parent / "findings"
PASSWORD = "fuzz-Pa55word"
PER_INPUT_SECONDS = 10
CONTROL = {chr(c) for c in range(32)} - {"\n", "\t"} | {"\x7f"}

INTERESTING = [0, 1, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 0x7FFFFFFF, 0xFFFFFFFF]


@dataclass
class Target:
    """One input kind: its seeds and how to run the command on a file."""

    name: str
    seeds: list[bytes]
    argv: Callable[[Path], list[str]]
    suffix: str
    #: mends what would stop every mutant at the door (a JKS store's digest), to reach deeper code
    mend: Callable[[bytes], bytes] | None = None
    #: the seeds as they are, under a hostile file name each run (the bytes are not mutated)
    hostile_names: bool = False
    #: the seeds as they are, with stdout/stderr in one of these encodings each run
    encodings: tuple[str, ...] = ()
    #: makes each run's input instead of mutating a seed (a certificate a peer presents)
    make: Callable[[random.Random], bytes] | None = None
    #: a live peer around the run: given the input file, yields (argv, the name the input goes by)
    peer: Callable[[Path, random.Random], contextlib.AbstractContextManager[tuple[list[str], str]]] | None = (
        None
    )


@dataclass
class Tally:
    runs: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    violations: list[str] = field(default_factory=list)
    slowest: float = 0.0


def mutate(data: bytes, rnd: random.Random) -> bytes:
    """One to four random edits of the kinds that break parsers."""
    out = bytearray(data)
    for _ in range(rnd.randint(1, 4)):
        if not out:
            out = bytearray(rnd.randbytes(rnd.randint(1, 64)))
        kind = rnd.randrange(7)
        pos = rnd.randrange(len(out))
        if kind == 0:  # bit flip
            out[pos] ^= 1 << rnd.randrange(8)
        elif kind == 1:  # random bytes
            n = rnd.randint(1, 16)
            out[pos : pos + n] = rnd.randbytes(n)
        elif kind == 2:  # truncate
            del out[pos:]
        elif kind == 3:  # an interesting integer over a length field
            width = rnd.choice([1, 2, 3, 4])
            value = rnd.choice(INTERESTING) & ((1 << (8 * width)) - 1)
            out[pos : pos + width] = value.to_bytes(width, "big" if rnd.random() < 0.7 else "little")
        elif kind == 4:  # duplicate a chunk
            n = rnd.randint(1, 256)
            out[pos:pos] = out[pos : pos + n]
        elif kind == 5:  # delete a chunk
            del out[pos : pos + rnd.randint(1, 256)]
        else:  # splice the tail of another place
            other = rnd.randrange(len(out))
            out[pos:] = out[other:]
    return bytes(out)


class _Timeout(Exception):
    pass


@contextlib.contextmanager
def _limit(seconds: int) -> Iterator[None]:
    def expire(_signum: int, _frame: object) -> None:
        raise _Timeout

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def run_cli(argv: list[str], encoding: str | None = None) -> tuple[int, str, str]:
    """The real entry point, in-process (no interpreter start-up per input); with `encoding`,
    stdout and stderr are byte streams in it that refuse what it cannot encode, as a Latin-1
    terminal or a Windows redirect does (what they hold is then decoded back)."""
    from inspector.cli import main

    def stream() -> TextIO:
        if encoding is None:
            return io.StringIO()
        return io.TextIOWrapper(io.BytesIO(), encoding=encoding, errors="strict", write_through=True)

    def text(written: TextIO) -> str:
        if isinstance(written, io.StringIO):
            return written.getvalue()
        assert isinstance(written, io.TextIOWrapper) and isinstance(written.buffer, io.BytesIO)
        return written.buffer.getvalue().decode(encoding or "utf-8")

    out, err = stream(), stream()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(argv)
        except SystemExit as exc:  # argparse
            status = exc.code if isinstance(exc.code, int) else 2
    return int(status), text(out), text(err)


#: pieces of hostile file names: escapes, an OSC title, bytes that are not UTF-8, format characters
NAME_PIECES = (
    "\x1b[31m",
    "\x1b]0;TITLE\x07",
    "\x1b]8;;http:x\x1b\\",
    "\r",
    "\x7f",
    "\u202e",
    "\u200b",
    os.fsdecode(b"\xe9"),
    os.fsdecode(b"\xff\xfe"),
    "caf\u00e9",
    "\u2192",
    " ",
    "-",
    "%s",
    "{}",
)


def hostile_name(rnd: random.Random, suffix: str) -> str:
    parts = [rnd.choice(NAME_PIECES) for _ in range(rnd.randint(1, 4))]
    return "in" + "".join(parts) + suffix


def check(path: Path, status: int, out: str, err: str, name: str | None = None) -> str | None:
    """What broke the contract, or None. `name`: what the input goes by when it is not the file
    (a live peer's HOST:PORT)."""
    from inspector.render.terminal import shown

    name = name or path.name

    if "internal error" in err or "Traceback" in err or "Traceback" in out:
        return f"internal error: {err.strip()[:300]}"
    if status not in (0, 1, 2):
        return f"exit status {status}: {err.strip()[:300]}"
    if status == 2:
        lines = err.strip().splitlines()
        if len(lines) != 1:
            return f"exit 2 with {len(lines)} stderr lines: {err[:300]!r}"
        if name not in lines[0] and shown(name) not in lines[0]:
            return f"exit 2 without naming the input: {lines[0][:300]}"
    elif not out:
        return f"exit {status} with no report"
    raw = sorted({c for c in out + err if c in CONTROL})
    if raw:
        return f"raw control characters in the output: {[hex(ord(c)) for c in raw]}"
    if PASSWORD in out or PASSWORD in err:
        return "the password appears in the output"
    return None


def fuzz(
    target: Target, seconds: float, rnd: random.Random, work: Path, max_runs: int | None = None
) -> Tally:
    tally = Tally()
    end = time.monotonic() + seconds
    path = work / f"input{target.suffix}"
    while time.monotonic() < end and (max_runs is None or tally.runs < max_runs):
        as_is = target.hostile_names or bool(target.encodings) or target.peer is not None
        if target.make is not None:
            data = target.make(rnd)
        else:
            data = rnd.choice(target.seeds) if as_is else mutate(rnd.choice(target.seeds), rnd)
        if target.mend is not None and not as_is and rnd.random() < 0.8:
            data = target.mend(data)
        if target.hostile_names:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            path = work / hostile_name(rnd, target.suffix)
        path.write_bytes(data)
        encoding = rnd.choice(target.encodings) if target.encodings else None
        start = time.monotonic()
        try:
            with _limit(PER_INPUT_SECONDS), _around(target, path, rnd) as (argv, name):
                status, out, err = run_cli(argv, encoding)
            problem = check(path, status, out, err, name)
        except _Timeout:
            status, problem = -1, f"took more than {PER_INPUT_SECONDS} s"
        took = time.monotonic() - start
        tally.runs += 1
        tally.statuses[status] += 1
        tally.slowest = max(tally.slowest, took)
        if problem:
            tally.violations.append(problem)
            FINDINGS.mkdir(exist_ok=True)
            digest = hashlib.sha1(data).hexdigest()[:16]
            (FINDINGS / f"{target.name}-{digest}.bin").write_bytes(data)
            (FINDINGS / f"{target.name}-{digest}.txt").write_text(
                f"{problem}\nargv: {[ascii(a) for a in target.argv(path)]}\nencoding: {encoding}\n",
                encoding="utf-8",
            )
    return tally


def _around(
    target: Target, path: Path, rnd: random.Random
) -> contextlib.AbstractContextManager[tuple[list[str], str]]:
    """The live peer the run needs, or nothing: (argv, the name the input goes by)."""
    if target.peer is not None:
        return target.peer(path, rnd)
    return contextlib.nullcontext((target.argv(path), path.name))


def jks_digest(data: bytes) -> bytes:
    """Recompute a JKS store's trailing SHA-1 ("Mighty Aphrodite" keyed with the password)."""
    if len(data) < 20:
        return data
    body = data[:-20]
    return body + hashlib.sha1(PASSWORD.encode("utf-16-be") + b"Mighty Aphrodite" + body).digest()


def targets(work: Path) -> dict[str, Target]:
    """Seeds made now: real captures, and keystores of each format from a throwaway PKI."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    from fuzz import peers
    from inspector.pki.throwaway import make_pki, write_jks

    acme = make_pki()
    chain = [acme.leaf.cert, acme.intermediate.cert, acme.root.cert]
    jks = work / "seed.jks"
    write_jks(jks, PASSWORD, keys=[("letstestcba", acme.leaf.key, chain)], trusted=[("root", acme.root.cert)])
    p12 = pkcs12.serialize_key_and_certificates(
        b"letstestcba",
        acme.leaf.key,
        acme.leaf.cert,
        chain[1:],
        serialization.BestAvailableEncryption(PASSWORD.encode()),
    )
    pem = acme.leaf.pem + acme.intermediate.pem + acme.root.pem
    key_pem = acme.leaf.key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(PASSWORD.encode()),
    )
    pcaps = [p.read_bytes() for p in sorted(CAPTURES.glob("*.pcap")) if p.stat().st_size < 200_000]
    pcapngs = [p.read_bytes() for p in sorted(CAPTURES.glob("*.pcapng"))]
    os.environ["MTLS_FUZZ_STOREPASS"] = PASSWORD
    keystore = ["keystore", "--storepass-env", "MTLS_FUZZ_STOREPASS"]
    dn_text = b"CN=Acme Root CA, O=Acme\ncn=Partner Root,o=Partner,c=US\n"

    def ks(path: Path) -> list[str]:
        return [*keystore, str(path)]

    def select_pem(path: Path) -> list[str]:
        return [
            "select",
            "--keystore",
            str(jks),
            "--storepass-env",
            "MTLS_FUZZ_STOREPASS",
            "--ca-names",
            str(path),
        ]

    return {
        "pcap": Target("pcap", pcaps, lambda p: ["pcap", str(p), "--all"], ".pcap"),
        "pcapng": Target("pcapng", pcapngs, lambda p: ["pcap", str(p), "--all"], ".pcapng"),
        # a mutated capture read with a real one as a set: ordering, the cut connections' frames,
        # the stitch and the merge (parsers/fileset, fileparts, stitch)
        "pcap-set": Target(
            "pcap-set",
            pcaps,
            lambda p: ["pcap", str(p), str(CAPTURES / "tls12-success.pcap"), "--all"],
            ".pcap",
        ),
        "keystore-jks": Target("keystore-jks", [jks.read_bytes()], ks, ".jks", mend=jks_digest),
        "keystore-unlocked": Target(
            "keystore-unlocked", [jks.read_bytes(), p12], lambda p: ["keystore", str(p)], ".ks"
        ),
        "keystore-pkcs12": Target("keystore-pkcs12", [p12], ks, ".p12"),
        "keystore-pem": Target("keystore-pem", [pem, key_pem + pem], ks, ".pem"),
        "log": Target(
            "log", [(CAPTURES / "java-nocert12.log").read_bytes()], lambda p: ["log", str(p), "--all"], ".log"
        ),
        "keylog": Target(
            "keylog",
            [(CAPTURES / "tls13-success.keys").read_bytes(), (CAPTURES / "tls12-success.keys").read_bytes()],
            lambda p: ["pcap", str(CAPTURES / "tls13-success.pcap"), "--keylog", str(p), "--all"],
            ".keys",
        ),
        "select-ca-names": Target(
            "select-ca-names", [acme.root.pem + acme.intermediate.pem, dn_text], select_pem, ".pem"
        ),
        # the partner's client-CA material: every stack's verdict on the key entry
        "server-ca": Target(
            "server-ca",
            [acme.root.pem, acme.intermediate.pem + acme.root.pem],
            lambda p: [*keystore, str(jks), "--server-ca", str(p)],
            ".pem",
        ),
        # what surrounds the bytes: hostile file names, output encodings (seeds as they are)
        "names-pcap": Target(
            "names-pcap", pcaps[:6], lambda p: ["pcap", str(p), "--all"], ".pcap", hostile_names=True
        ),
        "names-log": Target(
            "names-log",
            [(CAPTURES / "java-nocert12.log").read_bytes()],
            lambda p: ["log", str(p)],
            ".log",
            hostile_names=True,
        ),
        "names-keystore": Target("names-keystore", [jks.read_bytes(), p12], ks, ".ks", hostile_names=True),
        "encodings": Target(
            "encodings",
            pcaps[:6],
            lambda p: ["pcap", str(p), "--all"],
            ".pcap",
            encodings=("latin-1", "cp1252", "ascii", "utf-8"),
        ),
        # certificates a peer presents: names cryptography refuses, through OpenSSL's callback
        "peer-probe": Target(
            "peer-probe",
            [],
            lambda p: [],
            ".der",
            make=lambda r: peers.make_peer_certificate(r, work),
            peer=lambda p, r: peers.probed(p, work, r),
        ),
        "peer-serve": Target(
            "peer-serve",
            [],
            lambda p: [],
            ".der",
            make=lambda r: peers.make_peer_certificate(r, work),
            peer=lambda p, r: peers.served(p, work),
        ),
        "peer-der": Target(
            "peer-der",
            [peers.odd_certificate(random.Random(n)) for n in range(8)],
            lambda p: ["keystore", str(p)],
            ".der",
        ),
        "encodings-log": Target(
            "encodings-log",
            [(CAPTURES / "java-nocert12.log").read_bytes()],
            lambda p: ["log", str(p)],
            ".log",
            encodings=("latin-1", "cp1252", "ascii"),
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("targets", nargs="*", help="targets to run (default: all)")
    parser.add_argument("--seconds", type=float, default=60.0, help="per target")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--replay", metavar="FILE.bin", help="run one saved input of the (single) target again"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mtls-fuzz-") as tmp:
        work = Path(tmp)
        available = targets(work)
        chosen = args.targets or list(available)
        unknown = [t for t in chosen if t not in available]
        if unknown:
            parser.error(f"unknown target(s) {', '.join(unknown)}; known: {', '.join(available)}")
        if args.replay:
            if len(chosen) != 1:
                parser.error("--replay takes exactly one target")
            target = available[chosen[0]]
            path = work / f"input{target.suffix}"
            path.write_bytes(Path(args.replay).read_bytes())
            status, out, err = run_cli(target.argv(path))
            print(f"exit {status}\n--- stdout\n{out!r}\n--- stderr\n{err!r}")
            print("contract:", check(path, status, out, err) or "held")
            return 0
        rnd = random.Random(args.seed)
        broken = 0
        for name in chosen:
            tally = fuzz(available[name], args.seconds, rnd, work)
            statuses = ", ".join(f"exit {s}: {n}" for s, n in sorted(tally.statuses.items()))
            print(
                f"{name:16} {tally.runs:6} runs  {statuses}  slowest {tally.slowest:.2f} s  "
                f"violations {len(tally.violations)}"
            )
            for problem in Counter(tally.violations).most_common(5):
                print(f"    {problem[1]} × {problem[0][:160]}")
            broken += len(tally.violations)
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
