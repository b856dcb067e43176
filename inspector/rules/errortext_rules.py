"""Error-text rules: what a client's pasted error says, who said it, the likely causes ranked
(each marked as inference where it is one) and the next command, filled in.

The words are read by parsers/errortext. One diagnosis per distinct failure (a count and the lines
for repeats); a failure that only restates another (curl's summary line beside OpenSSL's reason, a
closed socket after an alert) is evidence of it. Here: the codes, who said it, the diagnosis put
together; which failures are distinct is errortext_grouping's, what each one means
errortext_causes'.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from inspector.findings import CodeSpec, Evidence, Finding, Location, Severity, make, register
from inspector.rules import RuleSet
from inspector.rules.errortext_causes import Cause, NextCommands, explain, guess
from inspector.rules.errortext_grouping import group_failures
from inspector.rules.probe_rules import HTTP_REJECTED
from parsers.errortext.model import Clues, ErrorTextReading, Family, Kind, Sighting, Speaker

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

#: the code each kind of failure is reported under; one not here (and an alert received without
#: its name) is a handshake that failed without saying why, as errortext_causes.explain reads it
_CODE_BY_KIND: dict[Kind, CodeSpec] = {
    Kind.ALERT_RECEIVED: SERVER_ALERT,
    Kind.SERVER_CERT_UNTRUSTED: SERVER_CERT,
    Kind.SERVER_CERT_EXPIRED: SERVER_CERT,
    Kind.SERVER_CERT_SELF_SIGNED: SERVER_CERT,
    Kind.HOSTNAME_MISMATCH: HOSTNAME,
    Kind.CLIENT_CERT_UNUSABLE: CLIENT_KEY,
    Kind.CLOSED_WITHOUT_ALERT: CLOSED,
    Kind.HTTP_NO_CERT: HTTP_REJECTED,
    Kind.HTTP_CERT_ERROR: HTTP_REJECTED,
    Kind.HTTP_PLAIN_TO_TLS: HTTP_ERROR,
    Kind.HTTP_BAD_REQUEST: HTTP_ERROR,
    Kind.VERIFY_FAILED: VERIFY,
}


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


def diagnose(ctx: ErrorTextContext) -> list[Diagnosis]:
    """Every distinct failure the text shows, most decisive first; the success when none."""
    grouping = group_failures(ctx.reading)
    if not grouping.distinct:
        success = _success(ctx)
        return [success] if success else []
    w = NextCommands.of(ctx.reading, ctx.keystore)
    # the first (most decisive) failure also shows the lines folded into it and the clues
    lead = _lead_evidence(grouping.distinct[0], grouping.folded, ctx.reading.clues)
    return [_diagnosis(ctx, group, w, lead if n == 0 else []) for n, group in enumerate(grouping.distinct)]


def _code(first: Sighting) -> CodeSpec:
    if first.kind is Kind.ALERT_RECEIVED and not first.alert:
        return FAILED
    return _CODE_BY_KIND.get(first.kind, FAILED)


def _diagnosis(
    ctx: ErrorTextContext, group: list[Sighting], w: NextCommands, more: list[Evidence]
) -> Diagnosis:
    """One distinct failure: explained by its first sighting, its other lines as evidence."""
    first = group[0]
    said = explain(first, ctx.reading.clues, w)
    lines = tuple(dict.fromkeys(s.line for s in group))
    evidence = [Evidence(f"line {s.line} ({CLIENT_NAMES[s.family]})", s.text) for s in group[:4]]
    if len(group) > 4:
        evidence.append(Evidence("text", f"+{len(group) - 4} more line(s) saying the same"))
    commands = said.commands
    if ctx.reading.target is None and any("HOST:PORT" in c for c in commands):
        commands = (*commands, "the text names no server: put its HOST:PORT in")
    alert = first.alert if first.kind is Kind.ALERT_RECEIVED else None
    said_by = _who(first)
    summary = f"{said.meaning} — said by {said_by}"
    if alert:
        summary = f"alert {alert}: " + summary
    if len(group) > 1:
        summary += f" ({len(group)} lines)"
    # the code is one of CODES (all declared by the rule below): _CODE_BY_KIND's, or FAILED
    finding = make(
        spec=_code(first),
        summary=summary,
        location=Location(file=ctx.file),
        evidence=evidence + more,
        fix="next: " + "; ".join(commands),
        inference=bool(said.causes) and said.causes[0].inference,
    )
    return Diagnosis(
        finding, first.kind, alert, said_by, said.meaning, said.causes, commands, lines, first.family
    )


def _success(ctx: ErrorTextContext) -> Diagnosis | None:
    """The success the text shows when it shows no failure, with s_client's caveat."""
    wins = [s for s in ctx.reading.sightings if s.kind is Kind.SUCCESS]
    if not wins:
        return None
    first = wins[0]
    meaning = "the text shows success and no failure"
    caveat = (
        (
            guess(
                "s_client's verdict is the server certificate's only: with TLS 1.3 a server rejects "
                "the client certificate after the handshake; an HTTP request shows it"
            ),
        )
        if all(s.family is Family.OPENSSL for s in wins)
        else ()
    )
    finding = make(
        SUCCESS,
        f"{meaning} — said by {_who(first)}",
        location=Location(file=ctx.file),
        evidence=[Evidence(f"line {s.line} ({CLIENT_NAMES[s.family]})", s.text) for s in wins[:4]],
    )
    return Diagnosis(
        finding,
        Kind.SUCCESS,
        None,
        _who(first),
        meaning,
        caveat,
        (),
        tuple(s.line for s in wins),
        first.family,
    )


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


def _lead_evidence(group: list[Sighting], folded: list[Sighting], clues: Clues) -> list[Evidence]:
    """What the first diagnosis shows besides its own lines: up to two restating lines folded
    into it (not already its own) and what the text shows of the handshake."""
    lines = {s.line for s in group}
    also = [
        Evidence(f"line {s.line}", f"also: {s.text}") for s in [f for f in folded if f.line not in lines][:2]
    ]
    return also + _clue_evidence(clues)


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
