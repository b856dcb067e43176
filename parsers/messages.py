"""Handshake message bodies → our frozen models.

Certificate and CertificateRequest go through scapy's TLS classes in captures (the design's
decoder), or the hand readers of parsers/lean.py for the live probe (scapy's import outweighs
one handshake). A Certificate message over SCAPY_CERTIFICATE_MAX bytes is read by hand in
captures too: scapy's reader is quadratic in it (~100 s for a 1 MB message of 1,151
certificates; the hand reader 0.03 s). The two readers are held equal on every sample by
tests/test_lean_reader.py. Both are memoised by their bytes — one
server sends the same ones to every client, so a large capture parses each once — but only up
to MEMO_MAX_BYTES, so the cache stays small whatever the capture holds. ClientHello,
ServerHello and CertificateVerify are read by hand: they differ in every connection.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import replace
from functools import lru_cache
from typing import TypeVar, cast

from cryptography import x509

from parsers import compressed_cert
from parsers import lean as hand_readers
from parsers.constants import HandshakeType, ProtocolVersion
from parsers.model import (
    Certificate,
    CertificateRequest,
    CertificateVerify,
    ClientHello,
    Message,
    ServerHello,
    SimpleMessage,
)
from parsers.printable import escape_text
from parsers.tlsfields import (
    EXT_ENCRYPT_THEN_MAC,
    EXT_POST_HANDSHAKE_AUTH,
    EXT_PRE_SHARED_KEY,
    EXT_RENEGOTIATION_INFO,
    EXT_SERVER_NAME,
    EXT_SIG_ALGS,
    EXT_SUPPORTED_VERSIONS,
    MalformedMessage,
    UnreadMessage,
    ca_list,
    dn_from_der,
    extensions,
    read_one_certificate,
    u16_list,
)

__all__ = [
    "MalformedMessage",
    "UnreadMessage",
    "ca_list",
    "decode",
    "dn_from_der",
    "extensions",
    "parse_certificate",
    "parse_certificate_request",
    "parse_certificate_verify",
    "parse_client_hello",
    "parse_server_hello",
    "parse_sslv2_client_hello",
    "u16_list",
]

HRR_RANDOM = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")


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
            name = escape_text(sni[5 : 5 + length].decode("ascii", "replace"))
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


def parse_sslv2_client_hello(body: bytes) -> ClientHello:
    """An SSLv2-format ClientHello (RFC 5246 E.2; `body` without its 2-byte header): the client
    random is the challenge right-aligned in 32 bytes; SSLv2-only cipher specs are left out."""
    try:
        msg_type, version, specs_len, sid_len, challenge_len = struct.unpack_from("!BHHHH", body, 0)
    except struct.error:
        raise MalformedMessage("SSLv2 ClientHello is truncated") from None
    if msg_type != 1 or len(body) != 9 + specs_len + sid_len + challenge_len or specs_len % 3:
        raise MalformedMessage("SSLv2 ClientHello has the wrong length")
    specs = body[9 : 9 + specs_len]
    session_id = body[9 + specs_len : 9 + specs_len + sid_len]
    challenge = body[9 + specs_len + sid_len :]
    suites = tuple((specs[k + 1] << 8) | specs[k + 2] for k in range(0, specs_len, 3) if specs[k] == 0)
    return ClientHello(
        random=bytes(challenge[-32:]).rjust(32, b"\x00"),
        server_name=None,
        legacy_version=version,
        supported_versions=(),
        cipher_suites=suites,
        signature_algorithms=(),
        post_handshake_auth=False,
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
        secure_renegotiation=EXT_RENEGOTIATION_INFO in exts or version >= 0x0304,
    )


def parse_certificate_verify(body: bytes) -> CertificateVerify:
    try:
        algorithm, length = struct.unpack_from("!HH", body, 0)
    except struct.error:
        raise MalformedMessage("CertificateVerify is truncated") from None
    return CertificateVerify(algorithm=algorithm, signature_length=length)


MEMO_MAX_BYTES = 64 << 10  # larger messages are decoded each time: at most 512 x 64 KiB cached
MEMO_ENTRIES = 512
#: Larger Certificate messages are read by hand even in captures (scapy is quadratic in them);
#: real chains are 2-10 KB, a chain of 4 RSA-4096 certificates with long extensions ~16 KB.
SCAPY_CERTIFICATE_MAX = 64 << 10


def parse_certificate_request(raw: bytes, tls13: bool, legacy: bool = False) -> CertificateRequest:
    """raw is the whole message (4-byte header included), as scapy expects it. `legacy`: the
    connection is SSL 3.0, TLS 1.0 or 1.1, whose request has no signature_algorithms."""
    from parsers import scapy_tls

    if tls13:
        # scapy reads the context; the extensions (certificate_authorities, signature
        # algorithms) are read the one way both decoders share
        request = hand_readers.read_certificate_request(raw[4:], True)
        return replace(request, context=scapy_tls.certificate_request_context(raw))
    fields = scapy_tls.certificate_request(raw, legacy)
    if not fields.exact:
        raise MalformedMessage("CertificateRequest has trailing or missing bytes")
    return CertificateRequest(
        tls13=False,
        certificate_types=fields.certificate_types,
        signature_algorithms=fields.signature_algorithms,
        signature_algorithms_cert=(),
        ca_names=tuple(dn_from_der(der) for der in fields.ca_ders),
        legacy=legacy,
    )


def parse_certificate(raw: bytes, tls13: bool) -> Certificate:
    """scapy's reading of a Certificate: the reference the hand reader is held equal to."""
    from parsers import scapy_tls

    fields = scapy_tls.certificate(raw, tls13)
    chain: list[x509.Certificate] = []
    bad = 0
    notes: list[tuple[int, str]] = []
    for der in fields.ders:
        cert, odd = read_one_certificate(der)
        if cert is None:
            bad += 1
        else:
            notes += [(len(chain), note) for note in odd]
            chain.append(cert)
    return Certificate(chain=tuple(chain), context=fields.context, undecodable=bad, notes=tuple(notes))


