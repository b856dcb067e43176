"""Certificate and CertificateRequest read by hand, with `struct`.

The probe reads both here: importing scapy's TLS layer costs ~0.4 s, ten times one handshake,
while a capture pays it once for thousands of connections (captures go through scapy, except a
Certificate message over 64 KiB: scapy's reader is quadratic, this one linear). The readers return the
very models the scapy path returns; tests/test_lean_reader.py holds them equal on every sample
capture, on live probe transcripts and on generated messages. They are stricter than scapy: a
length that does not add up is a MalformedMessage, never a silent partial read.
"""

from __future__ import annotations

from cryptography import x509

from parsers.model import Certificate, CertificateRequest, DistinguishedName
from parsers.tlsfields import (
    EXT_CERT_AUTHORITIES,
    EXT_SIG_ALGS,
    EXT_SIG_ALGS_CERT,
    MalformedMessage,
    dn_from_der,
    read_one_certificate,
    u16_list,
)


class _Reader:
    """Length-prefixed fields of a handshake body; every overrun is a MalformedMessage."""

    def __init__(self, data: bytes, what: str) -> None:
        self.data, self.pos, self.what = data, 0, what

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise MalformedMessage(f"{self.what} is truncated (a length runs past its end)")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def uint(self, size: int) -> int:
        return int.from_bytes(self.take(size), "big")

    def vector(self, length_size: int) -> bytes:
        return self.take(self.uint(length_size))

    def done(self) -> None:
        if self.pos != len(self.data):
            raise MalformedMessage(f"{self.what} has {len(self.data) - self.pos} trailing bytes")


def _dn_list(data: bytes, what: str) -> tuple[DistinguishedName, ...]:
    names = _Reader(data, what)
    out = []
    while names.pos < len(data):
        out.append(dn_from_der(names.vector(2)))
    return tuple(out)


def _extensions(data: bytes, what: str) -> dict[int, bytes]:
    """An extension block's content: type and length-prefixed data each, nothing left over."""
    block = _Reader(data, what)
    out: dict[int, bytes] = {}
    while block.pos < len(data):
        etype = block.uint(2)
        out[etype] = block.vector(2)
    return out


def _schemes(data: bytes, what: str) -> tuple[int, ...]:
    """A signature scheme list extension: a 2-byte length, then 2 bytes per scheme."""
    r = _Reader(data, f"CertificateRequest {what} extension")
    schemes = r.vector(2)
    r.done()
    if len(schemes) % 2:
        raise MalformedMessage(f"CertificateRequest {what} extension has an odd length ({len(schemes)})")
    return u16_list(schemes)


def _dn_vector(data: bytes, what: str) -> tuple[DistinguishedName, ...]:
    r = _Reader(data, f"CertificateRequest {what} extension")
    names = r.vector(2)
    r.done()
    return _dn_list(names, f"CertificateRequest {what} extension")


def read_certificate(body: bytes, tls13: bool) -> Certificate:
    """TLS 1.2: certificate_list<0..2^24-1>; TLS 1.3: context + CertificateEntry list."""
    r = _Reader(body, "Certificate")
    context = r.vector(1) if tls13 else b""
    entries = _Reader(r.vector(3), "Certificate list")
    r.done()
    chain: list[x509.Certificate] = []
    bad = 0
    notes: list[tuple[int, str]] = []
    while entries.pos < len(entries.data):
        der = entries.vector(3)
        if tls13:
            entries.vector(2)  # per-certificate extensions (OCSP, SCT): not needed here
        cert, odd = read_one_certificate(der)
        if cert is None:  # counted and reported, the rest still read
            bad += 1
        else:
            notes += [(len(chain), note) for note in odd]
            chain.append(cert)
    return Certificate(chain=tuple(chain), context=context, undecodable=bad, notes=tuple(notes))


def read_certificate_request(body: bytes, tls13: bool, legacy: bool = False) -> CertificateRequest:
    """TLS 1.2: types, signature algorithms, CA names; TLS 1.3: context + extensions; `legacy`
    (SSL 3.0, TLS 1.0, 1.1): types and CA names, no signature algorithms field."""
    r = _Reader(body, "CertificateRequest")
    if tls13:
        context = r.vector(1)
        exts = _extensions(r.vector(2), "CertificateRequest extensions")
        r.done()
        sig = exts.get(EXT_SIG_ALGS)
        sig_cert = exts.get(EXT_SIG_ALGS_CERT)
        authorities = exts.get(EXT_CERT_AUTHORITIES)
        return CertificateRequest(
            tls13=True,
            certificate_types=(),
            signature_algorithms=_schemes(sig, "signature_algorithms") if sig is not None else (),
            signature_algorithms_cert=(
                _schemes(sig_cert, "signature_algorithms_cert") if sig_cert is not None else ()
            ),
            ca_names=_dn_vector(authorities, "certificate_authorities") if authorities is not None else (),
            context=context,
            ca_names_present=authorities is not None,
        )
    types = tuple(r.vector(1))
    sig_algs = () if legacy else u16_list(r.vector(2))
    names = _dn_list(r.vector(2), "CertificateRequest CA names")
    r.done()
    return CertificateRequest(
        tls13=False,
        certificate_types=types,
        signature_algorithms=sig_algs,
        signature_algorithms_cert=(),
        ca_names=names,
        legacy=legacy,
    )
