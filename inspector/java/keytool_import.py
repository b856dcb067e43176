"""What `keytool -importcert -alias A -file REPLY -keystore KS` does with a file, predicted.

A model of sun.security.tools.keytool.Main (JDK 11-21; messages as JDK 17 prints them),
checked against the real keytool by tests/test_reply_check.py:

* A PrivateKeyEntry under A: `installReply`. One certificate in the file: its public key must
  equal the entry's certificate's ("Public keys in reply and keystore don't match"), must not be
  that certificate ("...are identical"), and a chain is built from the keystore's certificates
  only (`establishCertChain`/`buildChain`: issuer name, then signature, up to a self-signed
  certificate; without -trustcacerts the JDK's cacerts are not consulted): "Failed to establish
  chain from reply" otherwise. Several certificates (a bundle, PKCS#7): `validateReply` drops
  duplicates (a java.util.HashSet, whose order we reproduce), puts the one with the entry's key
  first, orders the others by signature from there (the last one is never checked), and asks
  "Install reply anyway?" when the top certificate is neither in the keystore nor signed by one
  of its certificates (answered no when stdin is not a terminal); when it is signed by one, that
  certificate is appended.
* No entry under A: `addTrustedCert` — the reply becomes a trustedCertEntry (the guide's most
  common mistake); a trustedCertEntry under A: "Certificate not imported, alias <A> already
  exists".
* A PKCS#12 store refuses a chain whose names do not link (PKCS12KeyStore.validateChain): a
  reply of leaf + root without the intermediate passes validateReply and is then refused
  ("Certificate chain is not valid"); a JKS store takes it as it stands.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from inspector.java.alias_order import java_alias_order
from inspector.keystore.model import KeyEntry, Keystore, StoreType
from inspector.pki import certs as C
from inspector.pki import chains


class ImportOutcome(str, Enum):
    INSTALLED = "installed"
    TOP_NOT_TRUSTED = "top-not-trusted"
    NO_CHAIN = "no-chain"
    KEYS_DIFFER = "keys-differ"
    REPLY_LACKS_KEY = "reply-lacks-key"
    INCOMPLETE_REPLY = "incomplete-reply"
    IDENTICAL = "identical"
    NO_CERTIFICATES = "no-certificates"
    NOT_A_CERTIFICATE = "not-a-certificate"
    ADDED_AS_TRUSTED = "added-as-trusted"
    TRUST_PROMPT = "trust-prompt"
    ALIAS_IS_TRUSTED = "alias-is-trusted-entry"
    CHAIN_NOT_VALID = "chain-not-valid"

    @property
    def installs(self) -> bool:
        return self is ImportOutcome.INSTALLED


#: What keytool prints (stdout+stderr) for each outcome: the line a user sees.
_E = "keytool error: java.lang.Exception: "
KEYTOOL_SAYS: dict[ImportOutcome, str] = {
    ImportOutcome.INSTALLED: "Certificate reply was installed in keystore",
    ImportOutcome.TOP_NOT_TRUSTED: "... is not trusted. Install reply anyway? [no]:",
    ImportOutcome.NO_CHAIN: _E + "Failed to establish chain from reply",
    ImportOutcome.KEYS_DIFFER: _E + "Public keys in reply and keystore don't match",
    ImportOutcome.REPLY_LACKS_KEY: _E + "Certificate reply does not contain public key for <{alias}>",
    ImportOutcome.INCOMPLETE_REPLY: _E + "Incomplete certificate chain in reply",
    ImportOutcome.IDENTICAL: _E + "Certificate reply and certificate in keystore are identical",
    ImportOutcome.NO_CERTIFICATES: _E + "Reply has no certificates",
    ImportOutcome.NOT_A_CERTIFICATE: "keytool error: java.security.cert.Certificate",
    ImportOutcome.ADDED_AS_TRUSTED: "Certificate was added to keystore",
    ImportOutcome.TRUST_PROMPT: "Trust this certificate? [no]:",
    ImportOutcome.CHAIN_NOT_VALID: "keytool error: java.security.KeyStoreException: "
    "Certificate chain is not valid",
    ImportOutcome.ALIAS_IS_TRUSTED: _E + "Certificate not imported, alias <{alias}> already exists",
}
#: For a new alias, an unreadable file is refused in other words than for a key entry.
NOT_X509_NEW_ALIAS = _E + "Input not an X.509 certificate"


@dataclass(frozen=True)
class ImportPrediction:
    outcome: ImportOutcome
    #: what keytool prints (a line, or its start for a parser's exception)
    says: str
    #: the key entry's chain after the import (when keytool installs it, or would once answered yes)
    chain_after: tuple[x509.Certificate, ...] = ()
    #: the certificate keytool appended from the keystore (multi-certificate reply), if any
    appended: x509.Certificate | None = None
    #: where each certificate of chain_after came from: "reply", or "keystore alias X"
    sources: tuple[str, ...] = field(default_factory=tuple)


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def _signed_by(child: x509.Certificate, issuer: x509.Certificate) -> bool:
    """KeyStoreUtil.signedBy: the issuer's subject equals the child's issuer, and it verifies."""
    return chains.same_name(issuer.subject, child.issuer) and C.signature_by(child, issuer) is True


def _self_signed(cert: x509.Certificate) -> bool:
    return chains.same_name(cert.subject, cert.issuer) and C.signature_by(cert, cert) is True


def keystore_certificates(store: Keystore) -> list[tuple[str, x509.Certificate]]:
    """(alias, KeyStore.getCertificate(alias)) in Java's enumeration order: a key entry's first
    certificate, a trusted entry's certificate."""
    by_alias: dict[str, x509.Certificate] = {}
    for e in store.key_entries:
        if e.chain:
            by_alias[e.alias] = e.chain[0]
    for t in store.trusted_entries:
        by_alias[t.alias] = t.certificate
    order = [a for a in java_alias_order(store) if a in by_alias]
    order += [a for a in by_alias if a not in order]
    return [(a, by_alias[a]) for a in order]


