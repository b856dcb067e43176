"""A server's own log about the client's certificate, turned into the client-side fix.

One finding per distinct failure (stack, problem, reason), with how many lines said it, which
clients and when. The verify code is read with OpenSSL's one table (pki/openssl_verify); the
words of stacks that log no number (Envoy, HAProxy, nginx's access log) are matched to it by
OpenSSL's text. With the client's keystore, the entries the reason points at are named, with
the keytool command that changes them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from inspector.findings import Evidence, Finding, Location, Severity, make, register
from inspector.keystore.model import Keystore
from inspector.pki import certs as C
from inspector.pki.openssl_verify import VERIFY_ERRORS, VerifyError
from inspector.rules import RuleSet
from parsers.serverlog import Problem, ServerEvent, ServerLogReading, Verdict

G = "server log"

NO_CERT = register(
    "server-log-no-client-cert",
    Severity.ERROR,
    "The server's log says the client sent no certificate",
    """The server asked for a client certificate and got none (an empty Certificate message).
    A Java client sends nothing when no key entry of its keystore fits the server's
    CertificateRequest (the CA names, the key types); curl and other OpenSSL clients when no
    certificate was configured. `mtls-inspect select` names the entry Java would send.""",
    G,
)
REJECTED = register(
    "server-log-rejected-client-cert",
    Severity.ERROR,
    "The server's log says it rejected the client's certificate",
    """The server verified the client's chain against its own trust (its client-CA file) and
    refused it, for the reason it logs (OpenSSL's verify code and text on nginx, Apache httpd and
    HAProxy; Go's x509 error; Node's authorizationError; Envoy's transport failure reason).
    The reason says which side changes what: a missing intermediate is the client's to send; a
    CA the server does not trust is the server's to add.""",
    G,
)
CLIENT_REFUSED = register(
    "server-log-client-refused-server",
    Severity.ERROR,
    "The server's log says the client aborted with an alert",
    """The client sent the alert the server logs (unknown_ca, bad_certificate, certificate_unknown):
    it did not accept the server's certificate. The fix is in the client's truststore (import
    the server's CA), or the server sends an incomplete chain.""",
    G,
)
HANDSHAKE_FAILED = register(
    "server-log-handshake-failed",
    Severity.WARNING,
    "The server's log says a handshake failed, not why",
    """The line says the handshake failed without a reason (HAProxy's "SSL handshake failure",
    Apache's AH02261). With client authentication required, the usual cause is a client that
    sent no certificate or one the server refused; raise the server's log level (nginx: info;
    Apache: LogLevel ssl:info; HAProxy: log ssl_c_verify / ssl_c_err) to see which.""",
    G,
)
ACCEPTED = register(
    "server-log-accepted-client-cert",
    Severity.INFO,
    "The server's log says it accepted the client's certificate",
    "The client's chain verified on the server; any failure is after the handshake.",
    G,
)
CODES = (NO_CERT, REJECTED, CLIENT_REFUSED, HANDSHAKE_FAILED, ACCEPTED)

RULES: RuleSet[ServerLogContext] = RuleSet()

#: OpenSSL's texts (and BoringSSL's spellings) → the verify code, for stacks that log words only
_BY_TEXT = {row.text: row.code for row in VERIFY_ERRORS.values()} | {
    "self signed certificate": 18,
    "self signed certificate in certificate chain": 19,
    "unsupported certificate purpose": 26,
    "certificate is not yet valid or the system clock is incorrect": 9,
}
_LEAF_ONLY_CODES = frozenset({2, 20, 21})
TRUSTSTORE_FIX = (
    "add the server's CA to the client's truststore (keytool -importcert -trustcacerts "
    "-alias partner-ca -file ca.pem -keystore truststore.jks), or the server sends its intermediate(s)"
)


@dataclass(frozen=True)
class ServerLogContext:
    reading: ServerLogReading
    source: str
    store: Keystore | None = None
    at: dt.datetime | None = None


