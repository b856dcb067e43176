"""Certificates Python cryptography refuses: each one a finding, the rest of the report intact.

Every certificate is forged at test time from a good one: the TBS is changed (bytes or
asn1crypto), then signed again by the real issuer key, so only the one defect differs.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from asn1crypto import algos, core
from asn1crypto import x509 as ax
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from inspector.pki import certs as C
from tests import pki as P

PW = "changeit"


def signed(tbs: bytes, issuer_key: object, outer: algos.SignedDigestAlgorithm | None = None) -> bytes:
    """A certificate DER: the TBS bytes as given, signed by issuer_key (SHA-256)."""
    if isinstance(issuer_key, ec.EllipticCurvePrivateKey):
        signature = issuer_key.sign(tbs, ec.ECDSA(hashes.SHA256()))
    else:
        assert isinstance(issuer_key, rsa.RSAPrivateKey)
        signature = issuer_key.sign(tbs, padding.PKCS1v15(), hashes.SHA256())
    algorithm = outer if outer is not None else ax.TbsCertificate.load(tbs)["signature"]
    content = tbs + algorithm.dump() + core.OctetBitString(signature).dump()
    return core.Sequence.load(b"\x30" + _length(len(content)) + content).dump()


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def pem_of(der: bytes) -> bytes:
    import base64

    body = base64.encodebytes(der).replace(b"\n", b"")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return b"-----BEGIN CERTIFICATE-----\n" + b"\n".join(lines) + b"\n-----END CERTIFICATE-----\n"


def tbs_of(cert: x509.Certificate) -> bytes:
    return ax.Certificate.load(P.der(cert))["tbs_certificate"].dump()


def patched(issued: P.Issued, issuer: P.Issued, old: bytes, new: bytes) -> bytes:
    tbs = tbs_of(issued.cert)
    assert tbs.count(old) == 1, "the bytes to patch must be there once"
    return signed(tbs.replace(old, new), issuer.key)


def edited(issued: P.Issued, issuer: P.Issued, edit: Callable[[ax.TbsCertificate], None]) -> bytes:
    tbs = ax.TbsCertificate.load(tbs_of(issued.cert))
    edit(tbs)
    return signed(tbs.dump(force=True), issuer.key)


def _negative_serial(t: ax.TbsCertificate) -> None:
    t["serial_number"] = -5


def _version_2(t: ax.TbsCertificate) -> None:
    t["version"] = "v2"


def _duplicate_extension(t: ax.TbsCertificate) -> None:
    t["extensions"] = ax.Extensions([*t["extensions"], t["extensions"][0]])


@pytest.fixture(scope="module")
def forged(acme: P.Pki) -> dict[str, bytes]:
    leaf, inter = acme.leaf, acme.intermediate
    cn = leaf.cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
    utf8 = b"\x0c" + bytes([len(cn)]) + cn.encode()
    bad_utf8 = b"\x0c" + bytes([len(cn)]) + b"\xff\xfe" + cn.encode()[2:]
    bc = bytes.fromhex("0603551d130101ff04023000")
    return {
        "negative serial": edited(leaf, inter, _negative_serial),
        "version 2": edited(leaf, inter, _version_2),
        "duplicate extension": edited(leaf, inter, _duplicate_extension),
        "undecodable basicConstraints": patched(leaf, inter, bc, bc[:-1] + b"\x80"),
        "invalid UTF8String": patched(leaf, inter, utf8, bad_utf8),
    }


EXPECTED = {
    "negative serial": "serial number is negative",
    "version 2": "X.509 v2",
    "duplicate extension": "extension basic_constraints appears twice",
    "undecodable basicConstraints": "extension basic_constraints does not decode",
    "invalid UTF8String": "subject common_name: invalid string encoding",
}


@pytest.mark.parametrize("defect", sorted(EXPECTED))
def test_cryptography_refuses_but_we_read_the_rest(forged, acme, defect) -> None:  # type: ignore[no-untyped-def]
    der = forged[defect]
    with pytest.raises((ValueError, x509.InvalidVersion, x509.DuplicateExtension)):
        strict = x509.load_der_x509_certificate(der)
        _ = strict.subject.rfc4514_string(), strict.extensions
        raise ValueError("negative serials only warn")  # cryptography 43+ warns, reads
    loaded = C.load_certificate(der)
    assert loaded.cert is not None
    assert [p for p in loaded.problems if EXPECTED[defect] in p], loaded.problems
    assert loaded.cert.issuer == acme.intermediate.cert.subject
    # the signature is checked on the bytes the CA signed, not on our re-encoding
    assert C.signature_by(loaded.cert, acme.intermediate.cert) is True


@pytest.mark.parametrize("defect", sorted(EXPECTED))
def test_keystore_report_survives_one_malformed_certificate(cli, tmp_path, forged, acme, defect) -> None:  # type: ignore[no-untyped-def]
    import jks

    good_chain = [P.der(acme.intermediate.cert), P.der(acme.root.cert)]
    pkcs8 = acme.leaf.key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    entry = jks.PrivateKeyEntry.new("client", [forged[defect], *good_chain], pkcs8)
    entry.encrypt(PW)
    trusted = jks.TrustedCertEntry.new("partner", P.der(acme.root.cert))
    path = tmp_path / "odd.jks"
    jks.KeyStore.new("jks", [entry, trusted]).save(str(path), PW)
    result = cli("keystore", str(path), "--storepass", PW, "--json")
    assert "internal error" not in result.err and "Traceback" not in result.err
    assert result.status in (0, 1)
    malformed = [f for f in result.json()["findings"] if f["code"] == "cert-malformed"]
    assert len(malformed) == 1 and malformed[0]["severity"] == "warning"
    assert malformed[0]["location"]["alias"] == "client" and malformed[0]["location"]["position"] == 0
    assert EXPECTED[defect] in malformed[0]["summary"]
    entries = {e["alias"]: e for e in result.json()["keystore"]["entries"]}
    assert set(entries) == {"client", "partner"} and len(entries["client"]["chain"]) == 3
    assert entries["client"]["chain"][0]["issued_by_next"]["signature_valid"] is True


def test_ec_certificate_with_explicit_null_parameters_is_read_in_full(cli, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """As older JDKs wrote EC certificates: ecdsa-with-SHA256 with NULL parameters, in the TBS
    and outside; cryptography stops with "ExtraData", Java and OpenSSL read it."""
    root = P.issue("EC Root", ca=True, key=P.new_key("ec", 256))
    leaf = P.issue("ec client", root, key=P.new_key("ec", 256))
    with_null = algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa", "parameters": core.Null()})
    tbs = ax.TbsCertificate.load(tbs_of(leaf.cert))
    tbs["signature"] = with_null
    der = signed(tbs.dump(force=True), root.key, outer=with_null)
    with pytest.raises(ValueError, match="ExtraData"):
        x509.load_der_x509_certificate(der)
    loaded = C.load_certificate(der)
    assert loaded.cert is not None and loaded.problems == ()
    assert loaded.nonstandard and "explicit NULL parameters" in loaded.nonstandard[0]
    assert C.signature_by(loaded.cert, root.cert) is True
    path = tmp_path / "old-jdk.pem"
    path.write_bytes(leaf.key_pem + pem_of(der) + root.pem)
    result = cli("keystore", str(path), "--json")
    assert result.status == 0, result.err
    assert [(f["code"], f["severity"]) for f in result.json()["findings"]] == [
        ("cert-nonstandard-encoding", "info")
    ]
    (entry,) = result.json()["keystore"]["entries"]
    assert entry["chain"][0]["subject"] == "CN=ec client,O=Acme"
    assert entry["chain"][0]["issued_by_next"]["ok"] is True
    # the same certificate in a JKS key entry, as an old JDK's keytool stored it
    import jks
    from cryptography.hazmat.primitives import serialization as ser

    pkcs8 = leaf.key.private_bytes(ser.Encoding.DER, ser.PrivateFormat.PKCS8, ser.NoEncryption())
    entry_jks = jks.PrivateKeyEntry.new("old", [der, P.der(root.cert)], pkcs8)
    entry_jks.encrypt(PW)
    jks.KeyStore.new("jks", [entry_jks]).save(str(tmp_path / "old.jks"), PW)
    result = cli("keystore", str(tmp_path / "old.jks"), "--storepass", PW, "--json")
    assert result.status == 0 and "internal error" not in result.err
    assert result.codes() == ["cert-nonstandard-encoding"]


def test_ec_point_off_the_curve_is_an_error_on_that_certificate(cli, tmp_path, acme) -> None:  # type: ignore[no-untyped-def]
    leaf = P.issue("off curve", acme.intermediate, key=P.new_key("ec", 256))
    tbs = tbs_of(leaf.cert)
    point = leaf.key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    assert tbs.count(point) == 1
    broken = point[:-1] + bytes([point[-1] ^ 1])
    der = signed(tbs.replace(point, broken), acme.intermediate.key)
    loaded = C.load_certificate(der)
    assert loaded.cert is not None and any("public key is invalid" in p for p in loaded.problems)
    path = tmp_path / "bundle.pem"
    path.write_bytes(pem_of(der) + acme.intermediate.pem + acme.root.pem)
    result = cli("keystore", str(path), "--json")
    assert "internal error" not in result.err and result.status in (0, 1), result.err
    assert "cert-malformed" in result.codes()
    text = cli("keystore", str(path))
    assert "invalid key" in text.out


def test_certificate_that_does_not_parse_at_all_is_left_out_and_said(cli, tmp_path, acme) -> None:  # type: ignore[no-untyped-def]
    garbage = b"\x30\x0a" + b"\x02\x01\x01" * 3 + b"\x00"
    path = tmp_path / "bundle.pem"
    path.write_bytes(acme.leaf.key_pem + acme.leaf.pem + pem_of(garbage) + acme.intermediate.pem)
    result = cli("keystore", str(path), "--json")
    assert "internal error" not in result.err
    assert result.status == 1
    # cert-malformed keeps its documented severity: a certificate left out is its own error
    assert "cert-malformed" not in result.codes()
    malformed = [f for f in result.json()["findings"] if f["code"] == "cert-unreadable"]
    assert len(malformed) == 1 and malformed[0]["severity"] == "error"
    assert malformed[0]["location"]["position"] == 1
    (entry,) = result.json()["keystore"]["entries"]
    assert len(entry["chain"]) == 2


def test_bytes_recorded_for_a_re_encoded_certificate_never_judge_a_good_one(acme, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Another input may re-encode to the very same certificate: its recorded bytes must not turn
    a signature that verifies as written into a failure."""
    key = C.fingerprint(acme.leaf.cert)
    from parsers import x509_lenient

    monkeypatch.setitem(x509_lenient._SIGNED_AS_WRITTEN, key, (b"\x30\x00", b"\x00" * 256))
    assert C.signature_by(acme.leaf.cert, acme.intermediate.cert) is True


