"""A verdict's words: the reason in ours, the server-side setting that changes it (per stack),
and what the client changes in its keystore (a keytool command)."""

from __future__ import annotations

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


def words(stack: Stack, problem: Problem, cert: Facts | None = None, needed: int = 0) -> tuple[str, str, str]:
    """(the reason in our words, the server setting, the client's keytool fix)."""
    who = cert.subject_text if cert is not None else "the client certificate"
    trust = TRUST_SETTING[stack]
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
    if problem in (Problem.ISSUER_NOT_SENT, Problem.UNKNOWN_CA):
        return (
            f"no path from {who} to a certificate this server trusts: its issuer was not sent "
            "or is not in the server's client-CA list",
            f"add the issuing CA's root to {trust}",
            IMPORT_CHAIN,
        )
    if problem is Problem.ANCHOR_NOT_SELF_SIGNED:
        return (
            f"{who} is trusted but is not a root: OpenSSL only anchors a chain at a self-signed "
            "root in the trust store (no partial-chain option here)",
            f"add the root that issued {who} to {trust}"
            + (" (or -partial_chain)" if stack is Stack.OPENSSL else ""),
            "",
        )
    if problem is Problem.TOO_DEEP:
        if stack is Stack.NGINX:
            return (
                f"the path to the trusted root needs {needed} intermediate CA certificates; nginx's "
                "ssl_verify_depth (default 1) allows one",
                f"ssl_verify_depth {max(needed, 2)};",
                "",
            )
        return (
            f"the verified chain has {needed} CA certificate(s) above the leaf (the root counted); "
            "Apache's SSLVerifyDepth (default 1) allows one: only a leaf issued by the trusted root "
            "itself passes",
            f"SSLVerifyDepth {max(needed, 2)}",
            "",
        )
    if problem is Problem.LEAF_PURPOSE:
        return (
            f"{who} is not allowed for TLS client authentication (its extended key usage lacks "
            "clientAuth, or its key usage lacks digitalSignature)",
            "",
            RENEW,
        )
    if problem is Problem.CA_PURPOSE:
        return (
            f"the CA {who} restricts its extended key usage and clientAuth is not in it",
            "",
            "a certificate from a CA whose extended key usage allows clientAuth (or has none)",
        )
    if problem is Problem.EXPIRED:
        return (
            f"{who} expired on {cert.not_after:%Y-%m-%d %H:%M} UTC",
            "",
            RENEW if cert.ca is not True else IMPORT_CHAIN + " with the CA's current intermediate",
        )
    if problem is Problem.NOT_YET_VALID:
        return (
            f"{who} is valid only from {cert.not_before:%Y-%m-%d %H:%M} UTC",
            "",
            "wait, or check both clocks",
        )
    if problem is Problem.WEAK_KEY:
        seclevel = SECLEVEL_SETTING.get(stack, "")
        return (
            f"the {cert.key_kind} {cert.key_bits}-bit key of {who} is below this server's security level",
            seclevel.format(n=1 if (cert.key_security >= 80) else 0),
            f"keytool -genkeypair -alias {ALIAS} -keyalg RSA -keysize 2048 -keystore {KEYSTORE}; " + RENEW,
        )
    if problem is Problem.WEAK_SIGNATURE:
        if stack is Stack.GO:
            setting = "GODEBUG=x509sha1=1 (Go 1.18 to 1.23)"
        elif stack is Stack.JAVA:
            setting = "jdk.certpath.disabledAlgorithms in java.security"
        else:
            setting = SECLEVEL_SETTING.get(stack, "").format(n=0)
        return (
            f"{who} is signed with {cert.sig_name} ({cert.sig_hash}), which this server refuses",
            setting,
            "the CA re-issues the certificate with SHA-256; then " + IMPORT_CHAIN,
        )
    if problem is Problem.PATH_LENGTH:
        return (f"the path-length constraint of {who} is exceeded", "", "a chain with fewer intermediates")
    if problem is Problem.NAME_CONSTRAINTS:
        return (
            f"a name of the client certificate is outside the name constraints of the CAs above {who}",
            "",
            "a certificate whose names fall within the CA's permitted subtrees",
        )
    if problem is Problem.UNKNOWN_CRITICAL:
        return (
            f"{who} carries a critical extension this server does not know "
            f"({', '.join(cert.unknown_critical)})",
            "",
            "a certificate without the unknown critical extension, or with it marked non-critical",
        )
    if problem is Problem.NOT_A_CA:
        return (
            f"{who} issues a certificate but is not a CA (basicConstraints, keyCertSign)",
            "",
            IMPORT_CHAIN,
        )
    if problem is Problem.SELF_SIGNED_UNTRUSTED:
        return (
            f"{who} is self-signed and not in the server's client-CA list",
            f"add the client certificate itself to {trust}",
            f"keytool -exportcert -rfc -alias {ALIAS} -keystore {KEYSTORE} -file client.pem "
            "(give it to the server's team), or use a CA-issued certificate",
        )
    if problem is Problem.BAD_SIGNATURE:
        return (f"the signature on {who} does not verify", "", IMPORT_CHAIN)
    return (f"{who} is refused", "", "")
