"""Every stack's verdict on one chain: each certificate read once, each stack's model run."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from cryptography import x509

from inspector.server_stacks import go, java, openssl_family
from inspector.server_stacks.facts import Facts, read
from inspector.server_stacks.model import STACKS, Stack, StackVerdict


def predict(
    chain: Sequence[x509.Certificate],
    trust: Sequence[x509.Certificate],
    at: dt.datetime | None = None,
    stacks: Iterable[Stack] = STACKS,
) -> list[StackVerdict]:
    """Each stack's verdict on `chain` (as the client sends it, leaf first) from a server whose
    client-CA material is `trust`, at time `at` (now by default)."""
    if not chain:
        raise ValueError("no client certificate: every stack refuses an empty chain")
    when = at or dt.datetime.now(dt.timezone.utc)
    memo: dict[bytes, Facts] = {}

    def facts(certs: Sequence[x509.Certificate]) -> list[Facts]:
        out = []
        for cert in certs:
            f = read(cert)
            out.append(memo.setdefault(f.der, f))
        return out

    sent, trusted = facts(chain), facts(trust)
    verdicts = []
    for stack in stacks:
        if stack is Stack.GO:
            verdicts.append(go.judge(sent, trusted, when))
        elif stack is Stack.JAVA:
            verdicts.append(java.judge(sent, trusted, when))
        else:
            verdicts.append(openssl_family.judge(stack, sent, trusted, when))
    return verdicts
