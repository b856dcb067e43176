"""Wire rules: one transcript (the handshake, the CertificateRequest, the client's answer, the
server's verdict), optionally a keystore, → findings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from inspector.findings import Evidence, Finding, Location, Severity, make, register
from inspector.java.key_managers import (
    CaRequest,
    Reason,
    Selection,
    allowed_key_types,
    canonical_dn,
    java_aborts,
    select,
)
from inspector.keystore.model import Keystore
from inspector.pki import certs as C
from inspector.rules import RuleSet
from inspector.rules.keystore_rules import CERT_NONSTANDARD, CERT_UNREADABLE, KEY_PASSWORD, NOT_YET_VALID
from inspector.system.times import utc_from_timestamp
from parsers import model
from parsers.constants import CERTIFICATE_TYPES, scheme_name
from parsers.model import (
    Alert,
    Certificate,
    CertificateRequest,
    CertificateVerify,
    ClientHello,
    Direction,
    EncryptedRecords,
    HandshakeEvent,
    Seen,
    ServerHello,
    ServerKeyExchange,
    Transcript,
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
CHAIN_INCOMPLETE = register(
    "client-chain-incomplete",
    Severity.ERROR,
    "The client sent its leaf without the intermediate",
    """The client's Certificate carries only the leaf, whose issuer is not among the server's CA
    names: the server needs the intermediate to build a path to a CA it trusts and answers
    unknown_ca. Put the intermediate into the key entry's chain (re-import the CA reply as a full
    chain).""",
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
ENCRYPTED = register(
    "handshake-encrypted-no-keylog",
    Severity.INFO,
    "TLS 1.3 hides the certificate exchange; no key log was given",
    """TLS 1.3 encrypts CertificateRequest, Certificate, CertificateVerify and the alerts after
    the handshake. Without the client's key log (SSLKEYLOGFILE, NSS format) we infer from record
    sizes and order: an empty client Certificate is a 25-byte record, an alert a 19-byte one.
    Give --keylog FILE, or a pcapng with the secrets embedded (editcap --inject-secrets), to
    settle it.""",
    G,
)
INCOMPLETE = register(
    "capture-incomplete",
    Severity.WARNING,
    "The capture is missing part of the conversation",
    """Lost segments (gaps), a capture that starts mid-connection, packets cut by the snaplen,
    or a file truncated at the end: what is missing cannot be decoded, and a finding that depends
    on it would be a guess. Capture again with a larger snaplen (tcpdump -s 0) and from the
    start of the connection.""",
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


@dataclass(frozen=True)
class WireContext:
    t: Transcript
    store: Keystore | None = None
    file: str | None = None
    at: dt.datetime | None = None
    command: str = "pcap"  # which command the fix suggestions should name

    def where(self) -> Location:
        return Location(file=self.file, connection=self.t.index)

    def ev(self, event: HandshakeEvent | None, fact: str) -> Evidence:
        if event is None:
            return Evidence(f"connection #{self.t.index}", fact)
        frame = f", frame {event.frame}" if event.frame is not None else ""
        who = "client" if event.direction is Direction.CLIENT else "server"
        return Evidence(f"{model.event_label(event)} from {who} at {event.time:.3f} s{frame}", fact)

    @property
    def when(self) -> dt.datetime:
        return self.at or utc_from_timestamp(self.t.start_time or 0)


def _request(ctx: WireContext) -> Seen[CertificateRequest] | None:
    return model.first(ctx.t, CertificateRequest, Direction.SERVER)


def _client_cert(ctx: WireContext) -> Seen[Certificate] | None:
    return model.first(ctx.t, Certificate, Direction.CLIENT)


#: Before TLS 1.2 a request has no signature_algorithms: each certificate type signs its
#: CertificateVerify with SHA-1 (MD5+SHA-1 for RSA), as these schemes stand for (RFC 5246 7.4.1.4.1)
_LEGACY_SCHEMES = (0x0201, 0x0202, 0x0203)


def ca_request(req: CertificateRequest, source: str) -> CaRequest:
    return CaRequest(
        tls13=req.tls13,
        ca_names=tuple(n.der for n in req.ca_names),
        certificate_types=req.certificate_types,
        signature_algorithms=_LEGACY_SCHEMES if req.legacy else req.signature_algorithms,
        source=source,
        signature_algorithms_cert=req.signature_algorithms_cert,
        ca_names_present=req.ca_names_present,
    )


def selection_for(ctx: WireContext) -> Selection | None:
    found = _request(ctx)
    if found is None or ctx.store is None:
        return None
    return select(ctx.store, ca_request(found.message, ctx.ev(found.event, "").source), ctx.when)


def _ca_names_text(req: CertificateRequest) -> str:
    if not req.ca_names:
        return "no CA names"
    names = [n.text for n in req.ca_names]
    return "; ".join(names[:5]) + (f" (+{len(names) - 5} more)" if len(names) > 5 else "")


def _index_of(ctx: WireContext, event: HandshakeEvent) -> int:
    return next(i for i, e in enumerate(ctx.t.events) if e is event)


@RULES.rule(NEGOTIATION, CLIENT_REJECTED, ALERT_UNNAMED)
def early_failures(ctx: WireContext) -> Iterator[Finding]:
    """Fatal alerts before the certificate exchange, and the client rejecting the server."""
    fatal = model.fatal_alert(ctx.t)
    if fatal is None:
        return
    alert = fatal.event
    before = ctx.t.events[: _index_of(ctx, alert)]
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


@RULES.rule(NO_REQUEST, RESUMED)
def no_request(ctx: WireContext) -> Iterator[Finding]:
    """A visible, complete handshake without CertificateRequest (a resumed one is normal)."""
    if _request(ctx) is not None or ctx.t.server_hello is None:
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
    found, sent = _request(ctx), _client_cert(ctx)
    if found is None or sent is None or not sent.message.empty:
        return
    req_event, req = found.event, found.message
    cert_event = sent.event
    yield make(
        NOT_SENT,
        f"the server asked for a certificate (CA names: {_ca_names_text(req)}) and the "
        "client sent an empty Certificate",
        location=ctx.where(),
        evidence=[
            ctx.ev(req_event, f"{len(req.ca_names)} CA name(s): {_ca_names_text(req)}"),
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
    allowed, why = allowed_key_types(ca_request(req, ""))
    sel = selection_for(ctx)
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
            from inspector.rules.keystore_rules import KEY_PASSWORD

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
                f"the server asks for certificates issued by {_ca_names_text(req)}; key "
                f"entry '{cand.alias}' has none (its chain's issuers: {issuers}), so a Java "
                "client sends an empty Certificate",
                location=Location(file=ctx.file, connection=ctx.t.index, alias=cand.alias),
                evidence=[
                    ctx.ev(req_event, f"CA names: {_ca_names_text(req)}"),
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


@RULES.rule(ISSUER_NOT_LISTED, CHAIN_INCOMPLETE, CLIENT_EXPIRED, NOT_YET_VALID)
def sent_chain(ctx: WireContext) -> Iterator[Finding]:
    """The chain the client did send, against the CA names and the capture's time."""
    found, sent = _request(ctx), _client_cert(ctx)
    if sent is None or not sent.message.chain:  # none sent, or none of it readable
        return
    cert_event, cert = sent.event, sent.message
    leaf = cert.chain[0]
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
    if found is None:
        return
    req_event, req = found.event, found.message
    if not req.ca_names:
        return
    names = {canonical_dn(n.der) for n in req.ca_names}
    issuers = [canonical_dn(c.issuer.public_bytes()) for c in cert.chain]
    if not names & set(issuers):
        yield make(
            ISSUER_NOT_LISTED,
            f"the client sent {C.short_dn(leaf.subject)} although no certificate in it is "
            f"issued by a CA the server names ({_ca_names_text(req)}): OpenSSL/curl send "
            "it anyway, a Java client would have sent an empty Certificate",
            location=ctx.where(),
            evidence=[
                ctx.ev(req_event, f"CA names: {_ca_names_text(req)}"),
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
                CHAIN_INCOMPLETE,
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
                    ctx.ev(req_event, f"CA names: {_ca_names_text(req)}"),
                ],
                fix="store the intermediate in the key entry's chain: keytool -importcert "
                "-alias <alias> -file reply-chain.p7b -keystore <keystore> "
                "(openssl s_client: -cert_chain intermediate.pem)",
            )


