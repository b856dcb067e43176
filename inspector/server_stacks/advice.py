"""A verdict's words: the reason in ours, the server-side setting that changes it (per stack),
and what the client changes in its keystore (a keytool command)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from inspector.server_stacks.facts import Facts
from inspector.server_stacks.model import Problem, Stack, StackVerdict, Verdict

#: Where each stack is told which CAs it trusts for client certificates.
TRUST_SETTING = {
    Stack.OPENSSL: "-CAfile FILE",
    Stack.NGINX: "ssl_client_certificate FILE;",
    Stack.APACHE: "SSLCACertificateFile FILE",
    Stack.HAPROXY: "bind ... ca-file FILE verify required",
    Stack.GO: "tls.Config{ClientCAs: pool}",
    Stack.NODE: "tls.createServer({ca: [...]})",
    Stack.JAVA: "-Djavax.net.ssl.trustStore=FILE (or the SSLContext's TrustManagerFactory)",
    Stack.ENVOY: "common_tls_context.validation_context.trusted_ca",
}

SECLEVEL_SETTING = {
    Stack.OPENSSL: "-cipher DEFAULT:@SECLEVEL={n}",
    Stack.NGINX: "ssl_ciphers DEFAULT:@SECLEVEL={n};",
    Stack.APACHE: "SSLCipherSuite DEFAULT:@SECLEVEL={n}",
    Stack.HAPROXY: "ssl-default-bind-ciphers DEFAULT:@SECLEVEL={n} (global)",
    Stack.NODE: "tls.createServer({{ciphers: 'DEFAULT:@SECLEVEL={n}'}})",
}

KEYSTORE = "KEYSTORE"
ALIAS = "ALIAS"

RENEW = (
    f"keytool -certreq -alias {ALIAS} -keystore {KEYSTORE} -ext EKU=clientAuth -file renew.csr; "
    f"then, with the CA's reply: keytool -importcert -alias {ALIAS} -keystore {KEYSTORE} "
    "-file reply-with-chain.pem"
)
IMPORT_CHAIN = (
    f"keytool -importcert -alias {ALIAS} -keystore {KEYSTORE} -file reply-with-chain.pem "
    "(the CA reply holding the certificate and every intermediate, so the key entry sends them)"
)


def accepted(stack: Stack, tested: bool) -> StackVerdict:
    return StackVerdict(
        stack=stack,
        verdict=Verdict.ACCEPT,
        problem=Problem.NONE,
        reason="the chain verifies to a certificate this server trusts",
        stack_says="",
        log_pattern="",
        setting="",
        client_fix="",
        subject="",
        tested=tested,
    )


def verdict(
    stack: Stack,
    problem: Problem,
    cert: Facts,
    says: str,
    pattern: str,
    tested: bool,
    *,
    code: int | None = None,
    depth_needed: int = 0,
) -> StackVerdict:
    reason, setting, fix = words(stack, problem, cert, depth_needed)
    return StackVerdict(
        stack=stack,
        verdict=Verdict.REJECT,
        problem=problem,
        reason=reason,
        stack_says=says,
        log_pattern=pattern,
        setting=setting,
        client_fix=fix,
        subject=cert.subject_text,
        tested=tested,
        code=code,
    )


#: (the reason in our words, the server setting, the client's keytool fix)
Words = tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class _Asked:
    """What one refusal is worded from."""

    stack: Stack
    cert: Facts
    needed: int  # CA certificates the path needs (for depth limits)
    who: str
    trust: str  # the server's trust setting


def words(stack: Stack, problem: Problem, cert: Facts | None = None, needed: int = 0) -> Words:
    """(the reason in our words, the server setting, the client's keytool fix)."""
    if problem is Problem.NO_CERTIFICATE:
        return (
            "the client sent no certificate (an empty Certificate message) and this server requires one",
            "",
            "give the client a key entry whose chain is issued by a CA the server names: "
            f"keytool -importcert -alias {ALIAS} -keystore {KEYSTORE} -file reply-with-chain.pem "
            "(then `mtls-inspect select` shows which entry Java sends)",
        )
    if cert is None:
        return ("the client certificate is refused", "", "")
    asked = _Asked(stack, cert, needed, cert.subject_text, TRUST_SETTING[stack])
    worded = _WORDED.get(problem)
    return worded(asked) if worded is not None else (f"{asked.who} is refused", "", "")


def _no_path(a: _Asked) -> Words:
    return (
        f"no path from {a.who} to a certificate this server trusts: its issuer was not sent "
        "or is not in the server's client-CA list",
        f"add the issuing CA's root to {a.trust}",
        IMPORT_CHAIN,
    )


def _anchor_not_root(a: _Asked) -> Words:
    return (
        f"{a.who} is trusted but is not a root: OpenSSL only anchors a chain at a self-signed "
        "root in the trust store (no partial-chain option here)",
        f"add the root that issued {a.who} to {a.trust}"
        + (" (or -partial_chain)" if a.stack is Stack.OPENSSL else ""),
        "",
    )


def _too_deep(a: _Asked) -> Words:
    if a.stack is Stack.NGINX:
        return (
            f"the path to the trusted root needs {a.needed} intermediate CA certificates; nginx's "
            "ssl_verify_depth (default 1) allows one",
            f"ssl_verify_depth {max(a.needed, 2)};",
            "",
        )
    return (
        f"the verified chain has {a.needed} CA certificate(s) above the leaf (the root counted); "
        "Apache's SSLVerifyDepth (default 1) allows one: only a leaf issued by the trusted root "
        "itself passes",
        f"SSLVerifyDepth {max(a.needed, 2)}",
        "",
    )


def _leaf_purpose(a: _Asked) -> Words:
    return (
        f"{a.who} is not allowed for TLS client authentication (its extended key usage lacks "
        "clientAuth, or its key usage lacks digitalSignature)",
        "",
        RENEW,
    )


def _ca_purpose(a: _Asked) -> Words:
    return (
        f"the CA {a.who} restricts its extended key usage and clientAuth is not in it",
        "",
        "a certificate from a CA whose extended key usage allows clientAuth (or has none)",
    )


def _expired(a: _Asked) -> Words:
    return (
        f"{a.who} expired on {a.cert.not_after:%Y-%m-%d %H:%M} UTC",
        "",
        RENEW if a.cert.ca is not True else IMPORT_CHAIN + " with the CA's current intermediate",
    )


def _not_yet_valid(a: _Asked) -> Words:
    return (
        f"{a.who} is valid only from {a.cert.not_before:%Y-%m-%d %H:%M} UTC",
        "",
        "wait, or check both clocks",
    )


def _weak_key(a: _Asked) -> Words:
    seclevel = SECLEVEL_SETTING.get(a.stack, "")
    return (
        f"the {a.cert.key_kind} {a.cert.key_bits}-bit key of {a.who} is below this server's security level",
        seclevel.format(n=1 if (a.cert.key_security >= 80) else 0),
        f"keytool -genkeypair -alias {ALIAS} -keyalg RSA -keysize 2048 -keystore {KEYSTORE}; " + RENEW,
    )


def _weak_signature(a: _Asked) -> Words:
    if a.stack is Stack.GO:
        setting = "GODEBUG=x509sha1=1 (Go 1.18 to 1.23)"
    elif a.stack is Stack.JAVA:
        setting = "jdk.certpath.disabledAlgorithms in java.security"
    else:
        setting = SECLEVEL_SETTING.get(a.stack, "").format(n=0)
    return (
        f"{a.who} is signed with {a.cert.sig_name} ({a.cert.sig_hash}), which this server refuses",
        setting,
        "the CA re-issues the certificate with SHA-256; then " + IMPORT_CHAIN,
    )


def _path_length(a: _Asked) -> Words:
    return (f"the path-length constraint of {a.who} is exceeded", "", "a chain with fewer intermediates")


def _name_constraints(a: _Asked) -> Words:
    return (
        f"a name of the client certificate is outside the name constraints of the CAs above {a.who}",
        "",
        "a certificate whose names fall within the CA's permitted subtrees",
    )


def _unknown_critical(a: _Asked) -> Words:
    return (
        f"{a.who} carries a critical extension this server does not know "
        f"({', '.join(a.cert.unknown_critical)})",
        "",
        "a certificate without the unknown critical extension, or with it marked non-critical",
    )


def _not_a_ca(a: _Asked) -> Words:
    return (f"{a.who} issues a certificate but is not a CA (basicConstraints, keyCertSign)", "", IMPORT_CHAIN)


def _self_signed(a: _Asked) -> Words:
    return (
        f"{a.who} is self-signed and not in the server's client-CA list",
        f"add the client certificate itself to {a.trust}",
        f"keytool -exportcert -rfc -alias {ALIAS} -keystore {KEYSTORE} -file client.pem "
        "(give it to the server's team), or use a CA-issued certificate",
    )


def _bad_signature(a: _Asked) -> Words:
    return (f"the signature on {a.who} does not verify", "", IMPORT_CHAIN)


_WORDED: dict[Problem, Callable[[_Asked], Words]] = {
    Problem.ISSUER_NOT_SENT: _no_path,
    Problem.UNKNOWN_CA: _no_path,
    Problem.ANCHOR_NOT_SELF_SIGNED: _anchor_not_root,
    Problem.TOO_DEEP: _too_deep,
    Problem.LEAF_PURPOSE: _leaf_purpose,
    Problem.CA_PURPOSE: _ca_purpose,
    Problem.EXPIRED: _expired,
    Problem.NOT_YET_VALID: _not_yet_valid,
    Problem.WEAK_KEY: _weak_key,
    Problem.WEAK_SIGNATURE: _weak_signature,
    Problem.PATH_LENGTH: _path_length,
    Problem.NAME_CONSTRAINTS: _name_constraints,
    Problem.UNKNOWN_CRITICAL: _unknown_critical,
    Problem.NOT_A_CA: _not_a_ca,
    Problem.SELF_SIGNED_UNTRUSTED: _self_signed,
    Problem.BAD_SIGNATURE: _bad_signature,
}
