"""`log --server-ca` and `pcap --server-ca` on evidence made here: a real JDK 17 client
(-Djavax.net.debug=ssl:handshake) sends each catalogue chain to each real server stack of the
oracle (tests/live/server_stacks.py) in TLS 1.2, while tcpdump records the loopback. The verdict
the tool gives per stack — from the log's description of the chain, and from the chain on the
wire — must be the real server's on every handshake; the log's only misses are the ones a
description cannot see (a forged signature; JDK 17 prints no key size), each named exactly."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

from inspector.pki.throwaway import issue, write_jks
from inspector.server_stacks import Stack, predict
from tests import server_chains as SC
from tests.javalog.scenarios import compile_client
from tests.live import server_stacks as S

JAVA, TCPDUMP = shutil.which("java"), shutil.which("tcpdump")
pytestmark = pytest.mark.skipif(
    JAVA is None or S.JAVAC is None or TCPDUMP is None or os.geteuid() != 0,
    reason="needs java, javac, and tcpdump as root",
)
PW = "changeit"
#: chains a JDK client sends (SunX509 picks an entry whose chain names a CA the server asks
#: for): each defect of the catalogue the log can show, and two it cannot
CASES = (
    "good",
    "two-intermediates",
    "intermediate-anchor",
    "leaf-server-eku",
    "intermediate-server-eku",
    "expired-intermediate",
    "sha1-intermediate",
    "pathlen-violated",
    "name-constraints-violated",
    "unknown-critical-extension",
    "self-signed-trusted",
    "cross-intermediate-trusted",
    "leaf-no-digital-signature",
    "rsa1024-leaf",
    "bad-signature",
)
#: a chain whose issuer the server does not name: the JDK client sends an empty Certificate
NOT_SENT = "leaf-only"
#: the first chain again, last: its connection (handshake) joins the first one's group
AGAIN = "good-again"
STACKS = ("openssl", "nginx", "apache", "haproxy", "go", "node", "java")


@dataclass
class World:
    d: Path
    catalogue: SC.Catalogue
    files: S.Files
    classes: Path


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    d = tmp_path_factory.mktemp("evidence")
    catalogue = SC.build(d / "work")
    server = issue("localhost", None, eku=[ExtendedKeyUsageOID.SERVER_AUTH])
    (d / "server.pem").write_bytes(server.pem)
    SC.write_private(d / "server.key", server.key_pem)
    der = server.key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    SC.write_private(d / "server.der", der)
    (d / "trust.pem").write_bytes(SC.pem(catalogue.trust))
    write_jks(d / "client-trust.jks", PW, trusted=[("server", server.cert)])
    for name in (*CASES, NOT_SENT):
        case = catalogue.case(name)
        assert case.key is not None
        write_jks(d / f"{name}.jks", PW, keys=[("client", case.key, list(case.sent))])
    classes = compile_client(None, d / "classes")
    files = S.Files(d, d / "server.pem", d / "server.key", d / "server.der", d / "trust.pem")
    return World(d, catalogue, files, classes)


@pytest.fixture(scope="module")
def running(world: World) -> Iterator[S.Stacks]:
    with S.stacks(world.files) as stacks:
        yield stacks


@dataclass(frozen=True)
class Evidence:
    real: dict[str, bool]  # case → accepted by the real server
    log: Path
    pcap: Path


def _tcpdump(port: int, out: Path) -> subprocess.Popen[str]:
    assert TCPDUMP is not None
    proc = subprocess.Popen(
        [
            TCPDUMP,
            "-i",
            "lo",
            "-s",
            "0",
            "-U",
            "--immediate-mode",
            "-Z",
            "root",
            "-w",
            str(out),
            f"tcp port {port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and "listening on" not in proc.stderr.readline():
        pass
    return proc


def _settled(path: Path, quiet: float = 1.0, limit: float = 8.0) -> None:
    """Until tcpdump has written the last packets: the file unchanged for `quiet` seconds."""
    deadline = time.monotonic() + limit
    size = -1
    while time.monotonic() < deadline:
        now = path.stat().st_size if path.exists() else 0
        if now == size:
            return
        size = now
        time.sleep(quiet)


def make_evidence(world: World, server: S.Running) -> Evidence:
    """One JVM plays every case against `server` under tcpdump; the logs joined in case order."""
    out = world.d / f"evidence-{server.stack}"
    out.mkdir()
    names = (*CASES, NOT_SENT, AGAIN)
    plan = out / "plan.txt"
    plan.write_text(
        "".join(
            f"{n} {world.d / (CASES[0] if n == AGAIN else n)}.jks {PW} {world.d / 'client-trust.jks'} "
            f"localhost {server.port} TLSv1.2 false\n"
            for n in names
        )
    )
    dump = _tcpdump(server.port, out / "wire.pcap")
    try:
        assert JAVA is not None
        done = subprocess.run(
            [
                JAVA,
                "-Djavax.net.debug=ssl:handshake",
                "-cp",
                str(world.classes),
                "LogClient",
                str(plan),
                str(out),
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        _settled(out / "wire.pcap")
    finally:
        dump.send_signal(signal.SIGINT)
        dump.wait(timeout=10)
    said = dict(line.partition(" ")[::2] for line in done.stdout.splitlines())
    assert set(said) == set(names), done.stderr[-500:]
    # accepted: the server answered HTTP 200 (nginx answers a refused certificate with a 400)
    real = {n: said[n].startswith("OK ") and " 200" in said[n] for n in names}
    joined = out / "client.log"
    joined.write_text("".join((out / f"{n}.log").read_text() for n in names))
    return Evidence(real, joined, out / "wire.pcap")


def _run(*args: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-m", "inspector", *args, "--json"], capture_output=True, text=True, timeout=180
    )
    assert done.returncode in (0, 1), done.stderr
    doc: dict[str, object] = json.loads(done.stdout)
    return doc


def _by_index(doc: dict[str, object], unit: str) -> dict[int, dict[str, object]]:
    out: dict[int, dict[str, object]] = {}
    items = doc["server_verdicts"]
    assert isinstance(items, list)
    for item in items:
        for n in item[unit]:
            out[n] = item
    return out


@pytest.mark.parametrize("stack", STACKS)
def test_log_and_pcap_verdicts_match_the_real_server(world: World, running: S.Stacks, stack: str) -> None:
    try:
        server = getattr(running, stack)()
    except LookupError as e:
        pytest.skip(f"{stack}: {e}")
    S.settle(server)
    evidence = make_evidence(world, server)
    real = evidence.real
    trust = str(world.files.trust)
    # the chains as the real servers see them: the bytes' prediction agrees (the oracle's claim)
    now = dt.datetime.now(dt.timezone.utc)
    for name in CASES:
        (bytes_verdict,) = predict(
            world.catalogue.case(name).sent, world.catalogue.trust, now, [Stack(stack)]
        )
        assert bytes_verdict.accepted == real[name], (stack, name)
    assert any(real[n] for n in CASES) and not all(real[n] for n in CASES)

    # log: one handshake per case, in order; the unsent chain is an empty Certificate
    log = _run("log", str(evidence.log), "--server-ca", trust, "--server-stack", stack)
    assert log["log"]["handshakes"] == len(CASES) + 2  # type: ignore[index]
    judged = _by_index(log, "handshakes")
    again = len(CASES) + 2  # the same chain as the first: one group
    assert sorted(judged) == [*range(1, len(CASES) + 1), again]  # the unsent chain is not judged
    assert judged[1]["handshakes"] == [1, again] and judged[1]["group"] == f"handshakes #1, #{again}"
    misses = set()
    for number, name in enumerate(CASES, 1):
        item = judged[number]
        assert item["stack"] == stack and item["tested"] is True
        assert set(item) >= {"stack", "verdict", "reason", "stack_says", "tested"}
        assert "inferred from the log's description" in str(item["reason"])
        left = " ".join(item["not_checked"])  # type: ignore[arg-type]
        assert left.startswith("signatures")
        if (item["verdict"] == "accept") != real[name]:
            misses.add(name)
            why = "signatures" if name == "bad-signature" else "key sizes"
            assert why in left, (name, left)
    # a description cannot see a forged signature (every real server refuses it), nor, from a
    # JDK 17 log, a key's size (OpenSSL's security level 2 refuses RSA-1024)
    # (where the stack refuses the shape itself — Apache's depth 1 — there is nothing to miss)
    expected = {"bad-signature"} if real["good"] else set()
    if real["good"] and not real["rsa1024-leaf"]:
        expected.add("rsa1024-leaf")
    assert misses == expected, (stack, misses)
    assert "no client chain" not in json.dumps(log.get("server_verdicts_note", ""))

    # pcap: the chain on the wire (TLS 1.2: the client's Certificate in clear), judged from its bytes
    pcap = _run("pcap", str(evidence.pcap), "--server-ca", trust, "--server-stack", stack)
    wire = _by_index(pcap, "connections")
    assert sorted(wire) == [*range(1, len(CASES) + 1), again]
    assert wire[1]["connections"] == [1, again]
    for number, name in enumerate(CASES, 1):
        item = wire[number]
        assert (item["verdict"] == "accept") == real[name], (stack, name, item)
        assert "not_checked" not in item and "inferred" not in str(item["reason"])
    assert real[NOT_SENT] is False
    shown = subprocess.run(
        [sys.executable, "-m", "inspector", "pcap", str(evidence.pcap), "--server-ca", trust],
        capture_output=True,
        text=True,
        timeout=180,
    ).stdout.splitlines()
    assert f"Connections #1, #{again} (the same chain):" in shown
    assert f"  an empty Certificate (no certificate) in connection #{len(CASES) + 1}" in shown


def test_log_without_a_client_chain_says_so_in_one_line(world: World, running: S.Stacks) -> None:
    """The client sent an empty Certificate: one line instead of a table, in text and JSON."""
    try:
        server = running.openssl()
    except LookupError as e:
        pytest.skip(str(e))
    out = world.d / "empty"
    out.mkdir()
    plan = out / "plan.txt"
    plan.write_text(
        f"empty {world.d / (NOT_SENT + '.jks')} {PW} {world.d / 'client-trust.jks'} localhost "
        f"{server.port} TLSv1.2 false\n"
    )
    assert JAVA is not None
    subprocess.run(
        [
            JAVA,
            "-Djavax.net.debug=ssl:handshake",
            "-cp",
            str(world.classes),
            "LogClient",
            str(plan),
            str(out),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    args = [
        sys.executable,
        "-m",
        "inspector",
        "log",
        str(out / "empty.log"),
        "--server-ca",
        str(world.files.trust),
    ]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    lines = [line for line in done.stdout.splitlines() if "--server-ca" in line and "no client chain" in line]
    assert lines == [
        f"The partner's server stacks (--server-ca {world.files.trust}): no client chain to judge: "
        "the client sent an empty Certificate (no certificate) in handshake #1; every stack "
        "requiring one refuses that"
    ]
    assert "stack    " not in done.stdout  # no table
    doc = _run("log", str(out / "empty.log"), "--server-ca", str(world.files.trust))
    assert doc["server_verdicts"] == []
    assert doc["server_verdicts_note"] == lines[0]
