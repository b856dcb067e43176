"""Log rules: what a Java client's own debug log says (JAVA-LOGS.md), in Java's words.

The wire rules (wire_rules.py) run on the transcript rebuilt from the log; these add what only
the log holds: Java's sentences ("No available authentication scheme", "PKIX path building
failed", ...), its exception, and what the log cannot show.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from dataclasses import dataclass

from inspector.findings import Evidence, Finding, Location, Severity, make, register
from inspector.java.verdict import TrustVerdict
from inspector.pki import certs as C
from inspector.rules import RuleSet
from inspector.rules.probe_rules import HTTP_REJECTED
from parsers.javalog.model import JavaException, LoggedHandshake, LogSummary, Said
from parsers.model import Certificate, CertificateRequest, Direction

G = "log"

NO_CERT = register(
    "java-no-suitable-certificate",
    Severity.ERROR,
    "Java found no key entry for the server's request",
    """The JDK's key manager found no key entry acceptable for the CertificateRequest and the
    client went on without a certificate. JDK 11+ says it as a sequence ("No X.509 cert selected
    for ...", "No available authentication scheme", then an empty Certificate); JDK 8 said
    "no suitable certificate found - continuing without client authentication". The usual cause:
    no certificate in the entry's stored chain is issued by a CA the server names.""",
    G,
)
PKIX = register(
    "java-pkix-path-failed",
    Severity.ERROR,
    "Java does not trust the server's certificate chain",
    """PKIX path building failed: unable to find valid certification path to requested target.
    The client's truststore (its -Djavax.net.ssl.trustStore, or the JDK's cacerts) holds no
    anchor the server's chain leads to: the issuer at the top of the chain the server sent is not
    trusted, or the server sends its leaf without the intermediate. Import the issuing CA into
    the truststore, or fix the server's chain. It is the client rejecting the server, not a
    client-certificate problem.""",
    G,
)
SERVER_EXPIRED = register(
    "java-server-cert-expired",
    Severity.ERROR,
    "Java found a certificate in the server's chain outside its validity",
    """PKIX path validation failed: validity check failed. A certificate of the server's chain
    is expired (or not yet valid) at the handshake's time. The server must renew it; a clock
    that is wrong on either side gives the same message.""",
    G,
)
HOSTNAME = register(
    "java-hostname-mismatch",
    Severity.ERROR,
    "The server's certificate does not name the host the client connected to",
    """Java's HTTPS endpoint identification checks the host name against the certificate's
    subject alternative names only (no CN fallback; an IP address must be an IP SAN). The
    message is "No subject alternative DNS name matching H found" (or "No subject alternative
    names present"). Connect with a name the certificate carries, or reissue it with the right
    SAN.""",
    G,
)
INVALID_CA_EXT = register(
    "java-empty-certificate-authorities",
    Severity.ERROR,
    "The server sent an empty certificate_authorities extension, which Java rejects",
    """In TLS 1.3 the CertificateRequest may carry a certificate_authorities extension; one with
    no names in it (openssl s_server -no_ca_names, some proxies) is malformed for the JDK, which
    aborts ("Invalid certificate_authorities extension: insufficient data"; decode_error on JDK
    17+, handshake_failure on JDK 11). Have the server send its CA names (or leave the
    extension out), or limit the client to TLS 1.2 (-Djdk.tls.client.protocols=TLSv1.2).""",
    G,
)
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
LOG_INCOMPLETE = register(
    "log-incomplete",
    Severity.WARNING,
    "The log holds only part of a handshake",
    """The log starts after the handshake began, ends before it finished, or a block is cut
    short: what is missing cannot be judged. Keep the whole stderr of the JVM (the debug output
    goes there on JDK 11+, to stdout on JDK 8) from before the connection starts.""",
    G,
)
NOT_SHOWN = register(
    "log-cannot-show",
    Severity.INFO,
    "What this log cannot show",
    """A javax.net.debug log shows what the JDK chose to print: certificates as text (no keys, no
    signatures, no fingerprints), no key-manager decisions unless key-manager debug is on, no
    handshake messages at all with javax.net.debug=ssl on JDK 11-21. Findings that need the
    missing part are not made; the fix says which option prints it.""",
    G,
)


