"""JKS (read by hand, jks_format.py) and JCEKS (through pyjks), converted to our model."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from inspector.keystore.certificates import java_refuses, read_certificate
from inspector.keystore.java_aliases import as_java_shows
from inspector.keystore.jceks_load import load_jceks
from inspector.keystore.model import (
    CertificateProblem,
    JavaLoadFailure,
    KeyEntry,
    Keystore,
    StoreType,
    TrustedEntry,
)
from inspector.pki import certs as C
from inspector.system.errors import InputError

WRONG_PASSWORD = "wrong password, or the file is corrupted (a JKS cannot tell these apart)"


def read_jks(
    path: Path, data: bytes, store_type: StoreType, storepass: str | None, keypass: str | None
) -> Keystore:
    if store_type is StoreType.JKS:
        return read_jks_by_hand(path, data, storepass, keypass)
    return read_with_pyjks(path, data, store_type, storepass, keypass)


def read_jks_by_hand(path: Path, data: bytes, storepass: str | None, keypass: str | None) -> Keystore:
    from inspector.keystore import jks_format as F

    name = str(path)
    try:
        parsed = F.parse(data, storepass)
    except F.JksPasswordError:
        raise InputError(
            f"{name}: {WRONG_PASSWORD}", "check --storepass-env/--storepass-file, or copy the file again"
        ) from None
    except F.JksFormatError as exc:
        raise InputError(
            f"{name}: corrupt or truncated JKS keystore ({C.one_line(exc)})",
            "copy the file again in binary mode",
        ) from None
    store = Keystore(path=path, store_type=StoreType.JKS, integrity_checked=storepass is not None)
    problems = store.certificate_problems
    view = as_java_shows(parsed.entries)
    for written_as, entry in sorted(view.shown.items(), key=lambda item: item[0].lower()):
        if not isinstance(entry, F.JksKeyEntry):
            _, kind, der = entry
            shown, _ = java_alias(written_as)
            cert = read_certificate(der, shown, None, problems) if kind == "X.509" else None
            if cert is not None:
                store.trusted_entries.append(TrustedEntry(shown, cert))
            continue
        alias, reachable = java_alias(written_as)
        reachable = reachable or written_as in view.twinned
        chain = _chain(entry.chain, alias, problems)
        pkcs8 = F.unprotect(entry, storepass) if storepass is not None else None
        differs = storepass is not None and pkcs8 is None
        if pkcs8 is None and keypass is not None:
            pkcs8 = F.unprotect(entry, keypass)
            if pkcs8 is None:
                raise InputError(
                    f"{name}: the key password does not open key entry '{alias}'",
                    "check --keypass-env/--keypass-file",
                )
        key = _private_key(pkcs8)
        store.key_entries.append(
            KeyEntry(
                alias=alias,
                java_reachable=reachable,
                chain=chain,
                private_key=key,
                key_password_differs=differs,
                key_decrypted=key is not None,
            )
        )
    store.java_load_failure = _java_failure(parsed.written)
    _note_aliases(store, view.shadowed, view.twinned)
    return store


def _note_aliases(store: Keystore, shadowed: dict[str, int], twinned: list[str]) -> None:
    """What the file holds that Java never shows: entries written over, and upper-case aliases
    shadowed by their lower-case twins."""
    store.notes.extend(_shadowed_note(alias, hidden) for alias, hidden in sorted(shadowed.items()))
    store.notes.extend(
        f"alias '{C.escape_text(a)}' is looked up as '{C.escape_text(a.lower())}' (Java lower-cases every "
        f"alias): keytool -list and Java show that entry under it; its own entry is never read"
        for a in twinned
    )


def _shadowed_note(alias: str, hidden: int) -> str:
    """An alias written more than once: Java keeps the last entry, as keytool -list shows."""
    earlier = "the earlier one is" if hidden == 1 else f"the {hidden} earlier ones are"
    return (
        f"alias '{C.escape_text(alias)}' is written {hidden + 1} times in the file: Java (and keytool "
        f"-list) keeps the last entry; {earlier} never read"
    )


def read_with_pyjks(
    path: Path, data: bytes, store_type: StoreType, storepass: str | None, keypass: str | None
) -> Keystore:
    import jks

    name = str(path)
    _silence_javaobj()
    try:
        loaded = load_jceks(jks, data, storepass)
    except jks.util.KeystoreSignatureException:
        raise InputError(
            f"{name}: {WRONG_PASSWORD}", "check --storepass-env/--storepass-file, or copy the file again"
        ) from None
    except (
        jks.util.BadKeystoreFormatException,
        jks.util.UnexpectedJavaTypeException,
        jks.util.DuplicateAliasException,
        EOFError,
    ) as exc:
        raise InputError(
            f"{name}: corrupt or truncated {store_type.value} keystore ({C.one_line(exc)})",
            "copy the file again in binary mode",
        ) from None
    except Exception:
        # javaobj failing inside a sealed key object: its message may quote the object's bytes
        raise InputError(
            f"{name}: corrupt {store_type.value} keystore (a serialized key object does not parse)",
            "copy the file again in binary mode; give the password so the store digest is checked first",
        ) from None
    store = Keystore(path=path, store_type=store_type, integrity_checked=storepass is not None)
    problems = store.certificate_problems
    view = loaded.view
    for alias, entry in sorted(view.shown.items()):
        if isinstance(entry, jks.PrivateKeyEntry):
            twin = alias in view.twinned
            store.key_entries.append(_key_entry(alias, entry, storepass, keypass, name, jks, problems, twin))
        elif isinstance(entry, jks.TrustedCertEntry):
            shown, _ = java_alias(alias)
            cert = read_certificate(entry.cert, shown, None, problems) if entry.type == "X.509" else None
            if cert is not None:
                store.trusted_entries.append(TrustedEntry(alias=shown, certificate=cert))
        else:
            store.secret_aliases.append(java_alias(alias)[0])
    store.java_load_failure = _java_failure(loaded.written)
    _note_aliases(store, view.shadowed, view.twinned)
    return store


def _java_failure(stored: list[tuple[str, list[tuple[str, bytes]]]]) -> JavaLoadFailure | None:
    """The first certificate (file order) that makes Java's KeyStore.load throw."""
    for alias, chain in stored:
        for i, (kind, der) in enumerate(chain):
            where = f"entry '{C.escape_text(alias)}'" + (f" chain[{i}]" if len(chain) > 1 else "")
            failure = java_refuses(der, where) if kind == "X.509" else None
            if failure is not None:
                return failure
    return None


