"""Wire rules on the server's CertificateRequest and the client's answer to it: no request, an
empty Certificate and why (with the keystore: which entry a Java client would pick), the chain that
was sent, and the requests a Java client aborts on or cannot sign for."""

from __future__ import annotations

from collections.abc import Iterator

from inspector.findings import Evidence, Finding, Location, Severity, make, register
from inspector.java.key_managers import CaRequest, Reason, allowed_key_types, canonical_dn, java_aborts
from inspector.java.versions import JavaProfile, profile
from inspector.pki import certs as C
from inspector.pki.x500 import CanonicalName
from inspector.rules import RuleSet
from inspector.rules.keystore_cert_rules import NOT_YET_VALID
from inspector.rules.keystore_load_rules import KEY_PASSWORD
from inspector.rules.wire_context import WireContext, ca_names_text
from parsers import model
from parsers.constants import CERTIFICATE_TYPES, scheme_name
from parsers.message_memo import MessageMemo
from parsers.model import (
    Certificate,
    CertificateRequest,
    HandshakeEvent,
    ServerHello,
)

G = "wire"

NO_REQUEST = register(
    "no-certificate-request",
    Severity.WARNING,
    "The server never asked for a client certificate",
    """The handshake has no CertificateRequest: this server (or whatever terminated TLS in front
    of it) is not set up for mutual TLS on this port, or it asks later — by TLS 1.2
    renegotiation or TLS 1.3 post-handshake authentication, both inside the encrypted channel
    (a key log shows them). Check the port, the load balancer, and the server's client-auth
    setting.""",
    G,
)


RESUMED = register(
    "session-resumed",
    Severity.INFO,
    "A resumed session: no certificate exchange in it",
    """An abbreviated handshake (TLS 1.2 session id or ticket, TLS 1.3 pre-shared key) skips
    Certificate and CertificateRequest: the client was authenticated in the full handshake that
    created the session, which is where to look (earlier in the capture, or before it
    started).""",
    G,
)


NOT_SENT = register(
    "client-cert-not-sent",
    Severity.ERROR,
    "The client answered with an empty Certificate",
    """The server asked for a certificate and the client sent none. A Java client does this when
    no key entry matches the request (issuer not among the CA names, unsuitable key type, a key
    password that differs); OpenSSL-based clients when no certificate is configured or its key
    cannot sign with any accepted signature algorithm.""",
    G,
)


ISSUER_NOT_LISTED = register(
    "issuer-not-in-ca-list",
    Severity.ERROR,
    "No certificate issuer is among the server's CA names",
    """A Java (JSSE) client sends a key entry only if the issuer of some certificate in the entry's
    stored chain is one of the CA names in the CertificateRequest; otherwise it sends an empty
    Certificate ("No X.509 certificate for client authentication"). openssl s_client and curl send
    the configured certificate anyway, which is why "curl works, Java does not".""",
    G,
)


KEY_TYPE = register(
    "no-acceptable-key-type",
    Severity.ERROR,
    "The client's key type is not accepted by the request",
    """TLS 1.2 CertificateRequest lists certificate_types (rsa_sign, ecdsa_sign, ...) and
    signature_algorithms; TLS 1.3 lists signature_algorithms only (RSA keys must sign with
    RSA-PSS, DSA is never allowed). A key that fits none of them cannot be used: the client sends
    an empty Certificate.""",
    G,
)


CA_LIST_EMPTY = register(
    "ca-list-empty",
    Severity.WARNING,
    "The server sent an empty CA list",
    """A CertificateRequest with no CA names lets a Java client pick any key entry; with several
    entries the choice is not predictable and may be the wrong one. (Windows Schannel truncates
    long lists, which then match nothing.) Ask the server to name its trusted CAs, or keep one
    key entry in the keystore.""",
    G,
)


JAVA_ABORTS_REQUEST = register(
    "java-rejects-request",
    Severity.ERROR,
    "A Java client ends the handshake on this CertificateRequest by itself",
    """Java refuses some requests before its key manager is asked: one longer than
    jdk.tls.maxHandshakeMessageSize (32768 bytes by default — a server naming hundreds of CAs),
    or a TLS 1.3 certificate_authorities extension that is present but empty. Raise the limit
    on the client (-Djdk.tls.maxHandshakeMessageSize=65536), or fix the server's CA list.""",
    G,
)


