"""The scapy boundary: scapy's TLS handshake classes read Certificate and CertificateRequest
messages, and this module turns what they return into plain values at once, so no scapy object
(untyped) travels further. Imported lazily, and lean: see `_import_lean`.
"""

from __future__ import annotations

import sys
import warnings
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
from scapy.packet import Packet  # noqa: E402

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
    """`raw` is the whole message, 4-byte header included (as scapy expects it)."""
    if tls13:
        tls13_msg = _parse(handshake.TLS13Certificate, raw)
        entries = [e.cert[1] if isinstance(e.cert, tuple) else e.cert for e in tls13_msg.certs or []]
        return CertificateFields(bytes(tls13_msg.cert_req_ctxt or b""), tuple(_der(c) for c in entries))
    msg = _parse(handshake.TLSCertificate, raw)
    return CertificateFields(b"", tuple(_der(cert) for _, cert in msg.certs or []))


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
