"""The probe's hand readers (parsers/lean.py) must say what scapy's TLS classes say.

One deliberate difference: where one certificate in a Certificate message is not X.509, scapy
refuses the whole message; the hand reader keeps the others and counts that one undecodable.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parsers import messages
from parsers.capture import read_capture
from parsers.keylog import KeyLog
from parsers.lean import read_certificate, read_certificate_request
from tests import pki as P
from tests.helpers import tls_bytes as TB

CAPTURES = Path(__file__).resolve().parent.parent / "captures"
# no handshake got that far, or TLS 1.3 without its key log
NO_CERTIFICATES = {"truncated.pcap", "tls12-server-only-1.3.pcap", "tls13-mss1448.pcap"}
SAMPLES = sorted(p for p in CAPTURES.iterdir() if p.suffix in (".pcap", ".pcapng"))


def _keylog(path: Path) -> KeyLog:
    keys = KeyLog()
    if path.with_suffix(".keys").exists():
        keys.add_text(path.with_suffix(".keys").read_text())
    return keys


@pytest.mark.parametrize("path", SAMPLES, ids=[p.name for p in SAMPLES])
def test_every_sample_capture_decodes_the_same(path: Path) -> None:
    by_scapy = read_capture(path, _keylog(path)).transcripts
    by_hand = read_capture(path, _keylog(path), lean=True).transcripts
    assert len(by_scapy) == len(by_hand) > 0
    seen = 0
    for a, b in zip(by_scapy, by_hand, strict=True):
        assert a.events == b.events
        assert a.problems == b.problems
        seen += sum(1 for e in a.events if type(e.message).__name__ in ("Certificate", "CertificateRequest"))
    if path.name not in NO_CERTIFICATES:
        assert seen > 0  # the comparison covered the two messages


@pytest.fixture(scope="module")
def ders() -> list[bytes]:
    from cryptography.hazmat.primitives.serialization import Encoding

    acme = P.make_pki()
    return [c.cert.public_bytes(Encoding.DER) for c in (acme.leaf, acme.intermediate, acme.root)]


names = st.lists(st.sampled_from([0, 1, 2]), max_size=5)


@settings(max_examples=40, deadline=None)
@given(
    picks=names,
    types=st.lists(st.integers(0, 255), max_size=6),
    algs=st.lists(st.integers(0, 0xFFFF), max_size=12),
)
def test_generated_tls12_certificate_request(ders, picks, types, algs):  # type: ignore[no-untyped-def]
    from cryptography import x509

    subjects = [x509.load_der_x509_certificate(ders[i]).subject.public_bytes() for i in picks]
    body = TB.certificate_request_body(False, algs, subjects, cert_types=bytes(types))
    raw = TB.handshake(TB.CERTIFICATE_REQUEST, body)
    assert read_certificate_request(body, False) == messages.parse_certificate_request(raw, False)


@settings(max_examples=40, deadline=None)
@given(picks=names, context=st.binary(max_size=8), with_cas=st.booleans())
def test_generated_tls13_certificate_request(ders, picks, context, with_cas):  # type: ignore[no-untyped-def]
    from cryptography import x509

    subjects = [x509.load_der_x509_certificate(ders[i]).subject.public_bytes() for i in picks]
    body = TB.certificate_request_body(
        True, [0x0403, 0x0804], subjects if with_cas else None, context=context
    )
    raw = TB.handshake(TB.CERTIFICATE_REQUEST, body)
    assert read_certificate_request(body, True) == messages.parse_certificate_request(raw, True)


@settings(max_examples=15, deadline=None)  # scapy's X.509 dissection is slow
@given(picks=names, tls13=st.booleans(), garbage=st.booleans())
def test_generated_certificate(ders, picks, tls13, garbage):  # type: ignore[no-untyped-def]
    certs = [ders[i] for i in picks] + ([b"\x30\x03\x02\x01\x00"] if garbage else [])
    raw = TB.certificate(certs, tls13)
    body = raw[4:]
    mine = read_certificate(body, tls13)
    assert len(mine.chain) == len(picks) and mine.undecodable == int(garbage)
    # a certificate that does not parse is counted by both, the rest kept (scapy frames the
    # message; its X.509 reading is deferred, parsers.scapy_tls.DeferredCert)
    assert mine == messages.parse_certificate(raw, tls13)


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=200), tls13=st.booleans(), msg_type=st.sampled_from([11, 13]))
def test_random_bodies_are_decoded_or_malformed(body, tls13, msg_type):  # type: ignore[no-untyped-def]
    try:
        out = messages.decode(msg_type, TB.handshake(msg_type, body), tls13, lean=True)
    except messages.MalformedMessage as exc:
        assert str(exc)
    else:
        assert type(out).__name__ in ("Certificate", "CertificateRequest")


def test_lengths_that_do_not_add_up_are_named() -> None:
    with pytest.raises(messages.MalformedMessage, match="CertificateRequest has 1 trailing"):
        read_certificate_request(TB.certificate_request_body(cert_types=b"\x40") + b"\xff", False)
    with pytest.raises(messages.MalformedMessage, match="Certificate is truncated"):
        read_certificate(b"\x00\x00\x10\x00", False)


@pytest.mark.parametrize(
    ("body", "named"),
    [
        # context, then an extension block whose length runs past the message
        (b"\x00\x00\x10\x00\x0d\x00\x04\x00\x02\x04\x03", "CertificateRequest is truncated"),
        # an extension whose own length runs past the block
        (b"\x00\x00\x06\x00\x0d\x00\x08\x00\x02", "CertificateRequest extensions is truncated"),
        # a well-formed request followed by two bytes of nothing
        (
            TB.certificate_request_body(True, [0x0403], None) + b"\xab\xcd",
            "CertificateRequest has 2 trailing bytes",
        ),
        # signature_algorithms with a byte after its list
        (b"\x00\x00\x09\x00\x0d\x00\x05\x00\x02\x04\x03\x00", "signature_algorithms extension has 1"),
        # signature_algorithms of an odd length
        (b"\x00\x00\x07\x00\x0d\x00\x03\x00\x01\x04", "signature_algorithms extension has an odd length"),
        # certificate_authorities announcing more names than it holds
        (b"\x00\x00\x08\x00\x2f\x00\x04\x00\x10\x00\x01", "certificate_authorities extension is truncated"),
        # certificate_authorities with a byte after its list
        (b"\x00\x00\x07\x00\x2f\x00\x03\x00\x00\x00", "certificate_authorities extension has 1 trailing"),
    ],
)
def test_tls13_certificate_request_lengths_that_do_not_add_up_are_named(body: bytes, named: str) -> None:
    """TLS 1.3's reader is as strict as TLS 1.2's: both the hand path and the capture path."""
    with pytest.raises(messages.MalformedMessage, match=named):
        read_certificate_request(body, True)
    with pytest.raises(messages.MalformedMessage, match=named):
        messages.parse_certificate_request(TB.handshake(TB.CERTIFICATE_REQUEST, body), True)


def test_a_well_formed_tls13_certificate_request_still_reads() -> None:
    body = TB.certificate_request_body(True, sigalgs=[0x0403], ca_names=[])  # an empty CA list
    request = read_certificate_request(body, True)
    assert request.signature_algorithms == (0x0403,)
    assert request.ca_names == () and request.ca_names_present
