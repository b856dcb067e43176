"""Handshake message bodies → our frozen models.

Certificate and CertificateRequest go through scapy's TLS classes (memoised by their bytes: one
server sends the same ones to every client, so a large capture parses each once) — or, for the
live probe, through the hand readers of parsers/lean.py (scapy's import outweighs one
handshake). ClientHello, ServerHello and CertificateVerify are read by hand: they differ in
every connection, and scapy's per-message cost would dominate a capture of thousands of
handshakes.
"""

from __future__ import annotations

import struct
from functools import lru_cache
from typing import Any

from cryptography import x509

from parsers.model import (
    Certificate,
    CertificateRequest,
    CertificateVerify,
    ClientHello,
    DistinguishedName,
    Message,
    ServerHello,
    SimpleMessage,
)

HRR_RANDOM = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")

EXT_SERVER_NAME, EXT_SIG_ALGS, EXT_CERT_AUTHORITIES = 0, 13, 47
EXT_SUPPORTED_VERSIONS, EXT_POST_HANDSHAKE_AUTH, EXT_SIG_ALGS_CERT = 43, 49, 50
EXT_PRE_SHARED_KEY, EXT_ENCRYPT_THEN_MAC = 41, 22


class MalformedMessage(Exception):
    """A handshake message whose body does not parse (reported as a Problem)."""


