"""A Java exception without the handshake that caused it (a pasted stack trace, an application
log): what it means, which side said it, and the next checks, with the commands filled in.

The per-handshake rules (log_rules.py) use the same explanations for an exception that ends a
handshake whose messages the log did not print.
"""

from __future__ import annotations

import re

from inspector.findings import Evidence, Finding, Location, Severity, make, register
from inspector.rules.client_cert_rules import NOT_SENT
from parsers.javalog.model import JavaException

G = "log"

SERVER_ALERT = register(
    "java-received-fatal-alert",
    Severity.ERROR,
    "The server ended the handshake with a fatal alert",
    """Java logs "Received fatal alert: NAME": the server aborted. The alert's name says why
    (unknown_ca, bad_certificate, certificate_required, handshake_failure, decrypt_error,
    certificate_expired, ...). With only the exception at hand, the handshake itself is not
    visible: rerun with -Djavax.net.debug=ssl:handshake:verbose, or probe the server.""",
    G,
)
EXCEPTION = register(
    "java-exception",
    Severity.ERROR,
    "A Java TLS exception, without the handshake that caused it",
    """The log holds a Java exception but no javax.net.debug handshake lines for it (a pasted
    stack trace, an application log, or javax.net.debug=ssl on JDK 11-21). What the message means
    and which side said it are below; the checks to run next settle the cause.""",
    G,
)

_MEANINGS: tuple[tuple[str, str, str, str], ...] = (
    # (pattern, who, meaning, next checks; {file} {host} are filled in)
    (
        r"PKIX path building failed|unable to find valid certification path|SunCertPathBuilderException",
        "the client (its trust manager)",
        "the client does not trust the server's chain: no anchor in its truststore for the issuer at "
        "the top of the chain the server sent (or the server omits its intermediate); in a server's "
        "log the same words mean the server does not trust the client's chain",
        "mtls-inspect probe {host} --truststore TRUSTSTORE (Java's verdict and the missing issuer); "
        "keytool -list -keystore TRUSTSTORE",
    ),
    (
        r"validity check failed|NotAfter|NotBefore",
        "the client (its trust manager)",
        "a certificate of the server's chain is expired or not yet valid (or a clock is wrong)",
        "mtls-inspect probe {host} --insecure (shows the server's chain and dates)",
    ),
    (
        r"No subject alternative|No name matching",
        "the client (HTTPS endpoint identification)",
        "the server's certificate does not name the host the client used (its DNS SANs, or its last CN "
        "when it has none)",
        "mtls-inspect probe {host} --insecure (shows the certificate's names)",
    ),
    (
        r"Empty server certificate chain|null cert chain",
        "the side that received an empty Certificate (most often a Java server)",
        "a Java server says 'Empty server certificate chain' (JDK 11+) or 'null cert chain' (JDK 8) "
        "when the CLIENT sent an empty Certificate and one is required: the client sent no "
        "certificate (in a client's log the words would mean the server sent none, which servers do "
        "not do)",
        "mtls-inspect select --keystore KEYSTORE --from-server {host}; mtls-inspect keystore KEYSTORE",
    ),
    (
        r"Received fatal alert: certificate_required",
        "the server",
        "the server requires a client certificate and got none it accepts: usually Java found no key "
        "entry whose chain is issued by a CA the server names",
        "mtls-inspect select --keystore KEYSTORE --from-server {host}; mtls-inspect keystore KEYSTORE",
    ),
    (
        r"Received fatal alert: (unknown_ca|bad_certificate|certificate_unknown|unsupported_certificate)",
        "the server",
        "the server rejected the certificate the client sent: its issuer is not trusted there, the chain "
        "is incomplete, or the certificate is not fit for client authentication",
        "mtls-inspect keystore KEYSTORE (chain, EKU); mtls-inspect probe {host} --keystore KEYSTORE",
    ),
    (
        r"Received fatal alert: certificate_expired",
        "the server",
        "the client certificate (or a CA in its chain) is expired",
        "mtls-inspect keystore KEYSTORE",
    ),
    (
        r"Received fatal alert: decrypt_error",
        "the server",
        "the client's CertificateVerify did not verify: the private key does not match the certificate, "
        "or a signature scheme problem",
        "mtls-inspect keystore KEYSTORE (key/certificate match)",
    ),
    (
        r"Received fatal alert: protocol_version",
        "the server",
        "no TLS version in common",
        "mtls-inspect probe {host} --tls-version 1.2 (and 1.3)",
    ),
    (
        r"Received fatal alert: (\w+)",
        "the server",
        "the server aborted the handshake with this alert",
        "mtls-inspect probe {host} --keystore KEYSTORE",
    ),
    (
        r"Invalid certificate_authorities extension",
        "the client (parsing the server's CertificateRequest)",
        "the server sent an empty TLS 1.3 certificate_authorities extension, which the JDK rejects",
        "ask the server to send CA names; or -Djdk.tls.client.protocols=TLSv1.2",
    ),
    (
        r"Keystore was tampered with|password was incorrect",
        "the client (loading its keystore)",
        "the keystore password is wrong (or the file is not that keystore)",
        "mtls-inspect keystore KEYSTORE --storepass-env VAR",
    ),
    (
        r"Given final block not properly padded|Cannot recover key|Get Key failed",
        "the client (its key manager)",
        "the key entry has a key password different from the store password: SunX509 fails at start-up",
        "keytool -keypasswd -alias ALIAS -keystore KEYSTORE (make it the store password)",
    ),
    (
        r"No appropriate protocol",
        "the client",
        "every protocol the client may use is disabled (jdk.tls.disabledAlgorithms, setEnabledProtocols)",
        "check -Djdk.tls.client.protocols and java.security's jdk.tls.disabledAlgorithms",
    ),
    (
        r"peer not authenticated",
        "the client (its HTTP library: Apache HttpClient 4.x, old JDKs)",
        "the TLS handshake did not complete, or completed without the server's certificate being "
        "accepted: the library says this after the real failure, which an earlier line or the "
        "debug log names",
        "mtls-inspect probe {host} --keystore KEYSTORE --truststore TRUSTSTORE",
    ),
    (
        r"Remote host terminated the handshake|Connection reset|closed the connection|Socket is closed",
        "the server (or a middlebox)",
        "the connection was closed without a TLS alert: a server that drops unauthenticated clients "
        "silently, a proxy, or a protocol mismatch",
        "mtls-inspect probe {host} --keystore KEYSTORE; read the server's log at that time",
    ),
    (
        r"Unrecognized SSL message|plaintext connection",
        "the client",
        "the peer did not answer with TLS: wrong port, or a plain-HTTP endpoint",
        "check the URL's scheme and port",
    ),
)