@RULES.rule(JAVA_ABORTS_REQUEST)
def java_rejects_request(ctx: WireContext) -> Iterator[Finding]:
    """Requests a Java client aborts on by itself (size limit, empty TLS 1.3 CA extension)."""
    found = _request(ctx)
    if found is None:
        return
    event, req = found.event, found.message
    said = java_aborts(ca_request(req, ""))
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
    sel = selection_for(ctx)
    found = _request(ctx)
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


@RULES.rule(CA_LIST_EMPTY)
def empty_ca_list(ctx: WireContext) -> Iterator[Finding]:
    """An empty CA list: Java may pick any key entry."""
    found = _request(ctx)
    if found is None or found.message.ca_names:
        return
    event, req = found.event, found.message
    detail = (
        "no certificate_authorities extension"
        if req.tls13 and not req.ca_names_present
        else "an empty CA list"
    )
    pick = ""
    sel = selection_for(ctx)
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


@RULES.rule(REJECTED)
def server_rejected(ctx: WireContext) -> Iterator[Finding]:
    """A fatal server alert after the client's certificate flight."""
    fatal = model.fatal_alert(ctx.t)
    sent = _client_cert(ctx)
    if fatal is None or sent is None or fatal.direction is not Direction.SERVER:
        return
    alert = fatal.event
    if _index_of(ctx, alert) < _index_of(ctx, sent.event):
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
        sent = _client_cert(ctx)
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
    request = _request(ctx)
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


