"""Error-text rules: what a client's pasted error says, who said it, the likely causes ranked
(each marked as inference where it is one) and the next command, filled in.

The words are read by parsers/errortext; this module knows what they mean. One diagnosis per
distinct failure (a count and the lines for repeats); a failure that only restates another (curl's
summary line beside OpenSSL's reason, a closed socket after an alert) is evidence of it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from inspector.findings import CodeSpec, Evidence, Finding, Location, Severity, make, register
from inspector.rules import RuleSet
from inspector.rules.probe_rules import HTTP_REJECTED
from parsers.errortext.model import Clues, ErrorTextReading, Family, Kind, Sighting, Speaker, Target

G = "client error text"

SERVER_ALERT = register(
    "client-text-server-alert",
    Severity.ERROR,
    "The server ended the handshake with a TLS alert, as the client's error text reports it",
    """The client's error text quotes an alert it received (OpenSSL's "sslv3 alert bad certificate",
    Python's [SSL: TLSV1_ALERT_UNKNOWN_CA], Go's "remote error: tls: ...", Node's
    ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED, curl -v's "(IN), TLS alert"). An alert records who sent
    it: the server refused, the client only reports it. The alert's name says why (certificate_required:
    no certificate came; unknown_ca: its issuer is not trusted there; certificate_expired; bad_certificate;
    handshake_failure: before TLS 1.3 also a missing certificate). The causes are ranked by what the text
    shows; the server's own log has the final word.""",
    G,
)
SERVER_CERT = register(
    "client-text-server-cert-rejected",
    Severity.ERROR,
    "The client rejected the server's certificate",
    """The client's own check of the server's chain failed (curl (60), CERTIFICATE_VERIFY_FAILED, Go's
    "x509: certificate signed by unknown authority", Node's UNABLE_TO_GET_ISSUER_CERT_LOCALLY, .NET's "The
    remote certificate is invalid"): its trust store holds no anchor for the chain, the server sends its
    leaf without the intermediate, a certificate is expired or self-signed. It is the client refusing the
    server, not a client-certificate problem: fix the client's trust store or the server's chain.""",
    G,
)
HOSTNAME = register(
    "client-text-hostname-mismatch",
    Severity.ERROR,
    "The server's certificate does not name the host the client connected to",
    """The client checked the host name it used against the server certificate's subjectAltName
    and found no match (clients ignore the CN when SANs exist; an IP address must be an IP SAN). Connect
    with a name the certificate carries, or have the server's certificate reissued with it.""",
    G,
)
CLIENT_KEY = register(
    "client-text-client-cert-unusable",
    Severity.ERROR,
    "The client could not use its own certificate or private key",
    """The client failed before or while presenting its certificate: curl (58) "unable to set private key
    file", "key values mismatch", Go's "tls: private key does not match public key", .NET's "The credentials
    supplied to the package were not recognized". The key does not belong to the certificate, the file is
    not the format given, or the key is encrypted and no pass phrase was given. No certificate reached the
    server.""",
    G,
)
CLOSED = register(
    "client-text-connection-closed",
    Severity.ERROR,
    "The connection was closed without a TLS alert",
    """The text says the connection ended (reset, EOF, "Socket is closed", "socket hang up") with no alert
    naming a reason. Nobody said why: a server that drops clients without an accepted certificate, a
    proxy or load balancer in between, or a protocol mismatch. Probing the server shows which.""",
    G,
)
FAILED = register(
    "client-text-handshake-failed",
    Severity.ERROR,
    "The client says the TLS handshake failed, without saying why",
    """A summary that hides the cause ("peer not authenticated", .NET's AuthenticationException and "The
    SSL connection could not be established", a curl code without OpenSSL's reason, a server that did not
    answer in TLS). The causes listed are the usual ones, all inference; the inner exception, a verbose
    run, or a probe of the server settles it.""",
    G,
)
HTTP_ERROR = register(
    "client-text-http-error",
    Severity.ERROR,
    "The server answered the request with an HTTP 400 page",
    """The TLS handshake completed and the server refused the HTTP request with 400: "The plain HTTP
    request was sent to HTTPS port" (http:// to a TLS port), or a bare "400 Bad Request" that does not say
    why (a malformed request, or a client-certificate page whose text was cut).""",
    G,
)
VERIFY = register(
    "client-text-verify-failed",
    Severity.ERROR,
    "openssl verify rejects the certificate against the CA file given",
    """`openssl verify` checked certificate files alone, no server involved: the certificate does not
    lead to the CA file given (an intermediate missing: give it with -untrusted), or it is expired. If it
    is the client certificate and the CA file is the partner's, the partner's server will reject it the
    same way.""",
    G,
)
SUCCESS = register(
    "client-text-success",
    Severity.INFO,
    "The text shows a successful exchange",
    """The text shows success (an HTTP 2xx or 3xx status after the handshake, `openssl verify` OK,
    s_client's "Verify return code: 0 (ok)") and no failure. With TLS 1.3 a server rejects the client
    certificate after the client's handshake is done: s_client's verdict is only the server
    certificate's.""",
    G,
)