_HOST_IN_TEXT = re.compile(
    r"matching (?:IP address )?([\w.\-:\[\]]+?)\.? found|https://([\w.\-]+(?::\d+)?)"
    r"|Connecting to ([\w.\-]+)/[\d.]+:(\d+)"
)


def host_in(texts: list[str]) -> str | None:
    """The server the text names (an URL, a `Connecting to host/ip:port`, a hostname check)."""
    for text in texts:
        m = _HOST_IN_TEXT.search(text)
        if m:
            if m.group(3):
                return f"{m.group(3)}:{m.group(4)}"
            return next(g for g in m.groups() if g)
    return None


_HF_CAUSES = {
    "cert": (
        "the server requires a client certificate and got none it accepts (Java found no key entry "
        "whose chain is issued by a CA the server names, or the client was given no keystore)",
        "mtls-inspect select --keystore KEYSTORE --from-server {host}",
    ),
    "suites": (
        "no cipher suite in common (the client's enabled suites and the server's do not meet)",
        "mtls-inspect probe {host} (the suites the server accepts)",
    ),
    "key": (
        "the server has no usable key for any suite offered (its keystore is empty or holds no key of "
        "a fitting type: the server's log says 'no cipher suites in common')",
        "ask the server's operator for its log at that time",
    ),
    "version": (
        "no TLS version in common (the client enables only old versions, or the server only TLS 1.3)",
        "mtls-inspect probe {host} --tls-version 1.2 (and 1.3)",
    ),
}


def _handshake_failure(exc: JavaException, file: str, host: str, clues: list[tuple[int, str]]) -> Finding:
    """A bare `Received fatal alert: handshake_failure`: its causes ranked by the paste's clues."""
    order = ["cert", "suites", "key", "version"]
    why: list[Evidence] = []
    for line, text in clues:
        versions = re.search(r"(?:Enabled|Default) protocols[^:]*: ?\[([^\]]*)\]", text)
        if versions and not re.search(r"TLSv1\.[23]", versions.group(1)):
            order = ["version", *[o for o in order if o != "version"]]
            why.append(Evidence(f"log line {line}", f"the client enables only {versions.group(1)}"))
        if "no cipher suites in common" in text:
            order = ["key", "suites", *[o for o in order if o not in ("key", "suites")]]
            why.append(Evidence(f"log line {line}", "the server's words: no cipher suites in common"))
        if "X509Certificate: Alg" in text or "peer principal" in text:
            # the server's certificate had arrived: version and cipher suite were agreed
            order = ["cert"]
            why.append(
                Evidence(
                    f"log line {line}",
                    "the server's certificate had arrived before the alert (version and cipher suite "
                    "were agreed): " + text[:160],
                )
            )
    ranked = [_HF_CAUSES[o] for o in dict.fromkeys(order)]
    listed = "; ".join(f"{n}) {cause}" for n, (cause, _) in enumerate(ranked, 1))
    step = (
        "after the server's certificate had arrived"
        if order == ["cert"]
        else "and the paste does not show at which step"
    )
    return make(
        SERVER_ALERT,
        f"{exc.chain[0][0].rsplit('.', 1)[-1]}: {exc.chain[0][1][:160]} — said by the server, {step}; "
        + ("the likely cause" if len(ranked) == 1 else "likely causes, ranked by the clues here")
        + f": {listed}",
        location=Location(file=file),
        evidence=[
            Evidence(f"log line {exc.line_of(i)}", f"{c}: {msg}"[:240])
            for i, (c, msg) in enumerate(exc.chain[:3])
        ]
        + why[:4],
        inference=True,
        fix="next: "
        + "; ".join(check.format(host=host) for _, check in ranked[:2])
        + "; and rerun the client with -Djavax.net.debug=ssl:handshake:verbose, then "
        + f"mtls-inspect log {file}",
    )


