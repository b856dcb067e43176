"""`keystore A B C…`, a directory, a glob (issue 24, point 3): many keystores judged in one run,
for CI and monitoring.

Each store is opened with the password the options give (the same for all, or per store from a
password map), judged by the keystore rules and the expiry window, and summed up: findings by
severity, the days left before the first certificate of each key entry's chain expires. A store
that cannot be opened (wrong password, not a keystore) is a finding on that store, not the end
of the run."""

from __future__ import annotations

import datetime as dt
import fnmatch
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from inspector.findings import Finding, Severity, sort_findings
from inspector.keystore import Keystore, load_keystore
from inspector.keystore.model import EXTENSION_TYPES, StoreType
from inspector.rules.expiry_rules import check_expiry, days_left
from inspector.rules.keystore_rules import check_keystore
from inspector.rules.store_set_rules import RULES as UNREADABLE_RULES
from inspector.rules.store_set_rules import UnreadableStore
from inspector.system.errors import InputError

#: the types a directory's files must have to be taken as keystores (a directory often also
#: holds the CA's PEM files, a README...)
STORE_TYPES = (StoreType.JKS, StoreType.JCEKS, StoreType.PKCS12)


@dataclass(frozen=True)
class EntryExpiry:
    alias: str
    #: days until the first certificate of the chain expires (negative: expired)
    days: float
    subject: str


@dataclass
class StoreResult:
    path: str
    store: Keystore | None
    findings: list[Finding]
    expiries: list[EntryExpiry] = field(default_factory=list)
    error: str | None = None

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)


@dataclass
class SetResult:
    stores: list[StoreResult]
    skipped: list[tuple[str, str]]
    at: dt.datetime
    window_days: int

    @property
    def findings(self) -> list[Finding]:
        return [f for s in self.stores for f in s.findings]


@dataclass(frozen=True)
class PasswordMap:
    """`--storepass-map FILE`: one store per line, `PATTERN PASSWORD` (PATTERN a file name or a
    glob, matched against the path as given and its base name; the password is the rest of the
    line). The first matching line wins; '#' starts a comment line."""

    lines: tuple[tuple[str, str], ...]

    @classmethod
    def parse(cls, text: str, source: str) -> PasswordMap:
        lines = []
        for number, raw in enumerate(text.splitlines(), 1):
            line = raw.rstrip("\r")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            parts = line.strip().split(None, 1)
            if len(parts) != 2:
                raise InputError(f"{source}:{number}: expected 'PATTERN PASSWORD'", "one store per line")
            lines.append((parts[0], parts[1]))
        return cls(tuple(lines))

    def password(self, path: str) -> str | None:
        name = Path(path).name
        for pattern, password in self.lines:
            if fnmatch.fnmatchcase(path, pattern) or fnmatch.fnmatchcase(name, pattern):
                return password
        return None


def expand_inputs(inputs: list[str]) -> tuple[list[Path], list[tuple[str, str]]]:
    """(keystores, skipped files with why): named files as given, a directory's files when their
    name or their bytes say keystore, a quoted glob expanded (one matching nothing is an error)."""
    from parsers.fileset import SetError, expand

    try:
        named, listed = expand(inputs)
    except SetError as exc:
        raise InputError(str(exc), "check the pattern (quote it so the shell leaves it to us)") from None
    stores = list(named)
    skipped: list[tuple[str, str]] = []
    for path in listed:
        kind = _kind(path)
        # a file named as a keystore is one, even broken (said as keystore-unreadable); others
        # are taken when their bytes say keystore
        if kind in STORE_TYPES or EXTENSION_TYPES.get(path.suffix.lower()) in STORE_TYPES:
            stores.append(path)
        else:
            skipped.append((str(path), kind.value if kind is not None else "not a keystore"))
    if not stores:
        raise InputError(
            f"{', '.join(inputs)}: no keystore found",
            "give keystore files, a directory holding them, or a glob",
        )
    return stores, skipped


def _kind(path: Path) -> StoreType | None:
    from inspector.keystore.detect import sniff

    from inspector.keystore import MAX_KEYSTORE_BYTES

    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_KEYSTORE_BYTES)
        return sniff(data, str(path)) if data else None
    except (OSError, InputError):
        return None


def judge_store(
    path: Path, storepass: str | None, keypass: str | None, at: dt.datetime, window_days: int
) -> StoreResult:
    try:
        store = load_keystore(path, storepass, keypass)
    except InputError as exc:
        message = exc.message if exc.message.startswith(str(path)) else f"{path}: {exc.message}"
        found = UNREADABLE_RULES.run(UnreadableStore(str(path), message, exc.hint))
        return StoreResult(str(path), None, found, error=exc.line())
    findings = check_keystore(store, at) + check_expiry(store, at, window_days)
    expiries = [
        EntryExpiry(
            e.alias,
            min(days_left(c.not_valid_after_utc, at) for c in e.chain),
            e.chain[0].subject.rfc4514_string(),
        )
        for e in store.key_entries
        if e.chain
    ]
    return StoreResult(str(path), store, sort_findings(findings), expiries)


def judge_set(
    paths: list[Path],
    skipped: list[tuple[str, str]],
    password_for: Callable[[str], tuple[str | None, str | None]],
    at: dt.datetime,
    window_days: int,
    on_store: Callable[[StoreResult], None] | None = None,
) -> SetResult:
    """Each store in turn; `on_store` sees each result as it is made (the text report streams)."""
    results = []
    for result in _each(paths, password_for, at, window_days):
        if on_store is not None:
            on_store(result)
        results.append(result)
    return SetResult(results, skipped, at, window_days)


def _each(
    paths: list[Path],
    password_for: Callable[[str], tuple[str | None, str | None]],
    at: dt.datetime,
    window_days: int,
) -> Iterator[StoreResult]:
    for path in paths:
        storepass, keypass = password_for(str(path))
        yield judge_store(path, storepass, keypass, at, window_days)