CODES: tuple[CodeSpec, ...] = (
    SERVER_ALERT,
    SERVER_CERT,
    HOSTNAME,
    CLIENT_KEY,
    CLOSED,
    FAILED,
    HTTP_REJECTED,
    HTTP_ERROR,
    VERIFY,
    SUCCESS,
)

CLIENT_NAMES = {
    Family.CURL: "curl",
    Family.OPENSSL: "openssl",
    Family.PYTHON: "Python (ssl/urllib3/requests)",
    Family.GO: "Go (crypto/tls)",
    Family.NODE: "Node.js",
    Family.DOTNET: ".NET",
    Family.POSTMAN: "Postman",
    Family.PLATFORM: "the integration platform",
    Family.HTTP: "the server's HTTP page",
}


@dataclass(frozen=True)
class Cause:
    text: str
    inference: bool


@dataclass(frozen=True)
class Diagnosis:
    """One distinct failure (or the success) the text shows, explained."""

    finding: Finding
    kind: Kind
    alert: str | None
    said_by: str
    meaning: str
    causes: tuple[Cause, ...]
    commands: tuple[str, ...]
    lines: tuple[int, ...]
    family: Family


@dataclass(frozen=True)
class ErrorTextContext:
    reading: ErrorTextReading
    file: str
    keystore: str | None = None  # the --keystore given, for the commands


RULES: RuleSet[ErrorTextContext] = RuleSet()


@dataclass(frozen=True)
class _Words:
    """What the rules need to fill the commands in."""

    hostport: str
    keystore: str

    def keystore_cmd(self) -> str:
        return f"mtls-inspect keystore {self.keystore}"

    def select_cmd(self) -> str:
        return f"mtls-inspect select --keystore {self.keystore} --from-server {self.hostport}"

    def probe_cmd(self) -> str:
        return f"mtls-inspect probe {self.hostport} --keystore {self.keystore}"

    def probe_chain_cmd(self) -> str:
        return f"mtls-inspect probe {self.hostport} --insecure"


def _words(ctx: ErrorTextContext) -> _Words:
    target: Target | None = ctx.reading.target
    keystore = ctx.keystore or ctx.reading.clues.cert_file or "KEYSTORE"
    return _Words(target.address if target else "HOST:PORT", keystore)


def fact(text: str) -> Cause:
    return Cause(text, inference=False)


def guess(text: str) -> Cause:
    return Cause(text, inference=True)


# --- what each failure means -------------------------------------------------------------------


def _sent_a_certificate(clues: Clues) -> bool | None:
    """True when the text proves a certificate was sent (a CertificateVerify follows only a
    non-empty Certificate); None when it does not show."""
    return True if clues.client_cert_verify_sent is not None else None


