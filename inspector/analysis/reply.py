"""`keystore KS --reply FILE`: a CA reply checked before `keytool -importcert`.

Reads the reply (PEM / DER / PKCS#7), the optional CSR and CA files, predicts what keytool will
do and say (java.keytool_import), builds the chain from every source, lists the keytool commands
in the order that makes keytool accept the reply, and judges the keystore keytool would leave
(the keystore rules, on the predicted store)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shlex
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from inspector.findings import Finding, sort_findings
from inspector.java.keytool_import import (
    ImportOutcome,
    ImportPrediction,
    keystore_certificates,
    predict_import,
)
from inspector.keystore.model import Keystore, TrustedEntry
from inspector.pki import certs as C
from inspector.pki import chains
from inspector.pki.bundles import BundleFormat, CertificateFile, read_certificate_file, read_csr
from inspector.rules import keystore_rules
from inspector.rules.reply_rules import ReplyContext, SourcedCert, check_reply
from inspector.system.errors import InputError
from inspector.system.input_files import read_limited

MAX_CERT_FILE = 16 * 1024 * 1024
_WRONG_ALIAS = (ImportOutcome.ADDED_AS_TRUSTED, ImportOutcome.TRUST_PROMPT, ImportOutcome.ALIAS_IS_TRUSTED)


@dataclass(frozen=True)
class CaImport:
    """One CA certificate to import as a trusted entry before the reply."""

    alias: str
    cert: x509.Certificate
    #: the file to give keytool; None when the certificate is only inside the reply bundle
    file: str | None
    #: its position in the reply, when it comes from there
    reply_position: int | None = None

    def command(self, keystore: str) -> str:
        name = self.file or f"{self.alias}.pem"
        return (
            f"keytool -importcert -trustcacerts -alias {shlex.quote(self.alias)} -file {shlex.quote(name)} "
            f"-keystore {shlex.quote(keystore)}"
        )


@dataclass(frozen=True)
class ReplyCheck:
    store: Keystore
    alias: str
    reply_path: str
    reply: CertificateFile
    csr_path: str | None
    csr: x509.CertificateSigningRequest | None
    ca_files: tuple[tuple[str, CertificateFile], ...]
    prediction: ImportPrediction
    full_chain: tuple[SourcedCert, ...]
    imports: tuple[CaImport, ...]
    #: the alias the reply belongs under (the key pair's: `alias` unless that was the mistake)
    target: str
    #: the reply's import command (under the key pair's alias)
    import_command: str
    #: what keytool says when the commands are run in order (None when no command can help)
    prediction_after_commands: ImportPrediction | None
    #: the keystore after the import (as predicted), None when keytool would install nothing
    after: Keystore | None
    reply_findings: list[Finding]
    after_findings: list[Finding]
    at: dt.datetime

    @property
    def findings(self) -> list[Finding]:
        return sort_findings([*self.reply_findings, *self.after_findings])


def _read_cert_file(path: Path, what: str) -> CertificateFile:
    data = read_limited(path, MAX_CERT_FILE, what, f"give {what} file (PEM, DER or PKCS#7)")
    return read_certificate_file(data)


def _choose_alias(store: Keystore, reply: CertificateFile, alias: str | None) -> str:
    if alias is not None:
        return alias
    for entry in store.key_entries:
        if entry.chain and any(C.same_certificate_key(entry.chain[0], c) for c in reply.certificates):
            return entry.alias
    if len(store.key_entries) == 1:
        return store.key_entries[0].alias
    names = ", ".join(e.alias for e in store.key_entries) or "(none)"
    raise InputError(
        f"{store.path}: which key pair is the reply for? none matches its key",
        f"give --alias (key entries: {names})",
    )


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def _full_chain(
    store: Keystore, alias: str, reply: CertificateFile, ca_files: tuple[tuple[str, CertificateFile], ...]
) -> tuple[SourcedCert, ...]:
    entry = next((e for e in store.key_entries if e.alias.lower() == alias.lower()), None)
    leaf = None
    if entry is not None and entry.chain:
        leaf = next((c for c in reply.certificates if C.same_certificate_key(c, entry.chain[0])), None)
    if leaf is None:
        leaf = reply.certificates[0] if reply.certificates else None
    if leaf is None:
        return ()
    sources: dict[bytes, str] = {}
    pool: list[x509.Certificate] = []
    for cert in reply.certificates:
        sources.setdefault(_der(cert), "reply")
        pool.append(cert)
    for name, cert in keystore_certificates(store):
        sources.setdefault(_der(cert), f"keystore alias '{name}'")
        pool.append(cert)
    for path, content in ca_files:
        for cert in content.certificates:
            sources.setdefault(_der(cert), f"file {path}")
            pool.append(cert)
    chain = chains.build_chain(leaf, pool)
    return tuple(SourcedCert(c, sources[_der(c)]) for c in chain)


def _free_alias(store: Keystore, wanted: str, taken: set[str]) -> str:
    used = (
        {e.alias.lower() for e in store.key_entries}
        | {t.alias.lower() for t in store.trusted_entries}
        | taken
    )
    name, n = wanted, 2
    while name in used:
        name, n = f"{wanted}{n}", n + 1
    return name


def _imports(
    store: Keystore, reply: CertificateFile, chain: tuple[SourcedCert, ...], prediction: ImportPrediction
) -> tuple[CaImport, ...]:
    """The CA certificates keytool needs in the keystore before the reply, root first."""
    if prediction.outcome not in (ImportOutcome.NO_CHAIN, ImportOutcome.TOP_NOT_TRUSTED):
        return ()
    in_store = {_der(c) for _, c in keystore_certificates(store)}
    wanted = [s for s in chain[1:] if _der(s.cert) not in in_store]
    if len(reply.certificates) > 1:  # a bundle brings its intermediates: only its root is needed
        wanted = [s for s in wanted if C.is_self_signed(s.cert)]
    taken: set[str] = set()
    result = []
    for s in reversed(wanted):
        alias = _free_alias(store, "root" if C.is_self_signed(s.cert) else "intermediate", taken)
        taken.add(alias)
        file = s.source[5:] if s.source.startswith("file ") else None
        position = next((i for i, c in enumerate(reply.certificates) if _der(c) == _der(s.cert)), None)
        result.append(CaImport(alias, s.cert, file, position if file is None else None))
    return tuple(result)


def _with_trusted(store: Keystore, imports: tuple[CaImport, ...]) -> Keystore:
    added = [TrustedEntry(i.alias, i.cert) for i in imports]
    return dataclasses.replace(store, trusted_entries=[*store.trusted_entries, *added])


def _after(store: Keystore, alias: str, prediction: ImportPrediction) -> Keystore:
    entries = [
        dataclasses.replace(e, chain=prediction.chain_after) if e.alias.lower() == alias.lower() else e
        for e in store.key_entries
    ]
    return dataclasses.replace(store, key_entries=entries, certificate_problems=[])


def _read_csr(csr_path: Path) -> x509.CertificateSigningRequest:
    csr = read_csr(read_limited(csr_path, MAX_CERT_FILE, "a CSR", "give the CSR file (mycsr.pem)"))
    if csr is None:
        raise InputError(
            f"--csr {csr_path}: not a certificate signing request", "give the file keytool -certreq wrote"
        )
    return csr


def _read_ca_files(ca_paths: list[Path]) -> list[tuple[str, CertificateFile]]:
    """Each --ca file with its certificates; one that holds none is the input's error."""
    ca_files = []
    for path in ca_paths:
        content = _read_cert_file(path, "a CA certificate")
        if not content.readable:
            raise InputError(
                f"--ca {path}: {content.problem or 'empty'}", "give CA certificates (PEM, DER or PKCS#7)"
            )
        ca_files.append((str(path), content))
    return ca_files


