"""What each failure in a client's error text means: the sentence, the likely causes ranked (each
marked as fact or inference) and the next commands, filled in. One small function per TLS alert
and per kind of failure, so each reads on its own; errortext_rules picks the finding code and
builds the diagnosis."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from parsers.errortext.model import Clues, ErrorTextReading, Kind, Sighting

#: parsers/errortext's name for curl's (60) line that gives no reason
CURL_60_WITHOUT_REASON = "curl (60) without a reason"


@dataclass(frozen=True)
class Cause:
    text: str
    inference: bool


def fact(text: str) -> Cause:
    return Cause(text, inference=False)


def guess(text: str) -> Cause:
    return Cause(text, inference=True)


@dataclass(frozen=True)
class Explanation:
    """One failure explained: what it means, why it may have happened, what to run next."""

    meaning: str
    causes: tuple[Cause, ...]
    commands: tuple[str, ...]


@dataclass(frozen=True)
class NextCommands:
    """The commands to suggest, filled in with the server and keystore the text (or --keystore)
    names; placeholders where it names none."""

    hostport: str
    keystore: str

    @classmethod
    def of(cls, reading: ErrorTextReading, keystore: str | None) -> NextCommands:
        target = reading.target
        store = keystore or reading.clues.cert_file or "KEYSTORE"
        return cls(target.address if target else "HOST:PORT", store)

    def keystore_cmd(self) -> str:
        return f"mtls-inspect keystore {self.keystore}"

    def select_cmd(self) -> str:
        return f"mtls-inspect select --keystore {self.keystore} --from-server {self.hostport}"

    def probe_cmd(self) -> str:
        return f"mtls-inspect probe {self.hostport} --keystore {self.keystore}"

    def probe_chain_cmd(self) -> str:
        return f"mtls-inspect probe {self.hostport} --insecure"


def explain(sighting: Sighting, clues: Clues, w: NextCommands) -> Explanation:
    """The first sighting of a failure, explained (an alert received without its name, like a
    summary, explains itself as a failed handshake)."""
    if sighting.kind is Kind.ALERT_RECEIVED and sighting.alert:
        return _received_alert(sighting, sighting.alert, clues, w)
    return _BY_KIND.get(sighting.kind, _handshake_failed)(sighting, w)


# --- the alert the server sent ----------------------------------------------------------------


def _received_alert(sighting: Sighting, alert: str, clues: Clues, w: NextCommands) -> Explanation:
    said = _BY_ALERT.get(alert, _other_alert)(alert, clues, w)
    if sighting.sign != CURL_60_WITHOUT_REASON:
        return said
    curl = guess(
        'curl said only "SSL certificate verification failed": curl words a '
        "received certificate_expired alert this way (its own check passed)"
    )
    return Explanation(said.meaning, (curl, *said.causes), said.commands)


def _sent_a_certificate(clues: Clues) -> bool | None:
    """True when the text proves a certificate was sent (a CertificateVerify follows only a
    non-empty Certificate); None when it does not show."""
    return True if clues.client_cert_verify_sent is not None else None


def _certificate_required(alert: str, clues: Clues, w: NextCommands) -> Explanation:
    why = [
        guess("no client certificate is configured for this call (no keystore, or another profile's)"),
        guess(
            "a certificate is configured but the client chose none: its issuer is not among the CA "
            "names the server asked for (Java, Go and .NET choose by those names)"
        ),
    ]
    if clues.cert_file is not None:
        why.reverse()
    return Explanation(
        "the server requires a client certificate and the client sent none (TLS 1.3's alert for an "
        "empty Certificate message, RFC 8446 4.4.2.4)",
        (fact("the client sent no certificate: that is what this alert says"), *why),
        (w.select_cmd(), w.keystore_cmd()),
    )


def _handshake_failure(alert: str, clues: Clues, w: NextCommands) -> Explanation:
    """handshake_failure says nothing of why: the clues reorder the usual causes."""
    sent = _sent_a_certificate(clues)
    requested = clues.cert_requested is not None
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
    return Explanation(
        "the server aborted the handshake (handshake_failure: the alert does not say why)",
        tuple(causes),
        (w.select_cmd(), w.probe_cmd()),
    )


_CLIENT_CERT_REFUSED = {
    "unknown_ca": "the server does not accept the issuer of the client certificate",
    "bad_certificate": "the server rejected the client certificate",
    "certificate_unknown": "the server rejected the client certificate (it does not say why)",
    "unsupported_certificate": "the server does not accept this kind of client certificate",
}


def _client_cert_refused(alert: str, clues: Clues, w: NextCommands) -> Explanation:
    """The alerts a server sends when it refuses the certificate itself (_CLIENT_CERT_REFUSED)."""
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
        if _sent_a_certificate(clues) is None:
            causes.append(
                guess("no certificate was sent (some servers answer an empty one with bad_certificate)")
            )
    return Explanation(
        _CLIENT_CERT_REFUSED[alert], tuple(causes), (w.keystore_cmd(), w.select_cmd(), w.probe_cmd())
    )


def _certificate_expired(alert: str, clues: Clues, w: NextCommands) -> Explanation:
    return Explanation(
        "the server found the client certificate (or a CA in its chain) expired or not yet valid",
        (
            guess("the client certificate is expired (or not yet valid)"),
            guess("a CA certificate in the chain the client sent is expired"),
            guess("the server's clock is wrong"),
        ),
        (w.keystore_cmd(), w.probe_cmd()),
    )


def _certificate_revoked(alert: str, clues: Clues, w: NextCommands) -> Explanation:
    return Explanation(
        "the server found the client certificate revoked",
        (guess("the client certificate (or its CA) was revoked: a new one is needed"),),
        (w.keystore_cmd(),),
    )


def _access_denied(alert: str, clues: Clues, w: NextCommands) -> Explanation:
    return Explanation(
        "the server accepted the certificate but refuses this client",
        (
            guess("the certificate's subject is not on the server's allow-list"),
            guess("a policy other than the certificate (IP, tenant) refuses the client"),
        ),
        (w.keystore_cmd(), w.probe_cmd()),
    )


def _decrypt_error(alert: str, clues: Clues, w: NextCommands) -> Explanation:
    return Explanation(
        "the server could not verify the client's signature (CertificateVerify)",
        (
            guess("the private key does not match the certificate sent"),
            guess("a signature scheme the server does not support for this key"),
        ),
        (w.keystore_cmd(), w.probe_cmd()),
    )


def _nothing_in_common(alert: str, clues: Clues, w: NextCommands) -> Explanation:
    return Explanation(
        "the client and the server have no TLS version or cipher suite in common",
        (
            guess("the client offers only versions the server refuses (TLS 1.0/1.1), or the reverse"),
            guess("the cipher suites allowed on either side do not meet"),
        ),
        (
            f"mtls-inspect probe {w.hostport} --tls-version 1.2",
            f"mtls-inspect probe {w.hostport} --tls-version 1.3",
        ),
    )


def _other_alert(alert: str, clues: Clues, w: NextCommands) -> Explanation:
    return Explanation(
        f"the server aborted the handshake with the alert {alert}",
        (guess("the server's log names the reason; the alert alone does not"),),
        (w.probe_cmd(),),
    )


AlertExplainer = Callable[[str, Clues, NextCommands], Explanation]

#: the alerts explained on their own; any other is _other_alert's
_BY_ALERT: dict[str, AlertExplainer] = {
    "certificate_required": _certificate_required,
    "handshake_failure": _handshake_failure,
    **dict.fromkeys(_CLIENT_CERT_REFUSED, _client_cert_refused),
    "certificate_expired": _certificate_expired,
    "certificate_revoked": _certificate_revoked,
    "access_denied": _access_denied,
    "decrypt_error": _decrypt_error,
    **dict.fromkeys(
        ("protocol_version", "insufficient_security", "inappropriate_fallback"), _nothing_in_common
    ),
}


# --- the client's own findings ----------------------------------------------------------------


def _server_cert_untrusted(sighting: Sighting, w: NextCommands) -> Explanation:
    detail = sighting.detail
    d = (detail or "").lower()
    incomplete = guess("the server sends its leaf without the intermediate CA (an incomplete chain)")
    untrusted = guess(
        "the client's trust store lacks the CA that issued the server's certificate (a private or "
        "partner CA: add it to the client's trust store)"
    )
    proxy = guess("a TLS-inspecting proxy between them presents its own certificate")
    causes = (untrusted, incomplete, proxy)
    if "first certificate" in d or "leaf signature" in d or "leaf_signature" in d:
        causes = (incomplete, untrusted, proxy)
    return Explanation(
        "the client does not trust the server's certificate chain" + (f" ({detail})" if detail else ""),
        causes,
        (w.probe_chain_cmd(),),
    )


def _server_cert_expired(sighting: Sighting, w: NextCommands) -> Explanation:
    return Explanation(
        "the client found the server's certificate (or a CA in its chain) expired or not yet valid",
        (
            guess("the server's certificate has expired: the server must renew it"),
            guess("the client's clock is wrong"),
        ),
        (w.probe_chain_cmd(),),
    )


def _server_cert_self_signed(sighting: Sighting, w: NextCommands) -> Explanation:
    return Explanation(
        "the server presents a self-signed certificate the client does not trust",
        (
            fact("the server's certificate is self-signed (the client says so)"),
            guess(
                "the client's trust store does not hold that certificate: add it, or have the server use "
                "a CA-issued one"
            ),
        ),
        (w.probe_chain_cmd(),),
    )


def _hostname_mismatch(sighting: Sighting, w: NextCommands) -> Explanation:
    detail = sighting.detail
    return Explanation(
        "the server's certificate does not name the host the client used"
        + (f" ({detail})" if detail else ""),
        (
            guess(
                "the client connects by another name (an IP address, an internal alias) than the "
                "certificate's subjectAltName"
            ),
            guess("the server presents the wrong certificate for this name (SNI, default virtual host)"),
        ),
        (w.probe_chain_cmd(),),
    )


def _client_cert_unusable(sighting: Sighting, w: NextCommands) -> Explanation:
    text = sighting.text
    mismatch = "mismatch" in (text + (sighting.detail or "")).lower() or "does not match" in text
    causes = [
        guess("the private key does not belong to the certificate"),
        guess("the file is not in the format given (PEM/DER/PKCS#12), or the path is wrong"),
        guess("the key is encrypted and no pass phrase was given, or a wrong one"),
    ]
    if mismatch:
        causes[0] = fact("the private key does not belong to the certificate (the client says so)")
    return Explanation(
        "the client could not load or use its own certificate and key", tuple(causes), (w.keystore_cmd(),)
    )


def _closed_without_alert(sighting: Sighting, w: NextCommands) -> Explanation:
    return Explanation(
        "the connection was closed without a TLS alert: nobody says why",
        (
            guess(
                "the server drops clients without an accepted certificate silently (in TLS 1.3: "
                "after the handshake)"
            ),
            guess("a proxy, load balancer or firewall between them ends the connection"),
            guess("the port does not speak TLS the way the client expects"),
        ),
        (w.probe_cmd(), w.select_cmd()),
    )


def _alert_sent(sighting: Sighting, w: NextCommands) -> Explanation:
    return Explanation(
        f"the client aborted the handshake with the alert {sighting.alert or '?'} (its own reason)",
        (guess("the client rejected the server's certificate (its trust store, or the host name)"),),
        (w.probe_chain_cmd(),),
    )


def _verify_failed(sighting: Sighting, w: NextCommands) -> Explanation:
    detail = sighting.detail
    return Explanation(
        "the certificate does not verify against the CA file given" + (f" ({detail})" if detail else ""),
        (
            guess("an intermediate CA is missing (give it with -untrusted, and put it in the chain sent)"),
            guess("the CA file is not the one that issued this certificate"),
            guess("a certificate is expired or not yet valid"),
        ),
        (w.keystore_cmd(),),
    )


def _handshake_failed(sighting: Sighting, w: NextCommands) -> Explanation:
    """A summary that hides the cause: its words narrow it down where they can."""
    text = sighting.text.lower()
    if "peer not authenticated" in text:
        return Explanation(
            "the handshake did not complete (Apache HttpClient on the JVM says this and hides the cause)",
            (
                guess("the platform's truststore does not trust the server's certificate chain"),
                guess("the server rejected the client certificate, or none was sent"),
                guess("no TLS version or cipher suite in common"),
            ),
            (w.probe_cmd(), w.select_cmd()),
        )
    if "wrong version number" in text or "first record does not look like" in text or "http request" in text:
        return Explanation(
            "the server did not answer in TLS",
            (
                guess("the port speaks plain HTTP (or another protocol): wrong port or scheme"),
                guess("a proxy in between answered instead of the server"),
            ),
            ("check the URL's scheme and port", w.probe_chain_cmd()),
        )
    return Explanation(
        "the client says the TLS handshake failed, not why",
        (
            guess(
                "the client does not trust the server's certificate (the most common cause for .NET and "
                "Java clients)"
            ),
            guess("the server rejected the client certificate, or none was sent"),
            guess("no TLS version or cipher suite in common"),
        ),
        (w.probe_cmd(), w.select_cmd()),
    )


# --- the server's HTTP answer, after the handshake -------------------------------------------


def _http_no_cert(sighting: Sighting, w: NextCommands) -> Explanation:
    return Explanation(
        "the server (nginx) required a client certificate and the request came without one; the TLS "
        "handshake itself completed",
        (
            fact("the client sent no certificate in the handshake: that is what this page says"),
            guess("no keystore is configured on the outbound call (or it is another profile's)"),
            guess(
                "the configured certificate's issuer is not among the CA names the server asks for, "
                "so the client sent none"
            ),
            guess(
                "a TLS-terminating proxy or load balancer in front of nginx does not pass the certificate on"
            ),
        ),
        (w.select_cmd(), w.keystore_cmd()),
    )


def _http_cert_error(sighting: Sighting, w: NextCommands) -> Explanation:
    return Explanation(
        "the server (nginx) received a client certificate and its verification failed; the TLS handshake "
        "itself completed",
        (
            guess("the client certificate's issuer is not in the server's ssl_client_certificate"),
            guess(
                "the client sent its leaf without the intermediate (or the chain is deeper than "
                "ssl_verify_depth)"
            ),
            guess("the client certificate is expired or not yet valid"),
        ),
        (w.keystore_cmd(), w.select_cmd()),
    )


def _http_plain_to_tls(sighting: Sighting, w: NextCommands) -> Explanation:
    return Explanation(
        "a plain-HTTP request reached the server's TLS port",
        (fact("the URL says http:// where the port wants https:// (nginx says so)"),),
        ("use https:// in the endpoint's URL", w.probe_cmd()),
    )


def _http_bad_request(sighting: Sighting, w: NextCommands) -> Explanation:
    return Explanation(
        "the server refused the request with 400 Bad Request, without saying why here",
        (
            guess("the request itself (body, headers, content type) is malformed for that API"),
            guess(
                "a client-certificate refusal page whose text was cut (nginx's says \"No required SSL "
                'certificate was sent" or "The SSL certificate error")'
            ),
        ),
        (w.probe_cmd() + " --http-request /", w.select_cmd()),
    )


KindExplainer = Callable[[Sighting, NextCommands], Explanation]

#: every kind of failure but a received alert; one not here is _handshake_failed's
_BY_KIND: dict[Kind, KindExplainer] = {
    Kind.SERVER_CERT_UNTRUSTED: _server_cert_untrusted,
    Kind.SERVER_CERT_EXPIRED: _server_cert_expired,
    Kind.SERVER_CERT_SELF_SIGNED: _server_cert_self_signed,
    Kind.HOSTNAME_MISMATCH: _hostname_mismatch,
    Kind.CLIENT_CERT_UNUSABLE: _client_cert_unusable,
    Kind.CLOSED_WITHOUT_ALERT: _closed_without_alert,
    Kind.ALERT_SENT: _alert_sent,
    Kind.HTTP_NO_CERT: _http_no_cert,
    Kind.HTTP_CERT_ERROR: _http_cert_error,
    Kind.HTTP_PLAIN_TO_TLS: _http_plain_to_tls,
    Kind.HTTP_BAD_REQUEST: _http_bad_request,
    Kind.VERIFY_FAILED: _verify_failed,
}
