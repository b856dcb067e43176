"""The protocol's numbers, named once: content types, handshake types, alerts, versions,
signature schemes and client certificate types.

Members carry the IANA registry names (RFC 8446 and the TLS parameters registry), so code
reads `HandshakeType.certificate_request` where it used to read `13`. The display tables
below are derived from the enums and keyed by plain `int`, because they are looked up with
bytes read off the wire and their keys end up in JSON. Hot loops bind the members they need
to module names once (an enum attribute costs a class lookup per use).
"""

from __future__ import annotations

from enum import IntEnum


class ContentType(IntEnum):
    change_cipher_spec = 20
    alert = 21
    handshake = 22
    application_data = 23
    heartbeat = 24


class HandshakeType(IntEnum):
    hello_request = 0
    client_hello = 1
    server_hello = 2
    new_session_ticket = 4
    end_of_early_data = 5
    encrypted_extensions = 8
    certificate = 11
    server_key_exchange = 12
    certificate_request = 13
    server_hello_done = 14
    certificate_verify = 15
    client_key_exchange = 16
    finished = 20
    certificate_status = 22
    key_update = 24
    compressed_certificate = 25
    message_hash = 254


class AlertLevel(IntEnum):
    warning = 1
    fatal = 2


class AlertDescription(IntEnum):
    close_notify = 0
    unexpected_message = 10
    bad_record_mac = 20
    decryption_failed = 21
    record_overflow = 22
    decompression_failure = 30
    handshake_failure = 40
    no_certificate = 41
    bad_certificate = 42
    unsupported_certificate = 43
    certificate_revoked = 44
    certificate_expired = 45
    certificate_unknown = 46
    illegal_parameter = 47
    unknown_ca = 48
    access_denied = 49
    decode_error = 50
    decrypt_error = 51
    export_restriction = 60
    protocol_version = 70
    insufficient_security = 71
    internal_error = 80
    inappropriate_fallback = 86
    user_canceled = 90
    no_renegotiation = 100
    missing_extension = 109
    unsupported_extension = 110
    certificate_unobtainable = 111
    unrecognized_name = 112
    bad_certificate_status_response = 113
    bad_certificate_hash_value = 114
    unknown_psk_identity = 115
    certificate_required = 116
    no_application_protocol = 120


class ProtocolVersion(IntEnum):
    #: the record-layer "version" an SSLv2-format ClientHello's message crosses as
    sslv2 = 0x0002
    ssl3 = 0x0300
    tls1_0 = 0x0301
    tls1_1 = 0x0302
    tls1_2 = 0x0303
    tls1_3 = 0x0304


class SignatureScheme(IntEnum):
    rsa_pkcs1_md5 = 0x0101
    rsa_pkcs1_sha1 = 0x0201
    dsa_sha1 = 0x0202
    ecdsa_sha1 = 0x0203
    rsa_pkcs1_sha224 = 0x0301
    dsa_sha224 = 0x0302
    ecdsa_sha224 = 0x0303
    rsa_pkcs1_sha256 = 0x0401
    dsa_sha256 = 0x0402
    ecdsa_secp256r1_sha256 = 0x0403
    rsa_pkcs1_sha384 = 0x0501
    dsa_sha384 = 0x0502
    ecdsa_secp384r1_sha384 = 0x0503
    rsa_pkcs1_sha512 = 0x0601
    dsa_sha512 = 0x0602
    ecdsa_secp521r1_sha512 = 0x0603
    sm2sig_sm3 = 0x0708
    rsa_pss_rsae_sha256 = 0x0804
    rsa_pss_rsae_sha384 = 0x0805
    rsa_pss_rsae_sha512 = 0x0806
    ed25519 = 0x0807
    ed448 = 0x0808
    rsa_pss_pss_sha256 = 0x0809
    rsa_pss_pss_sha384 = 0x080A
    rsa_pss_pss_sha512 = 0x080B
    ecdsa_brainpoolP256r1tls13_sha256 = 0x081A
    ecdsa_brainpoolP384r1tls13_sha384 = 0x081B
    ecdsa_brainpoolP512r1tls13_sha512 = 0x081C
    mldsa44 = 0x0904
    mldsa65 = 0x0905
    mldsa87 = 0x0906


class ClientCertificateType(IntEnum):
    rsa_sign = 1
    dss_sign = 2
    rsa_fixed_dh = 3
    dss_fixed_dh = 4
    ecdsa_sign = 64
    rsa_fixed_ecdh = 65
    ecdsa_fixed_ecdh = 66


#: handshake messages as the RFCs and Wireshark print them
HANDSHAKE_NAMES: dict[int, str] = {
    int(t): "".join(part.capitalize() for part in t.name.split("_")) for t in HandshakeType
}

ALERT_NAMES: dict[int, str] = {int(a): a.name for a in AlertDescription}

TLS_VERSIONS: dict[int, str] = {
    int(v): ("SSL 3.0" if v is ProtocolVersion.ssl3 else f"TLS 1.{v - ProtocolVersion.tls1_0}")
    for v in ProtocolVersion
    if v >= ProtocolVersion.ssl3
}

SIGNATURE_SCHEMES: dict[int, str] = {int(s): s.name for s in SignatureScheme}

CERTIFICATE_TYPES: dict[int, str] = {int(t): t.name for t in ClientCertificateType}


def version_name(value: int | None) -> str:
    """'TLS 1.2' for 0x0303; the hex value for what has no name (a GREASE value, a typo)."""
    if value is None:
        return "?"
    return TLS_VERSIONS.get(value, f"0x{value:04x}")


def scheme_name(value: int) -> str:
    return SIGNATURE_SCHEMES.get(value, f"0x{value:04x}")