def explain_pair(server: JavaException, client: JavaException, file: str, host: str | None) -> Finding:
    """Both sides pasted: the server's 'Empty server certificate chain' and the client's alert."""
    return make(
        NOT_SENT,
        "the client sent no certificate: the server found its Certificate empty ('"
        + server.chain[-1][1][:80]
        + "') and aborted; the client received that alert ('"
        + client.chain[-1][1][:80]
        + "')",
        location=Location(file=file),
        evidence=[
            Evidence(
                f"log line {server.line}", f"the server: {server.chain[-1][0]}: {server.chain[-1][1]}"[:240]
            ),
            Evidence(
                f"log line {client.line}", f"the client: {client.chain[-1][0]}: {client.chain[-1][1]}"[:240]
            ),
        ],
        fix=f"mtls-inspect select --keystore KEYSTORE --from-server {host or 'HOST:PORT'} (which key entry "
        "the client could send, and why none fits); give the client its keystore "
        "(-Djavax.net.ssl.keyStore=...)",
    )


def explain_exception(
    exc: JavaException, file: str, host: str | None, clues: list[tuple[int, str]] | None = None
) -> Finding:
    """What a lone exception means, who said it, and the next checks (commands filled in)."""
    text = exc.text
    target = host or host_in([text] + [t for _, t in clues or ()]) or "HOST:PORT"
    if re.search(r"Received fatal alert: handshake_failure", text) and not re.search(
        r"Empty server certificate chain|null cert chain|PKIX", text
    ):
        return _handshake_failure(exc, file, target, clues or [])
    for pattern, who, meaning, checks in _MEANINGS:
        m = re.search(pattern, text)
        if m is None:
            continue
        return make(
            SERVER_ALERT if who == "the server" else EXCEPTION,
            f"{exc.chain[0][0].rsplit('.', 1)[-1]}: {exc.chain[0][1][:160]} — said by {who}: {meaning}",
            location=Location(file=file),
            evidence=[
                Evidence(f"log line {exc.line_of(i)}", f"{c}: {msg}"[:240])
                for i, (c, msg) in enumerate(exc.chain[:4])
            ],
            fix="next: "
            + checks.format(file=file, host=target)
            + "; and rerun the client with -Djavax.net.debug=ssl:handshake:verbose, "
            + f"then mtls-inspect log {file}",
        )
    tls = re.search(r"SSL\w*Exception", exc.chain[0][0]) is not None
    return make(
        EXCEPTION,
        f"{exc.chain[0][0]}: {exc.chain[0][1][:160]} "
        + (
            "(a TLS failure whose cause this tool does not know)"
            if tls
            else "(not a TLS failure this tool knows)"
        ),
        location=Location(file=file),
        evidence=[
            Evidence(f"log line {exc.line_of(i)}", f"{c}: {msg}"[:240])
            for i, (c, msg) in enumerate(exc.chain[:4])
        ],
        fix=f"rerun the client with -Djavax.net.debug=ssl:handshake:verbose, then mtls-inspect log {file}",
        # a TLS exception is a failed handshake (never a clean exit); anything else a warning
        severity=Severity.ERROR if tls else Severity.WARNING,
    )


TLS_EXCEPTION = re.compile(r"SSL|Cert|PKIX|Validator|Keystore|KeyStore|Handshake|ssl")


#: Java's package names are lower case (javax.net.ssl, sun.security, io.netty, org.apache); .NET's
#: namespaces (System.Net.Http) are not: those texts are another client's, not Java's.
JAVA_CLASS = re.compile(r"(?:[a-z_$][\w$]*\.)+[A-Z][\w$]*$")


def relevant(exc: JavaException) -> bool:
    java = any(JAVA_CLASS.match(c) for c, _ in exc.chain)
    return java and any(TLS_EXCEPTION.search(c) or TLS_EXCEPTION.search(m) for c, m in exc.chain)
