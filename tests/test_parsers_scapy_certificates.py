"""Certificate messages in captures: scapy reads the message (the product keeps it the
decoder), the certificates are the bytes sent, and scapy's X.509 tree is built only when asked
(parsers.scapy_tls.DeferredCert) — it was most of the time of a capture full of certificates."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from scapy.layers.tls import handshake

from parsers import messages, scapy_tls
from tests import pki as P
from tests.helpers import tls_bytes as TB


@pytest.fixture(scope="module")
def chain() -> list[bytes]:
    pki = P.make_pki("deferred-leaf")
    return [c.cert.public_bytes(serialization.Encoding.DER) for c in (pki.leaf, pki.intermediate)]


@pytest.mark.parametrize("tls13", [False, True])
def test_scapy_reads_the_message_and_the_bytes_sent_are_kept(monkeypatch, chain, tls13):  # type: ignore[no-untyped-def]
    raw = TB.certificate(chain, tls13, context=b"\x07")
    seen: list[str] = []
    original = handshake._TLSHandshake.__init__

    def spy(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(type(self).__name__)
        original(self, *args, **kwargs)  # type: ignore[no-untyped-call]

    monkeypatch.setattr(handshake._TLSHandshake, "__init__", spy)
    fields = scapy_tls.certificate(raw, tls13)
    assert seen == ["TLS13Certificate" if tls13 else "TLSCertificate"]
    assert fields.ders == tuple(chain)
    assert fields.context == (b"\x07" if tls13 else b"")
    cert = messages.parse_certificate(raw, tls13)
    assert [c.public_bytes(serialization.Encoding.DER) for c in cert.chain] == chain


def test_scapy_x509_reading_is_deferred_not_gone(chain):  # type: ignore[no-untyped-def]
    msg = handshake.TLSCertificate(TB.certificate(chain))  # type: ignore[no-untyped-call]
    entry = msg.certs[0][1]
    assert isinstance(entry, scapy_tls.DeferredCert)
    assert entry._cert is None  # nothing built while the message was read
    assert entry.der == chain[0]
    assert "deferred-leaf" in str(entry.subject)  # scapy's own reading, on demand
    assert entry._cert is not None
    assert bytes(entry.materialise().x509Cert) == chain[0]  # type: ignore[attr-defined]
