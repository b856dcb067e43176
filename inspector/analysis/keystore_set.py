"""`keystore A B C…`, a directory, a glob: many keystores judged in one run,
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
#: below this many stores one process is quicker than starting workers
PARALLEL_MIN = 16


@dataclass(frozen=True)
class EntryExpiry:
    alias: str
    #: days until the first certificate of the chain expires (negative: expired)
    days: float
    subject: str


@dataclass(frozen=True)
class StoreFacts:
    """What the reports show of an opened store: plain values (a store judged in a worker
    process comes back as these, without its keys)."""

    store_type: StoreType
    integrity_checked: bool
    entry_count: int
    key_aliases: tuple[str, ...]
    #: the entries table (render.keystore.entries_rows' columns)
    rows: tuple[tuple[str, ...], ...]


@dataclass
class StoreResult:
    path: str
    #: None when the store could not be opened
    store: StoreFacts | None
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

    lines: tuple[tuple[str, str], ...] = field(repr=False)

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
    from inspector.keystore import MAX_KEYSTORE_BYTES
    from inspector.keystore.detect import sniff

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
    facts = StoreFacts(
        store.store_type,
        store.integrity_checked,
        len(store.key_entries) + len(store.trusted_entries) + len(store.secret_aliases),
        tuple(e.alias for e in store.key_entries),
        tuple(tuple(row) for row in entry_rows(store)),
    )
    return StoreResult(str(path), facts, sort_findings(findings), expiries)


def judge_set(
    paths: list[Path],
    skipped: list[tuple[str, str]],
    password_for: Callable[[str], tuple[str | None, str | None]],
    at: dt.datetime,
    window_days: int,
    on_store: Callable[[StoreResult], None] | None = None,
    jobs: int = 1,
) -> SetResult:
    """Each store in turn, or on `jobs` forked processes (results in the order of `paths`);
    `on_store` sees each result as it is made."""
    results = []
    each = _each if jobs <= 1 or len(paths) < PARALLEL_MIN else _each_parallel
    for result in each(paths, password_for, at, window_days, jobs):
        if on_store is not None:
            on_store(result)
        results.append(result)
    return SetResult(results, skipped, at, window_days)


def _each(
    paths: list[Path],
    password_for: Callable[[str], tuple[str | None, str | None]],
    at: dt.datetime,
    window_days: int,
    jobs: int,
) -> Iterator[StoreResult]:
    for path in paths:
        storepass, keypass = password_for(str(path))
        yield judge_store(path, storepass, keypass, at, window_days)


def _judge_one(task: tuple[Path, str | None, str | None, dt.datetime, int]) -> StoreResult:
    return judge_store(*task)


def _each_parallel(
    paths: list[Path],
    password_for: Callable[[str], tuple[str | None, str | None]],
    at: dt.datetime,
    window_days: int,
    jobs: int,
) -> Iterator[StoreResult]:
    """PKCS#12 stores cost their key derivations (~35 ms each, as in Java): spread over forked
    workers. Each result comes back as plain values (StoreFacts), never the keys."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    tasks = [(p, *password_for(str(p)), at, window_days) for p in paths]
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        yield from pool.map(_judge_one, tasks, chunksize=8)


def entry_rows(store: Keystore) -> list[list[str]]:
    """alias, entry type, key, subject, issuer, not after, chain length: the keystore table."""
    from inspector.pki import certs as C

    rows: list[list[str]] = []
    for e in store.key_entries:
        key = C.describe_key(e.private_key) if e.private_key is not None else "?"
        if e.private_key is None and e.chain:
            key = C.describe_public_key(e.chain[0]) + " (from cert)"
        first = e.chain[0] if e.chain else None
        rows.append(
            [
                e.alias,
                "PrivateKeyEntry" + (" (key locked)" if not e.key_decrypted else ""),
                key,
                C.short_dn(first.subject) if first else "-",
                C.short_dn(first.issuer) if first else "-",
                f"{first.not_valid_after_utc:%Y-%m-%d}" if first else "-",
                str(len(e.chain)),
            ]
        )
    for t in store.trusted_entries:
        cert = t.certificate
        rows.append(
            [
                t.alias,
                "trustedCertEntry",
                C.describe_public_key(cert),
                C.short_dn(cert.subject),
                C.short_dn(cert.issuer),
                f"{cert.not_valid_after_utc:%Y-%m-%d}",
                "-",
            ]
        )
    rows += [[name, "SecretKeyEntry", "-", "-", "-", "-", "-"] for name in store.secret_aliases]
    return rows
