"""Peer certificates' subjects read however they are encoded: `subject_of`
never raises and never returns a raw control character, whatever tag and bytes the CN value has
— the tags OpenSSL accepts and cryptography refuses, and random ones (a seeded fuzz of 600)."""

from __future__ import annotations

import random

import pytest

from inspector.pki import certs as C
from tests import pki as P
from tests.oddnames import ODD_CNS, odd_cn

CONTROL = {chr(c) for c in range(32)} | {"\x7f"}


@pytest.mark.parametrize(
    ("variant", "shown"),
    [
        ("t61", "CN=café ÿþ,O=Acme"),
        ("seq", "CN=#30050c03616263,O=Acme"),
        ("bitstr", "CN=#030300fffe,O=Acme"),
        ("ia5_8bit", "CN=a\ufffdb,O=Acme"),
        ("printable_bad", "CN=a\ufffdb,O=Acme"),
    ],
)
def test_each_odd_encoding_reads_as_openssl_shows_it(variant: str, shown: str) -> None:
    der, _ = odd_cn(variant)
    assert C.subject_of(der) == shown
    assert C.subject_of(der, short=True) == shown.split(",")[0]


def test_random_cn_values_never_raise() -> None:
    rnd = random.Random(25)
    base = P.issue("Q" * 8)
    tbs_der = P.der(base.cert)
    old = bytes([0x0C, 8]) + b"Q" * 8
    assert old in tbs_der
    for _ in range(600):
        tag = rnd.choice(
            [*range(0x00, 0x20), 0x30, 0x31, 0xA0, 0x80, 0xFF, *(t for t, _ in ODD_CNS.values())]
        )
        value = rnd.randbytes(8)
        mutated = tbs_der.replace(old, bytes([tag, 8]) + value)
        text = C.subject_of(mutated)
        assert isinstance(text, str) and text
        assert not CONTROL & set(text), (tag, value, text)
    assert C.subject_of(b"\x30\x03\x02\x01") == "(subject not readable)"
