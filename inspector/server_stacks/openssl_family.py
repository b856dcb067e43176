"""The stacks that verify a client chain with OpenSSL 3 (openssl s_server, nginx, Apache httpd,
HAProxy, Node) and Envoy (BoringSSL, from its documentation): one model of X509_verify_cert,
each stack a profile of it (security level, depth, whether the first error stops the
handshake) and its own log words.

The model follows OpenSSL 3.0's order of checks, measured against the real servers
(tests/live/test_server_stacks_oracle.py): the leaf key's security level; chain building
(trusted first: the issuer is looked up in the trust store before the peer's certificates; a
trusted certificate that is not self-signed is not an anchor without X509_V_FLAG_PARTIAL_CHAIN);
extensions per certificate (unknown critical, CA, purpose `sslclient`, path length); the
security level of CA keys and signatures; then from the top down signatures and validity; then
name constraints. A stack whose verify callback stops at the first error (s_server with
-verify_return_error, Apache, HAProxy, Envoy) reports that error; one whose callback goes on
(nginx, Node) reports the last one (SSL_get_verify_result).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from inspector.server_stacks.facts import CLIENT_AUTH, Facts, dns_violation
from inspector.server_stacks.model import TESTED, Problem, Stack, StackVerdict

#: X509_verify_cert_error_string, OpenSSL 3.0
TEXT = {
    2: "unable to get issuer certificate",
    7: "certificate signature failure",
    9: "certificate is not yet valid",
    10: "certificate has expired",
    18: "self-signed certificate",
    19: "self-signed certificate in certificate chain",
    20: "unable to get local issuer certificate",
    21: "unable to verify the first certificate",
    22: "certificate chain too long",
    25: "path length constraint exceeded",
    26: "unsuitable certificate purpose",
    32: "key usage does not include certificate signing",
    34: "unhandled critical extension",
    47: "permitted subtree violation",
    48: "excluded subtree violation",
    66: "EE certificate key too weak",
    67: "CA certificate key too weak",
    68: "CA signature digest algorithm too weak",
    79: "invalid CA certificate",
}

#: Node's authorizationError names (node's X509ErrorCode): the codes it does not list are
#: "UNSPECIFIED" (measured: 32, 34, 47, 68).
NODE_CODES = {
    2: "UNABLE_TO_GET_ISSUER_CERT",
    7: "CERT_SIGNATURE_FAILURE",
    9: "CERT_NOT_YET_VALID",
    10: "CERT_HAS_EXPIRED",
    18: "DEPTH_ZERO_SELF_SIGNED_CERT",
    19: "SELF_SIGNED_CERT_IN_CHAIN",
    20: "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
    21: "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    22: "CERT_CHAIN_TOO_LONG",
    24: "INVALID_CA",
    25: "PATH_LENGTH_EXCEEDED",
    26: "INVALID_PURPOSE",
    27: "CERT_UNTRUSTED",
    28: "CERT_REJECTED",
}

PROBLEMS = {
    2: Problem.ANCHOR_NOT_SELF_SIGNED,
    7: Problem.BAD_SIGNATURE,
    9: Problem.NOT_YET_VALID,
    10: Problem.EXPIRED,
    18: Problem.SELF_SIGNED_UNTRUSTED,
    19: Problem.UNKNOWN_CA,
    20: Problem.ISSUER_NOT_SENT,
    21: Problem.ISSUER_NOT_SENT,
    22: Problem.TOO_DEEP,
    25: Problem.PATH_LENGTH,
    26: Problem.LEAF_PURPOSE,
    32: Problem.NOT_A_CA,
    34: Problem.UNKNOWN_CRITICAL,
    47: Problem.NAME_CONSTRAINTS,
    48: Problem.NAME_CONSTRAINTS,
    66: Problem.WEAK_KEY,
    67: Problem.WEAK_KEY,
    68: Problem.WEAK_SIGNATURE,
    79: Problem.NOT_A_CA,
}

MIN_BITS = (80, 112, 128, 192, 256)


@dataclass(frozen=True)
class Event:
    """One call of the verify callback: an error (code) or a certificate passed (code 0)."""

    code: int
    depth: int
    #: checks before the top-down pass (build, extensions, security level): Apache's depth
    #: check only fires on a callback, which these make only on an error
    early: bool


@dataclass(frozen=True)
class Run:
    chain: tuple[Facts, ...]
    events: tuple[Event, ...]
    trusted: bool

    @property
    def errors(self) -> list[Event]:
        return [e for e in self.events if e.code]


@dataclass(frozen=True)
class Profile:
    level: int
    #: SSL_CTX_set_verify_depth: how many untrusted CA certificates may follow the leaf
    depth: int = 100
    partial_chain: bool = False


def _find(cert: Facts, pool: Sequence[Facts], chain: Sequence[Facts], at: dt.datetime) -> Facts | None:
    """find_issuer: the candidates that name `cert`'s issuer, a time-valid one preferred."""
    found = [p for p in pool if cert.names_issuer(p) and not any(p is c for c in chain)]
    for p in found:
        if p.time_problem(at) is None:
            return p
    return found[-1] if found else None


