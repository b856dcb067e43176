"""Keystore rules: what is wrong before any connection is made."""

from __future__ import annotations

import datetime as dt
import shlex
from collections.abc import Iterator
from dataclasses import dataclass

from cryptography import x509

from inspector.findings import Evidence, Finding, Location, Severity, make, register
from inspector.keystore.java_signing import Unsignable, java_signing
from inspector.keystore.model import KeyEntry, Keystore, StoreType
from inspector.pki import certs as C
from inspector.pki import chains
from inspector.rules import RuleSet

G = "keystore"

TYPE_MISMATCH = register(
    "keystore-type-mismatch",
    Severity.WARNING,
    "The file's real type differs from its name",
    """Since Java 9 `keytool -genkeypair -keystore x.jks` writes PKCS#12 whatever the name says;
    `-storetype JKS` is needed for a real JKS. Java itself reads both (keystore.type.compat), but
    products that ask for a "Java Key Store" and tools that trust the extension may not. The type is
    read from the bytes: FE ED FE ED is JKS, CE CE CE CE is JCEKS, a DER SEQUENCE is PKCS#12.""",
    G,
)
NO_KEY_ENTRY = register(
    "no-private-key-entry",
    Severity.ERROR,
    "The keystore holds no private key entry",
    """A client can only authenticate with a PrivateKeyEntry: the key pair made by -genkeypair with
    its signed certificate imported under the same alias. A store with only trustedCertEntry
    entries is a trust store; a Java client using it as a key store sends an empty Certificate.""",
    G,
)
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
EXPIRED = register(
    "cert-expired",
    Severity.ERROR,
    "A certificate in the chain has expired",
    """Servers reject an expired client certificate or CA with certificate_expired (or, nginx,
    HTTP 400). A Java client still sends it: the key manager does not filter on dates.""",
    G,
)
NOT_YET_VALID = register(
    "cert-not-yet-valid",
    Severity.ERROR,
    "A certificate in the chain is not valid yet",
    """notBefore lies after the time of judgement: a clock skew or a certificate issued for the
    future. Servers answer certificate_expired or bad_certificate.""",
    G,
)
CLIENT_AUTH_USAGE = register(
    "missing-client-auth-usage",
    Severity.ERROR,
    "The leaf is not fit for TLS client authentication",
    """An extendedKeyUsage extension without clientAuth (e.g. serverAuth only), or a keyUsage
    without digitalSignature, forbids TLS client authentication. OpenSSL-based servers answer
    unsupported_certificate, nginx HTTP 400. Java still sends such a certificate.""",
    G,
)
WEAK_KEY = register(
    "weak-key",
    Severity.ERROR,
    "A key in the chain is too small",
    """RSA and DSA keys under 2048 bits and EC keys under 224 bits are refused by OpenSSL 3 at
    security level 2 — the default of OpenSSL 3.2+ and of Debian/Ubuntu builds of 3.0: measured
    against `openssl s_server -Verify 1 -verify_return_error` (3.0.19), an RSA-1024 client
    certificate ends the handshake with "EE certificate key too weak" and alert bad_certificate,
    in TLS 1.2 and 1.3 ("CA certificate key too weak" for a CA). A Java client still sends it
    (jdk.certpath.disabledAlgorithms only refuses RSA under 1024). EC keys of 224 to 255 bits
    pass level 2 and are a warning.""",
    G,
)
WEAK_SIGNATURE = register(
    "weak-signature",
    Severity.WARNING,
    "A certificate is signed with SHA-1 or MD5",
    """SHA-1 and MD5 signatures on certificates other than a trust anchor are refused by current
    OpenSSL and Java defaults (ca_md_too_weak), and fall outside TLS 1.3's signature_algorithms_cert.
    A root's self-signature does not matter.""",
    G,
)
MULTIPLE_KEYS = register(
    "multiple-key-entries",
    Severity.WARNING,
    "The keystore holds several key entries",
    """With several PrivateKeyEntry entries, which one a Java client sends depends on the server's
    CA names (first entry whose chain holds a named issuer); with an empty CA list any may be sent.
    Keep one key entry per keystore, or check with `mtls-inspect select` which one a server
    gets.""",
    G,
)
KEY_PASSWORD = register(
    "key-password-differs",
    Severity.ERROR,
    "A key entry's password differs from the store password",
    """Java's key managers open every key with the store password. When a key entry has its own
    password, SunX509 fails at start-up ("Cannot recover key" for JKS; for PKCS#12 "Get Key
    failed: Given final block not properly padded") and PKIX still chooses the entry, then finds no
    private key and sends an empty Certificate (measured, JDK 17). PKCS#12 has per-entry key
    protection too: a store written with its keys under another password (often the empty one)
    lists fine in keytool and fails the same way.""",
    G,
)