def _alert(alert: str, clues: Clues, w: _Words) -> tuple[str, list[Cause], list[str]]:
    sent = _sent_a_certificate(clues)
    requested = clues.cert_requested is not None
    configured = clues.cert_file is not None
    if alert == "certificate_required":
        why = [
            guess("no client certificate is configured for this call (no keystore, or another profile's)"),
            guess(
                "a certificate is configured but the client chose none: its issuer is not among the CA "
                "names the server asked for (Java, Go and .NET choose by those names)"
            ),
        ]
        if configured:
            why.reverse()
        return (
            "the server requires a client certificate and the client sent none (TLS 1.3's alert for an "
            "empty Certificate message, RFC 8446 4.4.2.4)",
            [fact("the client sent no certificate: that is what this alert says"), *why],
            [w.select_cmd(), w.keystore_cmd()],
        )
    if alert == "handshake_failure":
        causes = [
            guess(
                "the server requires a client certificate and none was sent (TLS 1.2 servers say so with "
                "handshake_failure)"
            ),
            guess("no TLS version or cipher suite in common"),
            guess("the server rejected the certificate that was sent"),
            guess("the server has no usable certificate or key for this name (SNI)"),
        ]
        empty = requested and not sent and clues.client_cert_message is not None
        if sent:
            causes.insert(0, causes.pop(2))
        elif empty:
            causes[0] = guess(
                "the server requires a client certificate and the client's was empty (the text shows its "
                "Certificate message and no CertificateVerify)"
            )
        elif requested:
            causes[0] = guess(
                "the server asked for a client certificate (the text shows its request) and none was "
                "accepted: none sent, or the one sent was rejected"
            )
        return (
            "the server aborted the handshake (handshake_failure: the alert does not say why)",
            causes,
            [w.select_cmd(), w.probe_cmd()],
        )
    if alert in ("unknown_ca", "bad_certificate", "certificate_unknown", "unsupported_certificate"):
        causes = [
            guess(
                "the server does not trust the CA that issued the client certificate (its trust store "
                "lacks that root or intermediate)"
            ),
            guess("the client sent its leaf without the intermediate the server needs to build the chain"),
            guess("the client sent another certificate than intended (another key entry, an old one)"),
        ]
        if alert in ("bad_certificate", "unsupported_certificate", "certificate_unknown"):
            causes.append(
                guess(
                    "the certificate is not fit for client authentication (extendedKeyUsage "
                    "without clientAuth, keyUsage without digitalSignature)"
                )
            )
        if alert == "bad_certificate":
            causes.append(
                guess("the client's signature did not verify: the private key does not match the certificate")
            )
            if sent is None:
                causes.append(
                    guess("no certificate was sent (some servers answer an empty one with bad_certificate)")
                )
        meaning = {
            "unknown_ca": "the server does not accept the issuer of the client certificate",
            "bad_certificate": "the server rejected the client certificate",
            "certificate_unknown": "the server rejected the client certificate (it does not say why)",
            "unsupported_certificate": "the server does not accept this kind of client certificate",
        }[alert]
        return meaning, causes, [w.keystore_cmd(), w.select_cmd(), w.probe_cmd()]
    if alert == "certificate_expired":
        return (
            "the server found the client certificate (or a CA in its chain) expired or not yet valid",
            [
                guess("the client certificate is expired (or not yet valid)"),
                guess("a CA certificate in the chain the client sent is expired"),
                guess("the server's clock is wrong"),
            ],
            [w.keystore_cmd(), w.probe_cmd()],
        )
    if alert == "certificate_revoked":
        return (
            "the server found the client certificate revoked",
            [guess("the client certificate (or its CA) was revoked: a new one is needed")],
            [w.keystore_cmd()],
        )
    if alert == "access_denied":
        return (
            "the server accepted the certificate but refuses this client",
            [
                guess("the certificate's subject is not on the server's allow-list"),
                guess("a policy other than the certificate (IP, tenant) refuses the client"),
            ],
            [w.keystore_cmd(), w.probe_cmd()],
        )
    if alert == "decrypt_error":
        return (
            "the server could not verify the client's signature (CertificateVerify)",
            [
                guess("the private key does not match the certificate sent"),
                guess("a signature scheme the server does not support for this key"),
            ],
            [w.keystore_cmd(), w.probe_cmd()],
        )
    if alert in ("protocol_version", "insufficient_security", "inappropriate_fallback"):
        return (
            "the client and the server have no TLS version or cipher suite in common",
            [
                guess("the client offers only versions the server refuses (TLS 1.0/1.1), or the reverse"),
                guess("the cipher suites allowed on either side do not meet"),
            ],
            [
                f"mtls-inspect probe {w.hostport} --tls-version 1.2",
                f"mtls-inspect probe {w.hostport} --tls-version 1.3",
            ],
        )
    return (
        f"the server aborted the handshake with the alert {alert}",
        [guess("the server's log names the reason; the alert alone does not")],
        [w.probe_cmd()],
    )