_CLIENT_HELLO, _SERVER_HELLO = HandshakeType.client_hello, HandshakeType.server_hello
_CERTIFICATE, _CERTIFICATE_REQUEST = HandshakeType.certificate, HandshakeType.certificate_request
_CERTIFICATE_VERIFY = HandshakeType.certificate_verify
_COMPRESSED_CERTIFICATE = HandshakeType.compressed_certificate


def decode(
    msg_type: int, raw: bytes, tls13: bool, lean: bool = False, version: int | None = ProtocolVersion.tls1_2
) -> Message:
    """Decode one complete handshake message (raw includes its 4-byte header). `lean` reads
    CertificateRequest by hand (parsers/lean.py) instead of through scapy. `version`: the
    ServerHello's (None when it was not seen): a CertificateRequest before TLS 1.2 has no
    signature_algorithms field; without a version the other layout is tried when one fails."""
    body = raw[4:]
    if msg_type == _CERTIFICATE_REQUEST and not tls13:
        return _legacy_aware_request(raw, lean, version)
    if msg_type == _CERTIFICATE:
        if lean or len(raw) > SCAPY_CERTIFICATE_MAX:
            return _memoised(_read_certificate, bytes(raw), tls13)
        try:
            return _memoised(parse_certificate, bytes(raw), tls13)
        except Exception:
            # scapy refuses the whole message for one certificate it cannot parse (an old JDK's
            # explicit NULL ECDSA parameters): the hand reader keeps every certificate it can
            return _memoised(_read_certificate, bytes(raw), tls13)
    if lean and msg_type == _CERTIFICATE_REQUEST:
        return hand_readers.read_certificate_request(bytes(body), tls13)
    if msg_type == _CLIENT_HELLO:
        return parse_client_hello(body)
    if msg_type == _SERVER_HELLO:
        return parse_server_hello(body)
    if msg_type == _CERTIFICATE_REQUEST:
        try:
            return _memoised(parse_certificate_request, bytes(raw), tls13)
        except MalformedMessage:
            raise
        except Exception as exc:
            raise MalformedMessage(f"CertificateRequest does not parse ({type(exc).__name__})") from None
    if msg_type == _CERTIFICATE_VERIFY:
        return parse_certificate_verify(body)
    if msg_type == _COMPRESSED_CERTIFICATE:
        return _compressed_certificate(bytes(body), tls13, lean)
    return SimpleMessage(msg_type=msg_type, length=len(body))


def _compressed_certificate(body: bytes, tls13: bool, lean: bool) -> Certificate:
    """The Certificate inside (RFC 8879), read as any Certificate is, marked compressed."""
    try:
        algorithm, inner = compressed_cert.decompress(body)
    except compressed_cert.MissingDecompressor as exc:
        raise UnreadMessage(str(exc)) from None
    except compressed_cert.NotDecompressed as exc:
        raise MalformedMessage(str(exc)) from None
    raw = bytes([_CERTIFICATE]) + len(inner).to_bytes(3, "big") + inner
    certificate = decode(_CERTIFICATE, raw, tls13, lean)
    assert isinstance(certificate, Certificate)
    return replace(certificate, compressed=compressed_cert.algorithm_name(algorithm))


def _legacy_aware_request(raw: bytes, lean: bool, version: int | None) -> CertificateRequest:
    legacy = version is not None and version < ProtocolVersion.tls1_2
    layouts = (legacy,) if version is not None else (False, True)
    failure: MalformedMessage | None = None
    for layout in layouts:
        try:
            if lean:
                return hand_readers.read_certificate_request(bytes(raw[4:]), False, layout)
            return _memoised_request(bytes(raw), layout)
        except MalformedMessage as exc:
            failure = failure or exc
        except Exception as exc:
            failure = failure or MalformedMessage(f"CertificateRequest does not parse ({type(exc).__name__})")
    assert failure is not None
    raise failure


def _memoised_request(raw: bytes, legacy: bool) -> CertificateRequest:
    if len(raw) > MEMO_MAX_BYTES:
        return parse_certificate_request(raw, False, legacy)
    return _cached_request(raw, legacy)


@lru_cache(maxsize=MEMO_ENTRIES)
def _cached_request(raw: bytes, legacy: bool) -> CertificateRequest:
    return parse_certificate_request(raw, False, legacy)


def _read_certificate(raw: bytes, tls13: bool) -> Certificate:
    return hand_readers.read_certificate(raw[4:], tls13)


_M = TypeVar("_M", Certificate, CertificateRequest)


@lru_cache(maxsize=MEMO_ENTRIES)
def _cached(read: Callable[[bytes, bool], Message], raw: bytes, tls13: bool) -> Message:
    return read(raw, tls13)


def _memoised(read: Callable[[bytes, bool], _M], raw: bytes, tls13: bool) -> _M:
    """read(raw, tls13), remembered for small messages (the same server's, again and again)."""
    if len(raw) > MEMO_MAX_BYTES:
        return read(raw, tls13)
    return cast(_M, _cached(read, raw, tls13))
