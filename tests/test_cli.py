"""The command line as a whole: help, explain, docs drift, start-up cost, architecture."""

from __future__ import annotations

import argparse
import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from inspector.render.explain import markdown
from inspector.rules import load_all

ROOT = Path(__file__).resolve().parent.parent


def test_explain_a_code(cli):  # type: ignore[no-untyped-def]
    result = cli("explain", "chain-incomplete")
    assert result.status == 0
    assert result.out.startswith("chain-incomplete (error, keystore)")
    assert "keytool completes the chain only at import time" in " ".join(result.out.split())


def test_explain_unknown_code_suggests(cli):  # type: ignore[no-untyped-def]
    result = cli("explain", "chain-incomplet")
    assert result.status == 2 and "did you mean chain-incomplete" in result.err


def test_explain_list_has_every_keystore_code(cli):  # type: ignore[no-untyped-def]
    out = cli("explain", "--list").out
    for code in [
        "keystore-type-mismatch",
        "signed-cert-under-other-alias",
        "chain-incomplete",
        "chain-out-of-order",
        "key-cert-mismatch",
        "cert-expired",
        "cert-not-yet-valid",
        "missing-client-auth-usage",
        "weak-key",
        "weak-signature",
        "multiple-key-entries",
        "self-signed-client-cert",
        "key-password-differs",
        "no-private-key-entry",
    ]:
        assert code in out


def test_docs_page_matches_registry() -> None:
    page = (ROOT / "docs" / "findings.md").read_text(encoding="utf-8")
    assert page == markdown(load_all()), "docs/findings.md drifted: run mtls-inspect explain --markdown"


def test_no_command_is_usage_error(cli):  # type: ignore[no-untyped-def]
    assert cli().status == 2


def modules_after(*argv: str) -> set[str]:
    code = (
        "import sys\nfrom inspector.cli import main\n"
        f"try:\n    main({list(argv)!r})\nexcept SystemExit:\n    pass\n"
        "print('\\n'.join(sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    return set(done.stdout.split())


def test_help_and_keystore_do_not_import_scapy_or_openssl(tmp_path, acme):  # type: ignore[no-untyped-def]
    from tests import pki as P

    store = P.write_jks(tmp_path / "a.jks", "changeit", keys=[("a", acme.leaf.key, [acme.leaf.cert])])
    for argv in (["--help"], ["keystore", str(store), "--storepass", "changeit"]):
        loaded = modules_after(*argv)
        assert "inspector.cli" in loaded  # the probe really ran
        heavy = {m for m in loaded if m.split(".")[0] in ("scapy", "OpenSSL", "jks")}
        assert not heavy, f"{argv} imported {sorted(heavy)[:5]}"  # JKS is read by hand


def test_parsers_never_import_inspector() -> None:
    for path in (ROOT / "parsers").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not any(n.split(".")[0] == "inspector" for n in names), path


def test_large_table_layout_matches_tabulate() -> None:
    import random

    from tabulate import tabulate

    from inspector.render.text import simple_table

    rnd = random.Random(7)
    headers = ["#", "time", "client → server", "SNI", "outcome"]
    for _ in range(30):
        rows = [
            [
                str(i),
                f"{rnd.random():.3f}",
                "127.0.0.1:45678 → 127.0.0.1:443",
                rnd.choice(["-", "localhost", "a-much-longer-name.example.com"]),
                rnd.choice(["completed", "unknown_ca from server"]),
            ]
            for i in range(rnd.randint(1, 40))
        ]
        expected = tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True)
        assert simple_table(rows, headers) == expected


def test_plain_table_layout_matches_tabulate() -> None:
    """text.table lays out plain cells itself (no tabulate import); any other cell goes to
    tabulate. Either way the layout is tabulate's."""
    import random

    from tabulate import tabulate

    from inspector.render import text

    rnd = random.Random(11)
    pieces = ["", " ", "a", "yes", "→", "-", "x y", "  lead", "trail  ", "TLS 1.3", "é", "\t", "wide\u4e00"]
    for _ in range(200):
        headers = [rnd.choice(["#", "client → server", "cert requested", "a b"]) for _ in range(3)]
        rows = [
            ["".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 3))) for _ in headers]
            for _ in range(rnd.randint(0, 6))
        ]
        expected = tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True)
        assert text.table(rows, headers) == expected, (rows, headers)
    assert text._plain("a → b") and not text._plain(" a") and not text._plain("é")


