"""The protocol's numbers are named once (parsers/constants.py); the display tables every
report prints are derived from them, so a name that drifts from the registry fails here."""

from __future__ import annotations

from parsers import constants as C


def test_the_numbers_are_the_registrys() -> None:
    assert (C.ContentType.handshake, C.ContentType.alert, C.ContentType.application_data) == (22, 21, 23)
    assert (C.HandshakeType.certificate_request, C.HandshakeType.certificate_verify) == (13, 15)
    assert C.HandshakeType.compressed_certificate == 25
    assert C.AlertDescription.certificate_required == 116
    assert C.SignatureScheme.rsa_pss_rsae_sha256 == 0x0804
    assert C.ClientCertificateType.ecdsa_sign == 64


def test_the_display_tables_say_what_reports_print() -> None:
    assert C.HANDSHAKE_NAMES[13] == "CertificateRequest"
    assert C.HANDSHAKE_NAMES[14] == "ServerHelloDone"
    assert C.HANDSHAKE_NAMES[25] == "CompressedCertificate"
    assert C.ALERT_NAMES[48] == "unknown_ca"
    assert C.CERTIFICATE_TYPES[1] == "rsa_sign"
    assert C.TLS_VERSIONS == {
        0x0300: "SSL 3.0",
        0x0301: "TLS 1.0",
        0x0302: "TLS 1.1",
        0x0303: "TLS 1.2",
        0x0304: "TLS 1.3",
    }
    # keys are plain ints: they are looked up with bytes off the wire and end up in JSON
    assert all(type(k) is int for k in (*C.HANDSHAKE_NAMES, *C.ALERT_NAMES, *C.SIGNATURE_SCHEMES))


def test_names_for_numbers_without_one() -> None:
    assert C.version_name(None) == "?"
    assert C.version_name(0x7F1C) == "0x7f1c"
    assert C.scheme_name(0x0403) == "ecdsa_secp256r1_sha256"
    assert C.scheme_name(0xFE00) == "0xfe00"