def java_hash_set_order(certs: Sequence[x509.Certificate]) -> list[x509.Certificate]:
    """`new HashSet<>(Arrays.asList(certs)).toArray()`: duplicates dropped, in bucket order
    (Certificate.hashCode = Arrays.hashCode(encoded); HashMap.hash spreads h ^ h >>> 16)."""
    wanted = max(int(len(certs) / 0.75) + 1, 16)
    capacity = 1
    while capacity < wanted:  # HashMap.tableSizeFor
        capacity *= 2
    buckets: dict[int, list[x509.Certificate]] = {}
    seen: set[bytes] = set()
    for cert in certs:
        data = _der(cert)
        if data in seen:
            continue
        seen.add(data)
        h = 1
        for byte in data:
            h = (31 * h + (byte - 256 if byte > 127 else byte)) & 0xFFFFFFFF
        spread = h ^ (h >> 16)
        buckets.setdefault(spread & (capacity - 1), []).append(cert)
    return [c for index in sorted(buckets) for c in buckets[index]]


def _build_chain(
    cert: x509.Certificate, pool: list[tuple[str, x509.Certificate]], depth: int = 0
) -> list[tuple[str, x509.Certificate]] | None:
    """Main.buildChain: issuer by name, then signature, recursively up to a self-signed one
    (returned leaf first, the reverse of keytool's vector)."""
    if _self_signed(cert):
        return [("", cert)]
    if depth > chains.MAX_CHAIN:
        return None
    for alias, candidate in pool:
        if not chains.same_name(candidate.subject, cert.issuer):
            continue
        if C.signature_by(cert, candidate) is not True:
            continue
        rest = _build_chain(candidate, pool, depth + 1)
        if rest is not None:
            rest[0] = (alias, rest[0][1])
            return [("", cert), *rest]
    return None


