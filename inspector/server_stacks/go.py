"""Go's crypto/tls server with tls.RequireAndVerifyClientCert: x509.Certificate.Verify with the
client-CA pool as roots, the rest of the sent chain as intermediates and KeyUsages clientAuth
(Go 1.19 as Debian 12 ships it, measured; the words are crypto/x509's error strings).

Any certificate in the pool is an anchor (an intermediate too); every certificate in the chain
that has an EKU must allow clientAuth; SHA-1 signatures are refused; key sizes are not checked."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence

from inspector.server_stacks import advice
from inspector.server_stacks.facts import ANY_EKU, CLIENT_AUTH, Facts, dns_violation
from inspector.server_stacks.model import Problem, Stack, StackVerdict

LEAF, INTERMEDIATE, ROOT = 0, 1, 2
UNKNOWN_AUTHORITY = "x509: certificate signed by unknown authority"
PREFIX = "tls: failed to verify client certificate: "


class GoError(Exception):
    def __init__(self, text: str, problem: Problem, cert: Facts, pattern: str | None = None) -> None:
        super().__init__(text)
        self.text, self.problem, self.cert = text, problem, cert
        self.pattern = pattern if pattern is not None else re.escape(text)


def _time(at: dt.datetime) -> str:
    return at.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _is_valid(c: Facts, kind: int, chain: Sequence[Facts], at: dt.datetime) -> GoError | None:
    if c.unknown_critical:
        return GoError("x509: unhandled critical extension", Problem.UNKNOWN_CRITICAL, c)
    head = "x509: certificate has expired or is not yet valid: current time "
    if at < c.not_before:
        text = f"{head}{_time(at)} is before {_time(c.not_before)}"
        return GoError(
            text,
            Problem.NOT_YET_VALID,
            c,
            re.escape(head) + r"\S+ is before " + re.escape(_time(c.not_before)),
        )
    if at > c.not_after:
        text = f"{head}{_time(at)} is after {_time(c.not_after)}"
        return GoError(
            text, Problem.EXPIRED, c, re.escape(head) + r"\S+ is after " + re.escape(_time(c.not_after))
        )
    if kind in (INTERMEDIATE, ROOT) and (c.permitted_dns is not None or c.excluded_dns):
        for below in chain:
            if not below.has_san:
                continue
            violation = dns_violation(below, c)
            if violation is not None:
                name, how = violation
                detail = (
                    f"DNS name {json.dumps(name)} is not permitted by any constraint"
                    if how == "permitted"
                    else f"DNS name {json.dumps(name)} is excluded by constraint"
                )
                return GoError(
                    "x509: a root or intermediate certificate is not authorized to sign for this name: "
                    + detail,
                    Problem.NAME_CONSTRAINTS,
                    c,
                )
    if kind == INTERMEDIATE and c.ca is not True:
        return GoError("x509: certificate is not authorized to sign other certificates", Problem.NOT_A_CA, c)
    if c.ca and c.path_length is not None and len(chain) - 1 > c.path_length:
        return GoError("x509: too many intermediates for path length constraint", Problem.PATH_LENGTH, c)
    return None


def _check_signature_from(child: Facts, parent: Facts) -> tuple[str, Problem] | None:
    if (parent.v3 and parent.ca is None) or parent.ca is False:
        return (
            "x509: invalid signature: parent certificate cannot sign this kind of certificate",
            Problem.NOT_A_CA,
        )
    if parent.key_usage is not None and "key_cert_sign" not in parent.key_usage:
        return (
            "x509: invalid signature: parent certificate cannot sign this kind of certificate",
            Problem.NOT_A_CA,
        )
    if child.sig_hash in ("sha1", "md5", "md2"):
        algo = child.sig_name.replace("SHA1", "SHA1")
        override = " (temporarily override with GODEBUG=x509sha1=1)" if child.sig_hash == "sha1" else ""
        return f"x509: cannot verify signature: insecure algorithm {algo}{override}", Problem.WEAK_SIGNATURE
    if child.signed_by(parent) is False:
        return "crypto/rsa: verification error", Problem.BAD_SIGNATURE
    return None


def _parents(c: Facts, pool: Sequence[Facts]) -> list[Facts]:
    """findPotentialParents: same name; matching key id first, then none, then mismatched."""
    named = [p for p in pool if p.subject == c.issuer]
    match = [p for p in named if c.aki is not None and p.ski == c.aki]
    none = [p for p in named if c.aki is None or p.ski is None]
    other = [p for p in named if p not in match and p not in none]
    return match + none + other


def _in_chain(candidate: Facts, chain: Sequence[Facts]) -> bool:
    return any(candidate.subject == c.subject and candidate.same_key(c) for c in chain)


def _build(
    chain: list[Facts], roots: Sequence[Facts], inters: Sequence[Facts], at: dt.datetime, budget: list[int]
) -> tuple[list[list[Facts]], GoError | None]:
    c = chain[-1]
    chains: list[list[Facts]] = []
    err: GoError | None = None
    hint: tuple[str, Problem, Facts] | None = None
    for kind, pool in ((ROOT, roots), (INTERMEDIATE, inters)):
        for candidate in _parents(c, pool):
            if _in_chain(candidate, chain):
                continue
            budget[0] += 1
            if budget[0] > 100:
                err = GoError(
                    "x509: signature check attempts limit reached while verifying certificate chain",
                    Problem.OTHER,
                    c,
                )
                continue
            bad = _check_signature_from(c, candidate)
            if bad is not None:
                if hint is None:
                    hint = (bad[0], bad[1], candidate)
                continue
            err = _is_valid(candidate, kind, chain, at)
            if err is not None:
                continue
            if kind == ROOT:
                chains.append([*chain, candidate])
            else:
                sub, err = _build([*chain, candidate], roots, inters, at, budget)
                chains.extend(sub)
    if chains:
        return chains, None
    if err is None:
        if hint is not None:
            text, problem, cert = hint
            name = cert.cn or "serial"
            full = (
                f"{UNKNOWN_AUTHORITY} (possibly because of {json.dumps(text)} while trying to verify "
                f"candidate authority certificate {json.dumps(name)})"
            )
            err = GoError(full, problem, cert)
        else:
            err = GoError(
                UNKNOWN_AUTHORITY,
                Problem.ISSUER_NOT_SENT if not c.self_signed else Problem.SELF_SIGNED_UNTRUSTED,
                c,
            )
    return chains, err


def _eku_ok(chain: Sequence[Facts]) -> bool:
    for cert in chain:
        if cert.eku is None or not cert.eku or ANY_EKU in cert.eku:
            continue
        if CLIENT_AUTH not in cert.eku:
            return False
    return True


def verify(sent: Sequence[Facts], trust: Sequence[Facts], at: dt.datetime) -> GoError | None:
    leaf = sent[0]
    err = _is_valid(leaf, LEAF, [], at)
    if err is not None:
        return err
    if any(t.same(leaf) for t in trust):
        chains = [[leaf]]
    else:
        chains, err = _build([leaf], trust, list(sent[1:]), at, [0])
        if err is not None:
            return err
    if not any(_eku_ok(chain) for chain in chains):
        bad = next(
            (c for c in chains[0] if c.eku and ANY_EKU not in c.eku and CLIENT_AUTH not in c.eku), leaf
        )
        problem = Problem.LEAF_PURPOSE if bad is leaf else Problem.CA_PURPOSE
        return GoError("x509: certificate specifies an incompatible key usage", problem, bad)
    return None


def judge(sent: Sequence[Facts], trust: Sequence[Facts], at: dt.datetime) -> StackVerdict:
    err = verify(sent, trust, at)
    if err is None:
        return advice.accepted(Stack.GO, True)
    # the log pattern also takes Go 1.20 and later's "tls: failed to verify certificate: "
    pattern = r"tls: failed to verify (?:client )?certificate: " + err.pattern
    return advice.verdict(Stack.GO, err.problem, err.cert, PREFIX + err.text, pattern, True)