@dataclass(frozen=True)
class LogContext:
    logged: LoggedHandshake
    summary: LogSummary
    file: str

    def where(self) -> Location:
        return Location(file=self.file, connection=self.logged.transcript.index)

    def at(self, line: int, fact: str) -> Evidence:
        return Evidence(f"log line {line}", fact)


RULES: RuleSet[LogContext] = RuleSet()


def _request(logged: LoggedHandshake) -> CertificateRequest | None:
    event = logged.transcript.first(CertificateRequest, Direction.SERVER)
    return event.message if event and isinstance(event.message, CertificateRequest) else None


def _server_chain(logged: LoggedHandshake) -> tuple[int | None, Certificate | None]:
    event = logged.transcript.first(Certificate, Direction.SERVER)
    if event is None or not isinstance(event.message, Certificate):
        return None, None
    return event.frame, event.message


@RULES.rule(NO_CERT)
def no_suitable(ctx: LogContext) -> Iterator[Finding]:
    """Java's own sentences that it had no certificate to send (also in logs without messages)."""
    h = ctx.logged
    said = (
        h.said(Said.NO_CERT_SELECTED)
        + h.said(Said.NO_AUTH_SCHEME)
        + h.said(Said.NO_CLIENT_AUTH_SCHEME)
        + h.said(Said.EMPTY_CERT_INSTEAD)
        + h.said(Said.NO_SUITABLE_JDK8)
    )
    decisive = [
        s for s in said if s.said is not Said.NO_CERT_SELECTED
    ]  # JDK 11 says "No X.509 cert selected for EC" on successful handshakes too
    client = h.transcript.first(Certificate, Direction.CLIENT)
    sent_something = (
        client is not None and isinstance(client.message, Certificate) and not client.message.empty
    )
    inferred = False
    if not decisive and said and client is None and h.fatal is not None and h.fatal.received:
        # javax.net.debug=ssl: no messages, but JDK 17+ names every key type it found nothing for
        inferred = h.fatal.alert in ("handshake_failure", "certificate_required", "bad_certificate")
    if (not decisive and not inferred) or sent_something:
        return
    req = _request(h)
    names = "; ".join(n.text for n in req.ca_names) if req and req.ca_names else None
    evidence = [ctx.at(s.line, s.text) for s in sorted(said, key=lambda s: s.line)[:5]]
    entries = ctx.logged.key_entries or ctx.summary.key_entries
    why = ""
    if entries:
        listed = ", ".join(
            f"'{e.alias}' ({e.chain_length} certificate{'s' if e.chain_length != 1 else ''}, issuers "
            f"{'; '.join(dict.fromkeys(e.issuers)) or '?'})"
            for e in entries[:4]
        )
        why = f"; the key manager holds {listed}"
        evidence += [ctx.at(e.line, f"found key for : {e.alias}") for e in entries[:4]]
        if any(e.chain_length == 1 for e in entries):
            why += (
                " — a leaf-only entry matches only when the server names its direct issuer "
                "(a Java client compares the CA names with the issuers of the stored chain)"
            )
    yield make(
        NO_CERT,
        "Java had no key entry for this CertificateRequest"
        + (f" (the server asks for certificates issued by {names})" if names else "")
        + " and sent no certificate"
        + why,
        location=ctx.where(),
        evidence=evidence
        + ([ctx.at(h.fatal.line, f"then: {h.fatal.reason}")] if inferred and h.fatal else []),
        inference=inferred,
        fix=f"mtls-inspect log {ctx.file} --keystore KEYSTORE shows which entry would match and why "
        "none does; store the full chain (keytool -importcert -alias ALIAS -file reply-chain.p7b "
        "-keystore KEYSTORE) or use a certificate from a CA the server names",
    )


def _fatal_text(h: LoggedHandshake) -> tuple[int, str] | None:
    texts: list[tuple[int, str]] = []
    if h.fatal is not None:
        texts.append((h.fatal.line, h.fatal.reason))
    if h.exception is not None:
        texts += [(h.exception.line, f"{c}: {m}") for c, m in h.exception.chain]
    return texts[0] if texts else None


def _all_text(h: LoggedHandshake) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    if h.fatal is not None:
        out.append((h.fatal.line, h.fatal.reason))
    if h.exception is not None:
        out += [(h.exception.line, f"{c}: {m}") for c, m in h.exception.chain]
    return out