def _server_cert(kind: Kind, detail: str | None, w: _Words) -> tuple[str, list[Cause], list[str]]:
    d = (detail or "").lower()
    next_cmds = [w.probe_chain_cmd()]
    if kind is Kind.SERVER_CERT_EXPIRED:
        return (
            "the client found the server's certificate (or a CA in its chain) expired or not yet valid",
            [
                guess("the server's certificate has expired: the server must renew it"),
                guess("the client's clock is wrong"),
            ],
            next_cmds,
        )
    if kind is Kind.SERVER_CERT_SELF_SIGNED:
        return (
            "the server presents a self-signed certificate the client does not trust",
            [
                fact("the server's certificate is self-signed (the client says so)"),
                guess(
                    "the client's trust store does not hold that certificate: add it, or have the server use "
                    "a CA-issued one"
                ),
            ],
            next_cmds,
        )
    incomplete = guess("the server sends its leaf without the intermediate CA (an incomplete chain)")
    untrusted = guess(
        "the client's trust store lacks the CA that issued the server's certificate (a private or "
        "partner CA: add it to the client's trust store)"
    )
    proxy = guess("a TLS-inspecting proxy between them presents its own certificate")
    causes = [untrusted, incomplete, proxy]
    if "first certificate" in d or "leaf signature" in d or "leaf_signature" in d:
        causes = [incomplete, untrusted, proxy]
    return (
        "the client does not trust the server's certificate chain" + (f" ({detail})" if detail else ""),
        causes,
        next_cmds,
    )