def predict_import(
    store: Keystore, alias: str, reply: Sequence[x509.Certificate], readable: bool, empty: bool
) -> ImportPrediction:
    """What keytool does with this reply for `alias` (the guide's command: no -trustcacerts,
    no -noprompt)."""
    key = next((e for e in store.key_entries if e.alias.lower() == alias.lower()), None)
    trusted = next((t for t in store.trusted_entries if t.alias.lower() == alias.lower()), None)
    if key is None:
        if trusted is not None:
            return _said(ImportOutcome.ALIAS_IS_TRUSTED, alias)
        if empty or not readable:
            return ImportPrediction(ImportOutcome.NOT_A_CERTIFICATE, NOT_X509_NEW_ALIAS)
        first = reply[0]
        pool = keystore_certificates(store)
        if _self_signed(first) or _build_chain(first, pool) is None:
            return _said(ImportOutcome.TRUST_PROMPT, alias)
        return _said(ImportOutcome.ADDED_AS_TRUSTED, alias)
    if empty:
        return _said(ImportOutcome.NO_CERTIFICATES, alias)
    if not readable:
        return _said(ImportOutcome.NOT_A_CERTIFICATE, alias)
    found = _single(store, key, reply[0], alias) if len(reply) == 1 else _several(store, key, reply, alias)
    if (
        found.outcome.installs
        and store.store_type is StoreType.PKCS12
        and not _pkcs12_valid(found.chain_after)
    ):
        return _said(ImportOutcome.CHAIN_NOT_VALID, alias)
    return found


def _pkcs12_valid(chain: Sequence[x509.Certificate]) -> bool:
    """PKCS12KeyStore.validateChain (setKeyEntry): each issuer name is the next one's subject, no
    certificate twice; otherwise "Certificate chain is not valid" and nothing is written."""
    names = all(chains.same_name(a.issuer, b.subject) for a, b in itertools.pairwise(chain))
    return names and len({_der(c) for c in chain}) == len(chain)


def _said(outcome: ImportOutcome, alias: str, **kw: object) -> ImportPrediction:
    return ImportPrediction(outcome, KEYTOOL_SAYS[outcome].format(alias=alias), **kw)  # type: ignore[arg-type]


def _single(store: Keystore, entry: KeyEntry, cert: x509.Certificate, alias: str) -> ImportPrediction:
    user = entry.chain[0] if entry.chain else None
    if user is not None:
        if not C.same_certificate_key(user, cert):
            return _said(ImportOutcome.KEYS_DIFFER, alias)
        if _der(user) == _der(cert):
            return _said(ImportOutcome.IDENTICAL, alias)
    built = _build_chain(cert, keystore_certificates(store))
    if built is None:
        return _said(ImportOutcome.NO_CHAIN, alias)
    sources = ["reply"] + [f"keystore alias '{a}'" for a, _ in built[1:]]
    return _said(
        ImportOutcome.INSTALLED, alias, chain_after=tuple(c for _, c in built), sources=tuple(sources)
    )


def _several(
    store: Keystore, entry: KeyEntry, reply: Sequence[x509.Certificate], alias: str
) -> ImportPrediction:
    certs = java_hash_set_order(reply)
    user = entry.chain[0] if entry.chain else None
    index = next(
        (i for i, c in enumerate(certs) if user is not None and C.same_certificate_key(c, user)), None
    )
    if index is None:
        return _said(ImportOutcome.REPLY_LACKS_KEY, alias)
    certs[0], certs[index] = certs[index], certs[0]
    this = certs[0]
    for i in range(1, len(certs) - 1):
        j = next((j for j in range(i, len(certs)) if _signed_by(this, certs[j])), None)
        if j is None:
            return _said(ImportOutcome.INCOMPLETE_REPLY, alias)
        certs[i], certs[j] = certs[j], certs[i]
        this = certs[i]
    top = certs[-1]
    sources = ["reply"] * len(certs)
    signer = _get_signer(top, store)
    if signer is None:
        return _said(ImportOutcome.TOP_NOT_TRUSTED, alias, chain_after=tuple(certs), sources=tuple(sources))
    name, root = signer
    if _der(root) != _der(top):
        return _said(
            ImportOutcome.INSTALLED,
            alias,
            chain_after=(*certs, root),
            appended=root,
            sources=(*sources, f"keystore alias '{name}'"),
        )
    return _said(ImportOutcome.INSTALLED, alias, chain_after=tuple(certs), sources=tuple(sources))


def _get_signer(top: x509.Certificate, store: Keystore) -> tuple[str, x509.Certificate] | None:
    """Main.getSigner: the certificate itself in the keystore, else the first whose key verifies it."""
    pool = keystore_certificates(store)
    for name, cert in pool:
        if _der(cert) == _der(top):
            return name, cert
    for name, cert in pool:
        if C.signature_by(top, cert) is True:
            return name, cert
    return None