JAVA_CANNOT_LOAD = register(
    "keystore-unloadable-in-java",
    Severity.ERROR,
    "Java cannot load this keystore at all (its message blames the password)",
    """The file reads here, but Java's KeyStore.load throws, so keytool lists nothing and every Java
    client fails before any handshake. Java's message is misleading: a PKCS#12 whose encrypted
    certificates hold one Java cannot parse (e.g. an X9.42 DH certificate, OID 1.2.840.10046.2.1:
    "Integer exceeds maximum valid value") fails with "keystore password was incorrect" although
    the password is right (measured, JDK 17); in a JKS, a JCEKS or unencrypted PKCS#12 bags Java
    names the parsing error itself. Remove that certificate from the store, or keep it in a store
    of its own that Java never loads.""",
    G,
)
KEY_CANNOT_SIGN = register(
    "key-unusable-by-java",
    Severity.ERROR,
    "A key entry's key cannot sign a CertificateVerify in Java",
    """A client proves it holds its key by signing the handshake (CertificateVerify). JDK 17's SunEC
    signs only on secp256r1, secp384r1 and secp521r1: an EC key on a brainpool or binary curve
    (brainpoolP256r1, sect409r1 ...) is listed by keytool, and a key manager still chooses it
    (its key type is EC), then the handshake ends: "No supported CertificateVerify signature
    algorithm for EC key" (measured, TLS 1.2 and 1.3). XDH (X25519, X448) and DH keys agree keys and
    cannot sign at all: Java never sends such an entry (a warning when another entry can be
    sent, an error when none can). Use an RSA, EC P-256/384/521 or Ed25519 key for TLS.""",
    G,
)

IGNORED_KEY_BAG = register(
    "pkcs12-key-not-loaded-by-java",
    Severity.ERROR,
    "A PKCS#12 private key is stored in a way Java does not load",
    """Java's PKCS12KeyStore reads private keys only from PKCS8ShroudedKeyBag (an encrypted key).
    A key written unencrypted — `openssl pkcs12 -export -keypbe NONE`, Python cryptography's
    NoEncryption() — sits in a KeyBag, which Java skips ("Unsupported PKCS12 bag type"): keytool
    lists no key entry and a Java client sends an empty Certificate. Re-export with an encrypted
    key.""",
    G,
)
ALIAS_UNREACHABLE = register(
    "alias-unreachable-in-java",
    Severity.ERROR,
    "Java lists this key entry but cannot open it (upper case in a JKS/JCEKS alias)",
    """JKS and JCEKS stores keep aliases as written, but Java looks every alias up lower-cased:
    an entry written with upper-case letters by a tool other than keytool is listed by
    `keytool -list` and then "does not exist" (measured with JDK 17). A Java key manager skips it,
    so a Java client never sends it. keytool itself always writes lower-case aliases; rewrite the
    store with keytool (keytool -importkeystore from a PKCS#12 export) or convert it to PKCS12.""",
    G,
)
CERT_UNREADABLE = register(
    "cert-malformed",
    Severity.WARNING,
    "A certificate is malformed: a strict parser refuses part of it",
    """The certificate breaks a rule of X.509 / DER that strict parsers (Python cryptography,
    often OpenSSL) enforce: an invalid string in a name, version 2, a negative serial, a duplicate
    or undecodable extension, an invalid public key. The report shows what could be read; the
    part named was left out or repaired for reading. A peer may refuse the certificate (Java
    refuses duplicate extensions). Reissue it.""",
    G,
)
CERT_LEFT_OUT = register(
    "cert-unreadable",
    Severity.ERROR,
    "A certificate could not be read at all: it is missing from the report",
    """Neither the strict parser nor the lenient one could read the certificate, so it is left out
    of the entry's chain as shown and judged here: the chain checks (order, issuers, dates) work on
    what is left. Java may read it or may refuse the whole store; export it (keytool -exportcert,
    openssl pkcs12 -nokeys) and look at it with `openssl x509 -text`.""",
    G,
)
CERT_NONSTANDARD = register(
    "cert-nonstandard-encoding",
    Severity.INFO,
    "A certificate's encoding is not strictly standard, but Java and OpenSSL read it",
    """E.g. an ecdsa-with-SHA256 AlgorithmIdentifier written with explicit NULL parameters, as
    older JDKs wrote EC certificates. RFC 5758 says the parameters are absent; Java and OpenSSL
    accept both, so nothing is wrong for a handshake. Said for completeness.""",
    G,
)