def _meaning(
    kind: Kind, sighting: Sighting, clues: Clues, w: _Words
) -> tuple[CodeSpec, str, list[Cause], list[str]]:
    detail = sighting.detail
    if kind is Kind.ALERT_RECEIVED and sighting.alert:
        meaning, causes, cmds = _alert(sighting.alert, clues, w)
        if sighting.sign == "curl (60) without a reason":
            causes.insert(
                0,
                guess(
                    'curl said only "SSL certificate verification failed": curl words a '
                    "received certificate_expired alert this way (its own check passed)"
                ),
            )
        return SERVER_ALERT, meaning, causes, cmds
    if kind in (Kind.SERVER_CERT_UNTRUSTED, Kind.SERVER_CERT_EXPIRED, Kind.SERVER_CERT_SELF_SIGNED):
        return (SERVER_CERT, *_server_cert(kind, detail, w))
    if kind is Kind.HOSTNAME_MISMATCH:
        return (
            HOSTNAME,
            "the server's certificate does not name the host the client used"
            + (f" ({detail})" if detail else ""),
            [
                guess(
                    "the client connects by another name (an IP address, an internal alias) than the "
                    "certificate's subjectAltName"
                ),
                guess("the server presents the wrong certificate for this name (SNI, default virtual host)"),
            ],
            [w.probe_chain_cmd()],
        )
    if kind is Kind.CLIENT_CERT_UNUSABLE:
        mismatch = "mismatch" in (sighting.text + (detail or "")).lower() or "does not match" in sighting.text
        causes = [
            guess("the private key does not belong to the certificate"),
            guess("the file is not in the format given (PEM/DER/PKCS#12), or the path is wrong"),
            guess("the key is encrypted and no pass phrase was given, or a wrong one"),
        ]
        if mismatch:
            causes[0] = fact("the private key does not belong to the certificate (the client says so)")
        return (
            CLIENT_KEY,
            "the client could not load or use its own certificate and key",
            causes,
            [w.keystore_cmd()],
        )
    if kind is Kind.CLOSED_WITHOUT_ALERT:
        return (
            CLOSED,
            "the connection was closed without a TLS alert: nobody says why",
            [
                guess(
                    "the server drops clients without an accepted certificate silently (in TLS 1.3: "
                    "after the handshake)"
                ),
                guess("a proxy, load balancer or firewall between them ends the connection"),
                guess("the port does not speak TLS the way the client expects"),
            ],
            [w.probe_cmd(), w.select_cmd()],
        )
    if kind is Kind.ALERT_SENT:
        return (
            FAILED,
            f"the client aborted the handshake with the alert {sighting.alert or '?'} (its own reason)",
            [guess("the client rejected the server's certificate (its trust store, or the host name)")],
            [w.probe_chain_cmd()],
        )
    if kind is Kind.HTTP_NO_CERT:
        return (
            HTTP_REJECTED,
            "the server (nginx) required a client certificate and the request came without one; the TLS "
            "handshake itself completed",
            [
                fact("the client sent no certificate in the handshake: that is what this page says"),
                guess("no keystore is configured on the outbound call (or it is another profile's)"),
                guess(
                    "the configured certificate's issuer is not among the CA names the server asks for, "
                    "so the client sent none"
                ),
                guess(
                    "a TLS-terminating proxy or load balancer in front of nginx does not pass the "
                    "certificate on"
                ),
            ],
            [w.select_cmd(), w.keystore_cmd()],
        )
    if kind is Kind.HTTP_CERT_ERROR:
        return (
            HTTP_REJECTED,
            "the server (nginx) received a client certificate and its verification failed; the TLS handshake "
            "itself completed",
            [
                guess("the client certificate's issuer is not in the server's ssl_client_certificate"),
                guess(
                    "the client sent its leaf without the intermediate (or the chain is deeper than "
                    "ssl_verify_depth)"
                ),
                guess("the client certificate is expired or not yet valid"),
            ],
            [w.keystore_cmd(), w.select_cmd()],
        )
    if kind is Kind.HTTP_PLAIN_TO_TLS:
        return (
            HTTP_ERROR,
            "a plain-HTTP request reached the server's TLS port",
            [fact("the URL says http:// where the port wants https:// (nginx says so)")],
            ["use https:// in the endpoint's URL", w.probe_cmd()],
        )
    if kind is Kind.HTTP_BAD_REQUEST:
        return (
            HTTP_ERROR,
            "the server refused the request with 400 Bad Request, without saying why here",
            [
                guess("the request itself (body, headers, content type) is malformed for that API"),
                guess(
                    "a client-certificate refusal page whose text was cut (nginx's says \"No required SSL "
                    'certificate was sent" or "The SSL certificate error")'
                ),
            ],
            [w.probe_cmd() + " --http-request /", w.select_cmd()],
        )
    if kind is Kind.VERIFY_FAILED:
        return (
            VERIFY,
            "the certificate does not verify against the CA file given" + (f" ({detail})" if detail else ""),
            [
                guess(
                    "an intermediate CA is missing (give it with -untrusted, and put it in the chain sent)"
                ),
                guess("the CA file is not the one that issued this certificate"),
                guess("a certificate is expired or not yet valid"),
            ],
            [w.keystore_cmd()],
        )
    # HANDSHAKE_FAILED: the summary alone
    text = sighting.text.lower()
    if "peer not authenticated" in text:
        return (
            FAILED,
            "the handshake did not complete (Apache HttpClient on the JVM says this and hides the cause)",
            [
                guess("the platform's truststore does not trust the server's certificate chain"),
                guess("the server rejected the client certificate, or none was sent"),
                guess("no TLS version or cipher suite in common"),
            ],
            [w.probe_cmd(), w.select_cmd()],
        )
    if "wrong version number" in text or "first record does not look like" in text or "http request" in text:
        return (
            FAILED,
            "the server did not answer in TLS",
            [
                guess("the port speaks plain HTTP (or another protocol): wrong port or scheme"),
                guess("a proxy in between answered instead of the server"),
            ],
            ["check the URL's scheme and port", w.probe_chain_cmd()],
        )
    return (
        FAILED,
        "the client says the TLS handshake failed, not why",
        [
            guess(
                "the client does not trust the server's certificate (the most common cause for .NET and "
                "Java clients)"
            ),
            guess("the server rejected the client certificate, or none was sent"),
            guess("no TLS version or cipher suite in common"),
        ],
        [w.probe_cmd(), w.select_cmd()],
    )


