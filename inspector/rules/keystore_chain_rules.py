"""Keystore rules on each key entry's key and chain: the certificate that does not belong to the
key, the CA reply filed under another alias or never imported, the chain that is incomplete or
out of order."""

from __future__ import annotations

import shlex
from collections.abc import Iterator

from cryptography import x509

from inspector.findings import Evidence, Finding, Severity, make, register
from inspector.keystore.model import KeyEntry, Keystore
from inspector.pki import certs as C
from inspector.pki import chains
from inspector.rules import RuleSet
from inspector.rules.keystore_context import KeystoreContext

G = "keystore"

KEY_MISMATCH = register(
    "key-cert-mismatch",
    Severity.ERROR,
    "The private key does not match the entry's certificate",
    """The first certificate of a key entry must carry the public half of the entry's private key.
    When it does not, the client's CertificateVerify cannot be verified (the server answers
    decrypt_error) and OpenSSL refuses the pair outright ("key values mismatch"). It happens when a
    CA reply for another CSR is imported, or a chain is stored in the wrong order.""",
    G,
)


SIGNED_OTHER_ALIAS = register(
    "signed-cert-under-other-alias",
    Severity.ERROR,
    "The CA-signed certificate was imported under another alias",
    """keytool binds a CA reply to a key pair only when it is imported under the key pair's alias.
    Imported under a new alias it silently becomes a trustedCertEntry, and the key entry keeps its
    self-signed certificate, which no server trusts. Evidence: the key entry's chain is one
    self-signed certificate while a trusted entry holds a certificate with the same public key.""",
    G,
)


SELF_SIGNED = register(
    "self-signed-client-cert",
    Severity.WARNING,
    "The client certificate is self-signed",
    """A self-signed client certificate works only when the server trusts exactly this
    certificate, and only if the server names it among its CA names (a Java client matches the
    issuer, which is the certificate itself). Export it with -exportcert -rfc and give it to the
    server's team; a CA-signed certificate is the better path.""",
    G,
)


CHAIN_INCOMPLETE = register(
    "chain-incomplete",
    Severity.ERROR,
    "The key entry's chain is missing its issuer(s)",
    """The chain stored with a key entry is what a Java client sends and what it matches against
    the server's CA names (the issuer of every certificate in the chain). Judged on the evidence
    in the store: an error when the missing issuer is known to be an intermediate (a certificate
    with that name, itself issued by another CA, sits in the store: keytool completes the chain
    only at import time); info when it is a root (servers hold their roots); a warning when nothing in the
    store tells: a leaf issued straight by a root the server trusts works, a leaf whose
    intermediate is missing gets unknown_ca. A server's CA names settle it (select, probe).""",
    G,
)


CHAIN_ORDER = register(
    "chain-out-of-order",
    Severity.ERROR,
    "The chain is not in leaf → intermediate → root order, or holds unrelated certificates",
    """Every certificate i of a chain must be issued by certificate i+1 (issuer DN, authority key
    id, signature). From JKS, Java sends the stored order; servers answer a reversed or mixed chain
    with unsupported_certificate, bad_certificate or decrypt_error. Certificates that belong to no
    path are sent too and confuse strict servers.""",
    G,
)


RULES: RuleSet[KeystoreContext] = RuleSet()


@RULES.rule(KEY_MISMATCH)
def key_mismatch(ctx: KeystoreContext) -> Iterator[Finding]:
    """The key's public half against chain[0]."""
    for entry in ctx.entries():
        if entry.private_key is None or not entry.chain:
            continue
        if C.private_matches(entry.private_key, entry.chain[0]):
            continue
        elsewhere = [i for i, c in enumerate(entry.chain) if C.private_matches(entry.private_key, c)]
        others = [
            t.alias for t in ctx.store.trusted_entries if C.private_matches(entry.private_key, t.certificate)
        ]
        evidence = [
            Evidence(
                ctx.source(entry, 0),
                f"{C.dn(entry.chain[0].subject)} has a different public key than the entry's private key",
            )
        ]
        hint = ""
        if elsewhere:
            hint = f"; the key belongs to chain[{elsewhere[0]}] (chain stored in the wrong order)"
        elif others:
            hint = f"; the key belongs to trusted entry '{others[0]}'"
            evidence.append(Evidence(f"keystore entry '{others[0]}'", "same public key as the key"))
        yield make(
            KEY_MISMATCH,
            f"the private key of '{entry.alias}' does not match its certificate{hint}",
            location=ctx.where(entry, 0),
            evidence=evidence,
            fix=(
                f"import the CA reply made from this key's CSR: keytool -importcert -alias "
                f"{shlex.quote(entry.alias)} -file signed.pem -keystore {ctx.q} "
                "(keytool refuses a reply for another key)"
            ),
        )


