"""Wire rules on how the handshake ended: a fatal alert (whose, and before or after the client's
certificate), or a connection reset or closed without one."""

from __future__ import annotations

from collections.abc import Iterator

from inspector.findings import Finding, Severity, make, register
from inspector.pki import certs as C
from inspector.rules import RuleSet
from inspector.rules.wire_context import WireContext
from parsers import model
from parsers.constants import scheme_name
from parsers.model import (
    Alert,
    Certificate,
    CertificateRequest,
    CertificateVerify,
    ClientHello,
    Direction,
    EncryptedRecords,
    HandshakeEvent,
    ServerHello,
    Transcript,
)

G = "wire"

CLIENT_REJECTED = register(
    "client-rejected-server-cert",
    Severity.ERROR,
    "The client rejected the server's certificate",
    """The client sent a fatal alert after the server's Certificate: the client does not trust the
    server's chain (unknown_ca), found it expired, or the name did not match. This is the other
    direction of authentication, not a client-certificate problem: fix the client's trust store
    (or the server's chain).""",
    G,
)


NEGOTIATION = register(
    "negotiation-failed",
    Severity.ERROR,
    "The handshake failed before any certificate exchange",
    """A fatal alert before the CertificateRequest means the peers could not agree on a protocol
    version, cipher suite or extension: not a mutual-TLS problem. protocol_version: no common TLS
    version; handshake_failure right after ClientHello: no common cipher suite or group.""",
    G,
)


RESET = register(
    "connection-reset",
    Severity.ERROR,
    "The connection was reset or closed without an alert",
    """A TCP RST (or FIN) in the middle of the handshake, without a TLS alert: a middlebox, a
    server that drops unauthenticated clients silently, or a crash. When it follows the client's
    certificate flight, the server most likely rejected the certificate without saying why.""",
    G,
)


ALERT_UNNAMED = register(
    "alert-unnamed",
    Severity.ERROR,
    "A fatal alert this tool cannot name",
    """A peer ended the handshake with a fatal alert whose description is not one TLS defines
    (a Java log's "UNKNOWN ALERT (200)"), or that could not be read. Which check failed is not
    known from here: it is not close_notify (never fatal), and not a version or cipher
    negotiation failure by itself. The sending side's log says why it refused.""",
    G,
)


REJECTED = register(
    "server-rejected-client-cert",
    Severity.ERROR,
    "The server rejected the client's certificate",
    """A fatal alert from the server after the client's Certificate / CertificateVerify: the
    alert names why (unknown_ca: issuer not trusted; bad_certificate: chain broken or policy;
    unsupported_certificate: key usage / EKU; certificate_expired; decrypt_error: the
    CertificateVerify signature did not verify; certificate_required / handshake_failure: none
    was sent; access_denied: valid but not authorised). In TLS 1.3 the alert arrives after the
    client's Finished, on its first read.""",
    G,
)

ALERT_MEANING = {
    "unknown_ca": "the server does not trust the issuer of the chain the client sent",
    "bad_certificate": "the chain is broken or unverifiable (order, missing intermediate, policy)",
    "unsupported_certificate": "the certificate's key usage / EKU is not acceptable for client auth",
    "certificate_expired": "a certificate in the client's chain is expired or not yet valid",
    "certificate_revoked": "the server found the certificate revoked (CRL/OCSP)",
    "certificate_unknown": "the server could not accept the certificate (unspecified)",
    "decrypt_error": "the CertificateVerify signature did not verify: key/certificate mismatch "
    "or an unsupported signature scheme",
    "certificate_required": "the server requires a client certificate and none was sent",
    "handshake_failure": "the server requires a client certificate (none acceptable was sent)",
    "access_denied": "the certificate is valid but not authorised (server-side ACL on the subject)",
    "illegal_parameter": "a field in the client's messages was not acceptable",
}


RULES: RuleSet[WireContext] = RuleSet()


