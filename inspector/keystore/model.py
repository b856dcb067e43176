"""Typed keystore model: what a Java client could send, as the file really stores it."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes


class StoreType(str, Enum):
    JKS = "JKS"
    JCEKS = "JCEKS"
    PKCS12 = "PKCS12"
    PEM = "PEM"
    DER_CERTIFICATE = "DER certificate"


#: File extensions and the type users expect from them (a hint only: content decides).
EXTENSION_TYPES: dict[str, StoreType] = {
    ".jks": StoreType.JKS,
    ".keystore": StoreType.JKS,
    ".truststore": StoreType.JKS,
    ".jceks": StoreType.JCEKS,
    ".p12": StoreType.PKCS12,
    ".pfx": StoreType.PKCS12,
    ".pkcs12": StoreType.PKCS12,
    ".pem": StoreType.PEM,
    ".crt": StoreType.PEM,
    ".cer": StoreType.PEM,
    ".der": StoreType.DER_CERTIFICATE,
}


@dataclass(frozen=True)
class KeyEntry:
    """A PrivateKeyEntry: the key (None when it could not be decrypted) and the chain as stored."""

    alias: str
    chain: tuple[x509.Certificate, ...]
    private_key: PrivateKeyTypes | None
    #: True when the key did not open with the store password (JKS, JCEKS and PKCS#12 alike:
    #: Java's key managers open every key with the store password).
    key_password_differs: bool = False
    #: True when the key was opened (with the store or the key password).
    key_decrypted: bool = True
    #: The name as written in the file, when Java's alias differs (PKCS#12 lower-cases it).
    stored_name: str | None = None
    #: False when Java lists the entry but cannot open it (JKS/JCEKS alias with upper case).
    java_reachable: bool = True
    #: PKCS#12: which password opened a key the store password does not open (never the password)
    key_opened_with: str | None = None


@dataclass(frozen=True)
class TrustedEntry:
    alias: str
    certificate: x509.Certificate
    stored_name: str | None = None


@dataclass(frozen=True)
class CertificateProblem:
    """A certificate the strict parser refused, or read only leniently: said as a finding."""

    alias: str
    #: position in the key entry's chain; None for a trusted entry or loose certificate
    position: int | None
    #: the subject as far as it could be read ("" when the certificate could not be read at all)
    subject: str
    problems: tuple[str, ...]
    nonstandard: tuple[str, ...]
    #: False when nothing usable could be read: the certificate is missing from the entry
    readable: bool


@dataclass(frozen=True)
class JavaLoadFailure:
    """The store reads here but Java's KeyStore.load throws: what Java says and the real cause."""

    #: what keytool and every Java client print (often misleading)
    java_says: str
    #: the real cause, in Java's words where known
    cause: str
    #: where in the file (a certificate bag, an entry)
    where: str


@dataclass
class Keystore:
    path: Path
    store_type: StoreType
    key_entries: list[KeyEntry] = field(default_factory=list)
    trusted_entries: list[TrustedEntry] = field(default_factory=list)
    #: False when loaded without a password: nothing proves the file was not altered.
    integrity_checked: bool = True
    #: Secret-key entries (JCEKS / PKCS#12) are listed, never used for TLS.
    secret_aliases: list[str] = field(default_factory=list)
    #: How the chain order was obtained ("stored order" for JKS, "rebuilt" for PKCS#12).
    chain_order_note: str = "stored order"
    notes: list[str] = field(default_factory=list)
    #: The file's first bytes, the evidence for its real type.
    first_bytes: bytes = b""
    #: PKCS#12 keys Java does not load (an unencrypted KeyBag: "Unsupported PKCS12 bag type").
    ignored_keys: list[str] = field(default_factory=list)
    certificate_problems: list[CertificateProblem] = field(default_factory=list)
    #: Why Java cannot load the store at all (KeyStore.load fails), though it reads here.
    java_load_failure: JavaLoadFailure | None = None

    @property
    def expected_type(self) -> StoreType | None:
        return EXTENSION_TYPES.get(self.path.suffix.lower())