def verify(sent: Sequence[Facts], trust: Sequence[Facts], at: dt.datetime, profile: Profile) -> Run:
    """X509_verify_cert on the peer's chain with `trust` as the store: every callback, in order."""
    events: list[Event] = []
    leaf = sent[0]
    minimum = MIN_BITS[min(profile.level, 5) - 1] if profile.level > 0 else 0
    if leaf.key_security < minimum:
        events.append(Event(66, 0, True))
    chain, trusted, build_error = _build_chain(sent, trust, at, profile)
    if build_error is not None:
        events.append(build_error)
    _check_extensions(chain, events)
    if minimum:
        _check_auth_level(chain, minimum, events)
    if not _internal_verify(chain, trusted, profile, at, events):
        return _finish(chain, events, trusted)
    for i in range(1, len(chain)):  # name constraints
        violation = dns_violation(chain[0], chain[i])
        if violation is not None:
            events.append(Event(47 if violation[1] == "permitted" else 48, 0, False))
            break
    return _finish(chain, events, trusted)


def _build_chain(
    sent: Sequence[Facts], trust: Sequence[Facts], at: dt.datetime, profile: Profile
) -> tuple[list[Facts], bool, Event | None]:
    """build_chain: (the chain from the leaf up, does it end at a trust anchor, the error)."""
    leaf = sent[0]
    chain: list[Facts] = [leaf]
    if profile.partial_chain and any(t.same(leaf) for t in trust):
        return chain, True, None  # X509_V_FLAG_PARTIAL_CHAIN: the leaf itself in the store is an anchor
    if leaf.self_signed:
        if any(t.same(leaf) for t in trust):
            return chain, True, None
        return chain, False, Event(18, 0, True)
    untrusted = list(sent[1:])
    top_trusted = False
    while True:
        cur = chain[-1]
        if len(chain) > profile.depth + 1 and not top_trusted:
            # measured (nginx, ssl_verify_depth 1): past the limit no issuer is looked for
            return chain, False, Event(20, len(chain) - 1, True)
        issuer = _find(cur, trust, chain, at)
        if issuer is not None:
            chain.append(issuer)
            top_trusted = True
            if issuer.self_signed:
                return chain, True, None
            continue
        if top_trusted:
            if profile.partial_chain:
                return chain, True, None
            return chain, False, Event(2, len(chain) - 1, True)
        nxt = _find(cur, untrusted, chain, at)
        if nxt is None:
            if chain[-1].self_signed:
                return chain, False, Event(18 if len(chain) == 1 else 19, len(chain) - 1, True)
            return chain, False, Event(20, len(chain) - 1, True)
        chain.append(nxt)
        if nxt.self_signed:
            # an untrusted self-signed top: replaced by a trusted twin, else the end
            twin = [t for t in trust if t.same(nxt)]
            if twin:
                chain[-1] = twin[0]
                return chain, True, None
            return chain, False, Event(19, len(chain) - 1, True)


