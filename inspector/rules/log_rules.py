"""Log rules: what a Java client's own debug log says (its formats: docs/reference.md), in Java's words.

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
from inspector.pki import certs as C
from inspector.rules import RuleSet
from inspector.rules.java_exceptions import EXCEPTION, SERVER_ALERT, explain_exception
from inspector.rules.keystore_rules import CLIENT_AUTH_USAGE
from inspector.rules.log_evidence import all_text, server_chain
from inspector.rules.probe_rules import HTTP_REJECTED
from inspector.rules.wire_rules import WireContext
from parsers.javalog.model import JavaException, LoggedHandshake, LogSummary, Role, Said
from parsers.model import Certificate, CertificateRequest, Direction, HandshakeEvent

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


@dataclass(frozen=True)
class LogWireContext(WireContext):
    """The wire rules' context with evidence naming log lines instead of capture frames."""

    role: str = "client"  # the side that wrote the log

    def ev(self, event: HandshakeEvent | None, fact: str) -> Evidence:
        if event is None:
            return Evidence(f"handshake #{self.t.index}", fact)
        who = "client" if event.direction.value == "client" else "server"
        verb = "sent by" if who == self.role else "received from"
        where = f"log line {event.frame}" if event.frame is not None else "log"
        from parsers.model import event_label  # an alert this tool cannot name, said so

        return Evidence(f"{event_label(event)} {verb} the {who} ({where})", fact)


def _request(logged: LoggedHandshake) -> CertificateRequest | None:
    event = logged.transcript.first(CertificateRequest, Direction.SERVER)
    return event.message if event and isinstance(event.message, CertificateRequest) else None


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


#: Java's words for each way its trust manager refuses a server, in the order it checks them
_REFUSALS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("validity check failed", "NotAfter"), "expired"),
    (("PKIX path building failed",), "untrusted"),
    (("No subject alternative", "No name matching"), "name"),
)


@RULES.rule(PKIX, SERVER_EXPIRED, HOSTNAME)
def server_rejected_by_java(ctx: LogContext) -> Iterator[Finding]:
    """The client's trust manager refused the server's chain or name (the first refusal said)."""
    h = ctx.logged
    if h.role is Role.SERVER:  # the server judged the client's chain: the wire rules say it
        return
    texts = all_text(h)
    for words, refusal in _REFUSALS:
        hit = next(((n, t) for n, t in texts if any(w in t for w in words)), None)
        if hit is None:
            continue
        if refusal == "expired":
            yield _server_expired(ctx, hit)
        elif refusal == "untrusted":
            yield _server_untrusted(ctx, hit)
        else:
            yield _server_name_rejected(ctx, hit)
        return


def _server_expired(ctx: LogContext, hit: tuple[int, str]) -> Finding:
    """PKIX path validation failed: a certificate of the server's chain outside its dates."""
    line_no, chain = server_chain(ctx.logged)
    dates = ""
    if chain:
        dates = "; ".join(
            f"{C.short_dn(c.subject)} valid {c.not_valid_before_utc.date()} .. {c.not_valid_after_utc.date()}"
            for c in chain.chain
        )
    return make(
        SERVER_EXPIRED,
        "Java rejected the server's chain: PKIX path validation failed: validity check failed"
        + (f" ({dates})" if dates else ""),
        location=ctx.where(),
        evidence=[ctx.at(hit[0], hit[1][:200])]
        + ([ctx.at(line_no, f"server chain: {dates}")] if line_no and dates else []),
        fix="the server's certificate must be renewed (check both clocks too); "
        "this is not a client-certificate problem",
    )


def _server_untrusted(ctx: LogContext, hit: tuple[int, str]) -> Finding:
    """PKIX path building failed: no anchor in the client's truststore for the server's chain."""
    h = ctx.logged
    line_no, chain = server_chain(ctx.logged)
    leaf = chain.chain[0] if chain and chain.chain else None
    top = chain.chain[-1] if chain and chain.chain else None
    issuer = C.dn(top.issuer) if top is not None else "the server's issuing CA"
    sent = " → ".join(C.short_dn(c.subject) for c in chain.chain) if chain and chain.chain else "not shown"
    leaf_only = (
        chain is not None and len(chain.chain) == 1 and leaf is not None and leaf.issuer != leaf.subject
    )
    trusted = h.trusted
    anchors = "; ".join(trusted[1]) if trusted else ""
    return make(
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


def _server_name_rejected(ctx: LogContext, hit: tuple[int, str]) -> Finding:
    """HTTPS endpoint identification failed: the certificate does not name the host."""
    h = ctx.logged
    line_no, chain = server_chain(ctx.logged)
    leaf = chain.chain[0] if chain and chain.chain else None
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
    return make(
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
    texts = [(n, t) for n, t in all_text(ctx.logged) if "Invalid certificate_authorities" in t]
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
    texts = all_text(h)
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