# --- which failures are distinct --------------------------------------------------------------------

#: the order diagnoses come in (and which one a restating line is folded into)
_PRIMARY = (
    Kind.CLIENT_CERT_UNUSABLE,
    Kind.ALERT_RECEIVED,
    Kind.HTTP_NO_CERT,
    Kind.HTTP_CERT_ERROR,
    Kind.HTTP_PLAIN_TO_TLS,
    Kind.SERVER_CERT_UNTRUSTED,
    Kind.SERVER_CERT_EXPIRED,
    Kind.SERVER_CERT_SELF_SIGNED,
    Kind.HOSTNAME_MISMATCH,
    Kind.VERIFY_FAILED,
)
#: a failure of these kinds only restates a primary one when one is there
_RESTATING = (Kind.ALERT_SENT, Kind.CLOSED_WITHOUT_ALERT, Kind.HANDSHAKE_FAILED, Kind.HTTP_BAD_REQUEST)


def _groups(reading: ErrorTextReading) -> tuple[list[list[Sighting]], list[Sighting]]:
    """Distinct failures (each a list of its sightings) and the restating sightings folded away."""
    groups: dict[tuple[Kind, str | None], list[Sighting]] = {}
    for s in reading.failures:
        groups.setdefault((s.kind, s.alert if s.kind is Kind.ALERT_RECEIVED else None), []).append(s)
    primary = [k for k in groups if k[0] in _PRIMARY]
    folded: list[Sighting] = []
    if primary:
        for key in [k for k in groups if k[0] in _RESTATING]:
            folded += groups.pop(key)
    else:  # only restating kinds: keep the most specific one or two
        for weaker, stronger in (
            (Kind.HANDSHAKE_FAILED, Kind.CLOSED_WITHOUT_ALERT),
            (Kind.HANDSHAKE_FAILED, Kind.ALERT_SENT),
            (Kind.HTTP_BAD_REQUEST, Kind.CLOSED_WITHOUT_ALERT),
        ):
            if any(k[0] is stronger for k in groups):
                for key in [k for k in groups if k[0] is weaker]:
                    folded += groups.pop(key)
    order = {k: i for i, k in enumerate((*_PRIMARY, *_RESTATING))}
    ranked = sorted(groups.values(), key=lambda g: (order.get(g[0].kind, 99), g[0].line))
    return ranked, folded


def _who(s: Sighting) -> str:
    client = CLIENT_NAMES[s.family]
    if s.speaker is Speaker.SERVER_ALERT:
        return f"the server: a TLS alert it sent ({client} only reports it)"
    if s.speaker is Speaker.CLIENT_ALERT:
        return f"the client ({client}): an alert it sent the server"
    if s.speaker is Speaker.SERVER_HTTP:
        return "the server, in its HTTP answer after the handshake"
    if s.speaker is Speaker.LOCAL_CHECK:
        return "openssl verify, on the files given (no server involved)"
    if s.speaker is Speaker.UNKNOWN:
        return f"nobody: {client} reports the connection closed (by the server or something between)"
    return f"the client ({client}), about what it found itself"