def _check_extensions(chain: list[Facts], events: list[Event]) -> None:
    """check_extensions: critical extensions, CA flags, purposes, path lengths."""
    plen = 0
    for i, cert in enumerate(chain):
        if cert.unknown_critical:
            events.append(Event(34, i, True))
        if i > 0 and cert.ca is not True:
            events.append(Event(79, i, True))
        if i == 0:
            if _leaf_purpose_fails(cert):
                events.append(Event(26, i, True))
        elif _ca_purpose_fails(cert):
            events.append(Event(26, i, True))
        if i > 1 and cert.ca and cert.path_length is not None and plen > cert.path_length:
            events.append(Event(25, i, True))
        if i > 0 and not cert.self_issued:
            plen += 1


def _check_auth_level(chain: list[Facts], minimum: int, events: list[Event]) -> None:
    """check_auth_level: each CA key and each signature against the security level."""
    n = len(chain)
    for i, cert in enumerate(chain):
        if i > 0 and cert.key_security < minimum:
            events.append(Event(67, i, True))
        if i < n - 1 and _sig_bits(cert) < minimum:
            events.append(Event(68, i, True))


def _internal_verify(
    chain: list[Facts], trusted: bool, profile: Profile, at: dt.datetime, events: list[Event]
) -> bool:
    """internal_verify, top down: signatures, key usage of issuers, times. False when OpenSSL
    stops here (a lone leaf whose issuer is not in the chain)."""
    n = len(chain)
    top = chain[-1]
    index = n - 1
    if not top.self_issued and not (profile.partial_chain and trusted):
        if index == 0:
            events.append(Event(21, 0, False))
            _time(top, 0, at, events)
            events.append(Event(0, 0, False))
            return False
        index -= 1
    issuer = top
    for i in range(index, -1, -1):
        cert = chain[i]
        if cert is not issuer:
            if issuer.key_usage is not None and "key_cert_sign" not in issuer.key_usage:
                events.append(Event(32, i, False))
            if cert.signed_by(issuer) is False:
                events.append(Event(7, i, False))
        _time(cert, i, at, events)
        events.append(Event(0, i, False))
        issuer = cert
    return True


def _finish(chain: list[Facts], events: list[Event], trusted: bool) -> Run:
    return Run(tuple(chain), tuple(events), trusted and not any(e.code for e in events))


def _time(cert: Facts, depth: int, at: dt.datetime, events: list[Event]) -> None:
    problem = cert.time_problem(at)
    if problem == "not-yet-valid":
        events.append(Event(9, depth, False))
    elif problem == "expired":
        events.append(Event(10, depth, False))


def _sig_bits(cert: Facts) -> int:
    from inspector.server_stacks.facts import SIGNATURE_BITS

    return SIGNATURE_BITS.get(cert.sig_hash or "", 128)


def _leaf_purpose_fails(cert: Facts) -> bool:
    """check_purpose_ssl_client on the leaf: EKU without clientAuth, or KU without
    digitalSignature/keyAgreement."""
    if cert.eku is not None and CLIENT_AUTH not in cert.eku:
        return True
    ku = cert.key_usage
    return ku is not None and not ({"digital_signature", "key_agreement"} & ku)


def _ca_purpose_fails(cert: Facts) -> bool:
    """check_purpose_ssl_client on a CA: EKU without clientAuth, or not able to sign certs."""
    if cert.eku is not None and CLIENT_AUTH not in cert.eku:
        return True
    return cert.key_usage is not None and "key_cert_sign" not in cert.key_usage


