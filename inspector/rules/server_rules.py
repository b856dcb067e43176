"""The partner's server's verdict on the client's chain (`--server-ca`): findings from
the per-stack predictions of inspector/server_stacks. No I/O: verdicts in, findings out."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from inspector.findings import Evidence, Finding, Location, Severity, make, register
from inspector.rules import RuleSet
from inspector.server_stacks import Stack, StackVerdict

G = "server"

STACK_REJECTS = register(
    "server-stack-rejects-chain",
    Severity.ERROR,
    "The partner's server stack would refuse the client's chain",
    """Judged against the server's client-CA material (--server-ca), the chain the client sends
    is refused by this server stack at its defaults (--server-stack; or by every modelled stack).
    The finding gives the reason in the stack's own words (OpenSSL's verify code and text as
    nginx, Apache, HAProxy or openssl s_server log it, Go's x509 error, the JDK's
    CertPathValidatorException reason, Node's authorizationError), the server-side setting that
    changes the verdict and the keytool command that changes the client's side. Revocation
    (CRL/OCSP) is not checked. Stacks marked "modelled, not tested" (Envoy) follow their
    documentation; the others are held to real servers by the oracle tests.""",
    G,
)
STACKS_DISAGREE = register(
    "server-stacks-disagree",
    Severity.WARNING,
    "Some server stacks would accept the client's chain and others refuse it",
    """The same chain and the same client-CA material give different verdicts on different server
    stacks: for example Go and Java accept an intermediate CA as the trust anchor where OpenSSL
    needs the self-signed root, Apache's SSLVerifyDepth defaults to 1, Go refuses SHA-1
    signatures and OpenSSL's security level 2 refuses RSA keys under 2048 bits. Name the
    partner's stack with --server-stack to get one verdict.""",
    G,
)

TRUSTS_UNNAMED = register(
    "server-trusts-unnamed-ca",
    Severity.WARNING,
    "The server would accept a certificate its CertificateRequest does not name",
    """The CA names in the server's CertificateRequest (what `select` was given: --ca-names,
    --from-pcap, --from-server) are not what it trusts (--server-ca): nginx names the CAs of
    ssl_client_certificate but also trusts ssl_trusted_certificate, Apache names
    SSLCADNRequestFile but trusts SSLCACertificateFile. A Java client picks its entry by the
    names, so it sends nothing (or another entry), while the entry OpenSSL/curl would send is
    accepted. Fix on either side: the server names the CA it trusts, or the client is told which
    entry to send (a keystore holding only it, or a custom X509KeyManager).""",
    G,
)

INFERRED = register(
    "server-verdicts-inferred",
    Severity.INFO,
    "The server stacks' verdicts are inferred from a description of the chain, not its bytes",
    """A Java log (javax.net.debug) prints each certificate the client sent as text: subject,
    issuer, serial number, validity, key type (JDK 8 also the key size), signature algorithm and
    extensions, but never the certificate's bytes or its signature. The per-stack verdicts on such
    a chain judge what the text shows: names and key identifiers (to build the path), validity,
    extended and plain key usage, basic constraints and path length, name constraints, unknown
    critical extensions, signature algorithms and, where printed, key sizes. They cannot check a
    signature: that a certificate was issued by the one it names is an inference (a name match is
    not proof of issuance), and a sent certificate is taken to be a trusted one when its issuer and
    serial number match. Each verdict says what it could not check. For a verdict on the real
    bytes, capture the handshake (`mtls-inspect pcap FILE --server-ca ...`) or run
    `mtls-inspect keystore --server-ca ...` on the client's keystore.""",
    G,
)

RULES: RuleSet[ServerContext] = RuleSet()


@dataclass(frozen=True)
class ServerContext:
    verdicts: tuple[StackVerdict, ...]
    #: the stack named with --server-stack (None: all of them)
    stack: Stack | None
    source: str
    alias: str | None
    subject: str
    #: with select: the entry OpenSSL/curl would send when it is not the one Java sends, and the
    #: stacks' verdicts on it
    other_alias: str | None = None
    other_verdicts: tuple[StackVerdict, ...] = ()
    #: a described chain (a log's text): what no verdict could check
    not_checked: tuple[str, ...] = ()

    def where(self) -> Location:
        return Location(file=self.source, alias=self.alias)


