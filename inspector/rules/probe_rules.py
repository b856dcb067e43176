"""Live-probe rules: what only the probe sees (server verification, HTTP answer, renegotiation)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

from inspector.findings import Evidence, Finding, Location, Severity, make, register
from inspector.live.attempt import Attempt, Target
from inspector.pki import certs as C
from inspector.pki.hostnames import openssl_hostname_matches
from inspector.rules import RuleSet
from inspector.rules.alert_rules import CLIENT_REJECTED
from inspector.rules.keystore_chain_rules import KEY_MISMATCH
from parsers import model
from parsers.constants import HandshakeType
from parsers.model import CertificateRequest, Direction, SimpleMessage

G = "probe"

NAME_MISMATCH = register(
    "server-name-mismatch",
    Severity.ERROR,
    "The server's certificate does not match its name",
    """The name the client connects to (SNI / host) is not among the server certificate's
    subjectAltName entries. Java and curl abort the handshake (certificate_unknown /
    "No subject alternative names matching"); this is the server's side to fix, or the client
    uses the wrong host name.""",
    G,
)
HTTP_REJECTED = register(
    "http-rejected-client-cert",
    Severity.ERROR,
    "The server finished the handshake, then refused the request for the client certificate",
    """nginx with ssl_verify_client on does not abort the handshake when the client certificate is
    missing, untrusted, expired or unfit: it answers the first HTTP request with 400 "No required
    SSL certificate was sent" or "The SSL certificate error". Only the HTTP status shows it.""",
    G,
)
RENEGOTIATION = register(
    "client-cert-requested-later",
    Severity.WARNING,
    "The server asks for the client certificate only after the handshake",
    """IIS/http.sys and some proxies request the client certificate only after they have seen the
    request: by TLS 1.2 renegotiation (HelloRequest) or TLS 1.3 post-handshake authentication
    (a CertificateRequest after Finished; only if the client offered post_handshake_auth). A
    probe without an HTTP request never sees it; Java does not offer post-handshake auth.""",
    G,
)

TIMEOUT = register(
    "handshake-timeout",
    Severity.ERROR,
    "The server stopped answering in the middle of the handshake",
    """The server sent part of the handshake, then nothing until the probe's deadline (--timeout).
    A server waiting for something the client never sends, a middlebox holding the connection, or
    an overloaded server: compare with the server's log at that time.""",
    G,
)

RULES: RuleSet[ProbeContext] = RuleSet()


@dataclass(frozen=True)
class ProbeContext:
    attempt: Attempt
    target: Target

    def where(self) -> Location:
        return Location(file=f"{self.target.host}:{self.target.port}")


@RULES.rule(CLIENT_REJECTED, NAME_MISMATCH)
def server_authentication(ctx: ProbeContext) -> Iterator[Finding]:
    """The server's chain against --ca-file (or the system store), and its name."""
    a = ctx.attempt
    if ctx.target.insecure or not (a.server_chain or a.verify_problems):
        return
    problems = [p for p in a.verify_problems if p.errnum != 62]
    if problems:
        first = problems[0]
        yield make(
            CLIENT_REJECTED,
            f"the server's chain does not verify against "
            f"{ctx.target.ca_file or 'the system trust store'}: {first.message} "
            f"(depth {first.depth}, {first.subject}) — a Java or curl client would abort "
            "here; the probe went on to see the client-certificate exchange",
            location=ctx.where(),
            evidence=[
                Evidence("server Certificate", f"[{i}] {C.dn(c.subject)} issued by {C.dn(c.issuer)}")
                for i, c in enumerate(a.server_chain[:4])
            ]
            or [
                Evidence("server Certificate", f"[{i}] {subject}")
                for i, subject in enumerate(a.server_chain_subjects[:4])
            ],
            fix="give the server's CA with --ca-file ca.pem (and add it to the client's "
            "trust store: keytool -importcert -trustcacerts -alias partner-ca -file "
            "ca.pem -keystore truststore.jks), or use --insecure to skip this check",
        )
    if not a.server_chain:  # the leaf could not be read: its names are not judged
        return
    name = ctx.target.servername or ctx.target.host
    leaf = a.server_chain[0]
    if not openssl_hostname_matches(leaf, name):
        try:
            from cryptography import x509

            names = leaf.extensions.get_extension_for_class(
                x509.SubjectAlternativeName
            ).value.get_values_for_type(x509.DNSName)
        except Exception:
            names = []
        yield make(
            NAME_MISMATCH,
            f"the server certificate {C.short_dn(leaf.subject)} is not valid for '{name}' "
            f"(subjectAltName: {', '.join(names) or 'none'})",
            location=ctx.where(),
            evidence=[Evidence("server Certificate", C.dn(leaf.subject))],
            fix="connect with the name the certificate carries (--servername NAME), or "
            "have the server's certificate reissued with this name",
        )