@RULES.rule(NEGOTIATION, CLIENT_REJECTED, ALERT_UNNAMED)
def early_failures(ctx: WireContext) -> Iterator[Finding]:
    """Fatal alerts before the certificate exchange, and the client rejecting the server."""
    fatal = model.fatal_alert(ctx.t)
    if fatal is None:
        return
    alert = fatal.event
    before = ctx.t.events[: ctx.index_of(alert)]
    server_cert = model.any_of(before, Certificate, Direction.SERVER)
    requested = model.any_of(before, CertificateRequest)
    name = model.alert_name(fatal.message)
    if not model.alert_named(fatal.message):
        who = "server" if alert.direction is Direction.SERVER else "client"
        yield make(
            ALERT_UNNAMED,
            f"the {who} aborted with an alert this tool cannot name ({name}): which of its checks "
            "failed is not said here",
            location=ctx.where(),
            evidence=[ctx.ev(alert, f"fatal {name} from the {who}")],
            fix=f"read the {who}'s log for the reason it gives (its TLS library's own alert codes)",
        )
        return
    if (
        alert.direction is Direction.CLIENT
        and server_cert
        and not model.any_of(before, Certificate, Direction.CLIENT)
    ):
        yield make(
            CLIENT_REJECTED,
            f"the client aborted with {name} after the server's Certificate: it does not "
            "accept the server's chain — not a client-certificate problem",
            location=ctx.where(),
            evidence=[ctx.ev(alert, f"fatal {name} sent by the client")],
            fix="add the server's root CA to the client's trust store (keytool -importcert "
            "-trustcacerts -alias partner-root -file root.pem -keystore truststore.jks), "
            "or check the server's chain and host name",
        )
        return
    if not requested and not server_cert and not ctx.t.tls13:
        who = "server" if alert.direction is Direction.SERVER else "client"
        hello = ctx.t.client_hello
        versions = ", ".join(f"0x{v:04x}" for v in (hello.supported_versions if hello else ()))
        yield make(
            NEGOTIATION,
            f"the {who} aborted with {name} before any certificate was requested: "
            "version / cipher negotiation failed (not an mTLS problem)",
            location=ctx.where(),
            evidence=[
                ctx.ev(alert, f"fatal {name} from the {who}"),
                ctx.ev(
                    ctx.t.first(ClientHello),
                    f"client offered "
                    f"{len(hello.cipher_suites) if hello else 0} suites"
                    + (f", versions {versions}" if versions else ""),
                ),
            ],
            fix="align the TLS versions and cipher suites of client and server "
            "(e.g. openssl s_client -tls1_2 / -tls1_3 to see what the server takes)",
        )


@RULES.rule(REJECTED)
def server_rejected(ctx: WireContext) -> Iterator[Finding]:
    """A fatal server alert after the client's certificate flight."""
    fatal = model.fatal_alert(ctx.t)
    sent = ctx.client_certificate()
    if fatal is None or sent is None or fatal.direction is not Direction.SERVER:
        return
    alert = fatal.event
    if ctx.index_of(alert) < ctx.index_of(sent.event):
        return
    if not model.alert_named(fatal.message):
        return  # said by early_failures (alert-unnamed)
    name = fatal.message.name
    cert_event, cert = sent.event, sent.message
    what = (
        "an empty Certificate"
        if cert.empty
        else f"{C.short_dn(cert.chain[0].subject)} ({len(cert.chain)} certificate(s))"
        if cert.chain
        else f"{cert.undecodable} certificate(s) this tool could not read"
    )
    meaning = ALERT_MEANING.get(name, "see the alert's name")
    after = "CertificateVerify" if ctx.t.first(CertificateVerify, Direction.CLIENT) else "Certificate"
    fix = _rejection_fix(name)
    verify = model.first(ctx.t, CertificateVerify, Direction.CLIENT)
    if cert.empty and name not in ("certificate_required", "handshake_failure"):
        # nothing was sent, so nothing about a chain, a key or a signature can be the reason:
        # the alert is this server's way of saying a certificate is required
        meaning = (
            f"no certificate was sent, so {name} here means the server requires one (servers "
            "name a missing certificate with various alerts)"
        )
        fix = _rejection_fix("certificate_required")
    elif name == "decrypt_error":
        meaning += " (it came right after the client's CertificateVerify)"
        if verify is not None and verify.message.verified is False:
            meaning += "; the capture proves the mismatch: see client-signature-invalid"
        if verify is not None and verify.message.verified is True:
            meaning = (
                "yet the client's CertificateVerify verifies with its certificate's key (checked from "
                "the capture): the client is right, look at the server — a scheme it offered but "
                f"cannot verify ({scheme_name(verify.message.algorithm)}), a broken RSA-PSS "
                "implementation, a hardware module's quirk"
            )
            fix = (
                f"the client's key and certificate match: ask the server's team why it rejects "
                f"{scheme_name(verify.message.algorithm)} signatures (its log), or restrict the client "
                "to another scheme the server lists (Java: jdk.tls.client.SignatureSchemes)"
            )
    yield make(
        REJECTED,
        f"the server answered {what} with a fatal {name} alert: {meaning}",
        location=ctx.where(),
        evidence=[
            ctx.ev(cert_event, f"client sent {what}"),
            ctx.ev(
                alert,
                f"fatal {name} from the server, after the client's {after}"
                + (" (TLS 1.3: after the client's Finished)" if ctx.t.tls13 else ""),
            ),
        ],
        fix=fix,
    )