def check_ca_reply(
    store: Keystore,
    reply_path: Path,
    alias: str | None,
    csr_path: Path | None,
    ca_paths: list[Path],
    at: dt.datetime,
) -> ReplyCheck:
    reply = _read_cert_file(reply_path, "a CA reply")
    csr = _read_csr(csr_path) if csr_path is not None else None
    ca_files = _read_ca_files(ca_paths)
    chosen = _choose_alias(store, reply, alias)
    empty = reply.format is BundleFormat.EMPTY
    prediction = predict_import(store, chosen, reply.certificates, reply.keytool_reads, empty)
    full_chain = _full_chain(store, chosen, reply, tuple(ca_files))
    target = chosen
    if prediction.outcome in _WRONG_ALIAS:
        matching = [
            e.alias
            for e in store.key_entries
            if e.chain and any(C.same_certificate_key(e.chain[0], c) for c in reply.certificates)
        ]
        if matching or len(store.key_entries) == 1:
            target = (matching or [store.key_entries[0].alias])[0]
            full_chain = _full_chain(store, target, reply, tuple(ca_files))
    target_prediction = (
        prediction
        if target == chosen
        else predict_import(store, target, reply.certificates, reply.keytool_reads, empty)
    )
    imports = _imports(store, reply, full_chain, target_prediction)
    after_commands: ImportPrediction | None = None
    after = None
    if target_prediction.outcome.installs:
        after_commands = target_prediction
    elif imports:
        after_commands = predict_import(
            _with_trusted(store, imports), target, reply.certificates, True, False
        )
    elif target != chosen:
        after_commands = target_prediction
    if after_commands is not None and after_commands.outcome.installs:
        base = _with_trusted(store, imports)
        after = _after(base, target, after_commands)
    import_command = (
        f"keytool -importcert -alias {shlex.quote(target)} -file {shlex.quote(str(reply_path))} "
        f"-keystore {shlex.quote(str(store.path))}"
    )
    ctx = ReplyContext(
        store,
        chosen,
        str(reply_path),
        reply,
        prediction,
        full_chain,
        csr,
        str(csr_path) if csr_path else None,
    )
    reply_findings = check_reply(ctx)
    after_findings = keystore_rules.check_keystore(after, at, target) if after is not None else []
    return ReplyCheck(
        store=store,
        alias=chosen,
        reply_path=str(reply_path),
        reply=reply,
        csr_path=str(csr_path) if csr_path else None,
        csr=csr,
        ca_files=tuple(ca_files),
        prediction=prediction,
        full_chain=full_chain,
        imports=imports,
        target=target,
        import_command=import_command,
        prediction_after_commands=after_commands,
        after=after,
        reply_findings=reply_findings,
        after_findings=after_findings,
        at=at,
    )
