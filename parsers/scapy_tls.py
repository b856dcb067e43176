"""The scapy boundary: scapy's TLS handshake classes read Certificate and CertificateRequest
messages, and this module turns what they return into plain values at once, so no scapy object
(untyped) travels further. Imported lazily, and lean: see `_import_lean`.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar


def _import_lean() -> None:
    """Configure scapy before its TLS layer is imported, so that the import does only what
    decoding needs (~0.2 s less; measured in docs/benchmarks-pcap.md):
    - no routing tables: `scapy.route` / `scapy.route6` read /proc (IPv4 and IPv6 routes,
      interfaces) when imported; we never send a packet, so their tables stay empty;
    - no finite-field DH groups: `scapy.layers.tls.crypto.groups` computes the parameters of
      thirteen RFC 2409 / 3526 / 7919 groups at import when `conf.crypto_valid`; they serve only to
      build or decrypt key exchanges (ServerKeyExchange, key_share), which scapy never reads
      for us. The module is imported with the flag off, the flag restored at once, and the
      cryptography names its functions use are put back, so only `_ffdh_groups` stays empty.
    Everything else (`conf.crypto_valid`, the TLS and X.509 classes) is as a plain import leaves
    it; tests/test_scapy_lean.py holds that.
    """
    if "scapy.layers.tls.handshake" in sys.modules:
        return
    from scapy.config import conf

    conf.route_autoload = False
    conf.route6_autoload = False
    if "scapy.layers.tls.crypto.groups" in sys.modules or not conf.crypto_valid:
        return
    conf.crypto_valid = False
    try:
        from scapy.layers.tls.crypto import groups
    finally:
        conf.crypto_valid = True
    _restore_group_imports(groups)


def _restore_group_imports(groups: object) -> None:
    """The cryptography names `groups` imports only when `conf.crypto_valid` (its functions
    use them), imported the way it does."""
    from cryptography.hazmat.backends import default_backend
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, x448, x25519
    from cryptography.utils import CryptographyDeprecationWarning

    with warnings.catch_warnings():  # as scapy does: finite-field DH is deprecated in cryptography
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        from cryptography.hazmat.primitives.asymmetric.dh import (
            DHParameterNumbers,
            DHPrivateKey,
            DHPublicNumbers,
        )
    names: dict[str, object] = {"default_backend": default_backend, "ec": ec, "serialization": serialization}
    names |= {"DHParameterNumbers": DHParameterNumbers, "DHPublicNumbers": DHPublicNumbers}
    names |= {"DHPrivateKey": DHPrivateKey, "CryptographyDeprecationWarning": CryptographyDeprecationWarning}
    names |= {"x25519": x25519, "x448": x448}
    for name, value in names.items():
        setattr(groups, name, value)


_import_lean()

from scapy.layers.tls import handshake  # noqa: E402  (after _import_lean, on purpose)
from scapy.layers.tls.cert import Cert  # noqa: E402
from scapy.packet import Packet  # noqa: E402


class DeferredCert:
    """What scapy's certificate-list fields hold for each certificate while it reads a
    Certificate message (its `Cert`, put in their module by `_defer_certificates`): the DER, and
    scapy's own X.509 reading of it only when something asks for one of its attributes.

    scapy still reads the message — its framing, every certificate's length, TLS 1.3's context
    and per-certificate extensions — and nothing here reads X.509: the certificates themselves
    were always read by `cryptography` (parsers.tlsfields.read_one_certificate), scapy's tree
    only re-encoded them. Building that tree was most of the time of a capture full of
    certificates (~60 ms for a certificate with a long SAN list, every distinct message);
    deferred, it is built for the certificate whose attributes are asked, as scapy would."""

    __slots__ = ("_cert", "raw")

    def __init__(self, raw: bytes) -> None:
        self.raw = bytes(raw)
        self._cert: object | None = None

    def materialise(self) -> object:
        if self._cert is None:
            self._cert = Cert(self.raw)  # type: ignore[no-untyped-call,call-arg]
        return self._cert

    @property
    def der(self) -> bytes:
        return self.raw  # the bytes sent: what scapy's Cert.der re-encodes them to, when it can

    def __getattr__(self, name: str) -> object:
        return getattr(self.materialise(), name)


def _defer_certificates() -> None:
    """scapy's certificate-list fields (TLS 1.2 and 1.3) build each entry with the name `Cert`
    of their module: give them DeferredCert (once per process)."""
    if getattr(handshake, "Cert", None) is not DeferredCert:
        handshake.Cert = DeferredCert  # type: ignore[assignment,attr-defined]


_defer_certificates()

P = TypeVar("P", bound=Packet)


def _parse(cls: type[P], raw: bytes) -> P:
    return cls(raw)  # type: ignore[no-untyped-call]  # scapy's constructors are untyped


def _legacy_session() -> object:
    """A scapy TLS session at TLS 1.0: its version-dependent fields (a CertificateRequest's
    signature_algorithms, absent before TLS 1.2) are then read as that version sends them."""
    from scapy.layers.tls.session import tlsSession

    session = tlsSession()  # type: ignore[no-untyped-call]
    session.tls_version = 0x0301
    return session


@dataclass(frozen=True, slots=True)
class CertificateFields:
    context: bytes  # TLS 1.3 certificate_request_context (empty in TLS 1.2)
    ders: tuple[bytes, ...]  # the certificates as sent, leaf first


@dataclass(frozen=True, slots=True)
class CertificateRequestFields:
    """A CertificateRequest of SSL 3.0 - TLS 1.2 (signature_algorithms empty before TLS 1.2)."""

    certificate_types: tuple[int, ...]
    signature_algorithms: tuple[int, ...]
    ca_ders: tuple[bytes, ...]
    exact: bool  # the message had neither trailing nor missing bytes


def _der(cert: object) -> bytes:
    der = getattr(cert, "der", None)
    return bytes(der) if der is not None else bytes(cert)  # type: ignore[call-overload]


def certificate(raw: bytes, tls13: bool) -> CertificateFields:
    """`raw` is the whole message, 4-byte header included (as scapy expects it).

    Each certificate's DER is the slice of `raw` at the offset and length scapy's reading of the
    list gives, not scapy's re-encoding of its parsed tree (`Cert.der` builds the whole ASN.1
    structure again: most of the time of a Certificate with long SAN lists, and not always the
    bytes sent, whose fingerprint is the one to show). When the list does not frame as scapy
    read it, its re-encoding is taken as before."""
    if tls13:
        tls13_msg = _parse(handshake.TLS13Certificate, raw)
        context = bytes(tls13_msg.cert_req_ctxt or b"")
        entries = list(tls13_msg.certs or [])
        framed = [
            (e.cert[0], int(e.extlen or 0)) if isinstance(e.cert, tuple) else (None, 0) for e in entries
        ]
        ders = _slices(raw, 4 + 1 + len(context) + 3, framed)
        if ders is None:
            certs = [e.cert[1] if isinstance(e.cert, tuple) else e.cert for e in entries]
            ders = tuple(_der(c) for c in certs)
        return CertificateFields(context, ders)
    msg = _parse(handshake.TLSCertificate, raw)
    pairs = list(msg.certs or [])
    ders = _slices(raw, 4 + 3, [(length, None) for length, _ in pairs])
    if ders is None:
        ders = tuple(_der(cert) for _, cert in pairs)
    return CertificateFields(b"", ders)


def _slices(
    raw: bytes, pos: int, framed: Sequence[tuple[int | None, int | None]]
) -> tuple[bytes, ...] | None:
    """The certificates' bytes in `raw` from `pos`: each (length as scapy read it, the TLS 1.3
    extensions' length after it or None in TLS 1.2). None when the bytes do not frame so."""
    out = []
    for length, ext in framed:
        if length is None or int.from_bytes(raw[pos : pos + 3], "big") != length:
            return None
        out.append(bytes(raw[pos + 3 : pos + 3 + length]))
        pos += 3 + length
        if ext is not None:
            if int.from_bytes(raw[pos : pos + 2], "big") != ext:
                return None
            pos += 2 + ext
    return tuple(out) if pos == len(raw) else None


def certificate_request(raw: bytes, legacy: bool = False) -> CertificateRequestFields:
    """`legacy`: SSL 3.0, TLS 1.0 or 1.1, whose request has no signature_algorithms field."""
    if legacy:
        msg = handshake.TLSCertificateRequest(raw, tls_session=_legacy_session())  # type: ignore[no-untyped-call]
    else:
        msg = _parse(handshake.TLSCertificateRequest, raw)
    trailing = msg.haslayer("Raw") or (msg.haslayer("Padding") and len(msg["Padding"].load) > 0)
    return CertificateRequestFields(
        certificate_types=tuple(int(t) for t in msg.ctypes or []),
        signature_algorithms=tuple(int(s) for s in msg.sig_algs or []),
        ca_ders=tuple(bytes(der) for _, der in msg.certauth or []),
        exact=not trailing,
    )


def certificate_request_context(raw: bytes) -> bytes:
    """A TLS 1.3 CertificateRequest's context (its extensions are read by parsers.lean)."""
    return bytes(_parse(handshake.TLS13CertificateRequest, raw).cert_req_ctxt or b"")