#: What Java's SunX509 says at start-up on a key the store password does not open (JDK 17).
JAVA_KEY_PASSWORD_JKS = "Cannot recover key"
JAVA_KEY_PASSWORD_PKCS12 = "Get Key failed: Given final block not properly padded"

RULES: RuleSet[KeystoreContext] = RuleSet()


@dataclass(frozen=True)
class KeystoreContext:
    store: Keystore
    at: dt.datetime
    alias: str | None = None

    @property
    def file(self) -> str:
        return str(self.store.path)

    @property
    def q(self) -> str:
        """The keystore path quoted for a shell command."""
        return shlex.quote(str(self.store.path))

    def entries(self) -> list[KeyEntry]:
        return [e for e in self.store.key_entries if self.alias in (None, e.alias)]

    def where(self, entry: KeyEntry | None = None, position: int | None = None) -> Location:
        return Location(file=self.file, alias=entry.alias if entry else None, position=position)

    def source(self, entry: KeyEntry, position: int | None = None) -> str:
        pos = f", chain[{position}]" if position is not None else ""
        return f"keystore entry '{entry.alias}'{pos}"


def _storetype_flag(store: Keystore) -> str:
    return "" if store.store_type is StoreType.PKCS12 else f" -storetype {store.store_type.value}"


@RULES.rule(TYPE_MISMATCH)
def type_mismatch(ctx: KeystoreContext) -> Iterator[Finding]:
    """The extension promises one type, the bytes say another."""
    store, expected = ctx.store, ctx.store.expected_type
    binary = (StoreType.JKS, StoreType.JCEKS, StoreType.PKCS12)
    if expected not in binary or store.store_type is expected:
        return
    actual = store.store_type
    target = expected.value if expected is not None else "PKCS12"
    stem = store.path.with_name(store.path.stem + f"-{target.lower()}{store.path.suffix}")
    yield make(
        TYPE_MISMATCH,
        f"{store.path.name} is {actual.value}, not {expected.value if expected else '?'} as its name says",
        location=ctx.where(),
        evidence=[
            Evidence(ctx.file, f"first bytes {store.first_bytes.hex(' ')} → {actual.value}"),
            Evidence(ctx.file, f"extension '{store.path.suffix}' suggests {target}"),
        ],
        fix=(
            f"keytool -importkeystore -srckeystore {ctx.q} -srcstoretype {actual.value} "
            f"-destkeystore {shlex.quote(str(stem))} -deststoretype {target}"
            if actual in binary
            else "give the file the extension of its real type"
        ),
    )