def test_a_version_1_certificate_is_not_called_malformed_for_its_version(acme) -> None:  # type: ignore[no-untyped-def]
    """v1 (openssl x509 -req without extensions, as some projects' test CAs are) is valid X.509."""
    tbs = ax.TbsCertificate.load(tbs_of(acme.leaf.cert))
    tbs["version"] = "v1"
    del tbs["extensions"]
    cn = b"\x0c\x0bletstestcba"
    body = tbs.dump(force=True)
    assert body.count(cn) == 1
    der = signed(body.replace(cn, b"\x0c\x0b\xff\xfetstestcba"), acme.intermediate.key)
    loaded = C.load_certificate(der)
    assert loaded.cert is not None and loaded.cert.version == x509.Version.v1
    assert loaded.problems == ("subject common_name: invalid string encoding (read with \ufffd)",)
    plain = C.load_certificate(signed(body, acme.intermediate.key))
    assert plain.cert is not None and plain.problems == () and plain.nonstandard == ()


def test_malformed_chain_certificate_in_pkcs12_is_filed_under_the_entry(cli, tmp_path, acme) -> None:  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

    odd_inter = x509.load_der_x509_certificate(edited(acme.intermediate, acme.root, _duplicate_extension))
    data = pkcs12.serialize_key_and_certificates(
        b"client",
        acme.leaf.key,
        acme.leaf.cert,
        [odd_inter, acme.root.cert],
        BestAvailableEncryption(PW.encode()),
    )
    path = tmp_path / "odd.p12"
    path.write_bytes(data)
    result = cli("keystore", str(path), "--storepass", PW, "--json")
    assert result.status in (0, 1) and "internal error" not in result.err
    (finding,) = [f for f in result.json()["findings"] if f["code"] == "cert-malformed"]
    assert finding["location"] == {"file": str(path), "alias": "client", "position": 1}
    assert "appears twice" in finding["summary"]
    assert len(result.json()["keystore"]["entries"][0]["chain"]) == 3