def code_of(event: ServerEvent) -> int | None:
    if event.code is not None:
        return event.code
    return _BY_TEXT.get((event.reason_text or "").strip().lower())


def _group_key(e: ServerEvent) -> tuple[str, ...]:
    return (e.stack.value, e.problem.value, str(code_of(e) or e.reason_text or e.alert or ""))


def _groups(reading: ServerLogReading) -> list[list[ServerEvent]]:
    groups: dict[tuple[str, ...], list[ServerEvent]] = {}
    for e in reading.events:
        groups.setdefault(_group_key(e), []).append(e)
    return list(groups.values())


def _seen(events: list[ServerEvent]) -> list[Evidence]:
    first = events[0]
    clients = list(dict.fromkeys(e.client for e in events if e.client))
    out = [Evidence(f"line {first.line}", f"{first.stack.value} says: {first.stack_says}")]
    if len(events) > 1:
        times = [e.time for e in events if e.time]
        span = f", {times[0]} to {times[-1]}" if len(times) > 1 else ""
        out.append(
            Evidence("log", f"{len(events)} lines say this (lines {events[0].line}..{events[-1].line}{span})")
        )
    if clients:
        shown = ", ".join(clients[:5]) + (f" and {len(clients) - 5} more" if len(clients) > 5 else "")
        out.append(Evidence("clients", shown))
    return out


def _key_entries(store: Keystore | None) -> list[tuple[str, tuple[x509.Certificate, ...]]]:
    if store is None:
        return []
    return [(e.alias, tuple(e.chain)) for e in store.key_entries if e.chain]


def _entries_for(code: int, ctx: ServerLogContext) -> list[Evidence]:
    """The key entries of the client's keystore the reason points at."""
    at = ctx.at or dt.datetime.now(dt.timezone.utc)
    out = []
    for alias, chain in _key_entries(ctx.store):
        leaf = chain[0]
        if code in _LEAF_ONLY_CODES and chain[-1].issuer != chain[-1].subject:
            out.append(
                Evidence(
                    f"keystore entry '{alias}'",
                    f"sends {len(chain)} certificate(s) ending at {C.short_dn(chain[-1].subject)}, issued by "
                    f"{C.short_dn(chain[-1].issuer)}, which it does not send",
                )
            )
        elif code == 10 and any(c.not_valid_after_utc < at for c in chain):
            late = next(c for c in chain if c.not_valid_after_utc < at)
            out.append(
                Evidence(
                    f"keystore entry '{alias}'",
                    f"{C.short_dn(late.subject)} expired {late.not_valid_after_utc:%Y-%m-%d}",
                )
            )
        elif code == 26 and not _allows_client_auth(leaf):
            out.append(
                Evidence(
                    f"keystore entry '{alias}'",
                    f"{C.short_dn(leaf.subject)} lacks extendedKeyUsage clientAuth",
                )
            )
        elif code == 18 and leaf.issuer == leaf.subject:
            out.append(
                Evidence(
                    f"keystore entry '{alias}'",
                    f"{C.short_dn(leaf.subject)} is self-signed: the CA's reply is not under this alias "
                    "(mtls-inspect keystore KS shows where it is)",
                )
            )
    return out


def _allows_client_auth(cert: x509.Certificate) -> bool:
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return True
    except ValueError:
        return False
    return ExtendedKeyUsageOID.CLIENT_AUTH in eku or ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE in eku


