"""The selection table and document, from a Selection made by hand (exact text)."""

from __future__ import annotations

from cryptography import x509
from inspector.java.key_managers import Candidate, CaRequest, Rank, Selection

from inspector.render.selection import select_text, selection_dict, selection_text

ROOT_NAME = x509.Name.from_rfc4514_string("CN=Partner Root,O=Partner").public_bytes()


def two_candidates(pkix: list[str], sunx509_fails: str | None = None) -> Selection:
    request = CaRequest(tls13=False, ca_names=(ROOT_NAME,), source="names.txt")
    return Selection(
        request,
        [
            Candidate("acme", "RSA", False, ["no certificate in the chain is issued by a named CA"]),
            Candidate("partner", "EC", True, ["issuer CN=Partner Root,O=Partner is named"], rank=Rank.EXACT),
        ],
        sunx509=[] if sunx509_fails else pkix,
        pkix=pkix,
        sunx509_fails=sunx509_fails,
        openssl_sends="acme",
    )


def test_selection_table_text() -> None:
    assert select_text(two_candidates(["partner"])) == "\n".join(
        [
            "CertificateRequest from names.txt (TLS 1.2): 1 CA name(s)",
            "  - CN=Partner Root,O=Partner",
            "",
            "What a Java client would send for this CertificateRequest:",
            "alias    key    acceptable    why",
            "-------  -----  ------------  ---------------------------------------------------",
            "acme     RSA    no            no certificate in the chain is issued by a named CA",
            "partner  EC     yes           issuer CN=Partner Root,O=Partner is named",
            "  SunX509: 'partner'",
            "  PKIX:    'partner'",
            "  OpenSSL/curl: 'acme' (the configured certificate, whatever the CA names say)",
        ]
    )


def test_nothing_and_several_and_a_failing_sunx509() -> None:
    lines = selection_text(two_candidates([], "key entry 'x' has its own password")).splitlines()
    assert lines[-3:-1] == [
        "  SunX509: fails — key entry 'x' has its own password",
        "  PKIX:    nothing (empty Certificate)",
    ]
    several = selection_text(two_candidates(["acme", "partner"])).splitlines()
    assert several[-2] == "  PKIX:    one of 'acme', 'partner' (Java's order is not defined)"


def test_selection_document() -> None:
    doc = selection_dict(two_candidates(["acme", "partner"]))
    assert doc["request"] == {
        "source": "names.txt",
        "tls13": False,
        "ca_names": ["CN=Partner Root,O=Partner"],
        "signature_algorithms": [],
        "certificate_types": [],
        "assumed": None,
    }
    assert (doc["pkix"], doc["pkix_possible"], doc["sunx509"], doc["openssl"]) == (
        None,
        ["acme", "partner"],
        None,
        "acme",
    )
    assert [(c["alias"], c["accepted"], c["rank"]) for c in doc["candidates"]] == [
        ("acme", False, None),
        ("partner", True, "EXACT"),
    ]