@RULES.rule(NO_KEY_ENTRY)
def no_key_entry(ctx: KeystoreContext) -> Iterator[Finding]:
    """A trust store used as a key store."""
    if ctx.store.key_entries or ctx.store.ignored_keys:
        return  # an ignored key bag is said by its own finding
    trusted = len(ctx.store.trusted_entries)
    yield make(
        NO_KEY_ENTRY,
        f"no private key entry: {trusted} trusted certificate(s) only — a Java client would send "
        "an empty Certificate",
        location=ctx.where(),
        evidence=[Evidence(ctx.file, f"{trusted} trustedCertEntry, 0 PrivateKeyEntry")],
        fix=(
            f"import the key pair, e.g. keytool -importkeystore -srckeystore client.p12 "
            f"-srcstoretype PKCS12 -destkeystore {ctx.q}{_storetype_flag(ctx.store)}"
        ),
    )


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


@RULES.rule(EXPIRED, NOT_YET_VALID)
def validity(ctx: KeystoreContext) -> Iterator[Finding]:
    """notBefore / notAfter of every certificate in every key entry's chain."""
    when = ctx.at.date().isoformat()
    for entry in ctx.entries():
        for i, cert in enumerate(entry.chain):
            state = C.validity_state(cert, ctx.at)
            role = "client certificate" if i == 0 else f"CA certificate chain[{i}]"
            if state == "expired":
                yield make(
                    EXPIRED,
                    f"'{entry.alias}' {role} {C.short_dn(cert.subject)} expired on "
                    f"{cert.not_valid_after_utc.date().isoformat()}",
                    location=ctx.where(entry, i),
                    evidence=[
                        Evidence(
                            ctx.source(entry, i), f"notAfter {cert.not_valid_after_utc.isoformat()} < {when}"
                        )
                    ],
                    fix=(
                        f"renew: keytool -certreq -alias {shlex.quote(entry.alias)} -file "
                        f"renew.csr -keystore {ctx.q}, have it signed, re-import the reply"
                        if i == 0
                        else "import the CA's renewed certificate and re-import the "
                        "reply so the chain holds it"
                    ),
                )
            elif state == "not-yet-valid":
                yield make(
                    NOT_YET_VALID,
                    f"'{entry.alias}' {role} {C.short_dn(cert.subject)} is valid only from "
                    f"{cert.not_valid_before_utc.isoformat()}",
                    location=ctx.where(entry, i),
                    evidence=[
                        Evidence(
                            ctx.source(entry, i),
                            f"notBefore {cert.not_valid_before_utc.isoformat()} > {when}",
                        )
                    ],
                    fix="check the clocks of the client, the server and the CA; wait or reissue",
                )


@RULES.rule(CLIENT_AUTH_USAGE)
def client_auth_usage(ctx: KeystoreContext) -> Iterator[Finding]:
    """EKU must allow clientAuth; keyUsage must allow digitalSignature."""
    for entry in ctx.entries():
        if not entry.chain or (
            len(entry.chain) == 1 and C.is_self_signed(entry.chain[0]) and C.is_ca(entry.chain[0])
        ):
            continue
        leaf = entry.chain[0]
        eku, ku = C.ext_key_usage(leaf), C.key_usage(leaf)
        problems = []
        if eku is not None and not {"clientAuth", "anyExtendedKeyUsage"} & set(eku):
            problems.append(f"extendedKeyUsage is {', '.join(eku) or 'empty'} (no clientAuth)")
        if ku is not None and "digital_signature" not in ku:
            problems.append(f"keyUsage is {', '.join(ku)} (no digitalSignature)")
        if not problems:
            continue
        yield make(
            CLIENT_AUTH_USAGE,
            f"'{entry.alias}' leaf may not be used for TLS client authentication: " + "; ".join(problems),
            location=ctx.where(entry, 0),
            evidence=[Evidence(ctx.source(entry, 0), p) for p in problems],
            fix=(
                f"reissue with client auth: keytool -certreq -alias {shlex.quote(entry.alias)} "
                f"-ext EKU=clientAuth -ext KU=digitalSignature -file client.csr -keystore "
                f"{ctx.q}, and ask the CA for a client-auth profile"
            ),
        )


