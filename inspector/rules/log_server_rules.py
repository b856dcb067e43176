"""Log rules on the server's chain a Java client refused, in Java's words: PKIX path building
failed (no trust anchor), an expired server certificate, a host name the certificate does not
name."""

from __future__ import annotations

import re
from collections.abc import Iterator

from inspector.findings import Finding, Severity, make, register
from inspector.pki import certs as C
from inspector.rules import RuleSet
from inspector.rules.log_context import LogContext
from inspector.rules.log_evidence import all_text, server_chain
from parsers.javalog.model import Role

G = "log"

PKIX = register(
    "java-pkix-path-failed",
    Severity.ERROR,
    "Java does not trust the server's certificate chain",
    """PKIX path building failed: unable to find valid certification path to requested target.
    The client's truststore (its -Djavax.net.ssl.trustStore, or the JDK's cacerts) holds no
    anchor the server's chain leads to: the issuer at the top of the chain the server sent is not
    trusted, or the server sends its leaf without the intermediate. Import the issuing CA into
    the truststore, or fix the server's chain. It is the client rejecting the server, not a
    client-certificate problem.""",
    G,
)


SERVER_EXPIRED = register(
    "java-server-cert-expired",
    Severity.ERROR,
    "Java found a certificate in the server's chain outside its validity",
    """PKIX path validation failed: validity check failed. A certificate of the server's chain
    is expired (or not yet valid) at the handshake's time. The server must renew it; a clock
    that is wrong on either side gives the same message.""",
    G,
)


HOSTNAME = register(
    "java-hostname-mismatch",
    Severity.ERROR,
    "The server's certificate does not name the host the client connected to",
    """Java's HTTPS endpoint identification checks the host name against the certificate's DNS
    subject alternative names; only when it has none, against its last CN; an IP address only
    against IP SANs. The message is "No subject alternative DNS name matching H found", "No name
    matching H found" (no DNS SAN, CN differs) or, for an IP address, "No subject alternative
    names matching IP address A found" / "No subject alternative names present". Connect with a
    name the certificate carries, or reissue it with the right SAN.""",
    G,
)


RULES: RuleSet[LogContext] = RuleSet()


#: Java's words for each way its trust manager refuses a server, in the order it checks them
_REFUSALS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("validity check failed", "NotAfter"), "expired"),
    (("PKIX path building failed",), "untrusted"),
    (("No subject alternative", "No name matching"), "name"),
)


@RULES.rule(PKIX, SERVER_EXPIRED, HOSTNAME)
def server_rejected_by_java(ctx: LogContext) -> Iterator[Finding]:
    """The client's trust manager refused the server's chain or name (the first refusal said)."""
    h = ctx.logged
    if h.role is Role.SERVER:  # the server judged the client's chain: the wire rules say it
        return
    texts = all_text(h)
    for words, refusal in _REFUSALS:
        hit = next(((n, t) for n, t in texts if any(w in t for w in words)), None)
        if hit is None:
            continue
        if refusal == "expired":
            yield _server_expired(ctx, hit)
        elif refusal == "untrusted":
            yield _server_untrusted(ctx, hit)
        else:
            yield _server_name_rejected(ctx, hit)
        return


def _server_expired(ctx: LogContext, hit: tuple[int, str]) -> Finding:
    """PKIX path validation failed: a certificate of the server's chain outside its dates."""
    line_no, chain = server_chain(ctx.logged)
    dates = ""
    if chain:
        dates = "; ".join(
            f"{C.short_dn(c.subject)} valid {c.not_valid_before_utc.date()} .. {c.not_valid_after_utc.date()}"
            for c in chain.chain
        )
    return make(
        SERVER_EXPIRED,
        "Java rejected the server's chain: PKIX path validation failed: validity check failed"
        + (f" ({dates})" if dates else ""),
        location=ctx.where(),
        evidence=[ctx.at(hit[0], hit[1][:200])]
        + ([ctx.at(line_no, f"server chain: {dates}")] if line_no and dates else []),
        fix="the server's certificate must be renewed (check both clocks too); "
        "this is not a client-certificate problem",
    )