@pytest.mark.parametrize("lean", [False, True], ids=["scapy", "hand-reader"])
def test_a_captured_certificate_java_wrote_is_read_in_full(lean: bool) -> None:
    """The same old-JDK EC certificate inside a captured Certificate message (TLS 1.2): both
    decoders show it, not count it undecodable (read in full in captures too)."""
    from parsers.messages import decode
    from parsers.model import Certificate

    root = P.issue("EC Root", ca=True, key=P.new_key("ec", 256))
    leaf = P.issue("ec client", root, key=P.new_key("ec", 256))
    with_null = algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa", "parameters": core.Null()})
    tbs = ax.TbsCertificate.load(tbs_of(leaf.cert))
    tbs["signature"] = with_null
    der = signed(tbs.dump(force=True), root.key, outer=with_null)
    entries = b"".join(
        len(d).to_bytes(3, "big") + d for d in (der, root.cert.public_bytes(serialization.Encoding.DER))
    )
    body = len(entries).to_bytes(3, "big") + entries
    message = decode(11, b"\x0b" + len(body).to_bytes(3, "big") + body, False, lean)
    assert isinstance(message, Certificate)
    assert message.undecodable == 0
    (position, note), *_ = message.notes  # said, for the cert-nonstandard-encoding finding
    assert position == 0 and "explicit NULL parameters" in note
    assert [c.subject.rfc4514_string() for c in message.chain] == ["CN=ec client,O=Acme", "CN=EC Root,O=Acme"]


def test_the_wire_rules_name_a_leniently_read_certificate() -> None:
    """A certificate read leniently off the wire becomes a finding on that certificate."""
    from inspector.rules.wire_rules import check_transcript
    from parsers.model import Certificate, Direction, Endpoint, HandshakeEvent, Transcript

    cert = P.issue("odd client", P.issue("Odd Root", ca=True)).cert
    t = Transcript(1, Endpoint("127.0.0.1", 5000), Endpoint("127.0.0.1", 443), 0.0)
    sent = Certificate(chain=(cert,), notes=((0, "malformed: subject commonName: invalid string encoding"),))
    t.events.append(HandshakeEvent(Direction.CLIENT, 0.1, sent, 4))
    found = [f for f in check_transcript(t, None, "x.pcap", None) if f.code == "cert-malformed"]
    assert len(found) == 1
    assert found[0].summary == (
        "the client's certificate [0] CN=odd client,O=Acme is malformed (subject commonName: invalid "
        "string encoding); shown as far as it could be read"
    )