def u16_list(data: bytes) -> tuple[int, ...]:
    return struct.unpack(f"!{len(data) // 2}H", data[: len(data) // 2 * 2])


def extensions(data: bytes, pos: int) -> dict[int, bytes]:
    out: dict[int, bytes] = {}
    if pos + 2 > len(data):
        return out
    end = pos + 2 + struct.unpack_from("!H", data, pos)[0]
    pos += 2
    while pos + 4 <= min(end, len(data)):
        etype, elen = struct.unpack_from("!HH", data, pos)
        out[etype] = data[pos + 4 : pos + 4 + elen]
        pos += 4 + elen
    return out


def parse_client_hello(body: bytes) -> ClientHello:
    try:
        legacy = struct.unpack_from("!H", body, 0)[0]
        random = body[2:34]
        sid_len = body[34]
        session_id = body[35 : 35 + sid_len]
        pos = 35 + sid_len
        suites_len = struct.unpack_from("!H", body, pos)[0]
        suites = u16_list(body[pos + 2 : pos + 2 + suites_len])
        pos += 2 + suites_len
        pos += 1 + body[pos]  # compression methods
        exts = extensions(body, pos)
    except (IndexError, struct.error):
        raise MalformedMessage("ClientHello is truncated") from None
    name = None
    if EXT_SERVER_NAME in exts:
        sni = exts[EXT_SERVER_NAME]
        if len(sni) > 5 and sni[2] == 0:
            length = struct.unpack_from("!H", sni, 3)[0]
            name = sni[5 : 5 + length].decode("ascii", "replace")
    versions: tuple[int, ...] = ()
    if EXT_SUPPORTED_VERSIONS in exts:
        raw = exts[EXT_SUPPORTED_VERSIONS]
        versions = u16_list(raw[1 : 1 + raw[0]]) if raw else ()
    sig = exts.get(EXT_SIG_ALGS, b"")
    return ClientHello(
        random=bytes(random),
        server_name=name,
        legacy_version=legacy,
        supported_versions=tuple(v for v in versions if v & 0x0F0F != 0x0A0A),
        cipher_suites=tuple(s for s in suites if s & 0x0F0F != 0x0A0A),
        signature_algorithms=u16_list(sig[2:]) if sig else (),
        post_handshake_auth=EXT_POST_HANDSHAKE_AUTH in exts,
        session_id=bytes(session_id),
    )


def parse_server_hello(body: bytes) -> ServerHello:
    try:
        legacy = struct.unpack_from("!H", body, 0)[0]
        random = bytes(body[2:34])
        sid_len = body[34]
        pos = 35 + sid_len
        suite = struct.unpack_from("!H", body, pos)[0]
        exts = extensions(body, pos + 3)
    except (IndexError, struct.error):
        raise MalformedMessage("ServerHello is truncated") from None
    version = legacy
    if len(exts.get(EXT_SUPPORTED_VERSIONS, b"")) == 2:
        version = struct.unpack("!H", exts[EXT_SUPPORTED_VERSIONS])[0]
    return ServerHello(
        random=random,
        version=version,
        cipher_suite=suite,
        hello_retry_request=random == HRR_RANDOM,
        session_id=bytes(body[35 : 35 + sid_len]),
        psk=EXT_PRE_SHARED_KEY in exts,
        encrypt_then_mac=EXT_ENCRYPT_THEN_MAC in exts,
    )


def parse_certificate_verify(body: bytes) -> CertificateVerify:
    try:
        algorithm, length = struct.unpack_from("!HH", body, 0)
    except struct.error:
        raise MalformedMessage("CertificateVerify is truncated") from None
    return CertificateVerify(algorithm=algorithm, signature_length=length)


def dn_from_der(der: bytes) -> DistinguishedName:
    """A CA name as sent (DER) with a readable RFC 4514 string."""
    from asn1crypto import x509 as ax509

    try:
        name = ax509.Name.load(der)
        parts = []
        for rdn in reversed(list(name.chosen)):
            for atv in rdn:
                key = atv["type"].native
                short = _SHORT.get(key, atv["type"].dotted)
                value = atv["value"].native
                text = str(value)
                for ch in ("\\", ",", "+", '"', "<", ">", ";", "="):
                    text = text.replace(ch, "\\" + ch)
                parts.append(f"{short}={text}")
        return DistinguishedName(der, ",".join(parts) or "(empty DN)")
    except Exception:
        return DistinguishedName(der, f"(undecodable DN, {len(der)} bytes)")


_SHORT = {
    "common_name": "CN",
    "organization_name": "O",
    "organizational_unit_name": "OU",
    "country_name": "C",
    "state_or_province_name": "ST",
    "locality_name": "L",
    "email_address": "emailAddress",
    "domain_component": "DC",
    "street_address": "STREET",
    "serial_number": "serialNumber",
    "user_id": "UID",
}


def ca_list(data: bytes) -> tuple[DistinguishedName, ...]:
    """A DistinguishedName list: 2-byte total length, then 2-byte length + DER each."""
    out = []
    if len(data) < 2:
        return ()
    end = 2 + struct.unpack_from("!H", data, 0)[0]
    pos = 2
    while pos + 2 <= min(end, len(data)):
        length = struct.unpack_from("!H", data, pos)[0]
        out.append(dn_from_der(bytes(data[pos + 2 : pos + 2 + length])))
        pos += 2 + length
    return tuple(out)


def _scapy_handshake() -> Any:
    from scapy.layers.tls import handshake

    return handshake


@lru_cache(maxsize=512)
def parse_certificate_request(raw: bytes, tls13: bool) -> CertificateRequest:
    """raw is the whole message (4-byte header included), as scapy expects it."""
    hs = _scapy_handshake()
    if tls13:
        # scapy reads the context; the extensions (certificate_authorities, signature
        # algorithms) are read the one way both decoders share
        from dataclasses import replace

        from parsers.lean import read_certificate_request

        msg = hs.TLS13CertificateRequest(raw)
        return replace(read_certificate_request(raw[4:], True), context=bytes(msg.cert_req_ctxt or b""))
    msg = hs.TLSCertificateRequest(raw)
    if msg.haslayer("Raw") or (msg.haslayer("Padding") and len(msg["Padding"].load) > 0):
        raise MalformedMessage("CertificateRequest has trailing or missing bytes")
    names = tuple(dn_from_der(bytes(der)) for _, der in (msg.certauth or []))
    return CertificateRequest(
        tls13=False,
        certificate_types=tuple(int(t) for t in (msg.ctypes or [])),
        signature_algorithms=tuple(int(s) for s in (msg.sig_algs or [])),
        signature_algorithms_cert=(),
        ca_names=names,
    )


@lru_cache(maxsize=512)
def parse_certificate(raw: bytes, tls13: bool) -> Certificate:
    hs = _scapy_handshake()
    ders: list[bytes] = []
    context = b""
    if tls13:
        msg = hs.TLS13Certificate(raw)
        context = bytes(msg.cert_req_ctxt or b"")
        for entry in msg.certs or []:
            cert = entry.cert[1] if isinstance(entry.cert, tuple) else entry.cert
            ders.append(bytes(cert.der) if hasattr(cert, "der") else bytes(cert))
    else:
        msg = hs.TLSCertificate(raw)
        for _, cert in msg.certs or []:
            ders.append(bytes(cert.der) if hasattr(cert, "der") else bytes(cert))
    chain = []
    bad = 0
    for der in ders:
        try:
            chain.append(x509.load_der_x509_certificate(der))
        except ValueError:
            bad += 1
    return Certificate(chain=tuple(chain), context=context, undecodable=bad)


def decode(msg_type: int, raw: bytes, tls13: bool, lean: bool = False) -> Message:
    """Decode one complete handshake message (raw includes its 4-byte header). `lean` reads
    Certificate and CertificateRequest by hand (parsers/lean.py) instead of through scapy."""
    body = raw[4:]
    if lean and msg_type in (11, 13):
        from parsers import lean as hand

        if msg_type == 11:
            return hand.read_certificate(bytes(body), tls13)
        return hand.read_certificate_request(bytes(body), tls13)
    if msg_type == 1:
        return parse_client_hello(body)
    if msg_type == 2:
        return parse_server_hello(body)
    if msg_type == 11:
        try:
            return parse_certificate(bytes(raw), tls13)
        except Exception as exc:
            raise MalformedMessage(f"Certificate does not parse ({type(exc).__name__})") from None
    if msg_type == 13:
        try:
            return parse_certificate_request(bytes(raw), tls13)
        except MalformedMessage:
            raise
        except Exception as exc:
            raise MalformedMessage(f"CertificateRequest does not parse ({type(exc).__name__})") from None
    if msg_type == 15:
        return parse_certificate_verify(body)
    return SimpleMessage(msg_type=msg_type, length=len(body))