JAVA_CANNOT_SIGN = register(
    "java-no-certificate-verify-scheme",
    Severity.ERROR,
    "Java would choose a key entry it then cannot sign with",
    """JSSE picks the entry by key type (RSA, EC, ...) and only then looks for a
    CertificateVerify scheme: an EC key on P-384 against a server offering only
    ecdsa_secp256r1_sha256 (or a key whose scheme the server left out) is chosen, and the
    handshake ends with "No supported CertificateVerify signature algorithm". Use a key the
    server's signature algorithms cover, or have the server add the scheme.""",
    G,
)


CLIENT_CHAIN_INCOMPLETE = register(
    "client-chain-incomplete",
    Severity.ERROR,
    "The client sent its leaf without the intermediate",
    """The client's Certificate carries only the leaf, whose issuer is not among the server's CA
    names: the server needs the intermediate to build a path to a CA it trusts and answers
    unknown_ca. Put the intermediate into the key entry's chain (re-import the CA reply as a full
    chain).""",
    G,
)


CLIENT_EXPIRED = register(
    "client-cert-expired",
    Severity.ERROR,
    "The client sent an expired certificate",
    """The certificate the client sent was outside its validity period at the time of the
    capture. Java sends it all the same; the server answers certificate_expired (or, nginx,
    HTTP 400). Renew it and re-import the reply.""",
    G,
)

RULES: RuleSet[WireContext] = RuleSet()


@RULES.rule(NO_REQUEST, RESUMED)
def no_request(ctx: WireContext) -> Iterator[Finding]:
    """A visible, complete handshake without CertificateRequest (a resumed one is normal)."""
    if ctx.request() is not None or ctx.t.server_hello is None:
        return
    if ctx.t.resumed:
        yield make(
            RESUMED,
            "session resumed: the client certificate, if any, was checked in "
            "the handshake that created the session",
            location=ctx.where(),
            evidence=[ctx.ev(ctx.t.first(ServerHello), "abbreviated handshake")],
            fix="look at the full handshake that created this session",
        )
        return
    if ctx.t.tls13 and not ctx.t.decrypted:
        return  # not observable: handshake-encrypted-no-keylog says so
    if not ctx.t.handshake_done:
        return
    yield make(
        NO_REQUEST,
        "the handshake completed without a CertificateRequest: the server did not ask for "
        "a client certificate",
        location=ctx.where(),
        evidence=[ctx.ev(ctx.t.first(ServerHello), "no CertificateRequest follows")],
        fix="check the port and whether TLS ends at a load balancer; on the server enable "
        "client auth (nginx: ssl_verify_client on; ssl_client_certificate ca.pem)",
    )


@RULES.rule(NOT_SENT, ISSUER_NOT_LISTED, KEY_TYPE, KEY_PASSWORD)
def empty_certificate(ctx: WireContext) -> Iterator[Finding]:
    """The client's Certificate is empty: say why, with the keystore when we have it."""
    found, sent = ctx.request(), ctx.client_certificate()
    if found is None or sent is None or not sent.message.empty:
        return
    req_event, req = found.event, found.message
    cert_event = sent.event
    yield make(
        NOT_SENT,
        f"the server asked for a certificate (CA names: {ca_names_text(req)}) and the "
        "client sent an empty Certificate",
        location=ctx.where(),
        evidence=[
            ctx.ev(req_event, f"{len(req.ca_names)} CA name(s): {ca_names_text(req)}"),
            ctx.ev(cert_event, "no certificates"),
        ],
        fix=(
            "see the findings below for the cause"
            if ctx.store is not None
            else "rerun with the client's keystore to see which key entry a Java client would "
            f"pick and why none fits: mtls-inspect {ctx.command} {ctx.file or 'FILE'} "
            "--keystore KEYSTORE" + (f" --connection {ctx.t.index}" if ctx.command == "pcap" else "")
        ),
    )
    yield from _why_not_sent(ctx, req_event, req)


