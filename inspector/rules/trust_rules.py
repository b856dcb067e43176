"""Java's trust verdict on a server chain, as one finding: the one home of the
`java-truststore-*` codes, whichever evidence the chain came from (a capture, a probe, a log).

The verdict itself is judged by inspector/analysis/trust.py (the JDK's PKIX trust manager, in
inspector/java/trust.py); these rules only word it. With a Java log, what the logged client did
with the chain (went on, or aborted) is weighed against the verdict.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from cryptography import x509

from inspector.findings import Evidence, Finding, Location, Severity, make, register
from inspector.java.verdict import TrustVerdict
from inspector.pki import certs as C
from inspector.rules import RuleSet
from inspector.rules.log_evidence import all_text, server_chain
from parsers.javalog.model import LoggedHandshake
from parsers.model import Alert, Certificate, Direction

G = "log"

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


@dataclass(frozen=True)
class TrustContext:
    """One verdict on one server chain, and where the chain was read."""

    verdict: TrustVerdict
    chain: tuple[x509.Certificate, ...]
    location: Location
    #: the evidence's label for the chain: "log line N", "server Certificate from HOST:PORT"...
    source: str
    #: a Java log's handshake: what the logged client did with the chain (None: read off the wire)
    logged: LoggedHandshake | None = None
    host: str | None = None
    #: the truststore was the client's own (--truststore), not this machine's JDK cacerts
    explicit: bool = True


RULES: RuleSet[TrustContext] = RuleSet()


@RULES.rule(TRUST_REJECTS, TRUST_ACCEPTS)
def java_verdict(ctx: TrustContext) -> Iterator[Finding]:
    """The verdict, weighed against the logged client's own conduct when a log shows it."""
    if ctx.logged is None:
        yield _wire_finding(ctx)
    else:
        yield _logged_finding(ctx, ctx.logged)


def _evidence(ctx: TrustContext) -> list[Evidence]:
    return [
        Evidence(ctx.source, "server chain: " + " → ".join(C.short_dn(c.subject) for c in ctx.chain)),
        Evidence("truststore", ctx.verdict.store),
    ]


def _wire_finding(ctx: TrustContext) -> Finding:
    """A chain read from the wire (probe, pcap): real certificates, signatures checked."""
    verdict = ctx.verdict
    if verdict.trusted:
        return make(
            TRUST_ACCEPTS,
            "Java would trust the server with this truststore: " + " → ".join(verdict.path),
            location=ctx.location,
            evidence=_evidence(ctx),
        )
    return make(
        TRUST_REJECTS,
        f"with this truststore Java says: {verdict.java_says} — {verdict.cause}",
        location=ctx.location,
        evidence=_evidence(ctx),
        fix=verdict.fix,
    )


def _java_accepted_server(logged: LoggedHandshake) -> bool:
    """The client went on after the server's Certificate: its trust manager accepted the chain."""
    if _host_failed(logged):
        return True  # Java checks the host name only after the chain validated
    return _went_on(logged)


def _host_failed(logged: LoggedHandshake) -> bool:
    return any("No subject alternative" in t or "No name matching" in t for _, t in all_text(logged))


def _went_on(logged: LoggedHandshake) -> bool:
    """The client sent more than an alert after the server's Certificate."""
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


def _logged_finding(ctx: TrustContext, logged: LoggedHandshake) -> Finding:
    """A chain rebuilt from a Java log: the verdict beside what the logged client did."""
    verdict = ctx.verdict
    evidence = _evidence(ctx)
    if not verdict.signatures_checked:
        evidence.append(
            Evidence(
                "log",
                "certificates rebuilt from the log's text: names and key ids matched, signatures not checked",
            )
        )
    if ctx.host is None:
        evidence.append(
            Evidence("log", "no host name in the log (no SNI): endpoint identification not checked")
        )
    java_failed = any(
        "PKIX" in t or "No subject alternative" in t or "validity check failed" in t
        for _, t in all_text(logged)
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
            location=ctx.location,
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
            location=ctx.location,
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
                if ctx.explicit
                else "trusted the server, so it ran with its own truststore, not the JDK's cacerts"
            ),
            location=ctx.location,
            evidence=evidence,
            fix=verdict.fix if ctx.explicit else "give the client's truststore: --truststore F",
            severity=Severity.WARNING if ctx.explicit else Severity.INFO,
            inference=not verdict.signatures_checked,
        )
    return make(
        TRUST_REJECTS,
        f"with this truststore Java says: {verdict.java_says} — {verdict.cause}",
        location=ctx.location,
        evidence=evidence,
        fix=verdict.fix,
        inference=not verdict.signatures_checked,
    )


def trust_finding(
    verdict: TrustVerdict, logged: LoggedHandshake, file: str, host: str | None, explicit: bool = True
) -> Finding | None:
    """The verdict on a logged handshake's server chain (None when the log shows no chain)."""
    line, chain = server_chain(logged)
    if chain is None:
        return None
    where = Location(file=file, connection=logged.transcript.index)
    context = TrustContext(verdict, chain.chain, where, f"log line {line}", logged, host, explicit)
    return RULES.run(context)[0]


def chain_trust_finding(
    verdict: TrustVerdict, chain: tuple[x509.Certificate, ...], location: Location, source: str
) -> Finding:
    """The verdict on a chain read from the wire (probe, pcap)."""
    return RULES.run(TrustContext(verdict, chain, location, source))[0]