@RULES.rule(WEAK_KEY, WEAK_SIGNATURE)
def weak_crypto(ctx: KeystoreContext) -> Iterator[Finding]:
    """Small keys anywhere in the chain; SHA-1/MD5 signatures on non-anchor certificates."""
    minimum = {"RSA": 2048, "DSA": 2048, "EC": 256}
    refused_below = {"RSA": 2048, "DSA": 2048, "EC": 224}  # OpenSSL security level 2 (112 bits)
    for entry in ctx.entries():
        for i, cert in enumerate(entry.chain):
            algo, size = C.public_key_algorithm(cert)
            if algo in minimum and size is not None and size < minimum[algo]:
                yield make(
                    WEAK_KEY,
                    f"'{entry.alias}' chain[{i}] {C.short_dn(cert.subject)} has a {algo} "
                    f"{size}-bit key (minimum {minimum[algo]})"
                    + (
                        f': OpenSSL 3 servers at security level 2 refuse it ("{_too_weak(i)}", '
                        "alert bad_certificate); a Java client still sends it"
                        if size < refused_below[algo]
                        else ""
                    ),
                    location=ctx.where(entry, i),
                    evidence=[Evidence(ctx.source(entry, i), f"public key {algo} {size} bits")],
                    severity=Severity.ERROR if size < refused_below[algo] else Severity.WARNING,
                    fix=(
                        "generate a new key pair: keytool -genkeypair -alias "
                        f"{shlex.quote(entry.alias)} -keyalg RSA -keysize 2048 ... and get it "
                        "signed"
                        if i == 0
                        else "ask the CA for a chain with stronger keys"
                    ),
                )
            digest = C.signature_hash(cert)
            if digest in ("sha1", "md5") and not C.is_self_signed(cert):
                yield make(
                    WEAK_SIGNATURE,
                    f"'{entry.alias}' chain[{i}] {C.short_dn(cert.subject)} is signed with {digest.upper()}",
                    location=ctx.where(entry, i),
                    evidence=[
                        Evidence(
                            ctx.source(entry, i), f"signature algorithm {cert.signature_algorithm_oid._name}"
                        )
                    ],
                    severity=Severity.ERROR if digest == "md5" else None,
                    fix="ask the CA to reissue the certificate with SHA-256",
                )


def _too_weak(position: int) -> str:
    return "EE certificate key too weak" if position == 0 else "CA certificate key too weak"


@RULES.rule(IGNORED_KEY_BAG)
def key_bag_ignored_by_java(ctx: KeystoreContext) -> Iterator[Finding]:
    """An unencrypted PKCS#12 KeyBag: loaded here, skipped by Java."""
    for name in ctx.store.ignored_keys:
        yield make(
            IGNORED_KEY_BAG,
            f"the private key '{name}' is stored unencrypted (a PKCS#12 KeyBag), which Java does not "
            "load: a Java client sees no key entry and sends an empty Certificate",
            location=ctx.where(),
            evidence=[
                Evidence(
                    ctx.file, f"KeyBag '{name}' (1.2.840.113549.1.12.10.1.1), not a PKCS8ShroudedKeyBag"
                ),
                Evidence("Java PKCS12KeyStore", 'logs "Unsupported PKCS12 bag type" and skips it'),
            ],
            fix=(
                "re-export with an encrypted key: openssl pkcs12 -in STORE -nodes -out all.pem, then "
                "openssl pkcs12 -export -in all.pem -name ALIAS -out fixed.p12 (no -keypbe NONE)"
            ),
        )