def _why_not_sent(ctx: WireContext, req_event: HandshakeEvent, req: CertificateRequest) -> Iterator[Finding]:
    allowed, why = allowed_key_types(CaRequest.from_message(req, ""))
    sel = ctx.selection
    if sel is None:
        if "RSA" not in allowed:
            schemes = ", ".join(scheme_name(s) for s in req.signature_algorithms[:6])
            yield make(
                KEY_TYPE,
                f"the request admits only {', '.join(sorted(allowed)) or 'no'} keys: an RSA "
                "client certificate (the usual kind) cannot be used",
                location=ctx.where(),
                evidence=[
                    ctx.ev(
                        req_event,
                        f"signature_algorithms: {schemes}; "
                        f"certificate_types: "
                        + ", ".join(CERTIFICATE_TYPES.get(t, str(t)) for t in req.certificate_types),
                    )
                ],
                fix="reissue the client certificate with an accepted key type "
                "(keytool -genkeypair -keyalg EC -groupname secp256r1 ...), or ask the "
                "server to accept RSA signatures",
                inference=True,
            )
        return
    for cand in sel.candidates:
        if Reason.KEY_PASSWORD in cand.codes and ctx.store:
            yield make(
                KEY_PASSWORD,
                f"key entry '{cand.alias}' has its own key password: a Java client's "
                "PKIX key manager skips it (empty Certificate), SunX509 fails at start-up",
                location=Location(file=ctx.file, connection=ctx.t.index, alias=cand.alias),
                evidence=[
                    Evidence(f"keystore entry '{cand.alias}'", "the store password does not open its key")
                ],
                fix=f"keytool -keypasswd -alias {cand.alias} -keystore {ctx.store.path}   "
                "(set the key password to the store password)",
            )
        by_code = dict(zip(cand.codes, cand.reasons, strict=True))
        key_reason = by_code.get(Reason.KEY_TYPE)
        issuer_reason = by_code.get(Reason.ISSUER_NOT_NAMED)
        store = str(ctx.store.path) if ctx.store else "KEYSTORE"
        if key_reason:
            yield make(
                KEY_TYPE,
                f"key entry '{cand.alias}': {key_reason}",
                location=Location(file=ctx.file, connection=ctx.t.index, alias=cand.alias),
                evidence=[
                    ctx.ev(req_event, why),
                    Evidence(f"keystore entry '{cand.alias}'", f"key type {cand.key_type}"),
                ],
                fix="reissue with an accepted key type (e.g. keytool -genkeypair -keyalg EC "
                "-groupname secp256r1), or have the server accept this one",
            )
        if issuer_reason:
            entry = next(e for e in ctx.store.key_entries if e.alias == cand.alias) if ctx.store else None
            issuers = "; ".join(dict.fromkeys(C.dn(c.issuer) for c in entry.chain)) if entry else "?"
            top = C.dn(entry.chain[-1].issuer) if entry and entry.chain else "your root CA"
            yield make(
                ISSUER_NOT_LISTED,
                f"the server asks for certificates issued by {ca_names_text(req)}; key "
                f"entry '{cand.alias}' has none (its chain's issuers: {issuers}), so a Java "
                "client sends an empty Certificate",
                location=Location(file=ctx.file, connection=ctx.t.index, alias=cand.alias),
                evidence=[
                    ctx.ev(req_event, f"CA names: {ca_names_text(req)}"),
                    Evidence(f"keystore entry '{cand.alias}'", issuer_reason),
                ],
                fix=(
                    f"store the full chain in '{cand.alias}' (re-import the CA reply with "
                    f"its intermediates: keytool -importcert -alias {cand.alias} -file "
                    f"reply-chain.p7b -keystore {store}) if a named CA is above it; "
                    f"otherwise ask the server's team to trust and name {top}, or use a "
                    "certificate from a CA the server names"
                ),
            )