def java_alias(raw: str) -> tuple[str, bool]:
    """(alias as Java lists it, whether Java can open it). JavaKeyStore and JceKeyStore list an
    alias as written but look every alias up lower-cased (Locale.ENGLISH): an entry written with
    upper-case letters (by a tool other than keytool) is listed and never found — measured with
    keytool 17: "Alias <MyKey> does not exist", for JKS and JCEKS alike."""
    return C.escape_text(raw), raw == raw.lower()


def _silence_javaobj() -> None:
    """javaobj (under pyjks, for JCEKS sealed keys) logs an "Oops ... state dump" with the
    object's bytes on a parse error: never let a library write key material to our stderr."""
    import logging

    logger = logging.getLogger("javaobj")
    logger.disabled = True
    logger.propagate = False


def _key_entry(
    alias: str,
    entry: Any,
    storepass: str | None,
    keypass: str | None,
    name: str,
    jks: Any,
    problems: list[CertificateProblem],
    twinned: bool = False,
) -> KeyEntry:
    """`twinned`: an upper-case alias showing its lower-case twin's entry (Java finds it)."""
    alias, reachable = java_alias(alias)
    reachable = reachable or twinned
    chain = _chain(entry.cert_chain, alias, problems)
    differs = storepass is not None and not entry.is_decrypted()
    if not entry.is_decrypted() and keypass is not None:
        try:
            entry.decrypt(keypass)
        except jks.util.DecryptionFailureException:
            raise InputError(
                f"{name}: the key password does not open key entry '{alias}'",
                "check --keypass-env/--keypass-file",
            ) from None
    key = _private_key(entry.pkey_pkcs8 if entry.is_decrypted() else None)
    return KeyEntry(
        alias=alias,
        chain=chain,
        private_key=key,
        key_password_differs=differs,
        key_decrypted=key is not None,
        java_reachable=reachable,
    )


def _chain(
    stored: list[tuple[str, bytes]], alias: str, problems: list[CertificateProblem]
) -> tuple[x509.Certificate, ...]:
    """The stored chain's X.509 certificates; one that cannot be read at all is left out (and said)."""
    read = (
        read_certificate(der, alias, i, problems) for i, (kind, der) in enumerate(stored) if kind == "X.509"
    )
    return tuple(c for c in read if c is not None)


def _private_key(pkcs8: bytes | None) -> PrivateKeyTypes | None:
    if pkcs8 is None:
        return None
    # the store digest vouches for the bytes: skip cryptography's slow RSA re-validation
    try:
        return serialization.load_der_private_key(pkcs8, None, unsafe_skip_rsa_key_validation=True)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return None  # an unknown key type, or (without a password) altered bytes: shown as locked
