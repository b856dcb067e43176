"""The scapy boundary: scapy's TLS handshake classes read Certificate and CertificateRequest
messages, and this module turns what they return into plain values at once, so no scapy object
(untyped) travels further. Imported lazily: scapy's import costs ~0.4 s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from scapy.layers.tls import handshake
from scapy.packet import Packet

P = TypeVar("P", bound=Packet)


def _parse(cls: type[P], raw: bytes) -> P:
    return cls(raw)  # type: ignore[no-untyped-call]  # scapy's constructors are untyped


@dataclass(frozen=True, slots=True)
class CertificateFields:
    context: bytes  # TLS 1.3 certificate_request_context (empty in TLS 1.2)
    ders: tuple[bytes, ...]  # the certificates as sent, leaf first


@dataclass(frozen=True, slots=True)
class CertificateRequestFields:
    """A TLS 1.2 CertificateRequest."""

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


def certificate_request(raw: bytes) -> CertificateRequestFields:
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