def diagnose(ctx: ErrorTextContext) -> list[Diagnosis]:
    """Every distinct failure the text shows, most decisive first; the success when none."""
    reading, w = ctx.reading, _words(ctx)
    groups, folded = _groups(reading)
    out = []
    for group in groups:
        first = group[0]
        spec, meaning, causes, commands = _meaning(first.kind, first, reading.clues, w)
        lines = tuple(dict.fromkeys(s.line for s in group))
        evidence = [Evidence(f"line {s.line} ({CLIENT_NAMES[s.family]})", s.text) for s in group[:4]]
        if len(group) > 4:
            evidence.append(Evidence("text", f"+{len(group) - 4} more line(s) saying the same"))
        evidence += [
            Evidence(f"line {s.line}", f"also: {s.text}")
            for s in [f for f in folded if f.line not in lines][:2]
            if first is groups[0][0]
        ]
        evidence += _clue_evidence(reading.clues) if first is groups[0][0] else []
        if reading.target is None and any("HOST:PORT" in c for c in commands):
            commands = [*commands, "the text names no server: put its HOST:PORT in"]
        alert = first.alert if first.kind is Kind.ALERT_RECEIVED else None
        said_by = _who(first)
        summary = f"{meaning} — said by {said_by}"
        if alert:
            summary = f"alert {alert}: " + summary
        if len(group) > 1:
            summary += f" ({len(group)} lines)"
        # the code is the one _meaning chose among CODES (all declared by the rule below)
        finding = make(
            spec=spec,
            summary=summary,
            location=Location(file=ctx.file),
            evidence=evidence,
            fix="next: " + "; ".join(commands),
            inference=bool(causes) and causes[0].inference,
        )
        out.append(
            Diagnosis(
                finding,
                first.kind,
                alert,
                said_by,
                meaning,
                tuple(causes),
                tuple(commands),
                lines,
                first.family,
            )
        )
    if not out:
        wins = [s for s in reading.sightings if s.kind is Kind.SUCCESS]
        if wins:
            first = wins[0]
            meaning = "the text shows success and no failure"
            caveat = (
                [
                    guess(
                        "s_client's verdict is the server certificate's only: with TLS 1.3 a server rejects "
                        "the client certificate after the handshake; an HTTP request shows it"
                    )
                ]
                if all(s.family is Family.OPENSSL for s in wins)
                else []
            )
            finding = make(
                SUCCESS,
                f"{meaning} — said by {_who(first)}",
                location=Location(file=ctx.file),
                evidence=[Evidence(f"line {s.line} ({CLIENT_NAMES[s.family]})", s.text) for s in wins[:4]],
            )
            out.append(
                Diagnosis(
                    finding,
                    Kind.SUCCESS,
                    None,
                    _who(first),
                    meaning,
                    tuple(caveat),
                    (),
                    tuple(s.line for s in wins),
                    first.family,
                )
            )
    return out


def _clue_evidence(clues: Clues) -> list[Evidence]:
    out = []
    if clues.cert_requested is not None:
        out.append(Evidence(f"line {clues.cert_requested}", "the server asked for a client certificate"))
    if clues.client_cert_verify_sent is not None:
        out.append(
            Evidence(
                f"line {clues.client_cert_verify_sent}",
                "the client sent CertificateVerify: a certificate was sent",
            )
        )
    elif clues.client_cert_message is not None and clues.cert_requested is not None:
        out.append(
            Evidence(
                f"line {clues.client_cert_message}",
                "the client sent a Certificate message and no CertificateVerify: it was empty",
            )
        )
    if clues.no_ca_names is not None:
        out.append(
            Evidence(f"line {clues.no_ca_names}", "the server named no CA (any certificate may be sent)")
        )
    if clues.ca_names:
        out.append(Evidence("text", "CA names the server asked for: " + "; ".join(clues.ca_names[:4])))
    return out


@RULES.rule(*CODES)
def client_error_text(ctx: ErrorTextContext) -> Iterator[Finding]:
    for d in diagnose(ctx):
        yield d.finding