@RULES.rule(PKIX, SERVER_EXPIRED, HOSTNAME)
def server_rejected_by_java(ctx: LogContext) -> Iterator[Finding]:
    """The client's trust manager refused the server's chain or name."""
    h = ctx.logged
    texts = _all_text(h)
    line_no, chain = _server_chain(h)
    leaf = chain.chain[0] if chain and chain.chain else None
    top = chain.chain[-1] if chain and chain.chain else None
    hit = next(((n, t) for n, t in texts if "validity check failed" in t or "NotAfter" in t), None)
    if hit:
        dates = ""
        if chain:
            dates = "; ".join(
                f"{C.short_dn(c.subject)} valid "
                f"{c.not_valid_before_utc.date()} .. {c.not_valid_after_utc.date()}"
                for c in chain.chain
            )
        yield make(
            SERVER_EXPIRED,
            "Java rejected the server's chain: PKIX path validation failed: validity check failed"
            + (f" ({dates})" if dates else ""),
            location=ctx.where(),
            evidence=[ctx.at(hit[0], hit[1][:200])]
            + ([ctx.at(line_no, f"server chain: {dates}")] if line_no and dates else []),
            fix="the server's certificate must be renewed (check both clocks too); "
            "this is not a client-certificate problem",
        )
        return
    hit = next(((n, t) for n, t in texts if "PKIX path building failed" in t), None)
    if hit:
        issuer = C.dn(top.issuer) if top is not None else "the server's issuing CA"
        sent = (
            " → ".join(C.short_dn(c.subject) for c in chain.chain) if chain and chain.chain else "not shown"
        )
        leaf_only = (
            chain is not None and len(chain.chain) == 1 and leaf is not None and leaf.issuer != leaf.subject
        )
        yield make(
            PKIX,
            "Java does not trust the server: PKIX path building failed: unable to find valid "
            f"certification path to requested target — no trust anchor for {issuer}"
            + (" (the server sent its leaf without the intermediate)" if leaf_only else ""),
            location=ctx.where(),
            evidence=[ctx.at(hit[0], hit[1][:200])]
            + ([ctx.at(line_no, f"server chain sent: {sent}")] if line_no else []),
            fix=(
                "import the CA that issued the top of the server's chain into the client's truststore: "
                f"keytool -importcert -trustcacerts -alias server-ca -file ca.pem -keystore truststore.jks "
                f"(ca.pem: the certificate of {issuer}); mtls-inspect log {ctx.file} --truststore "
                "truststore.jks checks it as Java would"
            ),
        )
        return
    hit = next(((n, t) for n, t in texts if "No subject alternative" in t or "No name matching" in t), None)
    if hit:
        sans = ""
        if leaf is not None:
            try:
                from cryptography import x509

                ext = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
                sans = ", ".join(
                    [str(n) for n in ext.get_values_for_type(x509.DNSName)]
                    + [str(n) for n in ext.get_values_for_type(x509.IPAddress)]
                )
            except Exception:
                sans = "none"
        host = re.search(r"matching (?:IP address )?(\S+?)\.? found", hit[1])
        yield make(
            HOSTNAME,
            f"Java rejected the server's name: {hit[1].split(': ', 1)[-1][:160]}"
            + (f" (the certificate names: {sans})" if sans else ""),
            location=ctx.where(),
            evidence=[ctx.at(hit[0], hit[1][:200])]
            + ([ctx.at(line_no, f"server certificate SANs: {sans}")] if line_no and sans else []),
            fix=(
                f"connect with a host name the certificate carries ({sans})"
                if sans and sans != "none"
                else "connect with a host name the certificate carries"
            )
            + (f" instead of {host.group(1)}" if host else "")
            + ", or have the server's certificate reissued with that name as a subjectAltName "
            "(Java ignores the CN)",
        )


@RULES.rule(SERVER_ALERT, EXCEPTION)
def alert_without_messages(ctx: LogContext) -> Iterator[Finding]:
    """A server alert in a log that prints no handshake messages (javax.net.debug=ssl on JDK 11-21)."""
    h = ctx.logged
    if h.fatal is None or not h.fatal.received or h.transcript.client_hello is not None:
        return
    if h.fatal.alert in ("handshake_failure", "certificate_required", "bad_certificate") and h.said(
        Said.NO_CERT_SELECTED
    ):
        return  # java-no-suitable-certificate explains it
    exc = JavaException(h.fatal.line, (("javax.net.ssl.SSLHandshakeException", h.fatal.reason),))
    found = explain_exception(exc, ctx.file, h.transcript.server_name)
    yield dataclasses.replace(found, location=ctx.where())