@RULES.rule(ISSUER_NOT_LISTED, CLIENT_CHAIN_INCOMPLETE, CLIENT_EXPIRED, NOT_YET_VALID)
def sent_chain(ctx: WireContext) -> Iterator[Finding]:
    """The chain the client did send, against the CA names and the capture's time."""
    found, sent = ctx.request(), ctx.client_certificate()
    if sent is None or not sent.message.chain:  # none sent, or none of it readable
        return
    cert_event, cert = sent.event, sent.message
    leaf = cert.chain[0]
    yield from _chain_dates(ctx, cert_event, cert)
    if found is None:
        return
    req_event, req = found.event, found.message
    if not req.ca_names:
        return
    if _names_requested(req).isdisjoint(_issuers_sent(cert)):
        yield make(
            ISSUER_NOT_LISTED,
            f"the client sent {C.short_dn(leaf.subject)} although no certificate in it is "
            f"issued by a CA the server names ({ca_names_text(req)}): OpenSSL/curl send "
            "it anyway, a Java client would have sent an empty Certificate",
            location=ctx.where(),
            evidence=[
                ctx.ev(req_event, f"CA names: {ca_names_text(req)}"),
                ctx.ev(
                    cert_event, "issuers: " + "; ".join(dict.fromkeys(C.dn(c.issuer) for c in cert.chain))
                ),
            ],
            fix="use a client certificate from a CA the server names, or have the server "
            "trust (and name) your CA",
            severity=Severity.WARNING,
        )
        if len(cert.chain) == 1 and leaf.issuer != leaf.subject:
            accepted = ctx.t.handshake_done and model.fatal_alert(ctx.t) is None
            yield make(
                CLIENT_CHAIN_INCOMPLETE,
                f"the client sent only its leaf {C.short_dn(leaf.subject)}; its issuer "
                f"{C.dn(leaf.issuer)} is not among the server's CA names, so the server "
                "needs the intermediate, which was not sent"
                + (
                    "; this server completed the handshake (it has the intermediate "
                    "itself), stricter ones answer unknown_ca"
                    if accepted
                    else ""
                ),
                location=ctx.where(),
                severity=Severity.WARNING if accepted else None,
                evidence=[
                    ctx.ev(cert_event, "1 certificate, issued by " + C.dn(leaf.issuer)),
                    ctx.ev(req_event, f"CA names: {ca_names_text(req)}"),
                ],
                fix="store the intermediate in the key entry's chain: keytool -importcert "
                "-alias <alias> -file reply-chain.p7b -keystore <keystore> "
                "(openssl s_client: -cert_chain intermediate.pem)",
            )


def _requested_names(req: CertificateRequest) -> frozenset[CanonicalName]:
    return frozenset(canonical_dn(n.der) for n in req.ca_names)


def _sent_issuers(cert: Certificate) -> frozenset[CanonicalName]:
    return frozenset(canonical_dn(c.issuer.public_bytes()) for c in cert.chain)


#: per decoded message (shared by the connections that sent the same bytes)
_names_requested = MessageMemo(_requested_names)
_issuers_sent = MessageMemo(_sent_issuers)


def _chain_dates(ctx: WireContext, cert_event: HandshakeEvent, cert: Certificate) -> Iterator[Finding]:
    """Each certificate the client sent outside its validity at the capture's time."""
    for i, c in enumerate(cert.chain):
        state = C.validity_state(c, ctx.when)
        if state == "not-yet-valid":  # clock skew, or issued for the future: renewing does not help
            yield make(
                NOT_YET_VALID,
                f"the client sent {C.short_dn(c.subject)} (chain[{i}]), valid "
                f"{c.not_valid_before_utc.date()} .. {c.not_valid_after_utc.date()}: not yet valid at "
                f"the capture's time {ctx.when.isoformat(timespec='seconds')} — a clock skew, or a "
                "certificate issued for the future",
                location=Location(file=ctx.file, connection=ctx.t.index, position=i),
                evidence=[
                    ctx.ev(cert_event, f"chain[{i}] {C.dn(c.subject)}"),
                    Evidence("notBefore", c.not_valid_before_utc.isoformat(timespec="seconds")),
                ],
                fix="check the clocks (the server's, and the issuing CA's: timedatectl, NTP); or wait "
                "until notBefore — renewing the certificate does not help",
            )
        elif state != "valid":
            yield make(
                CLIENT_EXPIRED,
                f"the client sent {C.short_dn(c.subject)} (chain[{i}]), valid "
                f"{c.not_valid_before_utc.date()} .. {c.not_valid_after_utc.date()}, "
                f"outside its validity at the capture's time {ctx.when.date()}",
                location=Location(file=ctx.file, connection=ctx.t.index, position=i),
                evidence=[ctx.ev(cert_event, f"chain[{i}] {C.dn(c.subject)}")],
                fix="renew the certificate (keytool -certreq ..., have it signed, re-import "
                "the reply under the key entry's alias)",
            )