def _server_untrusted(ctx: LogContext, hit: tuple[int, str]) -> Finding:
    """PKIX path building failed: no anchor in the client's truststore for the server's chain."""
    h = ctx.logged
    line_no, chain = server_chain(ctx.logged)
    leaf = chain.chain[0] if chain and chain.chain else None
    top = chain.chain[-1] if chain and chain.chain else None
    issuer = C.dn(top.issuer) if top is not None else "the server's issuing CA"
    sent = " → ".join(C.short_dn(c.subject) for c in chain.chain) if chain and chain.chain else "not shown"
    leaf_only = (
        chain is not None and len(chain.chain) == 1 and leaf is not None and leaf.issuer != leaf.subject
    )
    trusted = h.trusted
    anchors = "; ".join(trusted[1]) if trusted else ""
    return make(
        PKIX,
        "Java does not trust the server: PKIX path building failed: unable to find valid "
        f"certification path to requested target — no trust anchor for {issuer}"
        + (
            f" (the client's truststore, as logged, holds only: {anchors or 'nothing'})"
            if trusted is not None
            else " (the server sent its leaf without the intermediate)"
            if leaf_only
            else ""
        ),
        location=ctx.where(),
        evidence=[ctx.at(hit[0], hit[1][:200])]
        + ([ctx.at(line_no, f"server chain sent: {sent}")] if line_no else [])
        + ([ctx.at(trusted[0], f"adding as trusted certificates: {anchors}")] if trusted else []),
        fix=(
            "import the CA that issued the top of the server's chain into the client's truststore: "
            f"keytool -importcert -trustcacerts -alias server-ca -file ca.pem -keystore truststore.jks "
            f"(ca.pem: the certificate of {issuer}); mtls-inspect log {ctx.file} --truststore "
            "truststore.jks checks it as Java would"
        ),
    )


def _server_name_rejected(ctx: LogContext, hit: tuple[int, str]) -> Finding:
    """HTTPS endpoint identification failed: the certificate does not name the host."""
    h = ctx.logged
    line_no, chain = server_chain(ctx.logged)
    leaf = chain.chain[0] if chain and chain.chain else None
    sans = ""
    if leaf is not None:
        try:
            from cryptography import x509

            ext = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            sans = ", ".join(
                [str(n) for n in ext.get_values_for_type(x509.DNSName)]
                + [str(n) for n in ext.get_values_for_type(x509.IPAddress)]
            )
        except Exception:
            sans = "none"
    host = re.search(r"matching (?:IP address )?(\S+?)\.? found", hit[1])
    # JDK 8 names the server's certificate and its usages even without :verbose
    subjects = h.unprinted_chains.get(line_no or 0) or ()
    usages = h.chain_usages.get(line_no or 0)
    client_only = usages is not None and "serverAuth" not in usages and "clientAuth" in usages
    return make(
        HOSTNAME,
        f"Java rejected the server's name: {hit[1].split(': ', 1)[-1][:160]}"
        + (f" (the certificate names: {sans})" if sans else "")
        + (
            f"; the server presented {subjects[0] if subjects else 'a certificate'} whose "
            "extendedKeyUsage is clientAuth only: a client certificate, not a server's (likely its key "
            "manager chose the wrong key entry)"
            if client_only
            else ""
        ),
        location=ctx.where(),
        evidence=[ctx.at(hit[0], hit[1][:200])]
        + ([ctx.at(line_no, f"server certificate SANs: {sans}")] if line_no and sans else [])
        + (
            [
                ctx.at(
                    line_no,
                    f"server certificate: {', '.join(subjects)} "
                    f"ExtendedKeyUsages [{', '.join(usages or ())}]",
                )
            ]
            if line_no and usages is not None
            else []
        ),
        fix=(
            f"connect with a host name the certificate carries ({sans})"
            if sans and sans != "none"
            else "connect with a host name the certificate carries"
        )
        + (f" instead of {host.group(1)}" if host else "")
        + ", or have the server's certificate reissued with that name as a subjectAltName "
        "(with DNS SANs present, Java ignores the CN)",
    )