@RULES.rule(HTTP_REJECTED)
def http_after_handshake(ctx: LogContext) -> Iterator[Finding]:
    """nginx (ssl_verify_client on) finishes the handshake and answers 400: only `all` logs show it."""
    h = ctx.logged
    if h.http_status is None:
        return
    code, reason = h.http_status
    if not (code in (495, 496, 403) or (code == 400 and "certificate" in reason.lower())):
        return
    said = h.said(Said.DECRYPTED)
    client = h.transcript.first(Certificate, Direction.CLIENT)
    empty = client is not None and isinstance(client.message, Certificate) and client.message.empty
    yield make(
        HTTP_REJECTED,
        f"the handshake completed but the server answered the request with HTTP {code} {reason}"
        + (" — no client certificate was sent" if empty else ""),
        location=ctx.where(),
        evidence=[ctx.at(s.line, f"decrypted: {s.text}") for s in said[:1]]
        + ([ctx.at(client.frame or 0, "the client's Certificate was empty")] if empty and client else []),
        fix="see the other findings for why the certificate was missing or refused; nginx logs the "
        "exact verify error (client SSL certificate verify error)",
    )


@RULES.rule(INVALID_CA_EXT)
def empty_ca_extension(ctx: LogContext) -> Iterator[Finding]:
    """TLS 1.3 CertificateRequest with an empty certificate_authorities extension."""
    said = ctx.logged.said(Said.INVALID_CA_EXTENSION)
    texts = [(n, t) for n, t in _all_text(ctx.logged) if "Invalid certificate_authorities" in t]
    if not said and not texts:
        return
    line = said[0] if said else None
    yield make(
        INVALID_CA_EXT,
        "the server's TLS 1.3 CertificateRequest carries an empty certificate_authorities extension; "
        "the JDK rejects it (Invalid certificate_authorities extension: insufficient data)",
        location=ctx.where(),
        evidence=([ctx.at(line.line, line.text)] if line else [])
        + [ctx.at(n, t[:160]) for n, t in texts[:2]],
        fix="have the server send its CA names or leave the extension out (openssl s_server: drop "
        "-no_ca_names); or limit the client to TLS 1.2: -Djdk.tls.client.protocols=TLSv1.2",
    )


@RULES.rule(LOG_INCOMPLETE, NOT_SHOWN)
def limits(ctx: LogContext) -> Iterator[Finding]:
    """Partial handshakes, and what this log could not show."""
    h, t = ctx.logged, ctx.logged.transcript
    kinds = [p for p in t.problems if p.kind in ("mid-stream", "truncated")]
    if kinds:
        yield make(
            LOG_INCOMPLETE,
            f"handshake #{t.index} (lines {h.first_line}-{h.last_line}): "
            + "; ".join(p.detail for p in kinds),
            location=ctx.where(),
            evidence=[
                ctx.at(h.first_line, "first line of this handshake"),
                ctx.at(h.last_line, "its last line"),
            ],
            fix="keep the JVM's whole stderr from before the connection starts (java ... 2> client.log)",
        )
    notes = list(h.not_shown)
    if t.client_hello is None and not kinds:
        notes.append(
            "no handshake messages: the log was written with javax.net.debug=ssl on JDK 11-21 (or the "
            "messages were cut away); the diagnosis rests on Java's sentences and its exception"
        )
    if h.certs_from_text:
        notes.append(
            "certificates are printed as text: subject, issuer, validity and SANs are known; keys, "
            "signatures and fingerprints are not in the log"
        )
    req = _request(h)
    client = t.first(Certificate, Direction.CLIENT)
    if req is not None and client is not None and not h.matching_aliases and not ctx.summary.key_entries:
        notes.append(
            "which key entries Java considered: key-manager lines (found key for / matching alias) "
            "need javax.net.debug=all (or JDK 25)"
        )
    sent_empty = client is not None and isinstance(client.message, Certificate) and client.message.empty
    if not t.tls13 and t.handshake_done and sent_empty and h.http_status is None and h.fatal is None:
        notes.append(
            "what the server answered: it finished the handshake without a client certificate (nginx "
            "then answers HTTP 400 'No required SSL certificate was sent'); javax.net.debug=all shows the "
            "decrypted answer"
        )
    if t.tls13 and t.handshake_done and h.fatal is None and h.http_status is None:
        notes.append(
            "TLS 1.3: the server judges the client certificate after the client's Finished; its "
            "verdict comes on the first read, which this log does not show"
        )
    if notes:
        yield make(
            NOT_SHOWN,
            "; ".join(notes[:1]) + (f" (+{len(notes) - 1} more below)" if len(notes) > 1 else ""),
            location=ctx.where(),
            evidence=[Evidence("log", n) for n in notes],
            fix="rerun the client with -Djavax.net.debug=ssl:handshake:verbose "
            "(add :keymanager:trustmanager, "
            "or use all) to see more",
        )


