"""TLS bytes built by name, for byte-level tests: records, handshake messages (ClientHello,
Certificate, CertificateRequest, ServerHelloDone...), alerts. Lengths are computed unless a test
overrides one on purpose (`length=`: a header that lies is what some tests are about).

Writing only: the reading side is the product's (parsers.messages, parsers.lean). The numbers
are the protocol's (RFC 8446 §4, §6, B.3; RFC 5246 §7.4), written here rather than taken from
parsers.constants: a builder that used the product's numbers would agree with a wrong one."""

from __future__ import annotations

from collections.abc import Iterable

# record content types
CHANGE_CIPHER_SPEC, ALERT, HANDSHAKE, APPLICATION_DATA = 20, 21, 22, 23
# record versions (TLS 1.3 records say TLS 1.2; a first ClientHello often says TLS 1.0)
TLS10, TLS12 = 0x0301, 0x0303
# handshake message types
CLIENT_HELLO, SERVER_HELLO, CERTIFICATE, SERVER_KEY_EXCHANGE = 1, 2, 11, 12
CERTIFICATE_REQUEST, SERVER_HELLO_DONE, CERTIFICATE_VERIFY, FINISHED = 13, 14, 15, 20
# alert levels and the descriptions tests use
WARNING, FATAL = 1, 2
CLOSE_NOTIFY, HANDSHAKE_FAILURE, BAD_CERTIFICATE = 0, 40, 42
UNKNOWN_CA, DECRYPT_ERROR, PROTOCOL_VERSION, CERTIFICATE_REQUIRED = 48, 51, 70, 116
# extensions
SIGNATURE_ALGORITHMS, CERTIFICATE_AUTHORITIES = 13, 47


def vec(data: bytes, size: int) -> bytes:
    """`data` behind its length in `size` bytes (a TLS vector)."""
    return len(data).to_bytes(size, "big") + data


def u16s(codes: Iterable[int]) -> bytes:
    """Two-byte codes back to back (cipher suites, signature schemes)."""
    return b"".join(code.to_bytes(2, "big") for code in codes)


def record(content_type: int, body: bytes, version: int = TLS12, length: int | None = None) -> bytes:
    """One record: its 5-byte header (announcing `length`, else the body's) and the body."""
    announced = len(body) if length is None else length
    return bytes([content_type]) + version.to_bytes(2, "big") + announced.to_bytes(2, "big") + body


def handshake(msg_type: int, body: bytes, length: int | None = None) -> bytes:
    """One handshake message: type, 3-byte length (announcing `length`, else the body's), body."""
    announced = len(body) if length is None else length
    return bytes([msg_type]) + announced.to_bytes(3, "big") + body


def alert(description: int, level: int = FATAL) -> bytes:
    """An alert's two bytes (the body of an ALERT record)."""
    return bytes([level, description])


def alert_record(description: int, level: int = FATAL, version: int = TLS12) -> bytes:
    return record(ALERT, alert(description, level), version)


def extension(ext_type: int, data: bytes) -> bytes:
    return ext_type.to_bytes(2, "big") + vec(data, 2)


def client_hello(
    suites: Iterable[int] = (0x1301,),
    random: bytes = bytes(32),
    session_id: bytes = b"",
    extensions: bytes | None = None,
    version: int = TLS12,
) -> bytes:
    """A ClientHello message (null compression); `extensions` is the block's content, None
    leaves the block out (as TLS 1.0-1.2 allow)."""
    body = version.to_bytes(2, "big") + random + vec(session_id, 1) + vec(u16s(suites), 2) + vec(b"\x00", 1)
    if extensions is not None:
        body += vec(extensions, 2)
    return handshake(CLIENT_HELLO, body)


def certificate(ders: Iterable[bytes], tls13: bool = False, context: bytes = b"") -> bytes:
    """A Certificate message: each DER in its 3-byte vector (TLS 1.3: with an empty extension
    block each, behind the request context)."""
    if tls13:
        entries = b"".join(vec(d, 3) + vec(b"", 2) for d in ders)
        return handshake(CERTIFICATE, vec(context, 1) + vec(entries, 3))
    return handshake(CERTIFICATE, vec(b"".join(vec(d, 3) for d in ders), 3))


def certificate_request_body(
    tls13: bool = False,
    sigalgs: Iterable[int] = (),
    ca_names: Iterable[bytes] | None = (),
    cert_types: bytes = b"\x01\x40",
    context: bytes = b"",
) -> bytes:
    """A CertificateRequest's body. `ca_names` are DER-encoded subjects; TLS 1.3 puts them in a
    certificate_authorities extension (None: no such extension), TLS 1.2 after the schemes."""
    names = vec(b"".join(vec(n, 2) for n in ca_names or ()), 2)
    if tls13:
        exts = extension(SIGNATURE_ALGORITHMS, vec(u16s(sigalgs), 2))
        if ca_names is not None:
            exts += extension(CERTIFICATE_AUTHORITIES, names)
        return vec(context, 1) + vec(exts, 2)
    return vec(cert_types, 1) + vec(u16s(sigalgs), 2) + names


def certificate_request(
    tls13: bool = False,
    sigalgs: Iterable[int] = (),
    ca_names: Iterable[bytes] | None = (),
    cert_types: bytes = b"\x01\x40",
    context: bytes = b"",
) -> bytes:
    """A CertificateRequest message (see certificate_request_body)."""
    body = certificate_request_body(tls13, sigalgs, ca_names, cert_types, context)
    return handshake(CERTIFICATE_REQUEST, body)


def server_hello_done() -> bytes:
    return handshake(SERVER_HELLO_DONE, b"")
