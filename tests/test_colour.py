"""Colour on a terminal: severity words, the counts and the ladder's failing step; never in a
pipe or a file unless asked (--color always), never with NO_COLOR (auto) or --json."""

from __future__ import annotations

import contextlib
import io
import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from inspector.cli import main
from inspector.render.text import colour_line

ROOT = Path(__file__).resolve().parent.parent
CAPTURES = ROOT / "captures"
KEYSTORE = [
    "keystore",
    str(CAPTURES / "letstestcba.jks"),
    "--storepass-env",
    "MTLS_COLOUR_PASS",
    "--at",
    "2030-01-01",
]
ESC = re.compile(r"\x1b\[[0-9;]*m")


def run(argv: list[str]) -> tuple[int, str]:
    os.environ["MTLS_COLOUR_PASS"] = "changeit"
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        status = main(argv)
    return status, out.getvalue()


def test_always_colours_severities_and_counts_with_exact_codes() -> None:
    status, coloured = run([*KEYSTORE, "--color", "always"])
    _, plain = run(KEYSTORE)
    assert status == 1 and ESC.sub("", coloured) == plain  # only escapes were added
    lines = coloured.splitlines()
    assert (
        "\x1b[1;31merror[signed-cert-under-other-alias]\x1b[0m: the signed certificate for 'letstestcba' "
        "sits in trusted entry 'letstestcba-signed'; 'letstestcba' still holds its self-signed certificate"
    ) in lines
    warning = "\x1b[1;33mwarning[keystore-type-mismatch]\x1b[0m: letstestcba.jks is PKCS12, not JKS"
    assert f"{warning} as its name says" in lines
    assert lines[-1] == "\x1b[1;31m1 error\x1b[0m, \x1b[1;33m1 warning\x1b[0m, 0 info"
    assert sum(1 for line in lines if "\x1b[" in line) == 3


def test_the_ladder_failing_step_is_red_and_the_option_works_before_the_command() -> None:
    _, coloured = run(["--color", "always", "pcap", str(CAPTURES / "tls12-no-client-cert.pcap")])
    failing = [line for line in coloured.splitlines() if "fails here" in line]
    assert len(failing) == 1
    assert failing[0].startswith("\x1b[1;31m   0.") and failing[0].endswith(
        "Alert handshake_failure  ✗ fails here\x1b[0m"
    )


def test_never_and_json_and_the_default_in_a_pipe_have_no_escapes() -> None:
    for argv in ([*KEYSTORE, "--color", "never"], KEYSTORE, [*KEYSTORE, "--json", "--color", "always"]):
        _, out = run(argv)
        assert "\x1b" not in out, argv
    _, document = run([*KEYSTORE, "--json", "--color", "always"])
    assert json.loads(document)["schema"] == "mtls-inspector/keystore"


def test_counts_and_info_lines() -> None:
    assert colour_line("0 errors, 0 warnings, 2 info") == "0 errors, 0 warnings, 2 info"
    assert colour_line("  info[session-resumed]: x") == "  \x1b[1;36minfo[session-resumed]\x1b[0m: x"
    assert colour_line("   = evidence: error[x]: y") == "   = evidence: error[x]: y"  # only line heads


def _on_a_terminal(extra_env: dict[str, str], *argv: str) -> str:
    """The command run with its stdout on a pseudo-terminal, as a user at a shell sees it."""
    master, slave = pty.openpty()
    env = dict(os.environ, PYTHONPATH=str(ROOT), MTLS_COLOUR_PASS="changeit", TERM="xterm")
    env.pop("NO_COLOR", None)
    env.update(extra_env)
    proc = subprocess.Popen(
        [sys.executable, "-m", "inspector", *KEYSTORE, *argv], stdout=slave, stderr=subprocess.PIPE, env=env
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert proc.wait(timeout=60) == 1, proc.stderr.read() if proc.stderr else ""
    return b"".join(chunks).decode()


@pytest.mark.parametrize(
    ("env", "argv", "coloured"),
    [
        ({}, (), True),  # auto on a terminal
        ({"NO_COLOR": "1"}, (), False),  # no-color.org
        ({"NO_COLOR": ""}, (), True),  # an empty NO_COLOR does not count
        ({"TERM": "dumb"}, (), False),
        ({}, ("--color", "never"), False),
        ({"NO_COLOR": "1"}, ("--color", "always"), True),  # an explicit request wins
    ],
)
def test_auto_on_a_terminal_respects_no_color(
    env: dict[str, str], argv: tuple[str, ...], coloured: bool
) -> None:
    out = _on_a_terminal(env, *argv)
    assert "keystore-type-mismatch" in out
    assert ("\x1b[1;31merror[signed-cert-under-other-alias]\x1b[0m" in out) is coloured
    assert ("\x1b[" in out) is coloured
