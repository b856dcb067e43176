"""A CA reply judged before `keytool -importcert`: does it belong to the key, will
keytool take it, what chain will Java then hold. The certificate checks of the result (EKU,
validity, order, key size) are the keystore rules', run on the predicted store."""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from dataclasses import dataclass

from cryptography import x509

from inspector.findings import Evidence, Finding, Location, Severity, make, register
from inspector.java.keytool_import import ImportOutcome, ImportPrediction
from inspector.keystore.model import KeyEntry, Keystore
from inspector.pki import certs as C
from inspector.pki.bundles import CertificateFile
from inspector.rules import RuleSet

G = "reply"

REPLY_UNREADABLE = register(
    "reply-not-certificate",
    Severity.ERROR,
    "The CA reply is not a certificate keytool can read",
    """keytool -importcert reads X.509 certificates in PEM (one or a bundle), DER, or PKCS#7
    (.p7b/.p7c). An empty file ("Reply has no certificates"), a CSR, a private key, or text that is
    not base64 between BEGIN/END CERTIFICATE lines is refused. Ask the CA for the certificate (or
    the chain as PKCS#7), not the request you sent.""",
    G,
)
REPLY_KEY_MISMATCH = register(
    "reply-key-mismatch",
    Severity.ERROR,
    "The CA reply is not for this key pair",
    """keytool installs a reply only if its certificate carries the public key of the entry's
    private key ("Public keys in reply and keystore don't match", or for a bundle "Certificate reply
    does not contain public key for <alias>"). The reply was made from another CSR: another
    keystore, an earlier -genkeypair under the same alias, or another team's request.""",
    G,
)
CSR_MISMATCH = register(
    "reply-csr-mismatch",
    Severity.ERROR,
    "The CSR, the key pair and the reply do not hold the same public key",
    """The CSR sent to the CA must come from this keystore's key pair (keytool -certreq -alias A),
    and the CA's certificate must carry the CSR's key. A CSR made from another keystore, or a
    -genkeypair run again after the CSR was sent, gives a reply keytool refuses.""",
    G,
)
ALIAS_NOT_KEY = register(
    "reply-alias-not-key-entry",
    Severity.ERROR,
    "The alias given for the reply is not the key pair's alias",
    """keytool binds a reply to a key pair only when it is imported under the key pair's alias.
    Under a new alias the certificate silently becomes a trustedCertEntry ("Certificate was added to
    keystore") and the key entry keeps its self-signed certificate; under a trusted entry's alias
    keytool refuses ("Certificate not imported, alias <a> already exists").""",
    G,
)
NO_CHAIN = register(
    "reply-chain-not-established",
    Severity.ERROR,
    "keytool cannot link the reply to a root in the keystore",
    """For a single-certificate reply keytool builds the chain from the keystore's own certificates
    (not from the JDK's cacerts unless -trustcacerts is given): every intermediate and the root
    must be imported first, or it says "Failed to establish chain from reply". For a bundle or
    PKCS#7 reply the top certificate must be in the keystore or signed by one of its certificates,
    or keytool asks "Install reply anyway?" (no, when nobody answers), and the bundle must link
    ("Incomplete certificate chain in reply"). A PKCS#12 keystore also refuses a chain whose names
    do not link, e.g. a reply of leaf + root without the intermediate ("Certificate chain is not
    valid"); a JKS keystore stores it as it stands, broken.""",
    G,
)
IDENTICAL = register(
    "reply-identical",
    Severity.ERROR,
    "The reply is the certificate already in the key entry",
    """keytool refuses it ("Certificate reply and certificate in keystore are identical"): the file
    is the self-signed certificate exported from the keystore (-exportcert), not the CA's answer.""",
    G,
)
CHAIN_FROM_FILES = register(
    "reply-chain-from-given-files",
    Severity.INFO,
    "The chain is complete with the CA files given",
    """The intermediate(s) and root missing from the keystore were found in the --ca files: import
    them (root first) before the reply, as the commands shown do.""",
    G,
)


@dataclass(frozen=True)
class SourcedCert:
    cert: x509.Certificate
    #: "reply", "keystore alias 'x'", "file F"
    source: str


@dataclass(frozen=True)
class ReplyContext:
    store: Keystore
    alias: str
    reply_path: str
    reply: CertificateFile
    prediction: ImportPrediction
    #: the chain from every source (reply, keystore, CA files), leaf first; empty without the key
    full_chain: tuple[SourcedCert, ...]
    csr: x509.CertificateSigningRequest | None = None
    csr_path: str | None = None

    @property
    def entry(self) -> KeyEntry | None:
        return next((e for e in self.store.key_entries if e.alias.lower() == self.alias.lower()), None)

    def where(self, position: int | None = None) -> Location:
        return Location(file=self.reply_path, alias=self.alias, position=position)

    @property
    def import_command(self) -> str:
        return (
            f"keytool -importcert -alias {shlex.quote(self.alias)} -file {shlex.quote(self.reply_path)} "
            f"-keystore {shlex.quote(str(self.store.path))}"
        )