@RULES.rule(ALIAS_UNREACHABLE)
def alias_unreachable(ctx: KeystoreContext) -> Iterator[Finding]:
    """A JKS/JCEKS key entry Java cannot open: its alias has upper-case letters."""
    for entry in ctx.entries():
        if entry.java_reachable:
            continue
        yield make(
            ALIAS_UNREACHABLE,
            f"key entry '{entry.alias}' has upper-case letters: Java lists it but looks it up as "
            f"'{entry.alias.lower()}' and cannot open it (\"Alias <{entry.alias}> does not exist\"); "
            "a Java client never sends it",
            location=ctx.where(entry),
            evidence=[
                Evidence(
                    ctx.source(entry), f"alias written as '{entry.alias}' in a {ctx.store.store_type.value}"
                )
            ],
            fix=(
                "rename the entry to lower case in the tool that wrote the store, or build the store "
                "again with keytool from the key and certificate (keytool writes lower-case aliases)"
            ),
        )


@RULES.rule(CERT_UNREADABLE, CERT_LEFT_OUT, CERT_NONSTANDARD)
def certificate_encoding(ctx: KeystoreContext) -> Iterator[Finding]:
    """What the readers could only read leniently, or not at all."""
    for problem in ctx.store.certificate_problems:
        if ctx.alias not in (None, problem.alias):
            continue
        place = f"'{problem.alias}'" + (f" chain[{problem.position}]" if problem.position is not None else "")
        who = f"{place} {problem.subject}" if problem.subject else place
        source = f"keystore entry {place}"
        location = Location(file=ctx.file, alias=problem.alias, position=problem.position)
        if problem.problems and problem.readable:
            yield make(
                CERT_UNREADABLE,
                f"certificate {who} is malformed ({'; '.join(problem.problems)}); shown as far as it "
                "could be read",
                location=location,
                evidence=[Evidence(source, p) for p in problem.problems],
                fix="have the certificate reissued by its CA (a strict peer may refuse it)",
            )
        elif problem.problems:
            yield make(
                CERT_LEFT_OUT,
                f"certificate {who} could not be read ({'; '.join(problem.problems)}); it is left out "
                "of what is shown and judged",
                location=location,
                evidence=[Evidence(source, p) for p in problem.problems],
                fix="export it and look at it with openssl x509 -text; have it reissued by its CA",
            )
        for note in problem.nonstandard:
            yield make(
                CERT_NONSTANDARD,
                f"certificate {who} has a non-standard encoding: {note}",
                location=location,
                evidence=[Evidence(source, note)],
                fix="nothing needed",
            )


@RULES.rule(JAVA_CANNOT_LOAD)
def java_cannot_load(ctx: KeystoreContext) -> Iterator[Finding]:
    """A store Java's KeyStore.load refuses, whatever its message says."""
    failure = ctx.store.java_load_failure
    if failure is None:
        return
    misleading = "password" in failure.java_says
    yield make(
        JAVA_CANNOT_LOAD,
        f'Java cannot load this keystore: keytool and Java clients say "{failure.java_says}"'
        + (
            " — misleading: the password is right (the store's integrity check passed here); "
            f"the cause is {failure.where}"
            if misleading and ctx.store.integrity_checked
            else f" ({failure.where})"
        ),
        location=ctx.where(),
        evidence=[
            Evidence(ctx.file, f"{failure.where}: {failure.cause}"),
            Evidence("Java KeyStore.load (JDK 17)", f'fails with "{failure.java_says}"'),
        ],
        fix=(
            f"remove that certificate (openssl pkcs12 -in {ctx.q} -nodes, delete it from the PEM, "
            "openssl pkcs12 -export again), or keep it in a store Java never loads"
        ),
    )


@RULES.rule(KEY_CANNOT_SIGN)
def key_cannot_sign(ctx: KeystoreContext) -> Iterator[Finding]:
    """Keys Java lists but cannot sign a CertificateVerify with (JDK 17)."""
    signers = [e for e in ctx.store.key_entries if java_signing(e) is None]
    for entry in ctx.entries():
        verdict = java_signing(entry)
        if verdict is None:
            continue
        harmless = verdict.kind is Unsignable.AGREEMENT_ONLY and bool(signers)
        yield make(
            KEY_CANNOT_SIGN,
            f"'{entry.alias}' holds a {verdict.key} key: {verdict.said}",
            location=ctx.where(entry, 0),
            evidence=[Evidence(ctx.source(entry, 0), f"public key {verdict.key}")],
            severity=Severity.WARNING if harmless else None,
            fix=(
                f"generate a key Java signs with: keytool -genkeypair -alias {shlex.quote(entry.alias)} "
                f"-keyalg EC -groupname secp256r1 -keystore {ctx.q} ... and have it signed"
            ),
        )