# --- the stacks ----------------------------------------------------------------------------------

LEVELS = {
    Stack.OPENSSL: 2,
    Stack.NGINX: 2,
    Stack.APACHE: 2,
    Stack.HAPROXY: 2,
    Stack.NODE: 1,
    Stack.ENVOY: 0,
}

#: nginx ssl_verify_depth and Apache SSLVerifyDepth defaults (measured: nginx 1.22, Apache 2.4)
NGINX_DEPTH = 1
APACHE_DEPTH = 1


def judge(stack: Stack, sent: Sequence[Facts], trust: Sequence[Facts], at: dt.datetime) -> StackVerdict:
    from inspector.server_stacks import advice

    # Envoy sets X509_V_FLAG_PARTIAL_CHAIN (since 1.24, envoyproxy/envoy#22350): every
    # certificate of validation_context.trusted_ca is an anchor, an intermediate too
    profile = Profile(
        level=LEVELS[stack],
        depth=NGINX_DEPTH if stack is Stack.NGINX else 100,
        partial_chain=stack is Stack.ENVOY,
    )
    run = verify(sent, trust, at, profile)
    errors = run.errors
    tested = stack in TESTED
    if stack is Stack.APACHE:
        for e in run.events:
            if e.code:
                break
            if e.depth > APACHE_DEPTH:
                found = len(run.chain) - 1
                says = (
                    f"AH02040: Certificate Verification: Certificate Chain too long (chain has {found} "
                    f"certificates, but maximum allowed are only {APACHE_DEPTH})"
                )
                return advice.verdict(
                    stack,
                    Problem.TOO_DEEP,
                    run.chain[0],
                    says,
                    re.escape(says.split(": ", 1)[1]),
                    tested,
                    depth_needed=found,
                )
    if not errors:
        return advice.accepted(stack, tested)
    continuing = stack in (Stack.NGINX, Stack.NODE)
    err = errors[-1] if continuing else errors[0]
    text = TEXT.get(err.code, f"error {err.code}")
    cert = run.chain[min(err.depth, len(run.chain) - 1)]
    problem = PROBLEMS.get(err.code, Problem.OTHER)
    if err.code == 26 and err.depth > 0:
        problem = Problem.CA_PURPOSE
    needed = len(run.chain) - 1
    if err.code == 20 and stack is Stack.NGINX and needed >= NGINX_DEPTH:
        unlimited = verify(sent, trust, at, Profile(level=profile.level))
        if unlimited.trusted:
            problem, needed = Problem.TOO_DEEP, len(unlimited.chain) - 2
    code = f"{err.code}:{text}"
    if stack is Stack.OPENSSL:
        says = f"verify error:num={code}"
        pattern = re.escape(says)
    elif stack is Stack.NGINX:
        says = f"client SSL certificate verify error: ({code})"
        pattern = re.escape(says)
    elif stack is Stack.APACHE:
        says = f"AH02276: Certificate Verification: Error ({err.code}): {text}"
        pattern = re.escape(f"Certificate Verification: Error ({err.code}): {text}")
    elif stack is Stack.HAPROXY:
        words = (
            "SSL client certificate not trusted"
            if err.depth == 0
            else "SSL client CA chain cannot be verified"
        )
        kind = "ssl_c_err" if err.depth == 0 else "ssl_c_ca_err"
        says = f"{words} ({kind}={err.code}: {text})"
        pattern = re.escape(words)
    elif stack is Stack.NODE:
        name = NODE_CODES.get(err.code, "UNSPECIFIED")
        says = f"authorizationError {name} (OpenSSL {code})"
        pattern = re.escape(f"authorizationError={name}")
    else:
        says = f"OPENSSL_internal:CERTIFICATE_VERIFY_FAILED (X509 verify error {code})"
        pattern = ""
    return advice.verdict(stack, problem, cert, says, pattern, tested, code=err.code, depth_needed=needed)
