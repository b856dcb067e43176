"""The house rules, checked: import layering (import-linter), rules without I/O, declared codes."""

from __future__ import annotations

import ast
import datetime as dt
import importlib
import importlib.util
import sys
from dataclasses import dataclass
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
#: Known I/O still in a rule, removed by the keystore change: delete the entry then.
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


def _spec_expression(call: ast.Call) -> ast.expr | None:
    """The code a make(...) call is given: its first argument, or `spec=`."""
    if call.args:
        return call.args[0]
    return next((k.value for k in call.keywords if k.arg == "spec"), None)


def _callee(node: ast.Call) -> str | None:
    """A called function's name as written: `helper` or `module.helper`."""
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name):
        return f"{node.func.value.id}.{node.func.attr}"
    return None


@dataclass(frozen=True)
class _Calls:
    """What one function does with codes: the make(...) calls' code expressions, and the
    functions it calls."""

    specs: tuple[ast.expr, ...]
    called: frozenset[str]

    @classmethod
    def of(cls, func: ast.FunctionDef) -> _Calls:
        specs, called = [], set()
        for node in ast.walk(func):
            if not isinstance(node, ast.Call):
                continue
            name = _callee(node)
            if name == "make":
                spec = _spec_expression(node)
                assert spec is not None, f"{func.name}: make() without a code"
                specs.append(spec)
            elif name is not None:
                called.add(name)
        return cls(tuple(specs), frozenset(called))


def _assigned(func: ast.FunctionDef) -> dict[str, list[ast.expr]]:
    """Local name → the values assigned to it in the function (`spec = A if x else B`)."""
    out: dict[str, list[ast.expr]] = {}
    for node in ast.walk(func):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    out.setdefault(target.id, []).append(node.value)
        elif (
            isinstance(node, (ast.AnnAssign, ast.NamedExpr))
            and node.value is not None
            and isinstance(node.target, ast.Name)
        ):
            out.setdefault(node.target.id, []).append(node.value)
    return out


def _codes_in_value(value: object) -> set[str] | None:
    """The codes a module-level value stands for: a code, or a table (dict values, tuple,
    list, set) of them; None for anything else."""
    if isinstance(value, CodeSpec):
        return {value.code}
    items = value.values() if isinstance(value, dict) else value
    if isinstance(items, (tuple, list, set, frozenset, type({}.values()))):
        specs = [v for v in items if isinstance(v, CodeSpec)]
        return {v.code for v in specs} if specs else None
    return None


def _codes_named(module_name: str, name: str) -> set[str] | None:
    """The codes a name means in that module (its own first: two modules may use one name;
    then the rule modules, for a code imported inside a function)."""
    for other in (module_name, *RULE_MODULES):
        module = importlib.import_module(other)
        if hasattr(module, name):
            codes = _codes_in_value(getattr(module, name))
            if codes is not None or other == module_name:
                return codes
    return None


