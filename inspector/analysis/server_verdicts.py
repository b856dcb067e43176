"""`--server-ca`: the server's client-CA material read (PEM bundle, JKS/PKCS#12
truststore, or a directory of them), and each server stack's verdict on the chain the client
sends, with the findings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509

from inspector.findings import Finding, sort_findings
from inspector.server_stacks import STACKS, Stack, StackVerdict, predict
from inspector.system.errors import InputError

if TYPE_CHECKING:
    from inspector.server_stacks.described import Printed

#: a directory of CA files is read up to this many files
MAX_DIRECTORY_FILES = 1000


@dataclass(frozen=True)
class ServerJudgement:
    source: str
    alias: str | None
    chain: tuple[x509.Certificate, ...]
    stack: Stack | None
    verdicts: tuple[StackVerdict, ...]
    findings: tuple[Finding, ...]
    #: per verdict, what a described chain (a log's text) left unchecked; () for real certificates
    not_checked: tuple[tuple[str, ...], ...] = ()

    @property
    def inferred(self) -> bool:
        return any(self.not_checked)


def load_server_ca(path: Path, password: str | None) -> list[x509.Certificate]:
    """Every certificate of the server's client-CA material, in file order, duplicates dropped."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
        if len(files) > MAX_DIRECTORY_FILES:
            raise InputError(f"--server-ca {path}: {len(files)} files", f"give at most {MAX_DIRECTORY_FILES}")
        certs = [c for f in files for c in _read_one(f, password, quiet=True)]
    elif path.exists():
        certs = _read_one(path, password, quiet=False)
    else:
        raise InputError(f"--server-ca {path}: no such file or directory", "check the path")
    seen: set[bytes] = set()
    unique = []
    for cert in certs:
        key = _der(cert)
        if key not in seen:
            seen.add(key)
            unique.append(cert)
    if not unique:
        raise InputError(
            f"--server-ca {path}: no certificate found",
            "give the server's client-CA file (PEM bundle, JKS or PKCS#12 truststore) or a directory of them",
        )
    return unique


def _der(cert: x509.Certificate) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return cert.public_bytes(serialization.Encoding.DER)


def _read_one(path: Path, password: str | None, quiet: bool) -> list[x509.Certificate]:
    from inspector.keystore import load_keystore

    try:
        store = load_keystore(path, password)
    except InputError as e:
        if quiet:
            return []
        hint = (
            e.hint.replace("--storepass", "--server-ca-pass")
            .replace(" or the prompt", "")
            .replace(".jks/.p12/.pfx/.pem file", "PEM bundle")
        )
        raise InputError(f"--server-ca {e.message}", hint or "give the server's client-CA file") from None
    # as the JDK's TrustStoreUtil: every trusted entry, and a key entry's own certificate
    certs = [t.certificate for t in store.trusted_entries]
    certs += [entry.chain[0] for entry in store.key_entries if entry.chain]
    return certs


def judge(
    chain: Sequence[x509.Certificate],
    trust: Sequence[x509.Certificate],
    source: str,
    at: dt.datetime,
    stack: Stack | None = None,
    alias: str | None = None,
    keystore: str | None = None,
    other: tuple[str, Sequence[x509.Certificate]] | None = None,
) -> ServerJudgement:
    import dataclasses

    from inspector.pki import certs as C
    from inspector.rules.server_rules import RULES, ServerContext

    verdicts = tuple(
        dataclasses.replace(
            v,
            client_fix=v.client_fix.replace("ALIAS", alias or "ALIAS").replace(
                "KEYSTORE", keystore or "KEYSTORE"
            ),
        )
        for v in predict(chain, trust, at, [stack] if stack is not None else STACKS)
    )
    if not chain:
        subject = "an empty Certificate (no client certificate)"
    elif alias:
        subject = f"'{alias}' ({C.dn(chain[0].subject)})"
    else:
        subject = C.dn(chain[0].subject)
    stacks = [stack] if stack is not None else STACKS
    other_alias, other_verdicts = (
        (other[0], tuple(predict(other[1], trust, at, stacks))) if other else (None, ())
    )
    context = ServerContext(verdicts, stack, source, alias, subject, other_alias, other_verdicts)
    findings = sort_findings(RULES.run(context))
    return ServerJudgement(source, alias, tuple(chain), stack, verdicts, tuple(findings))


def judge_described(
    chain: Sequence[tuple[x509.Certificate, Printed]],
    trust: Sequence[x509.Certificate],
    source: str,
    at: dt.datetime,
    stack: Stack | None = None,
) -> ServerJudgement:
    """`judge` for a chain known by its description (a Java log's text): the verdicts are
    inferences, each naming what could not be checked."""
    from inspector.pki import certs as C
    from inspector.rules.server_rules import RULES, ServerContext
    from inspector.server_stacks.described import predict_described

    judged = predict_described(chain, trust, at, [stack] if stack is not None else STACKS)
    verdicts = tuple(v for v, _ in judged)
    left = tuple(tuple(n) for _, n in judged)
    certs = tuple(c for c, _ in chain)
    subject = C.dn(certs[0].subject) if certs else "an empty Certificate (no client certificate)"
    opened = tuple(dict.fromkeys(n for each in left for n in each))
    context = ServerContext(verdicts, stack, source, None, subject, not_checked=opened)
    findings = sort_findings(RULES.run(context))
    return ServerJudgement(source, None, certs, stack, verdicts, tuple(findings), left)
