"""The house rules, checked: import layering (import-linter), rules without I/O, declared codes."""

from __future__ import annotations

import ast
import datetime as dt
import importlib
from pathlib import Path

import pytest

from inspector.findings import REGISTRY, CodeSpec
from inspector.rules import RULE_MODULES, Rule, load_all

ROOT = Path(__file__).resolve().parent.parent
CAPTURES = ROOT / "captures"
RULES_DIR = ROOT / "inspector" / "rules"

#: Path/file methods that read or write: a rule is handed its data, it never fetches it.
IO_CALLS = {
    "open",
    "read_bytes",
    "read_text",
    "write_bytes",
    "write_text",
    "unlink",
    "mkdir",
    "stat",
    "exists",
    "is_file",
    "is_dir",
    "iterdir",
    "glob",
    "rglob",
    "recv",
    "send",
    "sendall",
    "connect",
}
#: Known I/O still in a rule, removed by the keystore change (issue 9): delete the entry then.
IO_ALLOWED: set[tuple[str, str]] = set()  # no rule reads or writes anything


def test_import_contracts_hold() -> None:
    """The contracts in pyproject.toml ([tool.importlinter]), as CI's `lint-imports` runs them."""
    from importlinter.cli import lint_imports

    assert lint_imports(config_filename=str(ROOT / "pyproject.toml")) == 0


def test_contracts_name_every_command_module() -> None:
    """A new *_cmd module must join the independence contract, or it could import another."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    independent = next(c for c in contracts if c["type"] == "independence")["modules"]
    commands = {f"inspector.commands.{p.stem}" for p in (ROOT / "inspector" / "commands").glob("*_cmd.py")}
    assert commands == set(independent)


def io_calls(path: Path) -> set[tuple[str, str]]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in IO_CALLS:
                found.add((path.name, name))
    return found


def test_rules_do_no_io() -> None:
    """Rules judge what they are given: no file or socket calls (import-linter forbids the
    modules; this catches I/O through objects they are handed, like a Path)."""
    calls = set().union(*(io_calls(p) for p in RULES_DIR.glob("*.py")))
    assert calls <= IO_ALLOWED, sorted(calls - IO_ALLOWED)


def test_io_check_sees_a_read(tmp_path: Path) -> None:
    rule = tmp_path / "bad_rules.py"
    rule.write_text("def check(store):\n    return store.path.read_bytes()[:4]\n", encoding="utf-8")
    assert io_calls(rule) == {("bad_rules.py", "read_bytes")}


# --- every code a rule yields is one it declares ------------------------------------------------


def _code_names(func: ast.FunctionDef) -> tuple[set[str], set[str]]:
    """Names passed as the first argument of make(...), and functions called by name."""
    made, called = set(), set()
    for node in ast.walk(func):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id == "make" and node.args and isinstance(node.args[0], ast.Name):
                made.add(node.args[0].id)
            else:
                called.add(node.func.id)
    return made, called


def _spec(module_name: str, name: str) -> CodeSpec:
    """The code a name means in that module (its own first: two modules may use one name)."""
    for other in (module_name, *RULE_MODULES):
        value = getattr(importlib.import_module(other), name, None)
        if isinstance(value, CodeSpec):
            return value
    raise AssertionError(f"{name} is not a registered code")


def _read_module(module_name: str) -> tuple[dict[str, tuple[set[str], set[str]]], dict[str, str]]:
    """A module's functions (codes made, functions called) and the rules' helpers it imports
    (name → the inspector.rules module it comes from)."""
    path = Path(str(importlib.import_module(module_name).__file__))
    tree = ast.parse(path.read_text(encoding="utf-8"))
    functions = {n.name: _code_names(n) for n in tree.body if isinstance(n, ast.FunctionDef)}
    imported = {
        alias.asname or alias.name: node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("inspector.rules")
        for alias in node.names
    }
    return functions, imported


def statically_made(module_name: str) -> dict[str, set[str]]:
    """Rule function → codes it (or a helper it calls, in its module or imported from another
    rules module: a helper moved away is still followed) can make."""
    modules: dict[str, tuple[dict[str, tuple[set[str], set[str]]], dict[str, str]]] = {}

    def read(name: str) -> tuple[dict[str, tuple[set[str], set[str]]], dict[str, str]]:
        if name not in modules:
            modules[name] = _read_module(name)
        return modules[name]

    def reach(module: str, name: str, seen: set[tuple[str, str]]) -> set[str]:
        functions, imported = read(module)
        if (module, name) in seen:
            return set()
        if name not in functions:
            return reach(imported[name], name, seen) if name in imported else set()
        seen.add((module, name))
        made, called = functions[name]
        codes = {_spec(module, n).code for n in made}
        for callee in called:
            codes |= reach(module, callee, seen)
        return codes

    return {name: reach(module_name, name, set()) for name in read(module_name)[0]}


@pytest.mark.parametrize("module_name", RULE_MODULES)
def test_rules_declare_the_codes_they_make(module_name: str) -> None:
    module = importlib.import_module(module_name)
    made = statically_made(module_name)
    rules: list[Rule[object]] = module.RULES.rules
    assert rules
    for rule in rules:
        declared = {c.code for c in rule.codes}
        assert made[rule.name] <= declared, f"{rule.name} makes {sorted(made[rule.name] - declared)}"


def test_every_registered_code_has_a_rule_or_a_maker() -> None:
    """A code no rule declares is either made outside the rules (named here) or dead."""
    load_all()
    declared = {c.code for m in RULE_MODULES for r in importlib.import_module(m).RULES.rules for c in r.codes}
    made_elsewhere = {
        "capture-incomplete",  # file-level: inspector/analysis/capture.py
    }
    assert set(REGISTRY) - declared <= made_elsewhere


def test_sample_findings_come_from_declared_codes() -> None:
    """The same, at run time, over every sample capture (with its key log and the sample keystore)."""
    from inspector.keystore import load_keystore
    from inspector.rules.keystore_rules import RULES as KEYSTORE_RULES
    from inspector.rules.keystore_rules import KeystoreContext
    from inspector.rules.wire_rules import RULES as WIRE_RULES
    from inspector.rules.wire_rules import WireContext
    from parsers.capture import read_capture
    from parsers.keylog import KeyLog

    store = load_keystore(CAPTURES / "letstestcba.jks", "changeit", None)
    seen: set[str] = set()
    for path in sorted(CAPTURES.glob("*.pcap*")):
        keys = path.with_suffix(".keys")
        keylog = None
        if keys.exists():
            keylog = KeyLog()
            keylog.add_text(keys.read_text(encoding="utf-8"))
        for t in read_capture(path, keylog).transcripts:
            for context in (WireContext(t, None, str(path)), WireContext(t, store, str(path))):
                for rule, finding in WIRE_RULES.run_by_rule(context):
                    assert finding.code in {c.code for c in rule.codes}, (path.name, rule.name, finding.code)
                    seen.add(finding.code)
    at = dt.datetime.now(dt.timezone.utc)
    for rule, finding in KEYSTORE_RULES.run_by_rule(KeystoreContext(store, at, None)):
        assert finding.code in {c.code for c in rule.codes}, (rule.name, finding.code)
        seen.add(finding.code)
    assert {"client-cert-not-sent", "issuer-not-in-ca-list", "server-rejected-client-cert"} <= seen