_FIXES = {
    2: "send the intermediate(s): import the CA's chain into the key entry (keytool -importcert "
    "-alias ALIAS -file chain.pem -keystore KS, the reply with its chain) — or the server adds that CA",
    20: "if the client's CA is the one the server trusts, send the intermediate(s) with the key entry "
    "(keytool -importcert -alias ALIAS -file chain.pem -keystore KS); if not, the server's team adds "
    "the client's root CA to its client-CA file (nginx ssl_client_certificate, Apache SSLCACertificateFile, "
    "HAProxy ca-file)",
    21: "send the intermediate(s) with the key entry (keytool -importcert -alias ALIAS -file chain.pem "
    "-keystore KS): the server cannot link the leaf to a CA it trusts",
    9: "the certificate's validity starts later than the server's clock: wait, or check the clocks",
    10: "renew the certificate (keytool -certreq, the CA signs, keytool -importcert under the same alias)",
    18: "the client sent a self-signed certificate: import the CA's reply under the key's alias, or "
    "the server trusts this certificate itself",
    19: "the chain ends at a root the server does not trust: the server's team adds it to the client-CA file",
    22: "the chain is longer than the server's verify depth allows (nginx ssl_verify_depth, Apache "
    "SSLVerifyDepth; OpenSSL counts the intermediates between the certificate and the trusted CA): "
    "the server raises it",
    26: "the certificate is not for TLS client authentication: have it reissued with extendedKeyUsage "
    "clientAuth",
    79: "a certificate acting as CA in the chain is not a CA (basicConstraints): the chain is wrong or "
    "out of order",
}


def _verify_finding(events: list[ServerEvent], ctx: ServerLogContext) -> Finding:
    first = events[0]
    code = code_of(first)
    row: VerifyError | None = VERIFY_ERRORS.get(code) if code is not None else None
    words = first.reason_text or (row.text if row else None)
    reason = (
        f"{row.cause} (verify error {code}: {row.text})" if row else (words or "the reason is not in the log")
    )
    entries = _entries_for(code, ctx) if code is not None else []
    evidence = _seen(events) + entries
    fix = _FIXES.get(
        code or -1,
        "the server logs no verify code: have it log the reason (nginx: error_log "
        "at info; HAProxy: ssl_c_verify in log-format), or run mtls-inspect probe with the keystore",
    )
    if entries:  # the command filled in with the entry the reason points at
        fix = fix.replace("ALIAS", entries[0].source.split("'")[1])
    if ctx.store is not None:
        fix = fix.replace("-keystore KS", f"-keystore {ctx.store.path}")
    return make(
        REJECTED,
        f"{first.stack.value} rejected the client's certificate: {reason}",
        location=Location(file=ctx.source),
        evidence=evidence,
        fix=fix,
        inference=row is None,
    )


@RULES.rule(*CODES)
def server_log(ctx: ServerLogContext) -> Iterator[Finding]:
    where = Location(file=ctx.source)
    for events in _groups(ctx.reading):
        first = events[0]
        if first.verdict is Verdict.ACCEPT:
            yield make(
                ACCEPTED,
                f"{first.stack.value} accepted the client's certificate",
                location=where,
                evidence=_seen(events),
            )
        elif first.problem is Problem.NO_CERTIFICATE:
            yield make(
                NO_CERT,
                f"{first.stack.value} says the client sent no certificate",
                location=where,
                evidence=_seen(events),
                fix="see which entry a Java client would send to this server: mtls-inspect select "
                "--keystore KS --from-server HOST:PORT (no entry fits its CA names or key types: import "
                "the CA's reply under the key's alias, or ask which CA the server trusts)",
            )
        elif first.problem is Problem.VERIFY_FAILED:
            yield _verify_finding(events, ctx)
        elif first.problem is Problem.CLIENT_ALERT:
            yield make(
                CLIENT_REFUSED,
                f"the client aborted with alert {first.alert}: it does not accept the server's certificate",
                location=where,
                evidence=_seen(events),
                fix=TRUSTSTORE_FIX,
            )
        else:
            yield make(
                HANDSHAKE_FAILED,
                f"{first.stack.value} says the handshake failed, without the reason",
                location=where,
                evidence=_seen(events),
                fix="raise the server's TLS log level to see the reason; meanwhile mtls-inspect probe "
                "HOST:PORT --keystore KS shows what the client sends and what the server answers",
                inference=True,
            )


def check_server_log(ctx: ServerLogContext) -> list[Finding]:
    return RULES.run(ctx)