def _rejection_fix(name: str) -> str:
    return {
        "unknown_ca": "send the full chain (leaf + intermediates) and make sure the server trusts "
        "your root; compare its CA names with your chain's issuers",
        "certificate_expired": "renew the client certificate and re-import the reply",
        "unsupported_certificate": "reissue with extendedKeyUsage clientAuth and keyUsage digitalSignature",
        "bad_certificate": "check the chain order and completeness: mtls-inspect keystore KEYSTORE",
        "decrypt_error": "check the private key matches the certificate (mtls-inspect keystore) and "
        "that the signature scheme is one the server accepts",
        "certificate_required": "configure the client certificate; see why it was not sent",
        "handshake_failure": "configure the client certificate; see why it was not sent",
        "access_denied": "ask the server's team to authorise the certificate's subject",
    }.get(name, "read the server's log for the reason it gives")


@RULES.rule(RESET)
def reset(ctx: WireContext) -> Iterator[Finding]:
    """RST/FIN during the handshake without any alert."""
    t = ctx.t
    if t.handshake_done or model.fatal_alert(t) is not None or not t.events:
        return
    if t.reset_by is None and not t.fin_by:
        return
    if not _says_it_was_mid_handshake(t):
        return
    who = t.reset_by or t.fin_by[0]
    how = "reset (RST)" if t.reset_by is not None else "closed (FIN)"
    last = t.events[-1]
    after_cert = model.any_of(t.messages(Certificate), Certificate, Direction.CLIENT)
    yield make(
        RESET,
        f"the {who.value} {how} the connection during the handshake, after {model.event_label(last)}, "
        "without a TLS alert"
        + (
            ": the server likely rejected the client certificate silently"
            if after_cert and who is Direction.SERVER
            else ""
        ),
        location=ctx.where(),
        evidence=[ctx.ev(last, f"last message before the {how}")],
        fix="read the server's (or the middlebox's) log around this time; retry with "
        "mtls-inspect probe to see the server's answer directly",
        inference=after_cert,
    )


def _says_it_was_mid_handshake(t: Transcript) -> bool:
    """The evidence shows a handshake cut short without an alert: a hello was captured (a
    capture that starts later cannot tell a handshake from a session's middle), no alert was
    sent (an encrypted one may be fatal or close_notify: it is an alert either way), and in
    TLS 1.3 without keys neither did the server send anything after the client's encrypted
    flight (the handshake then most likely completed) nor does a 19-byte record (an alert's
    size) end the exchange."""
    if t.first(ClientHello) is None and t.first(ServerHello) is None:
        return False
    if any(isinstance(e.message, Alert) for e in t.events):
        return False
    if t.tls13 and not t.decrypted:
        last = t.events[-1].message
        if isinstance(last, EncryptedRecords) and last.sizes and last.sizes[-1] == 19:
            return False
        flight = next(model.every(t.messages(EncryptedRecords), EncryptedRecords, Direction.CLIENT), None)
        if flight is not None:
            after = t.events[_index_in(t, flight.event) + 1 :]
            server = Direction.SERVER
            if any(e.direction is server and isinstance(e.message, EncryptedRecords) for e in after):
                return False
    return True


def _index_in(t: Transcript, event: HandshakeEvent) -> int:
    return next(i for i, e in enumerate(t.events) if e is event)