def _signed_copy(ctx: KeystoreContext, entry: KeyEntry) -> str | None:
    """Alias of a trusted entry holding a CA-signed cert for this entry's key."""
    leaf = entry.chain[0]
    for trusted in ctx.store.trusted_entries:
        cert = trusted.certificate
        if cert.issuer != cert.subject and C.same_certificate_key(cert, leaf):
            return trusted.alias
    return None


@RULES.rule(SIGNED_OTHER_ALIAS, SELF_SIGNED)
def self_signed_or_misfiled(ctx: KeystoreContext) -> Iterator[Finding]:
    """A one-certificate self-signed chain: a misfiled CA reply, or a deliberate self-signed cert."""
    for entry in ctx.entries():
        if len(entry.chain) != 1 or not C.is_self_signed(entry.chain[0]):
            continue
        alias = shlex.quote(entry.alias)
        misfiled = _signed_copy(ctx, entry)
        if misfiled is not None:
            other = shlex.quote(misfiled)
            yield make(
                SIGNED_OTHER_ALIAS,
                f"the signed certificate for '{entry.alias}' sits in trusted entry "
                f"'{misfiled}'; '{entry.alias}' still holds its self-signed certificate",
                location=ctx.where(entry, 0),
                evidence=[
                    Evidence(
                        ctx.source(entry, 0),
                        f"chain is 1 self-signed certificate {C.dn(entry.chain[0].subject)}",
                    ),
                    Evidence(
                        f"keystore entry '{misfiled}'",
                        "trustedCertEntry with the same "
                        "public key, issued by "
                        + C.dn(
                            next(
                                t.certificate for t in ctx.store.trusted_entries if t.alias == misfiled
                            ).issuer
                        ),
                    ),
                ],
                fix=(
                    f"keytool -exportcert -rfc -alias {other} -file {other}.pem -keystore {ctx.q}"
                    f" && keytool -delete -alias {other} -keystore {ctx.q}"
                    f" && keytool -importcert -alias {alias} -file {other}.pem -keystore {ctx.q}"
                ),
            )
            continue
        yield make(
            SELF_SIGNED,
            f"'{entry.alias}' is self-signed: the server must trust exactly this certificate",
            location=ctx.where(entry, 0),
            evidence=[
                Evidence(
                    ctx.source(entry, 0),
                    f"subject = issuer = {C.dn(entry.chain[0].subject)}, signature verifies with its own key",
                )
            ],
            fix=(
                f"keytool -exportcert -alias {alias} -file {entry.alias}.pem -keystore {ctx.q} "
                "-rfc   (give the PEM to the server's team for its trust store)"
            ),
        )


def _known_certificates(store: Keystore) -> list[tuple[str, x509.Certificate]]:
    """Every certificate the store holds, with where it sits (for evidence)."""
    known = [(f"keystore entry '{t.alias}'", t.certificate) for t in store.trusted_entries]
    for e in store.key_entries:
        known += [(f"keystore entry '{e.alias}', chain[{i}]", c) for i, c in enumerate(e.chain)]
    return known


