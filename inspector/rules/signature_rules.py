"""Wire rules on the handshake's signatures as checked from the capture (parsers.signatures): the
client's CertificateVerify (does it verify, was its scheme offered) and the server's."""

from __future__ import annotations

from collections.abc import Iterator

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from inspector.findings import Finding, Severity, make, register
from inspector.pki import certs as C
from inspector.rules import RuleSet
from inspector.rules.wire_context import WireContext
from parsers import model
from parsers.constants import scheme_name
from parsers.model import (
    Certificate,
    CertificateVerify,
    Direction,
    ServerKeyExchange,
)

G = "wire"

CLIENT_SIGNATURE_INVALID = register(
    "client-signature-invalid",
    Severity.ERROR,
    "The client's CertificateVerify does not verify with its certificate's key",
    """The client's CertificateVerify is a signature over the handshake made with the private key
    the client used; the certificate it sent carries the public key that should verify it. Checked
    from the capture, it does not: the key that signed is not the certificate's key. A Java
    keystore entry whose certificate was replaced by one issued for another key (a CA reply
    imported onto the wrong alias, a PKCS#12 assembled from mismatched files) does exactly this:
    Java sends the certificate, signs with the entry's key, and the server answers decrypt_error.
    Put the certificate on the entry that holds its key (or re-export the PKCS#12 from the
    matching key and certificate).""",
    G,
)


CLIENT_SCHEME_NOT_OFFERED = register(
    "client-signature-scheme-not-offered",
    Severity.ERROR,
    "The client signed with a scheme the server did not offer",
    """The CertificateVerify names a signature scheme that is not among the signature_algorithms
    of the server's CertificateRequest. A conforming server rejects it (decrypt_error,
    illegal_parameter or handshake_failure) even when the signature itself is good. Restrict the
    client's schemes (Java: jdk.tls.client.SignatureSchemes) to ones the server lists, or ask the
    server to accept the one the client's key needs.""",
    G,
)


SERVER_SIGNATURE_INVALID = register(
    "server-signature-invalid",
    Severity.ERROR,
    "The server's signature does not verify with its certificate's key",
    """The server's ServerKeyExchange (TLS 1.2) or CertificateVerify (TLS 1.3) signature, checked
    from the capture, does not verify with the public key of the certificate the server sent:
    the server's key and certificate do not belong together, or something between the peers
    rewrote the handshake. A client rejects this handshake (decrypt_error); fix the server's
    key/certificate pair.""",
    G,
)

RULES: RuleSet[WireContext] = RuleSet()


@RULES.rule(CLIENT_SIGNATURE_INVALID, CLIENT_SCHEME_NOT_OFFERED, SERVER_SIGNATURE_INVALID)
def signatures(ctx: WireContext) -> Iterator[Finding]:
    """The handshake's signatures as checked from the wire (parsers.signatures): one rule, so a
    capture of thousands of good handshakes pays one quick look per connection."""
    t = ctx.t
    signed = (
        t.messages(CertificateVerify) + t.messages(ServerKeyExchange)
        if t.first(CertificateVerify) or t.first(ServerKeyExchange)
        else []
    )
    if not any(
        isinstance(e.message, (CertificateVerify, ServerKeyExchange))
        and (e.message.verified is False or e.message.scheme_offered is False)
        for e in signed
    ):
        return
    yield from client_signature_invalid(ctx)
    yield from client_scheme_not_offered(ctx)
    yield from server_signature_invalid(ctx)


def client_signature_invalid(ctx: WireContext) -> Iterator[Finding]:
    """The client's CertificateVerify, checked from the wire, does not verify."""
    # the transcript's index by message type: this runs for every connection of a capture
    for seen in model.every(ctx.t.messages(CertificateVerify, Direction.CLIENT), CertificateVerify):
        cv = seen.message
        if cv.verified is not False:
            continue
        sent = ctx.client_certificate()
        leaf = sent.message.chain[0] if sent is not None and sent.message.chain else None
        if cv.scheme_fits_key is False:
            summary = (
                f"the client signed with {scheme_name(cv.algorithm)}, which its certificate's key "
                f"cannot make: {cv.unchecked}"
            )
            fact, fix = (
                "",
                "sign with a scheme that fits the key (an RSASSA-PSS key only makes rsa_pss_pss_*, "
                "an rsaEncryption key rsa_pss_rsae_* or rsa_pkcs1_*)",
            )
        else:
            fact, fix = _keystore_pairing(ctx, leaf) if leaf is not None else ("", "")
            summary = (
                "the client's CertificateVerify does not verify with the public key of the certificate "
                f"it sent{' (' + C.short_dn(leaf.subject) + ')' if leaf is not None else ''}: "
                "the private key that signed is not that certificate's key" + fact
            )
        evidence = [
            ctx.ev(
                seen.event,
                f"{_scheme(cv.algorithm)} signature: {cv.unchecked or 'does not verify'}",
            )
        ]
        if sent is not None:
            evidence.insert(0, ctx.ev(sent.event, "the certificate whose key should verify it"))
        yield make(CLIENT_SIGNATURE_INVALID, summary, location=ctx.where(), evidence=evidence, fix=fix)
        return