def _evidence(v: StackVerdict) -> tuple[Evidence, ...]:
    tested = "tested against the real server" if v.tested else "modelled from documentation, not tested"
    return (Evidence(f"{v.stack.value} ({tested})", v.stack_says or v.reason),)


def _fix(v: StackVerdict) -> str:
    parts = []
    if v.client_fix:
        parts.append(f"client: {v.client_fix}")
    if v.setting:
        parts.append(f"server ({v.stack.value}): {v.setting}")
    return "; ".join(parts) or "the CA that issued the certificate has to issue it differently"


@RULES.rule(STACK_REJECTS)
def refused(ctx: ServerContext) -> Iterator[Finding]:
    """The named stack refuses, or (no stack named) every stack does: one finding per stack."""
    rejecting = [v for v in ctx.verdicts if not v.accepted]
    if not rejecting or (ctx.stack is None and len(rejecting) < len(ctx.verdicts)):
        return
    first = rejecting[0]
    who = first.stack.value if len(rejecting) == 1 else "every server stack"
    reasons = list(dict.fromkeys(v.reason for v in rejecting))
    yield make(
        STACK_REJECTS,
        f"{who} would refuse {ctx.subject}: {reasons[0]}"
        + (f" (and {len(reasons) - 1} other reason(s), per stack below)" if len(reasons) > 1 else ""),
        location=ctx.where(),
        evidence=tuple(e for v in rejecting for e in _evidence(v)),
        fix=_fix(first),
    )


@RULES.rule(STACKS_DISAGREE)
def split(ctx: ServerContext) -> Iterator[Finding]:
    rejecting = [v for v in ctx.verdicts if not v.accepted]
    if ctx.stack is not None or not rejecting or len(rejecting) == len(ctx.verdicts):
        return
    accepting = [v.stack.value for v in ctx.verdicts if v.accepted]
    yield make(
        STACKS_DISAGREE,
        f"{', '.join(v.stack.value for v in rejecting)} would refuse {ctx.subject}; "
        f"{', '.join(accepting)} would accept it",
        location=ctx.where(),
        evidence=tuple(e for v in rejecting for e in _evidence(v)),
        fix="name the partner's server with --server-stack; " + _fix(rejecting[0]),
    )


@RULES.rule(TRUSTS_UNNAMED)
def trusted_but_not_named(ctx: ServerContext) -> Iterator[Finding]:
    """Java's entry is refused (or Java sends nothing) where the entry OpenSSL/curl sends, which
    the names rule out, would be accepted."""
    accepted = [v for v in ctx.other_verdicts if v.accepted]
    if ctx.other_alias is None or not accepted:
        return
    refused = {v.stack for v in ctx.verdicts if not v.accepted}
    stacks = [v.stack.value for v in accepted if v.stack in refused]
    if not stacks:
        return
    yield make(
        TRUSTS_UNNAMED,
        f"{', '.join(stacks)} would accept '{ctx.other_alias}', which the CertificateRequest's CA names "
        f"rule out for a Java client (it sends {ctx.subject})",
        location=ctx.where(),
        evidence=(
            Evidence("--server-ca", f"'{ctx.other_alias}' verifies to a certificate the server trusts"),
        ),
        fix=f"the server names the CA of '{ctx.other_alias}' in its CertificateRequest (nginx "
        "ssl_client_certificate, Apache SSLCADNRequestFile), or the client keeps only that entry "
        "in its keystore",
    )


@RULES.rule(INFERRED)
def inferred(ctx: ServerContext) -> Iterator[Finding]:
    """A chain known by its description only: say once what the verdicts could not check."""
    if not ctx.not_checked:
        return
    yield make(
        INFERRED,
        f"the server stacks' verdicts on {ctx.subject} are inferred from the log's description of the "
        f"chain; not checked: {'; '.join(ctx.not_checked)}",
        location=ctx.where(),
        evidence=(Evidence("--server-ca", "the chain as the log printed it: no bytes, no signatures"),),
        fix="for a verdict on the real certificates: mtls-inspect keystore KEYSTORE --server-ca FILE, "
        "or capture the handshake and run mtls-inspect pcap FILE --server-ca FILE",
    )