@RULES.rule(CHAIN_INCOMPLETE)
def chain_incomplete(ctx: KeystoreContext) -> Iterator[Finding]:
    """The last certificate is not self-issued and its issuer is not in the chain: judged on the
    evidence. The issuer found in the store and issued by another CA is a missing intermediate
    (error); found and self-signed, a root left out (info); found nowhere, it may be a root the
    server trusts or a missing intermediate, and nothing here tells which (warning)."""
    known = _known_certificates(ctx.store)
    for entry in ctx.entries():
        if not entry.chain:
            continue
        last = entry.chain[-1]
        if chains.is_self_issued(last):
            continue
        if any(chains.same_name(c.subject, last.issuer) for c in entry.chain):
            continue  # present but misplaced: chain-out-of-order says so
        position = len(entry.chain) - 1
        alias = shlex.quote(entry.alias)
        issuer = C.dn(last.issuer)
        evidence = [Evidence(ctx.source(entry, position), f"issuer {issuer} is not in the chain")]
        found = [(where, c) for where, c in known if chains.same_name(c.subject, last.issuer)]
        intermediates = [(where, c) for where, c in found if not chains.java_self_signed(c)]
        roots = [(where, c) for where, c in found if chains.java_self_signed(c)]
        import_reply = (
            f"import the CA reply as a full chain: keytool -importcert -alias {alias} "
            f"-file reply-chain.p7b -keystore {ctx.q}"
        )
        if intermediates:
            where, cert = intermediates[0]
            evidence.append(
                Evidence(
                    where,
                    f"{C.dn(cert.subject)} is in the store, issued by {C.dn(cert.issuer)}: an "
                    "intermediate, missing from this chain (keytool links a chain only at import time)",
                )
            )
            yield make(
                CHAIN_INCOMPLETE,
                f"'{entry.alias}' chain lacks the intermediate {C.short_dn(last.issuer)}: it stops at "
                f"{C.short_dn(last.subject)}",
                location=ctx.where(entry, position),
                evidence=evidence,
                fix=f"{import_reply}  (or re-import the signed certificate under {alias} so keytool "
                "links the intermediate already in the store)",
            )
        elif roots or C.is_ca(last):
            for where, cert in roots[:1]:
                evidence.append(Evidence(where, f"{C.dn(cert.subject)} is in the store, self-signed: a root"))
            yield make(
                CHAIN_INCOMPLETE,
                f"'{entry.alias}' chain ends at {C.short_dn(last.subject)}; the root "
                f"{C.short_dn(last.issuer)} is not included (usually harmless: servers hold the root)",
                location=ctx.where(entry, position),
                evidence=evidence,
                severity=Severity.INFO,
                fix="nothing needed unless the server requires the root in the chain",
            )
        else:
            evidence.append(
                Evidence(
                    ctx.file,
                    f"no certificate named {issuer} anywhere in the store: nothing shows whether it is "
                    "a root or an intermediate",
                )
            )
            yield make(
                CHAIN_INCOMPLETE,
                f"'{entry.alias}' chain stops at {C.short_dn(last.subject)}, issued by {issuer}, which "
                "is not in the store: fine if that is a root the server trusts (a Java client "
                "matches the server's CA names against it); if it is an intermediate, the server "
                "cannot build a path (unknown_ca)",
                location=ctx.where(entry, position),
                evidence=evidence,
                severity=Severity.WARNING,
                fix=(
                    f"ask the CA whether {C.short_dn(last.issuer)} is a root; if it is an intermediate, "
                    f"{import_reply}"
                ),
            )


def _proper_order(entry: KeyEntry) -> list[x509.Certificate] | None:
    """The chain's certificates in leaf → root order, or None if they are not one path."""
    leaf = entry.chain[0]
    if entry.private_key is not None:
        leaf = next((c for c in entry.chain if C.private_matches(entry.private_key, c)), leaf)
    else:
        non_ca = [c for c in entry.chain if not C.is_ca(c)]
        leaf = non_ca[0] if non_ca else leaf
    return chains.proper_order(entry.chain, leaf)


@RULES.rule(CHAIN_ORDER)
def chain_order(ctx: KeystoreContext) -> Iterator[Finding]:
    """cert i must be issued by cert i+1."""
    for entry in ctx.entries():
        broken = [(i, C.link(entry.chain[i], entry.chain[i + 1])) for i in range(len(entry.chain) - 1)]
        broken = [(i, lk) for i, lk in broken if not lk.ok]
        if not broken:
            continue
        evidence = [
            Evidence(
                ctx.source(entry, i),
                f"{C.short_dn(entry.chain[i].subject)} → "
                f"{C.short_dn(entry.chain[i + 1].subject)}: {lk.describe()}",
            )
            for i, lk in broken
        ]
        ordered = _proper_order(entry)
        first = entry.chain[0]
        alias = shlex.quote(entry.alias)
        if ordered is not None:
            order = " → ".join(C.short_dn(c.subject) for c in ordered)
            root_first = first.issuer == first.subject and C.is_ca(first)
            what = "stored root first (reversed)" if root_first else "out of order"
            summary = f"'{entry.alias}' chain is {what}; the right order is {order}"
        else:
            summary = (
                f"'{entry.alias}' chain holds certificates that are not one path "
                f"(unrelated certificate(s) at position(s) "
                f"{', '.join(str(i + 1) for i, _ in broken)})"
            )
        yield make(
            CHAIN_ORDER,
            summary,
            location=ctx.where(entry, broken[0][0]),
            evidence=evidence,
            fix=(
                f"write the certificates leaf first into chain.pem (leaf, intermediate(s), root), "
                f"then: keytool -importcert -alias {alias} -file chain.pem -keystore {ctx.q}"
            ),
        )