def client_scheme_not_offered(ctx: WireContext) -> Iterator[Finding]:
    """The CertificateVerify's scheme is not in the CertificateRequest's signature_algorithms."""
    seen = model.first(ctx.t, CertificateVerify, Direction.CLIENT)
    request = ctx.request()
    if seen is None or seen.message.scheme_offered is not False or request is None:
        return
    name = scheme_name(seen.message.algorithm)
    offered = ", ".join(scheme_name(x) for x in request.message.signature_algorithms[:12])
    yield make(
        CLIENT_SCHEME_NOT_OFFERED,
        f"the client signed its CertificateVerify with {name}, which the server's CertificateRequest "
        "does not list",
        location=ctx.where(),
        evidence=[
            ctx.ev(request.event, f"signature_algorithms: {offered}"),
            ctx.ev(seen.event, f"signed with {name}"),
        ],
        fix=f"limit the client to schemes the server lists (Java: -Djdk.tls.client.SignatureSchemes="
        f"{_java_list(request.message.signature_algorithms)}), or ask the server to accept {name}",
    )


def _scheme(algorithm: int | None) -> str:
    return scheme_name(algorithm) if algorithm else "TLS 1.0/1.1"


def _java_list(schemes: tuple[int, ...]) -> str:
    return ",".join(scheme_name(x) for x in schemes[:4] if not scheme_name(x).startswith("0x"))


def server_signature_invalid(ctx: WireContext) -> Iterator[Finding]:
    """The server's ServerKeyExchange / CertificateVerify does not verify with its certificate."""
    t = ctx.t
    for event in t.messages(ServerKeyExchange, Direction.SERVER) + t.messages(
        CertificateVerify, Direction.SERVER
    ):
        m = event.message
        if not isinstance(m, (CertificateVerify, ServerKeyExchange)) or m.verified is not False:
            continue
        leaf = model.first(ctx.t, Certificate, Direction.SERVER)
        subject = (
            f" ({C.short_dn(leaf.message.chain[0].subject)})"
            if leaf is not None and leaf.message.chain
            else ""
        )
        yield make(
            SERVER_SIGNATURE_INVALID,
            f"the server's {event.label} signature does not verify with the public key of the "
            f"certificate it sent{subject}: "
            + (m.unchecked or "its key and certificate do not belong together"),
            location=ctx.where(),
            evidence=[ctx.ev(event, f"{_scheme(m.algorithm)} signature")],
            fix="fix the server's key/certificate pair (or look for a TLS-intercepting device "
            "between the peers)",
        )
        return


def _public_der(key: object) -> bytes | None:
    public = getattr(key, "public_key", None)
    target = public() if callable(public) else key
    try:
        return target.public_bytes(  # type: ignore[no-any-return,union-attr]
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    except (AttributeError, ValueError, TypeError):
        return None


def _keystore_pairing(ctx: WireContext, leaf: x509.Certificate) -> tuple[str, str]:
    """What the keystore says about the certificate the client sent: (fact, fix)."""
    generic_fix = (
        "put the certificate on the entry that holds its private key (keytool -importcert -alias "
        "ALIAS -file reply.pem onto the alias whose key made the CSR), or rebuild the PKCS#12 from "
        "the matching pair (openssl pkcs12 -export -inkey KEY -in CERT); check with "
        "mtls-inspect keystore KEYSTORE"
    )
    if ctx.store is None:
        return "", generic_fix
    holders = [e for e in ctx.store.key_entries if e.chain and e.chain[0] == leaf]
    if not holders:
        return (
            "; no entry of the keystore given holds this certificate: the client used another keystore",
            generic_fix,
        )
    entry = holders[0]
    cert_key = _public_der(leaf.public_key())
    entry_key = _public_der(entry.private_key) if entry.private_key is not None else None
    if entry_key is None:
        return (
            f"; the keystore's entry '{entry.alias}' holds this certificate (its key is not readable)",
            generic_fix,
        )
    if entry_key != cert_key:
        return (
            f"; the keystore's entry '{entry.alias}' holds this certificate with a private key that "
            "is not its key — the one that signed",
            f"entry '{entry.alias}': re-import the certificate issued for this entry's key (keytool "
            f"-importcert -alias {entry.alias} -file reply.pem with the reply to this entry's CSR), "
            "or replace the entry with the matching key and certificate",
        )
    return (
        f"; the keystore's entry '{entry.alias}' pairs this certificate with its own key: the client "
        "of this capture signed with another key than this keystore's",
        "check which keystore (and which key) the client really loads (-Djavax.net.ssl.keyStore)",
    )
