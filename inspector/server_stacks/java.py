"""A Java server's default trust manager on a client chain: X509TrustManagerImpl.checkClientTrusted
→ PKIXValidator (variant tls client) → PKIXCertPathValidator, then the EndEntityChecker for TLS
clients (JDK 17 as Debian 12 ships it, measured; the words are the JDK's exception messages).

Any trusted certificate is an anchor (an intermediate too, or the client certificate itself);
an ordered chain is validated as sent up to its first trusted certificate, an unordered one is
handed to the path builder; EKU is checked on the leaf only; jdk.certpath.disabledAlgorithms of
JDK 17 refuses MD2/MD5 signatures and RSA/DSA keys under 1024 bits (SHA-1 only for JDK CAs)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from inspector.server_stacks import advice
from inspector.server_stacks.facts import ANY_EKU, CLIENT_AUTH, Facts, dns_violation
from inspector.server_stacks.model import Problem, Stack, StackVerdict

VALIDATION = "PKIX path validation failed: java.security.cert.CertPathValidatorException: "
BUILDING = (
    "PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: "
    "unable to find valid certification path to requested target"
)
#: PKIXParameters' default maximum path length
MAX_PATH_LENGTH = 5


@dataclass(frozen=True)
class JavaError:
    text: str
    problem: Problem
    cert: Facts


def _trusted(cert: Facts, trust: Sequence[Facts]) -> Facts | None:
    for t in trust:
        if t.same(cert) or (t.subject == cert.subject and t.same_key(cert)):
            return t
    return None


def _validate(path: Sequence[Facts], anchor: Facts, at: dt.datetime) -> JavaError | None:
    """PKIXCertPathValidator over `path` (leaf first, the anchor excluded)."""
    max_path = MAX_PATH_LENGTH
    issuer = anchor
    permitted: list[Facts] = [anchor] if anchor.permitted_dns is not None or anchor.excluded_dns else []
    n = len(path)
    for index in range(n - 1, -1, -1):
        cert = path[index]
        target = index == 0
        # AlgorithmChecker
        if cert.sig_hash in ("md5", "md2"):
            return JavaError(
                f"Algorithm constraints check failed on signature algorithm: {cert.sig_name}",
                Problem.WEAK_SIGNATURE,
                cert,
            )
        if cert.key_kind in ("RSA", "DSA") and cert.key_bits is not None and cert.key_bits < 1024:
            return JavaError(
                "Algorithm constraints check failed on keysize limits: "
                f"{cert.key_kind} {cert.key_bits} bit key",
                Problem.WEAK_KEY,
                cert,
            )
        # KeyChecker
        if not target and cert.key_usage is not None and "key_cert_sign" not in cert.key_usage:
            return JavaError("CA key usage check failed: keyCertSign bit is not set", Problem.NOT_A_CA, cert)
        # ConstraintsChecker: names, then basic constraints
        for ca in permitted:
            if dns_violation(cert, ca) is not None:
                return JavaError("name constraints check failed", Problem.NAME_CONSTRAINTS, ca)
        if not target:
            if cert.ca is not True:
                return JavaError(
                    "basic constraints check failed: this is not a CA certificate", Problem.NOT_A_CA, cert
                )
            if not cert.self_issued:
                if max_path <= 0:
                    return JavaError(
                        "basic constraints check failed: pathLenConstraint violated - "
                        "this cert must be the last cert in the certification path",
                        Problem.PATH_LENGTH,
                        cert,
                    )
                max_path -= 1
            if cert.path_length is not None and cert.path_length < max_path:
                max_path = cert.path_length
            if cert.permitted_dns is not None or cert.excluded_dns:
                permitted.append(cert)
        # BasicChecker: signature, validity, name chaining
        if cert.signed_by(issuer) is False:
            return JavaError("signature check failed", Problem.BAD_SIGNATURE, cert)
        problem = cert.time_problem(at)
        if problem is not None:
            kind = Problem.EXPIRED if problem == "expired" else Problem.NOT_YET_VALID
            return JavaError("validity check failed", kind, cert)
        if cert.issuer != issuer.subject:
            return JavaError("subject/issuer name chaining check failed", Problem.ISSUER_NOT_SENT, cert)
        if cert.unknown_critical:
            return JavaError("unrecognized critical extension(s)", Problem.UNKNOWN_CRITICAL, cert)
        issuer = cert
    return None


def _build(sent: Sequence[Facts], trust: Sequence[Facts], at: dt.datetime) -> bool:
    """SunCertPathBuilder, enough of it: some path from the leaf through the sent certificates to
    a trusted one validates."""
    pool = list(sent[1:])

    def walk(path: list[Facts]) -> bool:
        cur = path[-1]
        if len(path) > MAX_PATH_LENGTH + 2:
            return False
        for anchor in trust:
            if cur.names_issuer(anchor) and _validate(path, anchor, at) is None:
                return True
        return any(
            walk([*path, nxt]) for nxt in pool if cur.names_issuer(nxt) and all(nxt is not p for p in path)
        )

    return walk([sent[0]])


def verify(sent: Sequence[Facts], trust: Sequence[Facts], at: dt.datetime) -> JavaError | None:
    leaf = sent[0]
    error: JavaError | None = None
    prev_issuer = None
    decided = False
    for i, cert in enumerate(sent):
        if i and cert.subject != prev_issuer:
            break  # not ordered: the builder decides
        anchor = _trusted(cert, trust)
        if anchor is not None:
            decided = True
            if i:
                found = _validate(sent[:i], anchor, at)
                if found is not None:
                    error = JavaError(VALIDATION + found.text, found.problem, found.cert)
            break
        prev_issuer = cert.issuer
    else:
        last = sent[-1]
        anchors = [t for t in trust if t.subject == last.issuer]
        if anchors:
            decided = True
            results = [_validate(sent, a, at) for a in anchors]
            if all(r is not None for r in results):
                found = results[0]
                assert found is not None
                error = JavaError(VALIDATION + found.text, found.problem, found.cert)
    if not decided and not _build(sent, trust, at):
        problem = (
            Problem.SELF_SIGNED_UNTRUSTED if len(sent) == 1 and leaf.self_signed else Problem.ISSUER_NOT_SENT
        )
        error = JavaError(BUILDING, problem, leaf)
    if error is not None:
        return error
    # EndEntityChecker, TLS client
    if leaf.key_usage is not None and "digital_signature" not in leaf.key_usage:
        return JavaError("KeyUsage does not allow digital signatures", Problem.LEAF_PURPOSE, leaf)
    if leaf.eku is not None and CLIENT_AUTH not in leaf.eku and ANY_EKU not in leaf.eku:
        return JavaError(
            "Extended key usage does not permit use for TLS client authentication", Problem.LEAF_PURPOSE, leaf
        )
    return None


def judge(sent: Sequence[Facts], trust: Sequence[Facts], at: dt.datetime) -> StackVerdict:
    err = verify(sent, trust, at)
    if err is None:
        return advice.accepted(Stack.JAVA, True)
    return advice.verdict(Stack.JAVA, err.problem, err.cert, err.text, re.escape(err.text), True)