def check_handshake(logged: LoggedHandshake, summary: LogSummary, file: str) -> list[Finding]:
    return RULES.run(LogContext(logged, summary, file))


# --- a file with only an exception ---------------------------------------------------------------

_MEANINGS: tuple[tuple[str, str, str, str], ...] = (
    # (pattern, who, meaning, next checks; {file} {host} are filled in)
    (
        r"PKIX path building failed",
        "the client (its trust manager)",
        "the client does not trust the server's chain: no anchor in its truststore for the issuer at "
        "the top of the chain the server sent (or the server omits its intermediate)",
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
        "the server's certificate has no subjectAltName for the host the client used (Java ignores the CN)",
        "mtls-inspect probe {host} --insecure (shows the certificate's names)",
    ),
    (
        r"Received fatal alert: (certificate_required|handshake_failure)",
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
        r"Remote host terminated the handshake|Connection reset|closed the connection",
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


def explain_exception(exc: JavaException, file: str, host: str | None) -> Finding:
    """What a lone exception means, who said it, and the next checks (commands filled in)."""
    text = exc.text
    named = re.search(r"matching (?:IP address )?([\w.\-:\[\]]+?)\.? found|https://([\w.\-]+(?::\d+)?)", text)
    target = host or (next(g for g in named.groups() if g) if named else "HOST:PORT")
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
    return make(
        EXCEPTION,
        f"{exc.chain[0][0]}: {exc.chain[0][1][:160]} (not a TLS failure this tool knows)",
        location=Location(file=file),
        evidence=[
            Evidence(f"log line {exc.line_of(i)}", f"{c}: {msg}"[:240])
            for i, (c, msg) in enumerate(exc.chain[:4])
        ],
        fix=f"rerun the client with -Djavax.net.debug=ssl:handshake:verbose, then mtls-inspect log {file}",
        severity=Severity.WARNING,
    )


TLS_EXCEPTION = re.compile(r"SSL|Cert|PKIX|Validator|Keystore|KeyStore|Handshake|ssl")


def relevant(exc: JavaException) -> bool:
    return any(TLS_EXCEPTION.search(c) or TLS_EXCEPTION.search(m) for c, m in exc.chain)


# --- Java's trust verdict with a given truststore (inspector.java.trust) -------------------------

TRUST_REJECTS = register(
    "java-truststore-rejects",
    Severity.ERROR,
    "With this truststore, Java rejects the server's certificate",
    """The server's chain judged as the JDK's PKIX trust manager judges it: anchors from the
    truststore (any certificate there, an intermediate too), path building that ignores the
    order and the extras of what the server sent, validity at the handshake's time, then HTTPS
    endpoint identification (subjectAltName only, no CN fallback, IP addresses only in IP SANs).
    The summary gives Java's own sentence; the fix, the keytool command.""",
    G,
)
TRUST_ACCEPTS = register(
    "java-truststore-accepts",
    Severity.INFO,
    "With this truststore, Java trusts the server's certificate",
    """The path Java would build from the server's leaf to an anchor of the truststore, named.
    When the log shows the client rejecting the server all the same, the client ran with another
    truststore (check -Djavax.net.ssl.trustStore and the application's own SSLContext).""",
    G,
)


def _java_accepted_server(logged: LoggedHandshake) -> bool:
    """The client went on after the server's Certificate: its trust manager accepted the chain."""

    if _host_failed(logged):
        return True  # Java checks the host name only after the chain validated
    return _went_on(logged)


def _host_failed(logged: LoggedHandshake) -> bool:
    return any("No subject alternative" in t or "No name matching" in t for _, t in _all_text(logged))


def _went_on(logged: LoggedHandshake) -> bool:
    """The client sent more than an alert after the server's Certificate."""
    from parsers.model import Alert

    events = logged.transcript.events
    start = next(
        (
            i
            for i, e in enumerate(events)
            if isinstance(e.message, Certificate) and e.direction is Direction.SERVER
        ),
        None,
    )
    if start is None:
        return False
    return any(
        e.direction is Direction.CLIENT and not isinstance(e.message, Alert) for e in events[start + 1 :]
    )


def trust_finding(
    verdict: object, logged: LoggedHandshake, file: str, host: str | None, explicit: bool = True
) -> Finding | None:
    """One finding for the verdict on this handshake's server chain (None without a chain)."""
    assert isinstance(verdict, TrustVerdict)
    line, chain = _server_chain(logged)
    if chain is None:
        return None
    where = Location(file=file, connection=logged.transcript.index)
    evidence = [
        Evidence(
            f"log line {line}", "server chain: " + " → ".join(C.short_dn(c.subject) for c in chain.chain)
        ),
        Evidence("truststore", verdict.store),
    ]
    if not verdict.signatures_checked:
        evidence.append(
            Evidence(
                "log",
                "certificates rebuilt from the log's text: names and key ids matched, signatures not checked",
            )
        )
    if host is None:
        evidence.append(
            Evidence("log", "no host name in the log (no SNI): endpoint identification not checked")
        )
    java_failed = any(
        "PKIX" in t or "No subject alternative" in t or "validity check failed" in t
        for _, t in _all_text(logged)
    )
    if verdict.trusted:
        return make(
            TRUST_ACCEPTS,
            "Java would trust the server with this truststore: "
            + " → ".join(verdict.path)
            + (
                "; yet the log shows the client rejecting it: the client ran with another truststore"
                if java_failed
                else ""
            ),
            location=where,
            evidence=evidence,
            fix="point the client at this truststore: -Djavax.net.ssl.trustStore=... "
            "-Djavax.net.ssl.trustStorePassword=..."
            if java_failed
            else "",
            severity=Severity.WARNING if java_failed else None,
        )
    pkix = verdict.java_says.startswith("PKIX")
    if not pkix and not _host_failed(logged) and _went_on(logged):
        evidence.append(Evidence("log", "the client went on after the server's Certificate"))
        return make(
            TRUST_REJECTS,
            f"an HTTPS client would say: {verdict.java_says} — {verdict.cause}; this client went on: it "
            "does not check host names (no endpoint identification)",
            location=where,
            evidence=evidence,
            fix=verdict.fix,
            severity=Severity.WARNING,
        )
    if pkix and _java_accepted_server(logged):
        evidence.append(Evidence("log", "the client went on after the server's Certificate: it trusted it"))
        return make(
            TRUST_REJECTS,
            f"with this truststore Java would say: {verdict.java_says} — {verdict.cause}; the logged client "
            + (
                "trusted the server, so it ran with another truststore"
                if explicit
                else "trusted the server, so it ran with its own truststore, not the JDK's cacerts"
            ),
            location=where,
            evidence=evidence,
            fix=verdict.fix if explicit else "give the client's truststore: --truststore F",
            severity=Severity.WARNING if explicit else Severity.INFO,
            inference=not verdict.signatures_checked,
        )
    return make(
        TRUST_REJECTS,
        f"with this truststore Java says: {verdict.java_says} — {verdict.cause}",
        location=where,
        evidence=evidence,
        fix=verdict.fix,
        inference=not verdict.signatures_checked,
    )


def chain_trust_finding(
    verdict: object, chain: tuple[object, ...], location: Location, source: str
) -> Finding:
    """The verdict on a chain read from the wire (probe, pcap): real certificates, signatures checked."""
    assert isinstance(verdict, TrustVerdict)
    evidence = [
        Evidence(source, "server chain: " + " → ".join(C.short_dn(c.subject) for c in chain)),  # type: ignore[attr-defined]
        Evidence("truststore", verdict.store),
    ]
    if verdict.trusted:
        return make(
            TRUST_ACCEPTS,
            "Java would trust the server with this truststore: " + " → ".join(verdict.path),
            location=location,
            evidence=evidence,
        )
    return make(
        TRUST_REJECTS,
        f"with this truststore Java says: {verdict.java_says} — {verdict.cause}",
        location=location,
        evidence=evidence,
        fix=verdict.fix,
    )
