"""Every stack's verdict on one chain: each certificate read once, each stack's model run."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence

from cryptography import x509

from inspector.server_stacks import advice, go, java, openssl_family
from inspector.server_stacks.facts import Facts, name_key, read_cached
from inspector.server_stacks.model import STACKS, TESTED, Problem, Stack, StackVerdict, Verdict

#: Each stack's words for an empty client Certificate (measured; Envoy from its documentation).
NO_CERTIFICATE = {
    Stack.OPENSSL: "SSL routines:tls_process_client_certificate:peer did not return a certificate",
    Stack.NGINX: "client sent no required SSL certificate",
    Stack.APACHE: "AH02008: SSL library error 1 in handshake; "
    "SSL routines::peer did not return a certificate",
    Stack.HAPROXY: "SSL handshake failure",
    Stack.GO: "tls: client didn't provide a certificate",
    Stack.NODE: "tlsClientError ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE",
    Stack.JAVA: "Empty client certificate chain",
    Stack.ENVOY: "OPENSSL_internal:PEER_DID_NOT_RETURN_A_CERTIFICATE",
}
NO_CERTIFICATE_LOG = {
    Stack.APACHE: "peer did not return a certificate",
    Stack.NODE: "ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE",
}


def no_certificate(stack: Stack) -> StackVerdict:
    """Every stack requiring a client certificate refuses an empty Certificate message."""
    says = NO_CERTIFICATE[stack]
    reason, setting, fix = advice.words(stack, Problem.NO_CERTIFICATE)
    return StackVerdict(
        stack=stack,
        verdict=Verdict.REJECT,
        problem=Problem.NO_CERTIFICATE,
        reason=reason,
        stack_says=says,
        log_pattern=re.escape(NO_CERTIFICATE_LOG.get(stack, says)) if stack in TESTED else "",
        setting=setting,
        client_fix=fix,
        subject="",
        tested=stack in TESTED,
    )


def predict(
    chain: Sequence[x509.Certificate],
    trust: Sequence[x509.Certificate],
    at: dt.datetime | None = None,
    stacks: Iterable[Stack] = STACKS,
) -> list[StackVerdict]:
    """Each stack's verdict on `chain` (as the client sends it, leaf first) from a server whose
    client-CA material is `trust`, at time `at` (now by default)."""
    if not chain:
        return [no_certificate(stack) for stack in stacks]
    sent = [read_cached(c) for c in chain]
    return predict_facts(sent, [read_cached(c) for c in relevant(chain, trust)], at, stacks)


def predict_facts(
    sent: Sequence[Facts],
    trusted: Sequence[Facts],
    at: dt.datetime | None = None,
    stacks: Iterable[Stack] = STACKS,
) -> list[StackVerdict]:
    """Each stack's model on certificates already read (from their bytes, or described)."""
    when = at or dt.datetime.now(dt.timezone.utc)
    verdicts = []
    for stack in stacks:
        if stack is Stack.GO:
            verdicts.append(go.judge(sent, trusted, when))
        elif stack is Stack.JAVA:
            verdicts.append(java.judge(sent, trusted, when))
        else:
            verdicts.append(openssl_family.judge(stack, sent, trusted, when))
    return verdicts


def relevant(chain: Sequence[x509.Certificate], trust: Sequence[x509.Certificate]) -> list[x509.Certificate]:
    """The trusted certificates any stack could use for `chain`, in their order: those named as
    an issuer (or subject) by the chain, and, transitively, their issuers. A system CA bundle of
    hundreds is read only for the few that matter."""
    if len(trust) <= 16:
        return list(trust)
    keyed = [(cert, name_key(cert.subject)) for cert in trust]
    by_key: dict[tuple[tuple[str, str], ...], list[x509.Certificate]] = {}
    for cert, key in keyed:
        by_key.setdefault(key, []).append(cert)
    queue = [name_key(c.issuer) for c in chain] + [name_key(c.subject) for c in chain]
    reached: set[tuple[tuple[str, str], ...]] = set()
    while queue:
        key = queue.pop()
        if key in reached:
            continue
        reached.add(key)
        queue += [name_key(c.issuer) for c in by_key.get(key, ())]
    return [cert for cert, key in keyed if key in reached]
