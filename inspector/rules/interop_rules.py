"""Wire rules on what one peer sends that another refuses although the handshake goes on: a
ServerHello without secure renegotiation, certificates only a lenient reader takes."""

from __future__ import annotations

from collections.abc import Iterator

from inspector.findings import Finding, Severity, make, register
from inspector.pki import certs as C
from inspector.rules import RuleSet
from inspector.rules.keystore_cert_rules import CERT_NONSTANDARD, CERT_UNREADABLE
from inspector.rules.wire_context import WireContext
from parsers import model
from parsers.model import (
    Certificate,
    Direction,
    ServerHello,
)

G = "wire"

LEGACY_RENEGOTIATION = register(
    "server-no-secure-renegotiation",
    Severity.WARNING,
    "The server does not support secure renegotiation (RFC 5746)",
    """Its TLS 1.2 ServerHello carries no renegotiation_info extension. OpenSSL 3 clients (curl,
    openssl s_client, Python) refuse to connect ("unsafe legacy renegotiation disabled"); a Java
    client connects (sun.security.ssl.allowLegacyHelloMessages is true by default) but will not
    renegotiate with it — so a server that asks for the client certificate by renegotiating
    (IIS-style, after the request) can never get one from Java. The probe connects as Java does.
    The server's TLS stack predates 2010: it needs updating.""",
    G,
)

RULES: RuleSet[WireContext] = RuleSet()


@RULES.rule(LEGACY_RENEGOTIATION)
def legacy_renegotiation(ctx: WireContext) -> Iterator[Finding]:
    """A TLS 1.2 ServerHello without renegotiation_info: what OpenSSL and Java each do."""
    hello = model.first(ctx.t, ServerHello, Direction.SERVER)
    if hello is None or hello.message.secure_renegotiation or hello.message.hello_retry_request:
        return
    yield make(
        LEGACY_RENEGOTIATION,
        "the server answered without renegotiation_info (RFC 5746): curl and other OpenSSL 3 "
        "clients refuse to connect; a Java client connects but will not renegotiate with it",
        location=ctx.where(),
        evidence=[ctx.ev(hello.event, "no renegotiation_info extension in the ServerHello")],
        fix="update the server's TLS stack (secure renegotiation is RFC 5746, 2010); a client that "
        "must connect meanwhile: openssl -legacy_server_connect, curl built with it",
    )


@RULES.rule(CERT_UNREADABLE, CERT_NONSTANDARD)
def wire_certificate_encoding(ctx: WireContext) -> Iterator[Finding]:
    """Certificates on the wire a strict parser refuses (read leniently) or Java-style non-standard."""
    for seen in model.every(ctx.t.messages(Certificate), Certificate):
        who = "client" if seen.direction is Direction.CLIENT else "server"
        for position, note in seen.message.notes:
            subject = C.dn(seen.message.chain[position].subject)
            malformed = note.startswith("malformed: ")
            yield make(
                CERT_UNREADABLE if malformed else CERT_NONSTANDARD,
                f"the {who}'s certificate [{position}] {subject} "
                + (
                    f"is malformed ({note.removeprefix('malformed: ')}); shown as far as it could be read"
                    if malformed
                    else f"has a non-standard encoding: {note}"
                ),
                location=ctx.where(),
                evidence=[ctx.ev(seen.event, note)],
                fix="have the certificate reissued by its CA (a strict peer may refuse it)"
                if malformed
                else "nothing needed",
            )