@RULES.rule(ENCRYPTED)
def encrypted_tls13(ctx: WireContext) -> Iterator[Finding]:
    """TLS 1.3 without keys: infer from record sizes and order, and say what would settle it."""
    t = ctx.t
    if not t.tls13 or t.decrypted or t.resumed:
        return
    server_first = next(model.every(t.messages(EncryptedRecords), EncryptedRecords, Direction.SERVER), None)
    client_flight = next(model.every(t.messages(EncryptedRecords), EncryptedRecords, Direction.CLIENT), None)
    facts = []
    guess = ""
    severity = Severity.INFO
    if client_flight is not None:
        sizes = client_flight.message.sizes
        facts.append(ctx.ev(client_flight.event, f"client's encrypted flight: records of {sizes} bytes"))
        if sizes and sizes[0] == 25:
            guess = "the client's first encrypted record is 25 bytes: an empty Certificate"
        position = _index_of(ctx, client_flight.event)
        reply = next((e for e in t.events[position + 1 :] if e.direction is Direction.SERVER), None)
        reply_records = model.message_as(reply, EncryptedRecords)
        if (
            reply is not None
            and reply_records is not None
            and reply_records.sizes[0] == 19
            and reply is t.events[-1]
            and t.fin_by
        ):
            facts.append(ctx.ev(reply, "a single 19-byte record, then the connection closed"))
            guess += ("; " if guess else "") + (
                "the server answered the client's flight with a "
                "19-byte record (the size of an alert) and closed: "
                "it most likely rejected the client certificate"
            )
            severity = Severity.ERROR
    if server_first is not None:
        facts.insert(
            0, ctx.ev(server_first.event, f"server's encrypted flight: {server_first.message.sizes}")
        )
    hint = "--keylog FILE with the client's SSLKEYLOGFILE"
    missed = ""
    hello = t.client_hello
    if t.keylog_missed and hello is not None:
        missed = (
            f"; the key log given has no secrets for this connection (client random "
            f"{hello.random.hex()[:16]}…): it comes from another client or session"
        )
        hint = "the key log written by the client of this very connection"
    yield make(
        ENCRYPTED,
        "TLS 1.3: the certificate exchange is encrypted"
        + (f"; {guess}" if guess else "; give the key log to see it")
        + missed,
        location=ctx.where(),
        evidence=facts,
        severity=severity,
        fix=f"rerun with {hint} (or a pcapng with embedded secrets: editcap "
        "--inject-secrets tls,keys.txt in.pcap out.pcapng)",
        inference=bool(guess),
    )


@RULES.rule(INCOMPLETE)
def incomplete(ctx: WireContext) -> Iterator[Finding]:
    """Gaps, truncation, snaplen, mid-stream starts."""
    problems = [
        p for p in ctx.t.problems if p.kind in ("gap", "truncated", "snaplen", "mid-stream", "malformed")
    ]
    if not problems:
        return
    kinds = sorted({p.kind for p in problems})
    yield make(
        INCOMPLETE,
        f"connection #{ctx.t.index} is not fully captured ({', '.join(kinds)}): findings "
        "about the missing part cannot be made",
        location=ctx.where(),
        evidence=[
            Evidence(
                f"frame {p.frame}" if p.frame else "capture",
                f"{p.direction.value + ': ' if p.direction else ''}{p.detail}",
            )
            for p in problems[:6]
        ],
        fix="capture again from before the connection starts, with tcpdump -s 0 (no "
        "snaplen) on the right interface",
    )


def check_transcript(
    t: Transcript,
    store: Keystore | None = None,
    file: str | None = None,
    at: dt.datetime | None = None,
    command: str = "pcap",
) -> list[Finding]:
    return RULES.run(WireContext(t, store, file, at, command))
