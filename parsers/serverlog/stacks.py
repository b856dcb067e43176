"""The words each server stack logs about a client's handshake, one matcher per stack.

Sources: nginx's ngx_http_request.c / ngx_event_openssl.c messages; Apache httpd mod_ssl's
AH numbers (AH02039 "Certificate Verification: Error (N): ..."); HAProxy's connection error
strings (src/connection.c: "SSL client certificate not trusted", "SSL client CA chain cannot
be verified", "SSL handshake failure") and its ssl_c_verify/ssl_c_err/ssl_c_ca_err fetches;
Go's crypto/tls and crypto/x509 error texts as net/http logs them; Node's authorizationError
codes (OpenSSL's X509_V_ERR names) and ERR_SSL_* codes; Envoy's TLS_error: transport failure
reasons (BoringSSL's reason names). Each matcher returns None for a line that is not its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from parsers.serverlog.model import Problem, Stack, Verdict

#: a line holding none of these is not looked at further (lower case)
TRIGGERS = (
    "ssl", "tls", "certificate", "x509", "authorizationerror", "failed:", "ssl_c_", "verify error",
)  # fmt: skip

#: OpenSSL's X509_V_ERR_* names (Node's authorizationError) → the verify code (OpenSSL 3.0)
X509_V_ERR = {
    "UNABLE_TO_GET_ISSUER_CERT": 2,
    "CERT_SIGNATURE_FAILURE": 7,
    "CERT_NOT_YET_VALID": 9,
    "CERT_HAS_EXPIRED": 10,
    "DEPTH_ZERO_SELF_SIGNED_CERT": 18,
    "SELF_SIGNED_CERT_IN_CHAIN": 19,
    "UNABLE_TO_GET_ISSUER_CERT_LOCALLY": 20,
    "UNABLE_TO_VERIFY_LEAF_SIGNATURE": 21,
    "CERT_CHAIN_TOO_LONG": 22,
    "CERT_REVOKED": 23,
    "PATH_LENGTH_EXCEEDED": 25,
    "INVALID_PURPOSE": 26,
    "CERT_UNTRUSTED": 27,
    "CERT_REJECTED": 28,
    "UNHANDLED_CRITICAL_EXTENSION": 34,
    "PERMITTED_VIOLATION": 47,
    "EXCLUDED_VIOLATION": 48,
    "EE_KEY_TOO_SMALL": 66,
    "CA_KEY_TOO_SMALL": 67,
    "CA_MD_TOO_WEAK": 68,
    "INVALID_CA": 79,
}

#: OpenSSL's alert reason strings as a server logs a received alert ("tlsv1 alert unknown ca")
_ALERT_WORDS = re.compile(r"(?:sslv3|tlsv1|tlsv13) alert ([a-z ]+?)(?=[:)\]]|$| \(|:SSL)", re.I)
_BORING_ALERT = re.compile(r"(?:SSLV3|TLSV1)_ALERT_([A-Z_]+)")


@dataclass(frozen=True)
class Found:
    stack: Stack
    verdict: Verdict
    problem: Problem
    stack_says: str
    code: int | None = None
    reason_text: str | None = None
    alert: str | None = None
    client: str | None = None
    time: str | None = None
    #: lines of one connection share it (Apache's `pid N:tid M`): they are one event
    connection: str | None = None


def _verify_failed(
    stack: Stack,
    said: str,
    code: int | None,
    text: str | None,
    who: str | None = None,
    when: str | None = None,
) -> Found:
    """The chain did not verify: OpenSSL's code when logged (or implied), the stack's words."""
    return Found(stack, Verdict.REJECT, Problem.VERIFY_FAILED, said, code, text, None, who, when)


def _alert_name(words: str) -> str:
    return words.strip().lower().replace(" ", "_")


# --- nginx -----------------------------------------------------------------------------------
_NGINX_HEAD = re.compile(r"(?P<time>\d{4}/\d\d/\d\d \d\d:\d\d:\d\d) \[\w+\] \d+#\d+: (?:\*\d+ )?")
_NGINX_CLIENT = re.compile(r", client: (?P<client>[^,\s]+)")
_NGINX_VERIFY = re.compile(r"client SSL certificate verify error: \((?P<code>\d+):(?P<text>[^)]*)\)")
_NGINX_NO_CERT = re.compile(r"client sent no required SSL certificate")
_NGINX_HANDSHAKE = re.compile(r"SSL_do_handshake\(\) failed \((?P<detail>.*?)\) while SSL handshaking")
_ACCESS_FAILED = re.compile(r"(?:\"FAILED:(?P<quoted>[^\"]+)\"|\bFAILED:(?P<bare>\S.*?)(?=\s+\w+=|\s*$))")
_ACCESS_CLIENT = re.compile(r"(?<![\w.:])(?P<client>[0-9a-fA-F.:\[\]]+) \S+ \S+ \[(?P<time>[^\]]+)\]")


def nginx(line: str) -> Found | None:
    head = _NGINX_HEAD.search(line)
    if head is None:
        return _access_log(line)
    client = _NGINX_CLIENT.search(line)
    who = client.group("client") if client else None
    when = head.group("time")
    said = line[head.end() :]
    if m := _NGINX_VERIFY.search(line):
        return _verify_failed(Stack.NGINX, said, int(m["code"]), m["text"], who, when)
    if _NGINX_NO_CERT.search(line):
        return Found(Stack.NGINX, Verdict.REJECT, Problem.NO_CERTIFICATE, said, client=who, time=when)
    if m := _NGINX_HANDSHAKE.search(line):
        return _handshake_detail(Stack.NGINX, m["detail"], said, who, when)
    return None


def _access_log(line: str) -> Found | None:
    """An access log line with $ssl_client_verify (nginx) / %{SSL_CLIENT_VERIFY}x (Apache)."""
    m = _ACCESS_FAILED.search(line)
    if m is None:
        return None
    reason = (m["quoted"] or m["bare"] or "").strip()
    head = _ACCESS_CLIENT.search(line)
    who, when = (head["client"], head["time"]) if head else (None, None)
    return _verify_failed(Stack.NGINX, line.strip(), None, reason, who, when)


def _handshake_detail(stack: Stack, detail: str, said: str, who: str | None, when: str | None) -> Found:
    """OpenSSL's error queue as a server logs a failed handshake: a received alert is the client
    refusing us; 'peer did not return a certificate' is no client certificate."""
    if "peer did not return a certificate" in detail or "PEER_DID_NOT_RETURN_A_CERTIFICATE" in detail:
        return Found(stack, Verdict.REJECT, Problem.NO_CERTIFICATE, said, client=who, time=when)
    if m := _ALERT_WORDS.search(detail):
        alert = _alert_name(m.group(1))
        return Found(stack, Verdict.REJECT, Problem.CLIENT_ALERT, said, alert=alert, client=who, time=when)
    if m := _BORING_ALERT.search(detail):
        alert = m.group(1).lower()
        return Found(stack, Verdict.REJECT, Problem.CLIENT_ALERT, said, alert=alert, client=who, time=when)
    if "certificate verify failed" in detail.lower() or "CERTIFICATE_VERIFY_FAILED" in detail:
        return _verify_failed(stack, said, None, None, who, when)
    return Found(
        stack, Verdict.REJECT, Problem.HANDSHAKE_FAILED, said, reason_text=detail, client=who, time=when
    )


# --- Apache httpd mod_ssl ----------------------------------------------------------------------
_APACHE_HEAD = re.compile(
    r"\[(?P<time>[^\]]+)\] \[ssl:\w+\](?: \[pid (?P<pid>[^\]]*)\])?(?: \[client (?P<client>[^\]]+)\])?"
)
#: AH02276 (2.4.x, with the certificate's subject and issuer) and AH02039 (older)
_APACHE_VERIFY = re.compile(
    r"AH02(?:039|276): Certificate Verification: Error \((?P<code>\d+)\): (?P<text>.+?)\s*(?:\[subject:|$)"
)
_APACHE_DEPTH = re.compile(r"AH02040: Certificate Verification: Certificate Chain too long")
_APACHE_LIB = re.compile(r"SSL Library Error: (?P<detail>.+?)\s*$")
_APACHE_FAILED = re.compile(r"AH0(?:2008|2261|2262): (?P<detail>.+?)\s*$")


def apache(line: str) -> Found | None:
    found = _apache(line)
    head = _APACHE_HEAD.search(line)
    if found is None or head is None or not head["pid"]:
        return found
    return replace(found, connection=head["pid"])


def _apache(line: str) -> Found | None:
    head = _APACHE_HEAD.search(line)
    if head is None:
        return None
    who, when, said = head["client"], head["time"], line[head.end() :].strip()
    if m := _APACHE_VERIFY.search(line):
        return _verify_failed(Stack.APACHE, said, int(m["code"]), m["text"], who, when)
    if _APACHE_DEPTH.search(line):
        return _verify_failed(Stack.APACHE, said, 22, None, who, when)
    if m := _APACHE_LIB.search(line):
        return _handshake_detail(Stack.APACHE, m["detail"], said, who, when)
    if m := _APACHE_FAILED.search(line):
        return Found(
            Stack.APACHE,
            Verdict.REJECT,
            Problem.HANDSHAKE_FAILED,
            said,
            reason_text=m["detail"],
            client=who,
            time=when,
        )
    return None


# --- HAProxy -----------------------------------------------------------------------------------
_HAPROXY = re.compile(
    r"(?P<client>[0-9a-fA-F.:\[\]]+):\d+ \[(?P<time>\d\d/\w{3}/\d{4}:[\d:.]+)\] (?P<fe>\S+): (?P<msg>.+?)\s*$"
)
_HAPROXY_HEAD = re.compile(r"(?P<client>[0-9a-fA-F.:\[\]]+):\d+ \[(?P<time>\d\d/\w{3}/\d{4}:[\d:.]+)\]")
_HAPROXY_FETCH = re.compile(r"\bssl_c_(?P<which>verify|err|ca_err)[=:](?P<code>\d+)")
_HAPROXY_WORDS = {
    "SSL client certificate not trusted": Problem.VERIFY_FAILED,
    "SSL client CA chain cannot be verified": Problem.VERIFY_FAILED,
    "SSL handshake failure": Problem.HANDSHAKE_FAILED,
    "Connection closed during SSL handshake": Problem.HANDSHAKE_FAILED,
    "Connection error during SSL handshake": Problem.HANDSHAKE_FAILED,
    "Timeout during SSL handshake": Problem.HANDSHAKE_FAILED,
}


def haproxy(line: str) -> Found | None:
    fetched = {m["which"]: int(m["code"]) for m in _HAPROXY_FETCH.finditer(line)}
    m = _HAPROXY.search(line)
    if m is None and not fetched:
        return None
    who, when, msg = (m["client"], m["time"], m["msg"]) if m else (None, None, line.strip())
    if m is None and (head := _HAPROXY_HEAD.search(line)):  # an HTTP/TCP log line: no "fe: message"
        who, when = head["client"], head["time"]
    code = fetched.get("verify") or fetched.get("err") or fetched.get("ca_err") or None
    if code:
        return _verify_failed(Stack.HAPROXY, msg, code, None, who, when)
    for words, problem in _HAPROXY_WORDS.items():
        if msg.startswith(words):
            return Found(Stack.HAPROXY, Verdict.REJECT, problem, msg, None, words, None, who, when)
    if fetched and m is not None:  # ssl_c_verify=0: verified
        return Found(Stack.HAPROXY, Verdict.ACCEPT, Problem.NONE, msg, None, None, None, who, when)
    return None


# --- Go net/http (and Caddy) -------------------------------------------------------------------
_GO = re.compile(r"http: TLS handshake error from (?P<client>\S+?): (?P<err>.+?)\s*(?:\"[,}]|$)")
_GO_TIME = re.compile(r"(?P<time>\d{4}/\d\d/\d\d \d\d:\d\d:\d\d(?:\.\d+)?) ")
_CADDY_TIME = re.compile(r"\"ts\":(?P<time>[\d.]+)")
#: Go's x509 texts → the OpenSSL verify code with the same meaning
_GO_SHA1 = (
    'certificate signed by unknown authority (possibly because of "x509: cannot verify signature: insecure'
)
_GO_X509 = (
    (_GO_SHA1, 68),
    ("certificate signed by unknown authority", 20),
    ("certificate has expired or is not yet valid: current time", None),  # after / before: below
    ("certificate specifies an incompatible key usage", 26),
    ("too many intermediates for path length constraint", 25),
    ("is not authorized to sign for this name", 47),
    ("unhandled critical extension", 34),
    ("certificate is not authorized to sign other certificates", 79),
)


def go(line: str) -> Found | None:
    m = _GO.search(line)
    if m is None:
        return None
    caddy = '"logger":"http' in line
    stack = Stack.CADDY if caddy else Stack.GO
    tm = (_CADDY_TIME if caddy else _GO_TIME).search(line)
    who, err, when = m["client"], m["err"], tm["time"] if tm else None
    said = f"http: TLS handshake error from {who}: {err}"
    if err == "EOF":  # a connection closed before any handshake (a port check): not a client's TLS
        return None
    if "client didn't provide a certificate" in err:
        return Found(stack, Verdict.REJECT, Problem.NO_CERTIFICATE, said, client=who, time=when)
    if "x509: " in err:
        reason = err.split("x509: ", 1)[1]
        code = None
        for words, number in _GO_X509:
            if reason.startswith(words) or words in reason:
                code = number
                break
        if reason.startswith("certificate has expired or is not yet valid"):
            code = 9 if " is before " in reason else 10
        return _verify_failed(stack, said, code, "x509: " + reason, who, when)
    if rm := re.search(r"remote error: tls: (?P<alert>[a-z ]+)", err):
        return Found(
            stack,
            Verdict.REJECT,
            Problem.CLIENT_ALERT,
            said,
            alert=_alert_name(rm["alert"]),
            client=who,
            time=when,
        )
    return Found(
        stack, Verdict.REJECT, Problem.HANDSHAKE_FAILED, said, reason_text=err, client=who, time=when
    )


# --- Node ------------------------------------------------------------------------------------
_NODE_AUTH = re.compile(r"authorizationError\W{0,4}(?P<name>[A-Z][A-Z0-9_]{5,})")
_NODE_CLIENT = re.compile(r"(?:\bfrom |\bclient )(?P<client>[0-9a-fA-F.:\[\]]{3,})")
_NODE_NO_CERT = re.compile(r"ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE|peer did not return a certificate")


def node(line: str) -> Found | None:
    if m := _NODE_AUTH.search(line):
        name = m["name"]
        cm = _NODE_CLIENT.search(line)
        who = cm["client"] if cm else None
        if name == "UNABLE_TO_GET_ISSUER_CERT":  # what Node reports when no certificate came at all
            return Found(
                Stack.NODE, Verdict.REJECT, Problem.NO_CERTIFICATE, line.strip(), None, name, None, who
            )
        code = X509_V_ERR.get(name)
        return _verify_failed(Stack.NODE, line.strip(), code, name, who)
    if "tlsClientError" in line or "ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE" in line:
        if _NODE_NO_CERT.search(line):
            return Found(Stack.NODE, Verdict.REJECT, Problem.NO_CERTIFICATE, line.strip())
        return _handshake_detail(Stack.NODE, line, line.strip(), None, None)
    return None


# --- Envoy -----------------------------------------------------------------------------------
_ENVOY = re.compile(r"TLS_error:\|?(?P<detail>.*?)(?::TLS_error_end|$)")
_ENVOY_DEPTH = re.compile(r"certificate verification error at depth \d+: (?P<text>[^:]+)")
_ENVOY_CLIENT = re.compile(r"\b(?P<client>\d{1,3}(?:\.\d{1,3}){3}:\d+)\b")
_ENVOY_TIME = re.compile(r"\[(?P<time>\d{4}-\d\d-\d\d[T ][\d:.]+Z?)\]")


def envoy(line: str) -> Found | None:
    m = _ENVOY.search(line)
    if m is None:
        return None
    detail = m["detail"]
    cm, tm = _ENVOY_CLIENT.search(line), _ENVOY_TIME.search(line)
    who, when = (cm["client"] if cm else None), (tm["time"] if tm else None)
    said = "TLS_error:" + detail
    if "CERTIFICATE_VERIFY_FAILED" in detail:
        depth = _ENVOY_DEPTH.search(detail)
        text = depth["text"].strip() if depth else None
        return _verify_failed(Stack.ENVOY, said, None, text, who, when)
    return _handshake_detail(Stack.ENVOY, detail, said, who, when)


# --- openssl s_server, a Java server -----------------------------------------------------------
_S_SERVER_VERIFY = re.compile(r"^verify error:num=(?P<code>\d+):(?P<text>.+?)\s*$")
_JAVA_NO_CERT = re.compile(r"SSLHandshakeException: (?:Empty client certificate chain|null cert chain)")
_JAVA_VERIFY = re.compile(
    r"SSLHandshakeException: (?P<text>(?:PKIX path (?:building|validation) failed|Extended key usage|"
    r"KeyUsage does not allow)[^|]*?)\s*(?:\||$)"
)


def s_server(line: str) -> Found | None:
    if m := _S_SERVER_VERIFY.search(line):
        return _verify_failed(Stack.OPENSSL, line.strip(), int(m["code"]), m["text"])
    if "tls_process_client_certificate:peer did not return a certificate" in line:
        return Found(Stack.OPENSSL, Verdict.REJECT, Problem.NO_CERTIFICATE, line.strip())
    return None


def java_server(line: str) -> Found | None:
    """A Java server's refusal as an application logs its exception (one line)."""
    if _JAVA_NO_CERT.search(line):
        return Found(Stack.JAVA, Verdict.REJECT, Problem.NO_CERTIFICATE, line.strip())
    if m := _JAVA_VERIFY.search(line):
        return _verify_failed(Stack.JAVA, line.strip(), None, m["text"])
    return None


#: tried in this order; the first that claims a line wins it
MATCHERS: tuple[Callable[[str], Found | None], ...] = (
    apache, envoy, go, haproxy, node, s_server, java_server, nginx,
)  # fmt: skip