@RULES.rule(HTTP_REJECTED)
def http_status(ctx: ProbeContext) -> Iterator[Finding]:
    status = ctx.attempt.http_status
    if not status:
        return
    parts = status.split()
    code = parts[1] if len(parts) > 1 else ""
    if code in ("400", "403", "495", "496") and (
        "certificate" in status.lower() or code in ("495", "496", "403")
    ):
        sent = ctx.attempt.alias
        yield make(
            HTTP_REJECTED,
            f"the handshake completed but the server answered the request with "
            f"'{status}'"
            + (
                " — no client certificate was sent"
                if sent is None
                else f" — it refused the certificate of '{sent}'"
            ),
            location=ctx.where(),
            evidence=[Evidence("HTTP response", status)],
            fix="see the other findings for why the certificate was missing or refused; "
            "nginx logs the exact verify error (client SSL certificate verify error)",
        )


@RULES.rule(RENEGOTIATION)
def later_request(ctx: ProbeContext) -> Iterator[Finding]:
    t = ctx.attempt.transcript
    if t is None:
        return
    for event in t.events:
        hello_request = model.message_as(event, SimpleMessage)
        request = model.message_as(event, CertificateRequest)
        renegotiating = (
            hello_request is not None
            and hello_request.msg_type == HandshakeType.hello_request
            and event.direction is Direction.SERVER
        )
        post_handshake = request is not None and request.post_handshake
        if renegotiating or post_handshake:
            yield make(
                RENEGOTIATION,
                f"the server sent {event.label} after the handshake: it asks for the client "
                "certificate only now (renegotiation / post-handshake authentication)",
                location=ctx.where(),
                evidence=[Evidence(f"{event.label} at {event.time:.3f} s", "after Finished")],
                fix=(
                    "a Java client does not offer TLS 1.3 post-handshake authentication, "
                    "so such a server refuses it (often HTTP 403): configure the server "
                    "to ask in the initial handshake, or let the client use TLS 1.2"
                    if post_handshake
                    else "send the HTTP request the server expects (--http-request PATH) and "
                    "make sure the client allows renegotiation; or configure the server "
                    "to ask for the certificate in the initial handshake"
                ),
            )
            return


def check_probe(attempt: Attempt, target: Target) -> list[Finding]:
    return RULES.run(ProbeContext(attempt, target))


@RULES.rule(TIMEOUT)
def timeout(ctx: ProbeContext) -> Iterator[Finding]:
    a, t = ctx.attempt, ctx.attempt.transcript
    if not a.timed_out or a.completed or t is None or not t.events:
        return
    last = t.events[-1]
    yield make(
        TIMEOUT,
        f"no answer from the server within {ctx.target.timeout:g} s after {model.event_label(last)}",
        location=ctx.where(),
        evidence=[Evidence(f"{model.event_label(last)} at {last.time:.3f} s", "the last message")],
        fix="raise --timeout if the server is slow; otherwise read the server's log",
    )


@RULES.rule(KEY_MISMATCH)
def unpresentable_entry(ctx: ProbeContext) -> Iterator[Finding]:
    """The entry Java would send has a key that is not its certificate's: OpenSSL refuses to
    send it, so the probe cannot show the server's answer — say what Java's would be."""
    alias = ctx.attempt.key_mismatch
    if alias is None:
        return
    yield make(
        KEY_MISMATCH,
        f"the private key of '{alias}' does not match its certificate: a Java client sends "
        "that certificate, signs the CertificateVerify with the other key, and the server "
        "answers decrypt_error; the probe could not present it (OpenSSL refuses the pair) and "
        "sent an empty Certificate instead",
        location=ctx.where(),
        evidence=[Evidence(f"keystore entry '{alias}'", "the key's public half differs from chain[0]'s")],
        fix=f"run `mtls-inspect keystore` on the store: import the CA reply made from this key's "
        f"CSR under alias '{alias}', or re-create the entry from the matching key and certificate",
    )


def with_java_verdict(findings: list[Finding], java: Finding) -> list[Finding]:
    """With --truststore, Java's verdict on the server chain is the one a Java client acts on:
    OpenSSL's own check (against --ca-file or the system store, and its host-name rules) is
    then no finding of its own; what it said travels as evidence on Java's verdict, so a
    difference between the two is visible without an error Java would never raise."""
    superseded = {CLIENT_REJECTED.code, NAME_MISMATCH.code}
    openssl_said = tuple(
        Evidence("OpenSSL's own check (not Java's)", f.summary) for f in findings if f.code in superseded
    )
    kept = [f for f in findings if f.code not in superseded]
    return [*kept, replace(java, evidence=(*java.evidence, *openssl_said))]
