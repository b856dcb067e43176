"""Keystore rules on the store as Java opens it: its type against its name, whether it holds a
key entry at all, the entries Java cannot see or reach, the key passwords its key managers
cannot open, and which of several key entries a client would send."""

from __future__ import annotations

import shlex
from collections.abc import Iterator

from inspector.findings import Evidence, Finding, Severity, make, register
from inspector.keystore.java_signing import Unsignable, java_signing
from inspector.keystore.model import StoreType
from inspector.pki import certs as C
from inspector.rules import RuleSet
from inspector.rules.keystore_context import KeystoreContext, storetype_flag

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


#: What Java's SunX509 says at start-up on a key the store password does not open (JDK 17).
JAVA_KEY_PASSWORD_JKS = "Cannot recover key"


JAVA_KEY_PASSWORD_PKCS12 = "Get Key failed: Given final block not properly padded"


RULES: RuleSet[KeystoreContext] = RuleSet()


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
            f"-srcstoretype PKCS12 -destkeystore {ctx.q}{storetype_flag(ctx.store)}"
        ),
    )


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