def test_spool_keeps_order_past_memory(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from inspector.render import spool

    monkeypatch.setattr(spool, "IN_MEMORY", 1024)  # spill to disk almost at once
    parked = spool.Spool()
    for key in (5, 1, 3, 1, 2):
        parked.add(key, f"piece {key} " + "é" * 300)
    assert len(parked) == 5  # pieces (the reports add one piece per connection where they count)
    assert [t.split()[1] for t in parked.texts()] == ["1", "1", "2", "3", "5"]
    assert parked._file._rolled  # type: ignore[attr-defined]


# --- exit statuses that do not depend on the reader -------------------------------------------

SAMPLE = ROOT / "captures" / "several.pcap"
KEYSTORE = ROOT / "captures" / "letstestcba.jks"
#: A bug planted in the keystore rules, as a real bug would surface: mid-command, unexpected.
PLANT_BUG = (
    "import sys\n"
    "import inspector.rules.keystore_rules as rules\n"
    "def broken(*args, **kwargs):\n"
    "    raise RuntimeError('planted bug\\nsecond line')\n"
    "rules.check_keystore = broken\n"
    "from inspector.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def run_cli(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "inspector", *argv], capture_output=True, text=True, cwd=ROOT, timeout=120
    )


def test_a_bug_exits_70_with_one_line() -> None:
    argv = ["keystore", str(KEYSTORE), "--storepass-env", "STOREPASS"]
    env = {**os.environ, "STOREPASS": "changeit"}
    done = subprocess.run(
        [sys.executable, "-c", PLANT_BUG, *argv],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert done.returncode == 70  # EX_SOFTWARE: never 2, which means bad input
    assert done.stdout == ""
    assert done.stderr == (
        "mtls-inspect: internal error: RuntimeError: planted bug second line (a bug in mtls-inspect: "
        "rerun with --traceback and report it)\n"
    )
    shown = subprocess.run(
        [sys.executable, "-c", PLANT_BUG, "--traceback", *argv],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert shown.returncode == 1  # Python's own status for an uncaught exception
    assert shown.stderr.startswith("Traceback (most recent call last):")
    assert "RuntimeError: planted bug" in shown.stderr and "in broken" in shown.stderr


def test_bad_input_is_still_2_not_70() -> None:
    done = run_cli("pcap", str(ROOT / "captures" / "missing.pcap"))
    assert (done.returncode, done.stdout) == (2, "")
    assert (
        done.stderr
        == "mtls-inspect: error: captures/missing.pcap: no such file — check the path\n".replace(
            "captures/", str(ROOT / "captures") + "/"
        )
    )


CA_NAMES = ("--ca-names", str(ROOT / "captures" / "partner-ca-names.txt"))


LOG = ROOT / "captures" / "java-nocert12.log"
TRUSTSTORE = ("--truststore", str(ROOT / "captures" / "acme-root.pem"))
#: every command that reads a sample here, into a closed pipe, and its findings' status
CLOSED_PIPE_RUNS: tuple[tuple[list[str], int], ...] = (
    (["pcap", str(SAMPLE)], 1),
    (["pcap", str(SAMPLE), "--json"], 1),
    (["pcap", str(SAMPLE), *TRUSTSTORE], 1),
    (["keystore", str(KEYSTORE), "--storepass", "changeit"], 1),
    (["log", str(LOG)], 1),
    (["log", str(LOG), "--json"], 1),
    (["log", str(LOG), *TRUSTSTORE, "--keystore", str(KEYSTORE), "--storepass", "changeit"], 1),
    (["log", str(ROOT / "captures" / "java-pasted-fragment.log")], 1),
    (["log", str(ROOT / "captures" / "curl-unknown-ca.txt")], 1),
    (["log", str(ROOT / "captures" / "nginx-error.log")], 1),
    (["log", str(ROOT / "captures" / "nginx-error.log"), "--json"], 1),
    (["select", "--keystore", str(KEYSTORE), "--storepass", "changeit", *CA_NAMES], 1),
    (["select", "--keystore", str(KEYSTORE), "--storepass", "changeit", *CA_NAMES, "--json"], 1),
    (["explain", "--list"], 0),
    (["explain", "client-cert-not-sent"], 0),
    (["man"], 0),
    (["completion", "bash"], 0),
)
#: commands held to the shared writer by the source check alone: they need a live peer (or
#: start servers: demo), or print no report on stdout
NOT_RUN_HERE = {
    "probe": "needs a server (tests/live/test_probe.py)",
    "serve": "a server: its lines are a live log, flushed as clients come (tests/live/)",
    "demo": "starts two servers (tests/live/, docs commands)",
    "report": "writes an HTML file; stdout gets one line naming it",
}
#: commands whose stdout is not a report: print() allowed, for the reason given
PRINTS = {
    "serve_cmd": "a line per client as it comes, and where it listens: a live log, not a report",
    "report_cmd": "one line saying where the page was written",
}
COMMANDS = ROOT / "inspector" / "commands"


def test_every_command_writes_through_the_shared_writer() -> None:
    """Each commands/*_cmd.py hands its report to render/emit.py (emit, emit_text, or a
    renderer's emit_*): nothing of it writes to sys.stdout itself, so `| head -1` keeps the
    findings' status whichever command it is."""
    for path in sorted(COMMANDS.glob("*_cmd.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        names |= {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) for a in n.names}
        stdout = [n for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr == "stdout"]
        prints = [
            n
            for n in ast.walk(tree)
            if isinstance(n, ast.Call)
            and isinstance(n.func, ast.Name)
            and n.func.id == "print"
            and not any(k.arg == "file" for k in n.keywords)
        ]
        if path.stem in PRINTS:
            continue
        assert any(n == "emit" or n.startswith("emit_") for n in names), f"{path.name}: no emit"
        assert not stdout, f"{path.name} writes to sys.stdout itself (line {stdout[0].lineno})"
        assert not prints, f"{path.name} prints a report line itself (line {prints[0].lineno})"


def test_every_command_is_run_into_a_closed_pipe_or_says_why_not() -> None:
    """A new command joins CLOSED_PIPE_RUNS below, or NOT_RUN_HERE with its reason."""
    from inspector.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    commands = set(sub.choices)
    covered = {argv[0] for argv, _ in CLOSED_PIPE_RUNS} | set(NOT_RUN_HERE)
    assert commands <= covered, sorted(commands - covered)


@pytest.mark.parametrize(
    ("argv", "status"),
    CLOSED_PIPE_RUNS,
    ids=[" ".join(Path(a).name for a in argv) for argv, _ in CLOSED_PIPE_RUNS],
)
def test_report_into_a_closed_pipe_keeps_the_findings_status(argv: list[str], status: int) -> None:
    """`CMD … | head -1`, for every command that reads a sample here (probe, serve, demo: the
    source check above and tests/live): the reader went away; the status is still the
    findings' (1 with errors), with nothing on stderr but our own warnings (no 'Broken pipe',
    no 'Exception ignored')."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # every write now fails with EPIPE
    try:
        done = subprocess.run(
            [sys.executable, "-m", "inspector", *argv],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            timeout=120,
        )
    finally:
        os.close(write_end)
    assert done.returncode == status, argv
    assert "Broken pipe" not in done.stderr and "Exception ignored" not in done.stderr, done.stderr


def test_head_1_keeps_the_findings_status() -> None:
    done = subprocess.run(
        ["bash", "-c", f"{sys.executable} -m inspector pcap {SAMPLE} | head -1; echo ${{PIPESTATUS[0]}}"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    first, status = done.stdout.splitlines()
    assert first.startswith("Capture ") and status == "1"
    assert done.stderr == ""


def test_closed_stderr_does_not_change_the_report() -> None:
    """Started with stderr closed (2>&-), the report is whole and the status the findings'."""
    whole = run_cli("pcap", str(SAMPLE))
    assert whole.returncode == 1
    for argv in (["pcap", str(SAMPLE)], ["keystore", str(KEYSTORE)]):
        closed = subprocess.run(
            ["bash", "-c", f"{sys.executable} -m inspector {' '.join(argv)} 2>&-"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
        )
        expected = run_cli(*argv)
        assert (closed.returncode, closed.stdout) == (expected.returncode, expected.stdout), argv
