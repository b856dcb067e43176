"""What the reference server saw of one client (`ClientReport`) and its one-line account; filled
from OpenSSL's verify callback (`note_verify`) and the chain it kept (`note_chain`). Subjects
are read leniently from the DER: a hostile certificate makes a line, never a crash."""

from __future__ import annotations

import contextlib
import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from inspector.live.peer_certs import der, peer_chain
from inspector.pki import certs as C
from inspector.pki.openssl_verify import verify_error

if TYPE_CHECKING:
    from OpenSSL import SSL, crypto

#: subjects kept per client (the count is kept whole)
SUBJECTS_KEPT = 10


class Hello(enum.Enum):
    """What the client's first bytes were."""

    NOTHING = "nothing"
    NOT_TLS = "not TLS"
    SSLV2 = "an SSLv2-style hello"
    NOT_HANDSHAKE = "a TLS record that is not a handshake"
    CUT = "a ClientHello cut short"
    COMPLETE = "a ClientHello"


@dataclass
class ClientReport:
    peer: str
    version: str | None = None
    #: the subjects of the certificates the client sent (the first SUBJECTS_KEPT), leaf first
    subjects: list[str] = field(default_factory=list)
    #: how many certificates it sent (0 when OpenSSL refused the chain and kept none of it)
    certificates: int = 0
    #: the leaf's CN (or DN), for the line
    leaf: str | None = None
    verify_errors: list[tuple[int, int, str]] = field(default_factory=list)  # errnum, depth, subj
    accepted: bool = False
    error: str | None = None
    #: the client's first line when it did not speak TLS (plain HTTP to a TLS port), escaped
    not_tls: str | None = None
    #: what its first bytes were
    hello: Hello = Hello.NOTHING
    #: the first bytes it sent, as hex (for garbage), and how many it sent in all
    first_bytes: str = ""
    received: int = 0
    #: (received, expected) bytes of a ClientHello record cut short
    cut: tuple[int, int] | None = None
    #: how the client's side ended when the handshake did not finish
    ended: str | None = None
    #: the alert OpenSSL wrote in plaintext (TLS 1.2 and before the keys), when it wrote one
    alert_sent: str | None = None
    #: a ServerHello went out: the version is the negotiated one
    negotiated: bool = False

    def _sent(self) -> str:
        if self.leaf is None:
            return "sent no certificate"
        if not self.certificates:  # refused: OpenSSL keeps no chain, only its leaf was seen
            return f"sent {self.leaf}"
        return f"sent {self.leaf} ({self.certificates} certificate(s))"

    def line(self) -> str:
        if self.not_tls is not None:
            return (
                f'client {self.peer}: not TLS (sent "{self.not_tls}") → answered HTTP 400: '
                "a plain-HTTP client on a TLS port (use https://)"
            )
        who = f"client {self.peer}"
        early = self._early()
        if early is not None:
            return f"{who}: {early}"
        head = f"{who}: {self.version if self.negotiated else 'no TLS version agreed'}, {self._sent()}"
        if self.accepted:
            return f"{head} → accepted"
        if self.verify_errors:
            errnum, depth, subject = self.verify_errors[0]
            row = verify_error(errnum)
            return (
                f"{head} → rejected with {self.alert_sent or row.alert}: {row.cause} "
                f"(depth {depth}, {subject}) [finding {row.finding}]"
            )
        if self.leaf is None and self.error is not None and "did not return a certificate" in self.error:
            alert = self.alert_sent or (
                "certificate_required" if self.version == "TLSv1.3" else "handshake_failure"
            )
            return f"{head} → rejected with {alert}: a certificate is required [finding client-cert-not-sent]"
        said = f" with {self.alert_sent}" if self.alert_sent else ""
        return f"{head} → failed{said}: {self.error or self.ended or 'the handshake did not finish'}"

    def _early(self) -> str | None:
        """The line for a client that never got as far as a handshake OpenSSL could answer."""
        ended = self.ended or "left"
        if self.hello is Hello.NOTHING:
            return f"sent nothing ({ended}) → no handshake"
        if self.hello is Hello.SSLV2:
            return (
                f"sent an SSLv2-style hello ({self.first_bytes}…) → refused: SSLv2 hellos are not "
                "accepted; the client must send a TLS ClientHello (enable TLS 1.2 or 1.3 on it)"
            )
        if self.hello is Hello.NOT_HANDSHAKE:
            return (
                f"sent {self.received} byte(s) that are not a TLS ClientHello ({self.first_bytes}…) "
                f"→ refused{f' with {self.alert_sent}' if self.alert_sent else ''}: not a TLS client"
            )
        if self.hello is Hello.CUT and self.cut is not None:
            got, wanted = self.cut
            return f"sent {got} of a {wanted}-byte ClientHello record, then {ended} → no handshake"
        if not self.negotiated and self.error is not None:
            reason = self.error
            if "unsupported protocol" in reason or "version" in reason:
                return (
                    f"offered no TLS version this server accepts ({reason}) → refused with "
                    f"{self.alert_sent or 'protocol_version'}: enable TLS 1.2 or 1.3 on the client"
                )
            said = f" with {self.alert_sent}" if self.alert_sent else ""
            return f"sent a ClientHello → refused{said} before any certificate was asked: {reason}"
        return None


def note_chain(conn: SSL.Connection, report: ClientReport) -> None:
    """The chain OpenSSL kept of what the client sent, when it is longer than what was noted."""
    from OpenSSL import SSL

    with contextlib.suppress(SSL.Error):
        chain = peer_chain(conn, server_side=True)
        if len(chain) > report.certificates:
            report.certificates = len(chain)
            report.subjects = [C.subject_of(d) for d in chain[:SUBJECTS_KEPT]]
            report.leaf = C.subject_of(chain[0], short=True)


def note_verify(conn: SSL.Connection, cert: crypto.X509, errnum: int, depth: int, ok: int) -> bool:
    """OpenSSL's verify callback: never raises (an exception here would end the handshake
    in pyOpenSSL's hands); subjects are read leniently from the DER."""
    report = conn.get_app_data()
    if isinstance(report, ClientReport):
        if depth == 0 and not report.subjects:  # a refused chain is not kept by OpenSSL
            leaf = der(cert)
            report.subjects = [C.subject_of(leaf)]
            report.leaf = C.subject_of(leaf, short=True)
        elif not ok and not report.subjects:  # refused above the leaf: the leaf is not shown to us
            report.leaf = report.leaf or f"a chain through {C.subject_of(der(cert))}"
        if not ok:
            report.verify_errors.append((errnum, depth, C.subject_of(der(cert))))
    return bool(ok)