@dataclass(frozen=True)
class _Source:
    """One module as the check reads it: its functions, and what it imports from the modules of
    its own top-level package (`inspector`), wherever they sit in it."""

    functions: dict[str, ast.FunctionDef]
    #: local name → (module, function name), from `from package.module import helper [as h]`
    helpers: dict[str, tuple[str, str]]
    #: local name → module, from `from package import module [as m]`, `import package.module as m`
    modules: dict[str, str]

    @classmethod
    def read(cls, module_name: str) -> _Source:
        path = Path(str(importlib.import_module(module_name).__file__))
        tree = ast.parse(path.read_text(encoding="utf-8"))
        package = module_name.rpartition(".")[0]
        top = module_name.partition(".")[0]
        functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
        helpers: dict[str, tuple[str, str]] = {}
        modules: dict[str, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                source = _absolute(package, node)
                if source.partition(".")[0] != top:
                    continue
                for alias in node.names:
                    local = alias.asname or alias.name
                    if _is_package(source) and importlib.util.find_spec(f"{source}.{alias.name}"):
                        modules[local] = f"{source}.{alias.name}"
                    elif alias.name != "make":
                        helpers[local] = (source, alias.name)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname and alias.name.partition(".")[0] == top:
                        modules[alias.asname] = alias.name
        return cls(functions, helpers, modules)


def _is_package(module_name: str) -> bool:
    spec = importlib.util.find_spec(module_name)
    return spec is not None and spec.submodule_search_locations is not None


def _absolute(package: str, node: ast.ImportFrom) -> str:
    """The module a `from ... import` names, relative forms resolved against `package`."""
    if not node.level:
        return node.module or ""
    base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
    return f"{base}.{node.module}" if node.module else base


def statically_made(module_name: str) -> dict[str, set[str]]:
    """Rule function → codes it can make: itself, or any helper it calls, in its own module or
    imported from another module of its package tree (`from inspector.rules.x import helper`,
    `from . import x`, `from inspector.java import y`), followed as far as the calls go. The code
    given to make(...) may be a code, a conditional between codes, a local name assigned one,
    a table of them, or what a function returns (its return expressions read the same way);
    a make(...) whose code the check cannot see fails it."""
    sources: dict[str, _Source] = {}

    def source(name: str) -> _Source:
        if name not in sources:
            sources[name] = _Source.read(name)
        return sources[name]

    def resolve(module: str, callee: str) -> tuple[str, str] | None:
        """Where a called name's function is defined, if in this module or one it imports."""
        here = source(module)
        prefix, _, attr = callee.rpartition(".")
        if prefix:
            return resolve(here.modules[prefix], attr) if prefix in here.modules else None
        if callee in here.functions:
            return module, callee
        if callee in here.helpers:
            return resolve(*here.helpers[callee])
        return None

    def codes_of(module: str, func: ast.FunctionDef, expr: ast.expr, seen: set[object]) -> set[str]:
        """The codes an expression handed to make(...) (or returned as one) can be."""
        codes: set[str] = set()
        local = _assigned(func)
        for node in ast.walk(expr):
            if isinstance(node, ast.Name) and (module, func.name, node.id) not in seen:
                seen.add((module, func.name, node.id))
                for value in local.get(node.id, []):
                    codes |= codes_of(module, func, value, seen)
                codes |= _codes_named(module, node.id) or set()
            elif isinstance(node, ast.Call) and (name := _callee(node)) is not None:
                where = resolve(module, name)
                if where is not None and where not in seen:
                    seen.add(where)
                    target = source(where[0]).functions[where[1]]
                    for ret in ast.walk(target):
                        if isinstance(ret, ast.Return) and ret.value is not None:
                            codes |= codes_of(where[0], target, ret.value, seen)
        return codes

    def reach(module: str, name: str, seen: set[tuple[str, str]]) -> set[str]:
        if (module, name) in seen or name not in source(module).functions:
            return set()
        seen.add((module, name))
        func = source(module).functions[name]
        calls = _Calls.of(func)
        codes: set[str] = set()
        for spec in calls.specs:
            made = codes_of(module, func, spec, set())
            assert made, f"{module}.{name}: cannot see which code make({ast.unparse(spec)}, ...) makes"
            codes |= made
        for callee in calls.called:
            where = resolve(module, callee)
            if where is not None:
                codes |= reach(*where, seen)
        return codes

    return {name: reach(module_name, name, set()) for name in source(module_name).functions}


def undeclared(module_name: str) -> dict[str, set[str]]:
    """Rule → the codes it can make but does not declare (empty when all is well). A module's
    rule set may join rules defined in other modules (wire_rules does): each is read where it is
    defined."""
    rules: list[Rule[object]] = importlib.import_module(module_name).RULES.rules
    assert rules, f"{module_name} has no rules"
    out = {
        rule.name: statically_made(rule.check.__module__)[rule.check.__name__] - {c.code for c in rule.codes}
        for rule in rules
    }
    return {name: codes for name, codes in out.items() if codes}


@pytest.mark.parametrize("module_name", RULE_MODULES)
def test_rules_declare_the_codes_they_make(module_name: str) -> None:
    assert undeclared(module_name) == {}


#: a rule declaring one code whose helper, in a sibling module, makes another: each way of
#: importing the helper (or a helper's helper) must lead the check to it
_HELPER = """
from inspector.findings import make
from inspector.rules.errortext_rules import VERIFY


def verdict(ctx):
    return make(VERIFY, "the helper's code")
"""
_RULE = """
from inspector.rules import RuleSet
from inspector.rules.errortext_rules import SUCCESS, VERIFY
{imports}

RULES = RuleSet()


@RULES.rule({declared})
def judged(ctx):
    yield {call}
"""
_IMPORTS = {
    "by name": ("from {package}.helpers import verdict", "verdict(ctx)"),
    "renamed": ("from {package}.helpers import verdict as v", "v(ctx)"),
    "relative": ("from .helpers import verdict", "verdict(ctx)"),
    "the module": ("from {package} import helpers", "helpers.verdict(ctx)"),
    "the module, renamed": ("import {package}.helpers as h", "h.verdict(ctx)"),
    "a helper's helper": ("from {package}.relay import relay", "relay(ctx)"),
    "re-exported": ("from {package}.relay import verdict", "verdict(ctx)"),
    "another sub-package": ("from {package}.sub.far import verdict", "verdict(ctx)"),
    "another sub-package's module": ("from {package}.sub import far", "far.verdict(ctx)"),
}
_RELAY = """
from .helpers import verdict


def relay(ctx):
    return verdict(ctx)
"""


@pytest.mark.parametrize("form", _IMPORTS)
@pytest.mark.parametrize("declares_it", [False, True])
def test_declared_codes_check_follows_sibling_helpers(
    form: str, declares_it: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = "sibling_rules_" + "".join(c if c.isalnum() else "_" for c in f"{form}_{declares_it}")
    (tmp_path / package / "sub").mkdir(parents=True)
    imports, call = _IMPORTS[form]
    declared = "SUCCESS, VERIFY" if declares_it else "SUCCESS"
    files = {
        "__init__.py": "",
        "helpers.py": _HELPER,
        "relay.py": _RELAY,
        "sub/__init__.py": "",
        "sub/far.py": _HELPER,
        "a_rules.py": _RULE.format(imports=imports.format(package=package), declared=declared, call=call),
    }
    for name, text in files.items():
        (tmp_path / package / name).write_text(text, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        found = undeclared(f"{package}.a_rules")
    finally:
        for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
            del sys.modules[name]
    assert found == ({} if declares_it else {"judged": {"client-text-verify-failed"}})


#: the ways a rule hands make(...) its code: each must lead the check to VERIFY
_SPEC_FORMS = {
    "by keyword": "return make(spec=VERIFY, summary='x')",
    "a conditional": "return make(SUCCESS if ctx else VERIFY, 'x')",
    "a local name": "spec = SUCCESS if ctx else VERIFY\n    return make(spec, 'x')",
    "a table": "return make(_BY_KIND[ctx], 'x')",
    "a function's return": "return make(_code(ctx), 'x')",
}
_SPEC_RULE = """
from inspector.findings import make
from inspector.rules import RuleSet
from inspector.rules.errortext_rules import SUCCESS, VERIFY

RULES = RuleSet()
_BY_KIND = {{1: VERIFY}}


def _code(ctx):
    return _BY_KIND.get(ctx, SUCCESS)


@RULES.rule(SUCCESS)
def judged(ctx):
    yield helper(ctx)


def helper(ctx):
    {body}
"""


@pytest.mark.parametrize("form", _SPEC_FORMS)
def test_declared_codes_check_reads_the_code_however_it_is_given(
    form: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = "spec_rules_" + "".join(c if c.isalnum() else "_" for c in form)
    (tmp_path / f"{name}.py").write_text(_SPEC_RULE.format(body=_SPEC_FORMS[form]), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        found = undeclared(name)
    finally:
        sys.modules.pop(name, None)
    assert found == {"judged": {"client-text-verify-failed"}}


def test_declared_codes_check_fails_on_a_code_it_cannot_see(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A code handed in as a parameter is not guessed at: the check says it cannot see it."""
    body = "return make(ctx.code, 'x')"
    (tmp_path / "blind_rules.py").write_text(_SPEC_RULE.format(body=body), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        with pytest.raises(AssertionError, match=r"cannot see which code make\(ctx.code, \.\.\.\)"):
            undeclared("blind_rules")
    finally:
        sys.modules.pop("blind_rules", None)


def test_declared_codes_check_sees_every_error_text_code() -> None:
    """The error-text rule picks its code through a table and a function: the check sees them all."""
    from inspector.rules import errortext_rules

    made = statically_made("inspector.rules.errortext_rules")["client_error_text"]
    assert made == {c.code for c in errortext_rules.CODES}


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
    from inspector.rules.keystore_context import KeystoreContext
    from inspector.rules.keystore_rules import RULES as KEYSTORE_RULES
    from inspector.rules.wire_context import WireContext
    from inspector.rules.wire_rules import RULES as WIRE_RULES
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
