"""`keystore KS --repair OUT`: a corrected keystore written to a new file.

Per key entry: the CA-signed certificate for its key (from the entry, a trusted entry it was
wrongly imported under, the reply or the --ca files) replaces a stale self-signed one; the chain
is rebuilt leaf → root from the entry, the trusted entries and the files (certificates on no path
dropped); the alias is written lower-case (Java cannot open an upper-case JKS alias). Trusted
entries are kept. Every key is protected by the store password (PKCS#12 has one password; in a
JKS the key password is set equal to it, as Java's key managers and the integration platform
need). The result is read back with our own readers and judged again: the before/after."""

from __future__ import annotations

import datetime as dt
import shlex
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from inspector.analysis.keystore import judge_keystore
from inspector.findings import Finding
from inspector.keystore.model import KeyEntry, Keystore, StoreType
from inspector.keystore.writer import KeyToWrite, TrustedToWrite, jks_bytes, pkcs12_bytes
from inspector.pki import certs as C
from inspector.pki import chains
from inspector.system.errors import InputError


class OutputType(str, Enum):
    PKCS12 = "PKCS12"
    JKS = "JKS"


@dataclass(frozen=True)
class Sourced:
    cert: x509.Certificate
    source: str


@dataclass(frozen=True)
class EntryRepair:
    alias: str
    written_as: str
    chain_before: tuple[x509.Certificate, ...]
    chain_after: tuple[Sourced, ...]
    actions: tuple[str, ...]


@dataclass(frozen=True)
class RepairResult:
    store: Keystore
    out: str
    out_type: OutputType
    data: bytes
    entries: tuple[EntryRepair, ...]
    trusted_kept: tuple[str, ...]
    dropped: tuple[str, ...]
    before: list[Finding]
    after_store: Keystore
    after: list[Finding]
    keytool_commands: tuple[str, ...]


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def _leaf(entry: KeyEntry, pool: list[Sourced]) -> Sourced:
    """The certificate for the entry's key: the stored one when CA-signed, else the CA-signed
    one found elsewhere that lasts longest, else the stored one."""
    assert entry.private_key is not None
    stored = entry.chain[0] if entry.chain else None
    if (
        stored is not None
        and C.private_matches(entry.private_key, stored)
        and not chains.java_self_signed(stored)
    ):
        return Sourced(stored, f"entry '{entry.alias}'")
    signed = [
        s
        for s in pool
        if C.private_matches(entry.private_key, s.cert) and not chains.java_self_signed(s.cert)
    ]
    if signed:
        return max(signed, key=lambda s: s.cert.not_valid_after_utc)
    if stored is not None and C.private_matches(entry.private_key, stored):
        return Sourced(stored, f"entry '{entry.alias}'")
    raise InputError(
        f"{entry.alias}: no certificate in the store or the files carries this entry's key",
        "give the CA's reply for this key with --reply FILE, or its certificate with --ca",
    )


def _repair_entry(entry: KeyEntry, store: Keystore, extra: list[Sourced]) -> EntryRepair:
    if entry.private_key is None:
        raise InputError(
            f"{store.path}: the key of '{entry.alias}' was not opened",
            "give the store password (and --keypass… when the key's differs)",
        )
    own = [Sourced(c, f"entry '{entry.alias}'") for c in entry.chain]
    trusted = [Sourced(t.certificate, f"trusted entry '{t.alias}'") for t in store.trusted_entries]
    pool = [*own, *trusted, *extra]
    leaf = _leaf(entry, pool)
    sources: dict[bytes, str] = {}
    for s in pool:
        sources.setdefault(_der(s.cert), s.source)
    built = chains.build_chain(leaf.cert, [s.cert for s in pool])
    chain = tuple(Sourced(c, sources.get(_der(c), leaf.source)) for c in built)
    actions = []
    before = entry.chain
    if not before or _der(before[0]) != _der(leaf.cert):
        what = "self-signed certificate" if before and chains.java_self_signed(before[0]) else "certificate"
        actions.append(f"the {what} replaced by the CA-signed one from {leaf.source}")
    added = [s for s in chain[1:] if all(_der(s.cert) != _der(c) for c in before)]
    if added:
        actions.append(
            "chain completed with "
            + ", ".join(f"{C.short_dn(s.cert.subject)} (from {s.source})" for s in added)
        )
    kept = {_der(s.cert) for s in chain}
    dropped = [c for c in before[1:] if _der(c) not in kept]
    if dropped:
        actions.append(
            f"{len(dropped)} certificate(s) on no path dropped: "
            + ", ".join(C.short_dn(c.subject) for c in dropped)
        )
    common = [c for c in before if _der(c) in kept]
    if (
        not added
        and not dropped
        and [_der(c) for c in common]
        != [_der(s.cert) for s in chain if _der(s.cert) in {_der(c) for c in before}]
    ):
        actions.append("reordered leaf → root")
    if not chains.java_self_signed(chain[-1].cert):
        actions.append(f"the issuer of {C.short_dn(chain[-1].cert.subject)} is nowhere: give it with --ca")
    written = entry.alias.lower()
    if written != entry.alias:
        actions.append(f"alias written lower-case, '{written}' (Java looks aliases up lower-cased)")
    if entry.key_password_differs:
        actions.append("key password set to the store password")
    return EntryRepair(entry.alias, written, before, chain, tuple(actions))