@RULES.rule(MULTIPLE_KEYS)
def multiple_keys(ctx: KeystoreContext) -> Iterator[Finding]:
    """Several key entries Java may choose: the server's CA names decide which one it sends."""
    verdicts = {e.alias: java_signing(e) for e in ctx.store.key_entries}
    sendable = [e for e in ctx.store.key_entries if verdicts[e.alias] is None]
    aborting = [
        e.alias for e in ctx.store.key_entries if (v := verdicts[e.alias]) and v.kind is Unsignable.EC_CURVE
    ]
    if not sendable or len(sendable) + len(aborting) < 2:
        return
    also = (
        f"; {', '.join(repr(a) for a in aborting)} may be chosen too, and the handshake then ends "
        "(Java cannot sign with its key)"
        if aborting
        else ""
    )
    yield make(
        MULTIPLE_KEYS,
        f"{len(sendable)} key entries a Java client can send "
        f"({', '.join(repr(e.alias) for e in sendable)}){also}: it sends the first whose chain "
        "holds an issuer the server names",
        location=ctx.where(),
        evidence=[
            Evidence(
                f"keystore entry '{e.alias}'",
                "issuers: " + "; ".join(sorted({C.short_dn(c.issuer) for c in e.chain})),
            )
            for e in sendable
        ],
        fix=(
            f"keep one key entry per keystore (keytool -delete -alias <unused> -keystore {ctx.q}),"
            f" or check which one a server picks: mtls-inspect select --keystore {ctx.q} ..."
        ),
    )


@RULES.rule(KEY_PASSWORD)
def key_password(ctx: KeystoreContext) -> Iterator[Finding]:
    """A key entry whose key the store password does not open (JKS, JCEKS or PKCS#12)."""
    pkcs12 = ctx.store.store_type is StoreType.PKCS12
    java_says = JAVA_KEY_PASSWORD_PKCS12 if pkcs12 else JAVA_KEY_PASSWORD_JKS
    for entry in ctx.entries():
        if not entry.key_password_differs:
            continue
        alias = shlex.quote(entry.alias)
        evidence = [
            Evidence(
                ctx.source(entry),
                "key decryption with the store password failed; the store's integrity check passed",
            )
        ]
        if entry.key_opened_with:
            evidence.append(Evidence(ctx.source(entry), f"the key opens with {entry.key_opened_with}"))
        evidence.append(
            Evidence(
                "Java key managers (JDK 17)",
                f'SunX509 fails at start-up ("{java_says}"); PKIX still chooses the entry, then '
                'finds no private key ("no private key") and sends an empty Certificate',
            )
        )
        yield make(
            KEY_PASSWORD,
            f"key entry '{entry.alias}' does not open with the store password: Java's SunX509 "
            f'fails ("{java_says}"), PKIX sends an empty Certificate',
            location=ctx.where(entry),
            evidence=evidence,
            fix=(
                "write the store again with its keys under the store password (keytool cannot: "
                "it ignores a PKCS#12 key password); in Java, KeyStore.setKeyEntry(alias, key, "
                "storePassword, chain) for each entry, then store()"
                if pkcs12
                else f"keytool -keypasswd -alias {alias} -keystore {ctx.q}   (set the key password "
                "to the store password), or convert the store to PKCS12"
            ),
        )


def check_keystore(store: Keystore, at: dt.datetime, alias: str | None = None) -> list[Finding]:
    return RULES.run(KeystoreContext(store, at, alias))