RULES: RuleSet[ReplyContext] = RuleSet()
_WRONG_ALIAS = (ImportOutcome.ADDED_AS_TRUSTED, ImportOutcome.TRUST_PROMPT, ImportOutcome.ALIAS_IS_TRUSTED)
_NO_CHAIN = (
    ImportOutcome.NO_CHAIN,
    ImportOutcome.TOP_NOT_TRUSTED,
    ImportOutcome.INCOMPLETE_REPLY,
    ImportOutcome.CHAIN_NOT_VALID,
)
_STAYS = "store the reply as a trusted certificate, and the key entry would stay self-signed"


def _key_fp(cert: x509.Certificate) -> str:
    import hashlib

    key = C.public_key(cert)
    return hashlib.sha256(C.public_key_bytes(key)).hexdigest()[:16] if key is not None else "?"


@RULES.rule(REPLY_UNREADABLE)
def unreadable(ctx: ReplyContext) -> Iterator[Finding]:
    if ctx.reply.keytool_reads:
        return
    if ctx.reply.readable:
        what = f"holds {', '.join(ctx.reply.other_blocks)} besides its certificate(s)"
    else:
        what = "is empty" if not ctx.reply.problem else f"is {ctx.reply.problem}"
    yield make(
        REPLY_UNREADABLE,
        f"{ctx.reply_path} {what}: keytool refuses it",
        location=ctx.where(),
        evidence=[Evidence("keytool", ctx.prediction.says)],
        fix="ask the CA for the signed certificate (PEM, DER or PKCS#7 .p7b), not the CSR or a key"
        if not ctx.reply.readable
        else "keep only the BEGIN/END CERTIFICATE blocks in the file (keytool parses every block)",
    )


@RULES.rule(ALIAS_NOT_KEY)
def alias_not_key(ctx: ReplyContext) -> Iterator[Finding]:
    outcome = ctx.prediction.outcome
    if outcome not in _WRONG_ALIAS:
        return
    keys = [e.alias for e in ctx.store.key_entries]
    first = ctx.reply.certificates[0] if ctx.reply.readable else None
    matching = [
        e.alias
        for e in ctx.store.key_entries
        if first and e.chain and C.same_certificate_key(e.chain[0], first)
    ]
    candidates: list[str | None] = [*matching, *(keys if len(keys) == 1 else []), None]
    right = candidates[0]
    fix = (
        f"import it under the key pair's alias: keytool -importcert -alias {shlex.quote(right)} "
        f"-file {shlex.quote(ctx.reply_path)} -keystore {shlex.quote(str(ctx.store.path))}"
        if right
        else "import it under the alias of the key pair it was made for (keytool -list shows PrivateKeyEntry)"
    )
    kind = "a trustedCertEntry" if outcome is ImportOutcome.ALIAS_IS_TRUSTED else "not in the keystore"
    yield make(
        ALIAS_NOT_KEY,
        f"alias '{ctx.alias}' is {kind}, not a PrivateKeyEntry: keytool would "
        + ("refuse the reply" if outcome is ImportOutcome.ALIAS_IS_TRUSTED else _STAYS),
        location=ctx.where(),
        evidence=[
            Evidence("keytool", ctx.prediction.says),
            Evidence(str(ctx.store.path), f"key entries: {', '.join(keys) or '(none)'}"),
        ],
        fix=fix,
    )


@RULES.rule(REPLY_KEY_MISMATCH)
def key_mismatch(ctx: ReplyContext) -> Iterator[Finding]:
    if ctx.prediction.outcome not in (ImportOutcome.KEYS_DIFFER, ImportOutcome.REPLY_LACKS_KEY):
        return
    entry = ctx.entry
    evidence = [Evidence("keytool", ctx.prediction.says)]
    if entry is not None and entry.chain:
        fp = _key_fp(entry.chain[0])
        evidence.append(Evidence(f"keystore entry '{entry.alias}'", f"public key sha256 {fp}…"))
    for i, cert in enumerate(ctx.reply.certificates):
        fact = f"{C.dn(cert.subject)}: public key sha256 {_key_fp(cert)}…"
        evidence.append(Evidence(f"{ctx.reply_path} #{i}", fact))
    yield make(
        REPLY_KEY_MISMATCH,
        f"no certificate in {ctx.reply_path} carries the public key of '{ctx.alias}': "
        "it was signed from another CSR",
        location=ctx.where(0),
        evidence=evidence,
        fix=f"send the CA this key's CSR (keytool -certreq -alias {shlex.quote(ctx.alias)} -file mycsr.pem "
        f"-keystore {shlex.quote(str(ctx.store.path))}) and import its answer; or import this reply "
        "into the keystore whose key made the CSR",
    )