def _java_aborts_now(req: CertificateRequest) -> tuple[JavaProfile, str | None]:
    java = profile()
    return java, java_aborts(CaRequest.from_message(req, ""), java)


_java_aborts_memo = MessageMemo(_java_aborts_now)


def _java_aborts(req: CertificateRequest) -> str | None:
    """java_aborts for the request, once per decoded message and Java profile."""
    java, said = _java_aborts_memo(req)
    return said if java is profile() else _java_aborts_now(req)[1]


@RULES.rule(JAVA_ABORTS_REQUEST)
def java_rejects_request(ctx: WireContext) -> Iterator[Finding]:
    """Requests a Java client aborts on by itself (size limit, empty TLS 1.3 CA extension)."""
    found = ctx.request()
    if found is None:
        return
    event, req = found.event, found.message
    said = _java_aborts(req)
    if said:
        yield make(
            JAVA_ABORTS_REQUEST,
            f"a Java client would not answer this request: {said}",
            location=ctx.where(),
            evidence=[ctx.ev(event, f"{len(req.ca_names)} CA names")],
            fix="java -Djdk.tls.maxHandshakeMessageSize=65536 ... (size), or have the server send "
            "fewer CA names / no empty certificate_authorities extension",
        )


@RULES.rule(JAVA_CANNOT_SIGN)
def java_cannot_sign(ctx: WireContext) -> Iterator[Finding]:
    """The entry Java chooses has no CertificateVerify scheme (curve included)."""
    sel = ctx.selection
    found = ctx.request()
    if sel is None or found is None:
        return
    said = sel.pkix_aborts or sel.sunx509_aborts
    if said:
        who = (
            "PKIX and SunX509"
            if sel.pkix_aborts and sel.sunx509_aborts
            else "PKIX"
            if sel.pkix_aborts
            else "SunX509"
        )
        yield make(
            JAVA_CANNOT_SIGN,
            f"a Java client ({who}) would choose {said}",
            location=ctx.where(),
            evidence=[
                ctx.ev(
                    found.event,
                    "signature_algorithms: "
                    + ", ".join(map(scheme_name, found.message.signature_algorithms)),
                )
            ],
            fix="use a key entry whose key the server's signature algorithms cover (e.g. EC P-256 for "
            "ecdsa_secp256r1_sha256), or have the server accept the key's scheme",
        )


@RULES.rule(CA_LIST_EMPTY)
def empty_ca_list(ctx: WireContext) -> Iterator[Finding]:
    """An empty CA list: Java may pick any key entry."""
    found = ctx.request()
    if found is None or found.message.ca_names:
        return
    event, req = found.event, found.message
    detail = (
        "no certificate_authorities extension"
        if req.tls13 and not req.ca_names_present
        else "an empty CA list"
    )
    pick = ""
    sel = ctx.selection
    if sel is not None and len(sel.candidates) > 1 and sel.pkix:
        pick = f"; with this keystore a PKIX client sends '{sel.pkix[0]}' ({sel.pkix_why})"
    yield make(
        CA_LIST_EMPTY,
        f"the CertificateRequest carries {detail}: a Java client accepts any key entry" + pick,
        location=ctx.where(),
        evidence=[ctx.ev(event, f"{len(req.ca_names)} CA names")],
        fix="ask the server to send its client CA names (nginx: ssl_client_certificate; "
        "openssl s_server: -CAfile without -no_ca_names), or keep one key entry",
    )