def _read_back(path: Path, data: bytes, out_type: OutputType, password: str) -> Keystore:
    if out_type is OutputType.PKCS12:
        from inspector.keystore.pkcs12_reader import read_pkcs12

        return read_pkcs12(path, data, password)
    from inspector.keystore.jks_reader import read_jks

    return read_jks(path, data, StoreType.JKS, password, None)


def repair(
    store: Keystore,
    out: Path,
    out_type: OutputType,
    password: str,
    extra: list[tuple[str, x509.Certificate]],
    at: dt.datetime,
    window_days: int,
    alias: str | None = None,
) -> RepairResult:
    """The repaired store's bytes and the before/after; nothing is written here."""
    if not store.key_entries:
        raise InputError(
            f"{store.path}: no key entry to repair", "a repair needs the key pair (-genkeypair's entry)"
        )
    sources = [Sourced(cert, f"file {name}") for name, cert in extra]
    entries = tuple(_repair_entry(e, store, sources) for e in store.key_entries if alias in (None, e.alias))
    if not entries:
        raise InputError(f"{store.path}: no key entry '{alias}'", "give the alias of a PrivateKeyEntry")
    keys = []
    for repaired in entries:
        entry = next(e for e in store.key_entries if e.alias == repaired.alias)
        assert entry.private_key is not None
        keys.append(
            KeyToWrite(repaired.written_as, entry.private_key, tuple(s.cert for s in repaired.chain_after))
        )
    taken = {k.alias for k in keys}
    trusted = [
        TrustedToWrite(t.alias.lower(), t.certificate)
        for t in store.trusted_entries
        if t.alias.lower() not in taken
    ]
    dropped = [
        f"secret key entry '{s}' (not written: only key pairs and certificates are)"
        for s in store.secret_aliases
    ]
    writer = pkcs12_bytes if out_type is OutputType.PKCS12 else jks_bytes
    data = writer(keys, trusted, password)
    after_store = _read_back(out, data, out_type, password)
    before = judge_keystore(store, at, window_days, alias)
    after = judge_keystore(after_store, at, window_days)
    return RepairResult(
        store=store,
        out=str(out),
        out_type=out_type,
        data=data,
        entries=entries,
        trusted_kept=tuple(t.alias for t in trusted),
        dropped=tuple(dropped),
        before=before,
        after_store=after_store,
        after=after,
        keytool_commands=tuple(_commands(store, out, out_type, entries)),
    )


def _commands(
    store: Keystore, out: Path, out_type: OutputType, entries: tuple[EntryRepair, ...]
) -> list[str]:
    """The same by hand: copy the store, then per key entry export the chain and import it
    under the key's alias (keytool asks for the passwords)."""
    src, dst = shlex.quote(str(store.path)), shlex.quote(str(out))
    src_type = {StoreType.JKS: "JKS", StoreType.JCEKS: "JCEKS"}.get(store.store_type, "PKCS12")
    lines = [
        f"keytool -importkeystore -srckeystore {src} -srcstoretype {src_type} -destkeystore {dst} "
        f"-deststoretype {out_type.value}"
    ]
    for e in entries:
        alias = shlex.quote(e.written_as)
        pem = shlex.quote(f"{e.written_as}-chain.pem")
        for i, s in enumerate(e.chain_after):
            to = ">" if i == 0 else ">>"
            if s.source.startswith("trusted entry '") or (i == 0 and s.source.startswith("entry '")):
                name = shlex.quote(s.source.split("'")[1])
                lines.append(f"keytool -exportcert -rfc -alias {name} -keystore {src} {to} {pem}")
            elif s.source.startswith("file "):
                lines.append(
                    f"openssl x509 -in {shlex.quote(s.source[5:])} {to} {pem}   # {C.dn(s.cert.subject)}"
                )
            else:
                where = f"keytool -list -rfc -alias {shlex.quote(e.alias)}"
                lines.append(f"# {to} {pem}: {C.dn(s.cert.subject)}, from {where}")
        lines.append(f"keytool -importcert -noprompt -alias {alias} -file {pem} -keystore {dst}")
    return lines
