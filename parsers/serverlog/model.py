"""What a server's own log says of a client's certificate, as typed facts (the diagnosis is
inspector/rules/serverlog_rules.py's)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Stack(str, Enum):
    """The server software that wrote the line."""

    NGINX = "nginx"
    APACHE = "apache"
    HAPROXY = "haproxy"
    GO = "go"
    CADDY = "caddy"  # Go's crypto/tls underneath, in Caddy's JSON log
    NODE = "node"
    ENVOY = "envoy"
    OPENSSL = "openssl"  # openssl s_server's own output
    JAVA = "java"  # a Java server's SSLHandshakeException, as an application logs it


class Verdict(str, Enum):
    ACCEPT = "accept"
    REJECT = "reject"


class Problem(str, Enum):
    """What the server found, in the stack's terms reduced to one vocabulary."""

    NO_CERTIFICATE = "no-certificate"  # the client sent none (or an empty Certificate)
    VERIFY_FAILED = "verify-failed"  # the chain did not verify: `code` says why when the log does
    CLIENT_ALERT = "client-alert"  # the client aborted (an alert about the server's certificate)
    HANDSHAKE_FAILED = "handshake-failed"  # the log says it failed, not why
    NONE = "none"  # accepted


@dataclass(frozen=True)
class ServerEvent:
    """One line of a server's log about one client's handshake. Text fields are escaped."""

    line: int
    stack: Stack
    verdict: Verdict
    problem: Problem
    #: the stack's own words, as logged (escaped, cut at 300 characters)
    stack_says: str
    #: OpenSSL's verify error number, logged by the stack or implied by its words (Go, Node)
    code: int | None = None
    #: the verify reason in the stack's words when no number is logged (Envoy, HAProxy)
    reason_text: str | None = None
    #: the TLS alert the client sent, for CLIENT_ALERT
    alert: str | None = None
    #: the client's address as logged (`127.0.0.1`, `10.0.0.7:51234`), when the line has it
    client: str | None = None
    #: the time as logged (the stack's own format), when the line has it
    time: str | None = None


@dataclass(frozen=True)
class ServerLogReading:
    lines: int
    events: tuple[ServerEvent, ...]

    @property
    def stacks(self) -> tuple[Stack, ...]:
        return tuple(dict.fromkeys(e.stack for e in self.events))
