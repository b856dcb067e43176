"""Log rules: what a Java client's own debug log says (its formats: docs/reference.md), in Java's words.

The wire rules (wire_rules.py) run on the transcript rebuilt from the log; these add what only
the log holds: Java's sentences ("No available authentication scheme", "PKIX path building
failed", ...), its exception, and what the log cannot show. Java's refusal of the server's chain
is log_server_rules'; the contexts are log_context's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from inspector.findings import Evidence, Finding, Severity, make, register
from inspector.rules import RuleSet, log_server_rules
from inspector.rules.java_exceptions import EXCEPTION, SERVER_ALERT, explain_exception
from inspector.rules.keystore_cert_rules import CLIENT_AUTH_USAGE
from inspector.rules.log_context import LogContext
from inspector.rules.log_evidence import all_text
from inspector.rules.probe_rules import HTTP_REJECTED
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


#: the rules defined here; RULES (below) adds log_server_rules' in their place
_OWN: RuleSet[LogContext] = RuleSet()


def _request(logged: LoggedHandshake) -> CertificateRequest | None:
    event = logged.transcript.first(CertificateRequest, Direction.SERVER)
    return event.message if event and isinstance(event.message, CertificateRequest) else None


@_OWN.rule(NO_CERT)
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


@_OWN.rule(SERVER_ALERT, EXCEPTION)
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


@_OWN.rule(HTTP_REJECTED)
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


@_OWN.rule(INVALID_CA_EXT)
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


@_OWN.rule(LOG_INCOMPLETE, NOT_SHOWN)
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


@_OWN.rule(CLIENT_AUTH_USAGE)
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


@_OWN.rule(HANDSHAKE_FAILED)
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


#: every log rule, in the order it runs
RULES: RuleSet[LogContext] = RuleSet.in_order(
    (_OWN, log_server_rules.RULES),
    (
        no_suitable,
        log_server_rules.server_rejected_by_java,
        alert_without_messages,
        http_after_handshake,
        empty_ca_extension,
        limits,
        sent_usage,
        unexplained_failure,
    ),
)


def check_handshake(logged: LoggedHandshake, summary: LogSummary, file: str) -> list[Finding]:
    return RULES.run(LogContext(logged, summary, file))
