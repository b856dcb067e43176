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
from inspector.rules.keystore_rules import CLIENT_AUTH_USAGE
from inspector.rules.probe_rules import HTTP_REJECTED
from inspector.rules.wire_rules import NOT_SENT
from parsers.javalog.model import JavaException, LoggedHandshake, LogSummary, Role, Said
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
    """Java's HTTPS endpoint identification checks the host name against the certificate's DNS
    subject alternative names; only when it has none, against its last CN; an IP address only
    against IP SANs. The message is "No subject alternative DNS name matching H found", "No name
    matching H found" (no DNS SAN, CN differs) or, for an IP address, "No subject alternative
    names matching IP address A found" / "No subject alternative names present". Connect with a
    name the certificate carries, or reissue it with the right SAN.""",
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


HANDSHAKE_FAILED = register(
    "java-handshake-failed",
    Severity.ERROR,
    "The handshake failed, for a reason the log does not name",
    """The log shows the handshake ending in a fatal alert, an exception or a closed connection,
    and no other finding explains it. A failed handshake is never reported as clean: what the log
    shows is listed, with the likely causes marked as inference, and the option that prints more.""",
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
    if h.role is Role.SERVER:  # a server's "No X.509 cert selected" is about its own key
        return
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
    if h.role is Role.SERVER:  # the server judged the client's chain: the wire rules say it
        return
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
        trusted = h.trusted
        anchors = "; ".join(trusted[1]) if trusted else ""
        yield make(
            PKIX,
            "Java does not trust the server: PKIX path building failed: unable to find valid "
            f"certification path to requested target — no trust anchor for {issuer}"
            + (
                f" (the client's truststore, as logged, holds only: {anchors or 'nothing'})"
                if trusted is not None
                else " (the server sent its leaf without the intermediate)"
                if leaf_only
                else ""
            ),
            location=ctx.where(),
            evidence=[ctx.at(hit[0], hit[1][:200])]
            + ([ctx.at(line_no, f"server chain sent: {sent}")] if line_no else [])
            + ([ctx.at(trusted[0], f"adding as trusted certificates: {anchors}")] if trusted else []),
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
        # JDK 8 names the server's certificate and its usages even without :verbose
        subjects = h.unprinted_chains.get(line_no or 0) or ()
        usages = h.chain_usages.get(line_no or 0)
        client_only = usages is not None and "serverAuth" not in usages and "clientAuth" in usages
        yield make(
            HOSTNAME,
            f"Java rejected the server's name: {hit[1].split(': ', 1)[-1][:160]}"
            + (f" (the certificate names: {sans})" if sans else "")
            + (
                f"; the server presented {subjects[0] if subjects else 'a certificate'} whose "
                "extendedKeyUsage is clientAuth only: a client certificate, not a server's (likely its key "
                "manager chose the wrong key entry)"
                if client_only
                else ""
            ),
            location=ctx.where(),
            evidence=[ctx.at(hit[0], hit[1][:200])]
            + ([ctx.at(line_no, f"server certificate SANs: {sans}")] if line_no and sans else [])
            + (
                [
                    ctx.at(
                        line_no,
                        f"server certificate: {', '.join(subjects)} "
                        f"ExtendedKeyUsages [{', '.join(usages or ())}]",
                    )
                ]
                if line_no and usages is not None
                else []
            ),
            fix=(
                f"connect with a host name the certificate carries ({sans})"
                if sans and sans != "none"
                else "connect with a host name the certificate carries"
            )
            + (f" instead of {host.group(1)}" if host else "")
            + ", or have the server's certificate reissued with that name as a subjectAltName "
            "(with DNS SANs present, Java ignores the CN)",
        )


@RULES.rule(SERVER_ALERT, EXCEPTION)
def alert_without_messages(ctx: LogContext) -> Iterator[Finding]:
    """A server alert in a log that prints no handshake messages (javax.net.debug=ssl on JDK 11-21)."""
    h = ctx.logged
    if h.fatal is None or not h.fatal.received or h.transcript.client_hello is not None:
        return
    if h.role is Role.SERVER:
        return
    if h.fatal.alert in ("handshake_failure", "certificate_required", "bad_certificate") and h.said(
        Said.NO_CERT_SELECTED
    ):
        return  # java-no-suitable-certificate explains it
    exc = JavaException(h.fatal.line, (("javax.net.ssl.SSLHandshakeException", h.fatal.reason),))
    found = explain_exception(exc, ctx.file, h.transcript.server_name, ctx.summary.app_lines)
    yield dataclasses.replace(found, location=ctx.where())


@RULES.rule(HTTP_REJECTED)
def http_after_handshake(ctx: LogContext) -> Iterator[Finding]:
    """nginx (ssl_verify_client on) finishes the handshake and answers 400: only `all` logs show it."""
    h = ctx.logged
    if h.http_status is None:
        return
    code, reason = h.http_status
    client = h.transcript.first(Certificate, Direction.CLIENT)
    empty = client is not None and isinstance(client.message, Certificate) and client.message.empty
    if client is None and h.transcript.client_hello is None and h.said(Said.NO_CERT_SELECTED):
        empty = True  # javax.net.debug=ssl: Java's key manager found nothing to send
    named = code in (495, 496) or (code in (400, 403) and "certificate" in reason.lower())
    # a bare 400 right after a handshake without a client certificate: nginx's answer, inferred
    if not named and not (code == 400 and empty and h.role is Role.CLIENT):
        return
    said = h.said(Said.DECRYPTED) + h.said(Said.APP_OUTPUT)
    yield make(
        HTTP_REJECTED,
        f"the handshake completed but the server answered the request with HTTP {code} {reason}"
        + (" — no client certificate was sent" if empty else ""),
        location=ctx.where(),
        evidence=[
            ctx.at(
                s.line, f"{'decrypted' if s.said is Said.DECRYPTED else 'printed by the client'}: {s.text}"
            )
            for s in sorted(said, key=lambda s: s.line)[:2]
        ]
        + ([ctx.at(client.frame or 0, "the client's Certificate was empty")] if empty and client else []),
        inference=not named,
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
    as_client = h.role is Role.CLIENT
    if (
        as_client
        and req is not None
        and client is not None
        and not h.matching_aliases
        and not ctx.summary.key_entries
    ):
        notes.append(
            "which key entries Java considered: key-manager lines (found key for / matching alias) "
            "need javax.net.debug=all (or JDK 25)"
        )
    sent_empty = client is not None and isinstance(client.message, Certificate) and client.message.empty
    if (
        as_client
        and not t.tls13
        and t.handshake_done
        and sent_empty
        and h.http_status is None
        and not h.fatal
    ):
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
            fix=f"rerun the {h.role.value} with -Djavax.net.debug=ssl:handshake:verbose "
            "(add :keymanager:trustmanager, "
            "or use all) to see more",
        )


@RULES.rule(CLIENT_AUTH_USAGE)
def sent_usage(ctx: LogContext) -> Iterator[Finding]:
    """JDK 8 prints the extended key usages of each chain: a client chain without clientAuth."""
    h = ctx.logged
    event = h.transcript.first(Certificate, Direction.CLIENT)
    usages = h.chain_usages.get(event.frame or 0) if event is not None else None
    if event is None or usages is None or {"clientAuth", "anyExtendedKeyUsage"} & set(usages):
        return
    subjects = h.unprinted_chains.get(event.frame or 0)
    who = subjects[0] if subjects else "the client's certificate"
    yield make(
        CLIENT_AUTH_USAGE,
        f"the client sent {who}, whose extendedKeyUsage is {', '.join(usages) or 'empty'} (no clientAuth): "
        "not fit for TLS client authentication"
        + (
            f"; the key manager matched {', '.join(h.matching_aliases)}"
            if len(h.matching_aliases) > 1
            else ""
        ),
        location=ctx.where(),
        evidence=[ctx.at(event.frame or 0, f"client certificate: ExtendedKeyUsages [{', '.join(usages)}]")]
        + [ctx.at(s.line, s.text) for s in h.said(Said.MATCHING_ALIAS)[:3]],
        fix="give the client a keystore whose only key entry is its client certificate (EKU clientAuth), "
        "or choose the alias in the application's key manager; mtls-inspect keystore KEYSTORE",
    )


def _failed(h: LoggedHandshake) -> bool:
    from parsers.model import Alert

    fatal_alert = any(isinstance(e.message, Alert) and e.message.level == 2 for e in h.transcript.events)
    return h.fatal is not None or fatal_alert or (h.exception is not None and not h.transcript.handshake_done)


@RULES.rule(HANDSHAKE_FAILED)
def unexplained_failure(ctx: LogContext) -> Iterator[Finding]:
    """A failed handshake always gets an error (dropped by the command when another one explains it)."""
    h = ctx.logged
    if not _failed(h):
        return
    texts = _all_text(h)
    after_finished = any(
        e.direction.value == h.role.value and e.label == "Finished" for e in h.transcript.events
    )
    closed = any("Inbound closed" in t or "Remote host terminated" in t or "closed" in t for _, t in texts)
    if closed and after_finished and h.role is Role.CLIENT:
        why = (
            "the server closed the connection without an alert after the client's Finished: it refused "
            "what the client sent, most likely its certificate (an inference)"
        )
    elif closed:
        why = (
            "the peer closed the connection without an alert (an inference: a rejection, a proxy, or a crash)"
        )
    else:
        why = "the log does not say why"
    yield make(
        HANDSHAKE_FAILED,
        f"handshake #{h.transcript.index} failed: {why}",
        location=ctx.where(),
        evidence=[ctx.at(n, t[:200]) for n, t in texts[:3]],
        inference=True,
        fix="read the peer's log at that time; rerun with -Djavax.net.debug=ssl:handshake:verbose",
    )


def check_handshake(logged: LoggedHandshake, summary: LogSummary, file: str) -> list[Finding]:
    return RULES.run(LogContext(logged, summary, file))


# --- a file with only an exception ---------------------------------------------------------------

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


# --- Java's trust verdict with a given truststore (inspector.java.trust) -------------------------

TRUST_REJECTS = register(
    "java-truststore-rejects",
    Severity.ERROR,
    "With this truststore, Java rejects the server's certificate",
    """The server's chain judged as the JDK's PKIX trust manager judges it: anchors from the
    truststore (any certificate there, an intermediate too), path building that ignores the
    order and the extras of what the server sent, validity at the handshake's time, then HTTPS
    endpoint identification (DNS SANs, the last CN only when there is none, IP addresses only in
    IP SANs).
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
