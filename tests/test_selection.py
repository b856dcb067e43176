"""Java-faithful client-certificate selection: what SunX509 / PKIX would send, and why."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from inspector.keystore import load_keystore
from inspector.selection import CaRequest, canonical_dn, select
from tests import pki as P

CAPTURES = Path(__file__).resolve().parent.parent / "captures"
NOW = dt.datetime.now(dt.timezone.utc)
RSA_SCHEMES = (0x0804, 0x0401, 0x0403)


def request(
    *names: P.Issued,
    tls13: bool = False,
    types: tuple[int, ...] = (1, 64),
    schemes: tuple[int, ...] = RSA_SCHEMES,
) -> CaRequest:
    return CaRequest(
        tls13=tls13,
        ca_names=tuple(n.cert.subject.public_bytes() for n in names),
        certificate_types=() if tls13 else types,
        signature_algorithms=schemes,
    )


def store(tmp_path: Path, *entries, keypass: str | None = None):  # type: ignore[no-untyped-def]
    path = P.write_jks(tmp_path / "s.jks", "pw", keys=list(entries), keypass=keypass)
    return load_keystore(path, "pw")


def full(pki: P.Pki):  # type: ignore[no-untyped-def]
    return [pki.leaf.cert, pki.intermediate.cert, pki.root.cert]


def test_issuer_of_any_chain_cert_matches(tmp_path, acme, partner):  # type: ignore[no-untyped-def]
    ks = store(tmp_path, ("acme", acme.leaf.key, full(acme)), ("partner", partner.leaf.key, full(partner)))
    sel = select(ks, request(partner.root), NOW)
    assert sel.pkix == ["partner"] and sel.sunx509 == ["partner"]
    rejected = next(c for c in sel.candidates if c.alias == "acme")
    assert not rejected.accepted and "issuers:" in rejected.reasons[0]


def test_leaf_only_entry_fails_when_server_names_only_the_root(tmp_path, acme):  # type: ignore[no-untyped-def]
    ks = store(tmp_path, ("leafonly", acme.leaf.key, [acme.leaf.cert]))
    sel = select(ks, request(acme.root), NOW)
    assert sel.java_sends_nothing
    assert sel.openssl_sends == "leafonly"  # curl/s_client send it anyway
    assert select(ks, request(acme.intermediate), NOW).pkix == ["leafonly"]


def test_empty_ca_list_accepts_every_entry(tmp_path, acme, partner):  # type: ignore[no-untyped-def]
    ks = store(tmp_path, ("acme", acme.leaf.key, full(acme)), ("partner", partner.leaf.key, full(partner)))
    sel = select(ks, request(), NOW)
    assert sorted(sel.pkix) == ["acme", "partner"]


def test_key_type_against_certificate_types(tmp_path, acme):  # type: ignore[no-untyped-def]
    ec_leaf = P.issue("ec-client", acme.intermediate, key=ec.generate_private_key(ec.SECP256R1()))
    ks = store(tmp_path, ("ec", ec_leaf.key, [ec_leaf.cert, acme.intermediate.cert]))
    assert select(ks, request(acme.root, types=(1,), schemes=RSA_SCHEMES), NOW).java_sends_nothing
    assert select(ks, request(acme.root, types=(64,), schemes=(0x0403,)), NOW).pkix == ["ec"]


def test_tls13_rsa_needs_pss(tmp_path, acme):  # type: ignore[no-untyped-def]
    ks = store(tmp_path, ("rsa", acme.leaf.key, full(acme)))
    assert select(ks, request(acme.root, tls13=True, schemes=(0x0401,)), NOW).java_sends_nothing
    assert select(ks, request(acme.root, tls13=True, schemes=(0x0804,)), NOW).pkix == ["rsa"]


def test_pkix_prefers_valid_client_auth_entries(tmp_path, acme):  # type: ignore[no-untyped-def]
    old = P.issue(
        "old", acme.intermediate, not_before=NOW - dt.timedelta(days=30), not_after=NOW - dt.timedelta(days=1)
    )
    server = P.issue("srv", acme.intermediate, eku=[ExtendedKeyUsageOID.SERVER_AUTH])
    tail = [acme.intermediate.cert, acme.root.cert]
    ks = store(
        tmp_path,
        ("old", old.key, [old.cert, *tail]),
        ("srv", server.key, [server.cert, *tail]),
        ("good", acme.leaf.key, full(acme)),
    )
    sel = select(ks, request(acme.root), NOW)
    assert sorted(sel.sunx509) == ["good", "old", "srv"]  # SunX509 does not rank
    assert sel.pkix == ["good"]


def test_key_password_differs(tmp_path, acme):  # type: ignore[no-untyped-def]
    ks = store(tmp_path, ("a", acme.leaf.key, full(acme)), keypass="other")
    sel = select(ks, request(acme.root), NOW)
    assert sel.sunx509_fails is not None and "Cannot recover key" in sel.sunx509_fails
    assert sel.java_sends_nothing


def test_dn_comparison_is_canonical() -> None:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    a = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Acme Root CA")])
    b = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "acme  root ca")])
    assert a.public_bytes() != b.public_bytes()
    assert canonical_dn(a.public_bytes()) == canonical_dn(b.public_bytes())


def test_pcap_with_keystore_names_the_java_choice(cli, tmp_path):  # type: ignore[no-untyped-def]
    stranger = P.make_pki("stranger", org="Stranger")
    acme = P.make_pki()  # same DNs as the CA the capture's server names
    path = P.write_jks(
        tmp_path / "client.jks",
        "pw",
        keys=[("stranger", stranger.leaf.key, full(stranger)), ("letstestcba", acme.leaf.key, full(acme))],
    )
    result = cli(
        "pcap",
        str(CAPTURES / "tls12-no-client-cert.pcap"),
        "--keystore",
        str(path),
        "--storepass",
        "pw",
        "--json",
    )
    selection = result.json()["connections"][0]["selection"]
    assert selection["pkix"] == "letstestcba" and selection["sunx509"] == "letstestcba"
    only_stranger = P.write_jks(
        tmp_path / "s.jks", "pw", keys=[("stranger", stranger.leaf.key, full(stranger))]
    )
    result = cli(
        "pcap",
        str(CAPTURES / "tls12-no-client-cert.pcap"),
        "--keystore",
        str(only_stranger),
        "--storepass",
        "pw",
        "--json",
    )
    assert "issuer-not-in-ca-list" in result.error_codes()
    finding = next(f for f in result.json()["findings"] if f["code"] == "issuer-not-in-ca-list")
    assert "'stranger'" in finding["summary"] and "CN=Acme Root CA" in finding["summary"]
    text = cli(
        "pcap",
        str(CAPTURES / "tls12-no-client-cert.pcap"),
        "--keystore",
        str(only_stranger),
        "--storepass",
        "pw",
    ).out
    assert "PKIX:    nothing (empty Certificate)" in text
    assert "OpenSSL/curl: 'stranger'" in text
