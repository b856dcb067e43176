"""Certificates compressed as RFC 8879 says (browsers and BoringSSL servers do it): read as the
Certificate inside, marked with the algorithm, bounded whatever the message declares, and a
missing decompression package said as such, never as a damaged capture.

No TLS stack on this machine compresses certificates (OpenSSL 3.0, Go, Java and Node's OpenSSL
do not), so the messages are built here from real certificates with the real zlib, brotli and
zstandard compressors. A capture of Chrome and Cloudflare (a brotli-compressed chain) read with
its embedded key log verifies the server's CertificateVerify over the transcript that holds the
compressed message: the reading was checked by hand that way, outside the tests."""

from __future__ import annotations

import sys
import zlib

import brotli
import pytest
import zstandard

from inspector.pki.throwaway import der, make_pki
from parsers import messages
from parsers.model import Certificate, message_label
from tests.helpers.tls_bytes import certificate, handshake, vec

COMPRESSED_CERTIFICATE = 25
PKI = make_pki("compressed.example")
CHAIN = [der(PKI.leaf.cert), der(PKI.intermediate.cert)]


def compressed(algorithm: int, body: bytes, packed: bytes, size: int | None = None) -> bytes:
    """A CompressedCertificate message: algorithm, declared size, the compressed bytes."""
    declared = len(body) if size is None else size
    return handshake(
        COMPRESSED_CERTIFICATE, algorithm.to_bytes(2, "big") + declared.to_bytes(3, "big") + vec(packed, 3)
    )


PLAIN = certificate(CHAIN, tls13=True)
BODY = PLAIN[4:]  # the Certificate message's body is what is compressed


@pytest.mark.parametrize(
    ("algorithm", "name", "pack"),
    [(1, "zlib", zlib.compress), (2, "brotli", brotli.compress), (3, "zstd", zstandard.compress)],
)
def test_the_chain_inside_is_the_chain_sent(algorithm: int, name: str, pack: object) -> None:
    raw = compressed(algorithm, BODY, pack(BODY))  # type: ignore[operator]
    message = messages.decode(COMPRESSED_CERTIFICATE, raw, tls13=True)
    plain = messages.decode(11, PLAIN, tls13=True)
    assert isinstance(message, Certificate) and isinstance(plain, Certificate)
    assert message.chain == plain.chain and len(message.chain) == 2
    assert message.compressed == name
    assert message_label(message) == f"Certificate (2, {name}-compressed)"


def test_a_bomb_costs_no_more_than_the_size_it_declares() -> None:
    huge = zlib.compress(b"\0" * (16 << 20))  # 16 MB of zeros in about 16 KB
    raw = compressed(1, BODY, huge, size=len(BODY))
    with pytest.raises(messages.MalformedMessage) as caught:
        messages.decode(COMPRESSED_CERTIFICATE, raw, tls13=True)
    assert str(caught.value) == f"zlib data gives {len(BODY) + 1} bytes, the message says {len(BODY)}"
    assert caught.value.kind == "malformed"


@pytest.mark.parametrize(
    ("raw", "said"),
    [
        (compressed(1, BODY, b"not zlib at all"), "zlib data does not decompress (error)"),
        (compressed(9, BODY, b"x"), "compressed with an unknown algorithm (9)"),
        (compressed(1, BODY, zlib.compress(BODY), size=0), "CompressedCertificate lengths do not add up"),
        (handshake(COMPRESSED_CERTIFICATE, b"\x00\x01\x00"), "CompressedCertificate too short"),
    ],
)
def test_damage_is_said_as_damage(raw: bytes, said: str) -> None:
    with pytest.raises(messages.MalformedMessage) as caught:
        messages.decode(COMPRESSED_CERTIFICATE, raw, tls13=True)
    assert (str(caught.value), caught.value.kind) == (said, "malformed")


def test_a_missing_package_is_said_with_the_one_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "brotli", None)  # as on an installation without it
    raw = compressed(2, BODY, brotli.compress(BODY))
    with pytest.raises(messages.UnreadMessage) as caught:
        messages.decode(COMPRESSED_CERTIFICATE, raw, tls13=True)
    assert str(caught.value) == "compressed with brotli: install the Python package brotli to read it"
    assert caught.value.kind == "unread"
