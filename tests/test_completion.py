"""`completion bash|zsh|fish` loaded into the real shells and asked to complete, and `man`
rendered by the real man(1): generated from the parser, they must work where users load them."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def generated(*argv: str) -> str:
    run = subprocess.run(
        [sys.executable, "-m", "inspector", *argv], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert (run.returncode, run.stderr) == (0, "")
    return run.stdout


@pytest.fixture(scope="module")
def bash_script(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("completion") / "mtls-inspect.bash"
    path.write_text(generated("completion", "bash"))
    return path


def bash_complete(script: Path, line: str, cwd: Path) -> list[str]:
    """What bash's programmable completion offers for `line` (the cursor at its end)."""
    words = line.split(" ")
    program = f"""
source {script}
COMP_LINE={line!r}
COMP_POINT=${{#COMP_LINE}}
COMP_WORDS=({" ".join(repr(w) for w in words)})
COMP_CWORD={len(words) - 1}
spec=$(complete -p mtls-inspect)
func=${{spec##*-F }}
func=${{func%% *}}
$func mtls-inspect {words[-1]!r} {words[-2]!r}
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    run = subprocess.run(["bash", "-c", program], capture_output=True, text=True, cwd=cwd, timeout=30)
    assert run.returncode == 0, run.stderr
    return sorted(x for x in run.stdout.splitlines() if x)


def test_bash_completes_commands_options_choices_and_files(bash_script: Path, tmp_path: Path) -> None:
    (tmp_path / "client.p12").write_bytes(b"")
    (tmp_path / "capture.pcap").write_bytes(b"")
    assert bash_complete(bash_script, "mtls-inspect k", tmp_path) == ["keystore"]
    assert bash_complete(bash_script, "mtls-inspect co", tmp_path) == ["completion"]
    assert bash_complete(bash_script, "mtls-inspect keystore --storepass-e", tmp_path) == ["--storepass-env"]
    assert bash_complete(bash_script, "mtls-inspect completion ", tmp_path) == ["bash", "fish", "zsh"]
    assert bash_complete(bash_script, "mtls-inspect --color a", tmp_path) == ["always", "auto"]
    # a keystore is a file: file names complete there
    assert bash_complete(bash_script, "mtls-inspect keystore cl", tmp_path) == ["client.p12"]
    assert bash_complete(bash_script, "mtls-inspect pcap cap", tmp_path) == ["capture.pcap"]


@pytest.mark.skipif(not shutil.which("fish"), reason="fish is not installed (.ci/run installs it)")
def test_fish_completes_from_its_own_script(tmp_path: Path) -> None:
    script = tmp_path / "mtls-inspect.fish"
    script.write_text(generated("completion", "fish"))
    (tmp_path / "client.p12").write_bytes(b"")

    def offered(line: str) -> list[str]:
        run = subprocess.run(
            ["fish", "--no-config", "-c", f"source {script}; complete -C {line!r}"],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=30,
        )
        assert (run.returncode, run.stderr) == (0, "")
        return sorted(x.split("\t", 1)[0] for x in run.stdout.splitlines())

    assert offered("mtls-inspect k") == ["keystore"]
    assert offered("mtls-inspect keystore --storepass-e") == ["--storepass-env"]
    assert offered("mtls-inspect completion ") == ["bash", "fish", "zsh"]
    assert offered("mtls-inspect keystore cl") == ["client.p12"]


@pytest.mark.skipif(not shutil.which("zsh"), reason="zsh is not installed (.ci/run installs it)")
def test_zsh_parses_the_script_and_compinit_registers_it(tmp_path: Path) -> None:
    """zsh's completion widgets need a terminal to be driven; here zsh parses the script (-n)
    and compinit registers it from $fpath for the command, as a user's installation does."""
    functions = tmp_path / "functions"
    functions.mkdir()
    script = functions / "_mtls-inspect"
    script.write_text(generated("completion", "zsh"))
    parsed = subprocess.run(["zsh", "-n", str(script)], capture_output=True, text=True, timeout=30)
    assert (parsed.returncode, parsed.stderr) == (0, "")
    program = (
        f"fpath=({functions} $fpath); autoload -Uz compinit && compinit -u -d {tmp_path}/dump; "
        "print -r -- ${_comps[mtls-inspect]}"
    )
    run = subprocess.run(["zsh", "-f", "-c", program], capture_output=True, text=True, timeout=30)
    assert (run.returncode, run.stderr, run.stdout.strip()) == (0, "", "_mtls-inspect")


@pytest.mark.skipif(not shutil.which("man"), reason="man is not installed")
def test_man_renders_every_command_without_warnings(tmp_path: Path) -> None:
    page = tmp_path / "mtls-inspect.1"
    page.write_text(generated("man"))
    run = subprocess.run(
        ["man", "--warnings", "-l", str(page)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "MANWIDTH": "100", "MANPAGER": "cat", "LANG": "C"},
    )
    assert (run.returncode, run.stderr) == (0, "")
    text = " ".join(run.stdout.split())  # words as rendered, whatever the line breaks
    assert text.startswith("MTLS-INSPECT(1)")
    for command in ("keystore", "pcap", "log", "probe", "select", "serve", "demo", "explain", "report"):
        assert f"mtls-inspect {command}" in text, command
    assert "--storepass-env" in text and "Exit status: 0 no error findings" in text
