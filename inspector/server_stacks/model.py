"""The verdicts' plain data: which stack, accept or reject, why in our words and in the stack's."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Stack(str, Enum):
    OPENSSL = "openssl"
    NGINX = "nginx"
    APACHE = "apache"
    HAPROXY = "haproxy"
    GO = "go"
    NODE = "node"
    JAVA = "java"
    ENVOY = "envoy"


#: The stacks in the order the table lists them.
STACKS: tuple[Stack, ...] = tuple(Stack)

#: Stacks that our oracle (tests/live/test_server_stacks_oracle.py) runs for real; Envoy is
#: modelled from its documentation only.
TESTED: frozenset[Stack] = frozenset(STACKS) - {Stack.ENVOY}


class Verdict(str, Enum):
    ACCEPT = "accept"
    REJECT = "reject"


class Problem(str, Enum):
    """What is wrong with the chain, in one word per cause (the same cause across stacks)."""

    NONE = "none"
    NO_CERTIFICATE = "no-certificate"
    ISSUER_NOT_SENT = "issuer-not-sent"
    UNKNOWN_CA = "unknown-ca"
    SELF_SIGNED_UNTRUSTED = "self-signed-untrusted"
    ANCHOR_NOT_SELF_SIGNED = "anchor-not-self-signed"
    TOO_DEEP = "too-deep"
    LEAF_PURPOSE = "leaf-purpose"
    CA_PURPOSE = "ca-purpose"
    EXPIRED = "expired"
    NOT_YET_VALID = "not-yet-valid"
    WEAK_KEY = "weak-key"
    WEAK_SIGNATURE = "weak-signature"
    PATH_LENGTH = "path-length"
    NAME_CONSTRAINTS = "name-constraints"
    UNKNOWN_CRITICAL = "unknown-critical-extension"
    NOT_A_CA = "not-a-ca"
    BAD_SIGNATURE = "bad-signature"
    OTHER = "other"


@dataclass(frozen=True)
class StackVerdict:
    stack: Stack
    verdict: Verdict
    problem: Problem
    #: the reason in our words
    reason: str
    #: the reason in the stack's own words (OpenSSL verify code and text, Go's x509 error, ...)
    stack_says: str
    #: a regular expression the stack's own log line matches ("" when it logs nothing)
    log_pattern: str
    #: the server-side setting that changes the verdict (directive and value), "" if none
    setting: str
    #: what the client changes in its keystore (a keytool command), "" if nothing helps
    client_fix: str
    #: the subject of the certificate the verdict is about ("" for the chain as a whole)
    subject: str
    #: run against the real server in our oracle (False: modelled from documentation)
    tested: bool
    #: the OpenSSL verify code (X509_V_ERR_*) the stack reports, for the OpenSSL family
    code: int | None = None
    #: revocation (CRL/OCSP) is never modelled: what the stack would do if configured to check
    revocation: str = "not checked by default; not modelled"

    @property
    def accepted(self) -> bool:
        return self.verdict is Verdict.ACCEPT

    def as_json(self) -> dict[str, object]:
        return {
            "stack": self.stack.value,
            "verdict": self.verdict.value,
            "reason": self.reason,
            "stack_says": self.stack_says,
            "tested": self.tested,
            "problem": self.problem.value,
            "subject": self.subject,
            "server_setting": self.setting,
            "client_fix": self.client_fix,
        }