@RULES.rule(CSR_MISMATCH)
def csr_mismatch(ctx: ReplyContext) -> Iterator[Finding]:
    if ctx.csr is None:
        return
    csr_key = C.public_key_bytes(ctx.csr.public_key())  # type: ignore[arg-type]
    entry = ctx.entry
    problems = []
    if entry is not None and entry.chain:
        key = C.public_key(entry.chain[0])
        if key is not None and C.public_key_bytes(key) != csr_key:
            problems.append(f"the CSR {ctx.csr_path} was not made from the key of '{ctx.alias}'")
    if ctx.reply.readable:
        keys = [C.public_key(c) for c in ctx.reply.certificates]
        leaf_keys = {C.public_key_bytes(k) for k in keys if k is not None}
        if csr_key not in leaf_keys:
            problems.append(f"no certificate in {ctx.reply_path} carries the CSR's key")
    if not problems:
        return
    yield make(
        CSR_MISMATCH,
        "; ".join(problems),
        location=ctx.where(),
        evidence=[Evidence(str(ctx.csr_path), f"CSR subject {C.dn(ctx.csr.subject)}")],
        fix=f"make the CSR from this keystore (keytool -certreq -alias {shlex.quote(ctx.alias)} "
        f"-file mycsr.pem -keystore {shlex.quote(str(ctx.store.path))}) and send that one to the CA",
    )


@RULES.rule(NO_CHAIN, CHAIN_FROM_FILES)
def no_chain(ctx: ReplyContext) -> Iterator[Finding]:
    outcome = ctx.prediction.outcome
    chain = ctx.full_chain
    from_files = [s for s in chain[1:] if s.source.startswith("file ")]
    if outcome not in _NO_CHAIN:
        return
    complete = bool(chain) and C.is_self_signed(chain[-1].cert)
    if outcome is ImportOutcome.CHAIN_NOT_VALID:
        missing = (
            "the reply's certificates do not link by name (an intermediate left out?), which PKCS#12 refuses"
        )
    elif outcome is ImportOutcome.INCOMPLETE_REPLY:
        missing = "the reply's certificates do not form one chain"
    elif chain and not complete:
        missing = f"the issuer {C.dn(chain[-1].cert.issuer)} is in none of reply, keystore and CA files"
    elif len(ctx.reply.certificates) == 1:
        missing = (
            "its CA certificates are not in the keystore (keytool links a single certificate to those only)"
        )
    else:
        missing = "its root is not in the keystore"
    issuer = C.dn(chain[-1].cert.issuer) if chain else "the issuing CA"
    evidence = [Evidence("keytool", ctx.prediction.says)]
    evidence += [Evidence(s.source, C.dn(s.cert.subject)) for s in chain[1:]]
    # a complete bundle whose root is not in the keystore: keytool asks, and "yes" installs it whole
    asked = outcome is ImportOutcome.TOP_NOT_TRUSTED and complete and all(s.source == "reply" for s in chain)
    yield make(
        NO_CHAIN,
        f"keytool cannot link {ctx.reply_path} to a root in {ctx.store.path}: {missing}",
        severity=Severity.WARNING if asked else None,
        location=ctx.where(),
        evidence=evidence,
        fix="import the missing CA certificates as trusted entries, root first, before the reply "
        "(the commands below)"
        if complete
        else f"get the certificate of {issuer} from the CA "
        "(and its issuers up to the root), give them with --ca, and import them before the reply",
    )
    if complete and from_files:
        yield make(
            CHAIN_FROM_FILES,
            "the chain is complete with " + ", ".join(sorted({s.source[5:] for s in from_files})),
            location=ctx.where(),
            evidence=[Evidence(s.source, C.dn(s.cert.subject)) for s in from_files],
        )


@RULES.rule(IDENTICAL)
def identical(ctx: ReplyContext) -> Iterator[Finding]:
    if ctx.prediction.outcome is ImportOutcome.IDENTICAL:
        yield make(
            IDENTICAL,
            f"{ctx.reply_path} is the certificate already under '{ctx.alias}' (exported from the keystore?)",
            location=ctx.where(0),
            evidence=[Evidence("keytool", ctx.prediction.says)],
            fix="import the certificate the CA signed from your CSR, not the one exported from the keystore",
        )


def check_reply(ctx: ReplyContext) -> list[Finding]:
    return RULES.run(ctx)
