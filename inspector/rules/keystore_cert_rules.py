"""Keystore rules on each certificate of a key entry's chain: its dates, its usage for client
auth, the strength of its key and signature, its encoding, and whether a Java client can sign
with the entry's key."""

from __future__ import annotations

import shlex
from collections.abc import Iterator

from inspector.findings import Evidence, Finding, Location, Severity, make, register
from inspector.keystore.java_signing import Unsignable, java_signing
from inspector.pki import certs as C
from inspector.rules import RuleSet
from inspector.rules.keystore_context import KeystoreContext

G = "keystore"

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


RULES: RuleSet[KeystoreContext] = RuleSet()


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
