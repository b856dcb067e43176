"""A faithful multi-entry PKCS#12 reader: the entries Java's PKCS12KeyStore would see.

`cryptography.load_pkcs12` returns one key and loose certificates; keytool's files hold several
key entries and trusted-cert entries (marked with Java's trusted-key-usage attribute). So we walk
the SafeBags ourselves (asn1crypto for the ASN.1, hashlib / cryptography / pycryptodomex for the
PBE) and name and chain each entry as Java does (sun.security.pkcs12.PKCS12KeyStore, JDK 17):
the alias is the friendlyName lower-cased, or "1", "2", ... in bag order when there is none; the
leaf is the certificate with the key's localKeyId (else its friendlyName); the chain is rebuilt
by inspector.pki.chains. An unencrypted KeyBag is not loaded by Java ("Unsupported PKCS12 bag
type"): it is reported, never offered as a key entry. Iteration counts above Java's own limit
(MAX_ITERATION_COUNT, 5,000,000) are refused, as Java refuses them, before any work is done.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from inspector.keystore.certificates import read_certificate
from inspector.keystore.model import CertificateProblem, KeyEntry, Keystore, StoreType, TrustedEntry
from inspector.keystore.pkcs12_crypto import (
    MAX_ITERATIONS,
    TooManyIterations,
    UnsupportedPbe,
    decrypt,
    mac_matches,
)
from inspector.pki import certs as C
from inspector.pki.chains import build_chain
from inspector.system.errors import InputError

WRONG_PASSWORD_HINT = "check the password (--storepass-env VAR, --storepass-file F or the prompt)"


@dataclass
class _CertBag:
    cert: x509.Certificate
    friendly_name: str | None
    local_key_id: bytes | None
    trusted: bool
    #: Java's alias (trusted certificates only)
    alias: str = ""


@dataclass
class _KeyBag:
    friendly_name: str | None
    local_key_id: bytes | None
    key: PrivateKeyTypes | None
    #: Java's alias: friendlyName lower-cased, or its unfriendly number
    alias: str = ""


@dataclass
class _Walk:
    """What the bags of every SafeContents hold, in file order, named as Java names them."""

    password: str | None
    keys: list[_KeyBag] = field(default_factory=list)
    certs: list[_CertBag] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)
    ignored_keys: list[str] = field(default_factory=list)
    skipped_keys: int = 0
    problems: list[CertificateProblem] = field(default_factory=list)
    #: chain material read leniently: filed under the key entries whose chain holds it
    chain_problems: list[tuple[x509.Certificate, CertificateProblem]] = field(default_factory=list)
    unnamed: int = 0

    def java_alias(self, friendly: str | None) -> str:
        """PKCS12KeyStore.getUnfriendlyName: a counter over every unnamed entry, in bag order."""
        if friendly is None:
            self.unnamed += 1
            return str(self.unnamed)
        return friendly.lower()


def _check_mac(pfx: Any, content: bytes, password: str, name: str) -> None:
    hash_name = pfx["mac_data"]["mac"]["digest_algorithm"]["algorithm"].native
    if hash_name not in ("sha1", "sha224", "sha256", "sha384", "sha512"):
        raise InputError(
            f"{name}: unsupported PKCS#12 MAC algorithm {C.escape_text(str(hash_name))}",
            "re-export the store with a SHA-1 or SHA-2 MAC",
        )
    if not mac_matches(pfx, content, password):
        raise InputError(f"{name}: wrong password, or the file is corrupted", WRONG_PASSWORD_HINT)


def _attributes(bag: Any) -> tuple[str | None, bytes | None, bool]:
    friendly: str | None = None
    key_id: bytes | None = None
    trusted = False
    attrs = bag["bag_attributes"]
    for attr in attrs if attrs.native is not None else []:
        kind = attr["type"].native
        values = attr["values"]
        if kind == "friendly_name" and len(values):
            friendly = str(values[0].native)
        elif kind == "local_key_id" and len(values):
            key_id = bytes(values[0].native)
        elif kind == "trusted_key_usage":
            trusted = True
    return friendly, key_id, trusted


def read_pkcs12(path: Path, data: bytes, password: str | None) -> Keystore:
    name = str(path)
    try:
        return _read(path, data, password)
    except UnsupportedPbe as exc:
        raise InputError(
            f"{name}: {C.escape_text(str(exc))}",
            "re-export the store with AES (openssl pkcs12 -export's default): Java reads AES, 3DES, RC2",
        ) from None
    except TooManyIterations as exc:
        raise InputError(
            f"{name}: PKCS#12 {exc.what} iteration count {exc.count:,} is above Java's limit "
            f'of {MAX_ITERATIONS:,} (PKCS12KeyStore refuses it: "{exc.what} iteration count too large")',
            "re-export the store with a normal count, e.g. openssl pkcs12 -export -iter 10000 -maciter 10000",
        ) from None


def _read(path: Path, data: bytes, password: str | None) -> Keystore:
    from asn1crypto import pkcs12

    name = str(path)
    try:
        pfx = pkcs12.Pfx.load(data)
        auth_type = pfx["auth_safe"]["content_type"].native
        if auth_type != "data":
            raise InputError(
                f"{name}: PKCS#12 in public-key integrity mode ({auth_type})",
                "re-export it with password integrity",
            )
        content = bytes(pfx["auth_safe"]["content"].native)
        has_mac = pfx["mac_data"].native is not None
        safes = list(pfx.authenticated_safe)
    except InputError:
        raise
    except Exception:
        raise InputError(
            f"{name}: PKCS#12 structure does not parse (truncated or corrupt?)",
            "copy the file again in binary mode",
        ) from None

    if has_mac:
        if password is None:
            if not mac_matches(pfx, content, ""):
                raise InputError(
                    f"{name}: this PKCS#12 keystore needs its password",
                    "use --storepass-env VAR, --storepass-file F or the prompt",
                )
            password = ""  # written with an empty password (cryptography's NoEncryption())
        _check_mac(pfx, content, password, name)

    walk = _Walk(password)
    undecryptable = 0
    for info in safes:
        try:
            kind = info["content_type"].native
            if kind == "data":
                bags = pkcs12.SafeContents.load(bytes(info["content"].native))
            elif kind == "encrypted_data":
                if password is None:
                    undecryptable += 1
                    continue
                enc = info["content"]["encrypted_content_info"]
                try:
                    plain = decrypt(
                        enc["content_encryption_algorithm"],
                        bytes(enc["encrypted_content"].native),
                        password,
                        "cert PBE",
                    )
                except (ValueError, KeyError):
                    raise InputError(
                        f"{name}: wrong password, or the file is corrupted", WRONG_PASSWORD_HINT
                    ) from None
                bags = pkcs12.SafeContents.load(plain)
            else:
                undecryptable += 1
                continue
            _walk(bags, walk)
        except (InputError, TooManyIterations, UnsupportedPbe):
            raise
        except (ValueError, TypeError, KeyError, IndexError):
            raise InputError(
                f"{name}: a PKCS#12 SafeContents does not parse (corrupt file?)",
                "copy the file again in binary mode",
            ) from None
    if undecryptable and not walk.certs and not walk.keys:
        raise InputError(f"{name}: the PKCS#12 content is encrypted", "give the store password")
    store = _assemble(path, walk, integrity=has_mac and password is not None)
    return store


def _walk(bags: Any, walk: _Walk) -> None:
    for index, bag in enumerate(bags):
        bag_id = bag["bag_id"].native
        friendly, key_id, trusted = _attributes(bag)
        value = bag["bag_value"]
        if bag_id == "cert_bag":
            if value["cert_id"].native != "x509":
                continue
            if key_id is None and len(walk.keys) == 1 and index == 0:
                key_id = b"01"  # Java's workaround for one key without localKeyId
            alias = walk.java_alias(friendly) if trusted else ""
            # a trusted entry's problem is filed under its alias; chain material under its bag
            # until _assemble knows which chains hold it
            label = C.escape_text(alias) if trusted else f"certificate bag {len(walk.certs) + 1}"
            found: list[CertificateProblem] = []
            cert = read_certificate(value["cert_value"].parsed.dump(), label, None, found)
            if cert is not None:
                walk.certs.append(_CertBag(cert, friendly, key_id, trusted, alias))
            if cert is not None and not trusted:
                walk.chain_problems.extend((cert, problem) for problem in found)
            else:
                walk.problems.extend(found)
        elif bag_id == "pkcs8_shrouded_key_bag":
            if key_id is None:
                if walk.keys:
                    walk.skipped_keys += 1  # Java skips a second key without localKeyId
                    continue
                key_id = b"01"
            key: PrivateKeyTypes | None = None
            if walk.password is not None:
                try:
                    der = decrypt(
                        value["encryption_algorithm"],
                        bytes(value["encrypted_data"].native),
                        walk.password,
                        "key PBE",
                    )
                    key = serialization.load_der_private_key(
                        der, None, unsafe_skip_rsa_key_validation=True
                    )  # the MAC vouches
                except (ValueError, KeyError, TypeError, UnsupportedAlgorithm):
                    key = None
            walk.keys.append(_KeyBag(friendly, key_id, key, walk.java_alias(friendly)))
        elif bag_id == "key_bag":
            walk.ignored_keys.append(friendly or f"key bag {len(walk.ignored_keys) + 1}")
        elif bag_id == "secret_bag":
            walk.secrets.append(walk.java_alias(friendly))


def _leaf_for(kb: _KeyBag, certs: list[_CertBag]) -> _CertBag | None:
    """PKCS12KeyStore.findMatchedCertificate: localKeyId (and alias) first, then alias alone."""
    key_match = alias_match = None
    for cb in certs:
        if cb.trusted:
            continue
        same_alias = cb.friendly_name is not None and cb.friendly_name.lower() == kb.alias
        if kb.local_key_id == cb.local_key_id:
            key_match = cb
            if same_alias:
                return cb
        elif same_alias:
            alias_match = cb
    return key_match or alias_match


def _assemble(path: Path, walk: _Walk, integrity: bool) -> Keystore:
    store = Keystore(
        path=path,
        store_type=StoreType.PKCS12,
        integrity_checked=integrity,
        chain_order_note="rebuilt by issuer, as Java does for PKCS#12",
    )
    pool = [c.cert for c in walk.certs]
    used: set[int] = set()
    for kb in walk.keys:
        leaf_bag = _leaf_for(kb, walk.certs)
        chain = build_chain(leaf_bag.cert, pool) if leaf_bag else []
        used.update(id(c) for c in walk.certs if c.cert in chain)
        store.key_entries.append(
            KeyEntry(
                alias=C.escape_text(kb.alias),
                chain=tuple(chain),
                private_key=kb.key,
                key_decrypted=kb.key is not None,
                stored_name=_stored(kb.friendly_name, kb.alias),
            )
        )
    for cb in walk.certs:
        if cb.trusted:
            store.trusted_entries.append(
                TrustedEntry(
                    alias=C.escape_text(cb.alias),
                    certificate=cb.cert,
                    stored_name=_stored(cb.friendly_name, cb.alias),
                )
            )
    loose = [c for c in walk.certs if not c.trusted and id(c) not in used]
    if loose:
        store.notes.append(
            f"{len(loose)} certificate(s) stored without an entry of their own "
            "(chain material only; Java does not list them)"
        )
    if walk.skipped_keys:
        store.notes.append(f"{walk.skipped_keys} more private key(s) without a localKeyId: Java skips them")
    store.secret_aliases.extend(C.escape_text(s) for s in walk.secrets)
    store.ignored_keys.extend(C.escape_text(k) for k in walk.ignored_keys)
    store.certificate_problems.extend(walk.problems)
    for cert, problem in walk.chain_problems:
        places = [(e.alias, i) for e in store.key_entries for i, c in enumerate(e.chain) if c is cert]
        store.certificate_problems.extend(
            dataclasses.replace(problem, alias=alias, position=i) for alias, i in places
        )
        if not places:
            store.certificate_problems.append(problem)
    return store


def _stored(friendly: str | None, alias: str) -> str | None:
    """The friendlyName as written, when Java's alias spells it differently."""
    return C.escape_text(friendly) if friendly is not None and friendly != alias else None
