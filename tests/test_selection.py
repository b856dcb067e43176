"""Java-faithful client-certificate selection: what SunX509 / PKIX would send, and why."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID
from inspector.java.alias_order import hashmap_order, hashtable_order, string_hash
from inspector.java.key_managers import CaRequest, Reason, canonical_dn, java_aborts, select

from inspector.keystore import load_keystore
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
    assert all(c.accepted for c in sel.candidates)
    # PKIX: the JKS Hashtable's order; SunX509: its HashMap's (both checked against a real JDK)
    assert sel.pkix == hashtable_order(["acme", "partner"])[:1]
    assert sel.sunx509 == hashmap_order(hashtable_order(["acme", "partner"]))[:1]
    assert "Java's order is not defined" not in sel.pkix_why


def test_key_type_against_certificate_types(tmp_path, acme):  # type: ignore[no-untyped-def]
    ec_leaf = P.issue("ec-client", acme.intermediate, key=ec.generate_private_key(ec.SECP256R1()))
    ks = store(tmp_path, ("ec", ec_leaf.key, [ec_leaf.cert, acme.intermediate.cert]))
    assert select(ks, request(acme.root, types=(1,), schemes=RSA_SCHEMES), NOW).java_sends_nothing
    assert select(ks, request(acme.root, types=(64,), schemes=(0x0403, 0x0401)), NOW).pkix == ["ec"]
    # its chain is signed with SHA256withRSA: an ECDSA-only server makes PKIX skip it
    only_ecdsa = select(ks, request(acme.root, types=(64,), schemes=(0x0403,)), NOW)
    assert only_ecdsa.pkix == [] and only_ecdsa.sunx509 == ["ec"]
    assert Reason.CONSTRAINTS in only_ecdsa.candidates[0].codes


def test_tls13_rsa_needs_pss(tmp_path, acme):  # type: ignore[no-untyped-def]
    ks = store(tmp_path, ("rsa", acme.leaf.key, full(acme)))
    assert select(ks, request(acme.root, tls13=True, schemes=(0x0401,)), NOW).java_sends_nothing
    assert select(ks, request(acme.root, tls13=True, schemes=(0x0804, 0x0401)), NOW).pkix == ["rsa"]


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
    # SunX509 does not rank: the first of its HashMap order, expired or not
    assert sel.sunx509 == hashmap_order(hashtable_order(["old", "srv", "good"]))[:1]
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


def test_java_string_hash_and_collection_orders() -> None:
    """String.hashCode values known from Java; the orders were checked against a JDK client."""
    assert string_hash("hello") == 99162322
    assert string_hash("polygenelubricants") == -(2**31)
    assert string_hash("alpha") % 11 == string_hash("beta") % 11 == 2  # one Hashtable bucket
    assert hashtable_order(["alpha", "beta"]) == ["beta", "alpha"]  # head insertion
    assert hashtable_order(["beta", "alpha"]) == ["alpha", "beta"]
    assert hashmap_order([f"client{i}" for i in range(14)])[0] == "client6"  # measured: JDK 17


def test_expired_server_auth_ties_with_valid_server_auth(tmp_path, acme):  # type: ignore[no-untyped-def]
    """EKU is checked before the dates: both rank EXTENSION_MISMATCH, keystore order decides."""
    eku = [ExtendedKeyUsageOID.SERVER_AUTH]
    past = {"not_before": NOW - dt.timedelta(days=30), "not_after": NOW - dt.timedelta(days=1)}
    valid, old = (
        P.issue("svc", acme.intermediate, eku=eku),
        P.issue("svcold", acme.intermediate, eku=eku, **past),
    )
    tail = [acme.intermediate.cert, acme.root.cert]
    ks = store(tmp_path, ("svc", valid.key, [valid.cert, *tail]), ("svcold", old.key, [old.cert, *tail]))
    sel = select(ks, request(acme.root), NOW)
    assert {c.rank.name for c in sel.candidates if c.rank} == {"EXTENSION_MISMATCH"}
    assert sel.pkix == hashtable_order(["svc", "svcold"])[:1]


def test_sha512_root_outside_the_servers_list(tmp_path):  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives import hashes

    root = P.issue("Sha512 Root", ca=True, hash_algorithm=hashes.SHA512())
    leaf = P.issue("c", root)
    ks = store(tmp_path, ("c", leaf.key, [leaf.cert, root.cert]))
    sel = select(ks, request(root, schemes=(0x0804, 0x0401)), NOW)
    assert sel.pkix == [] and sel.sunx509 == ["c"]
    assert "Sha512 Root is signed with SHA512withRSA" in sel.candidates[0].reasons[-1]


def test_p384_key_against_p256_only_server_aborts_after_choosing(tmp_path):  # type: ignore[no-untyped-def]
    root = P.issue("Ec Root", ca=True, key=P.new_key("ec", 384))
    leaf = P.issue("c", root, key=P.new_key("ec", 384))
    ks = store(tmp_path, ("c", leaf.key, [leaf.cert, root.cert]))
    sel = select(ks, request(root, types=(64,), schemes=(0x0403,)), NOW)
    assert sel.sunx509 == ["c"] and sel.sunx509_aborts is not None
    assert "No supported CertificateVerify signature algorithm" in sel.sunx509_aborts


def test_rsassa_pss_key_is_its_own_type(tmp_path, acme):  # type: ignore[no-untyped-def]
    cert, pkcs8 = P.rsa_pss_leaf("pss", acme.intermediate, tmp_path)
    path = P.write_jks_raw(tmp_path / "pss.jks", "pw", [("pss", pkcs8, [cert, acme.intermediate.cert])])
    ks = load_keystore(path, "pw")
    rsae = select(ks, request(acme.root, schemes=(0x0804, 0x0401)), NOW)
    assert rsae.candidates[0].key_type == "RSASSA-PSS" and rsae.sunx509 == []
    pss = select(ks, request(acme.root, schemes=(0x0809,)), NOW)
    assert pss.sunx509 == ["pss"] and pss.pkix == []  # PKIX: its chain is SHA256withRSA


def test_x500_equality_as_java() -> None:
    from cryptography import x509
    from inspector.pki.x500 import parse_dn_text

    base = P.name("Acme Issuing CA")
    key = P.new_key("ec", 256)
    same = P.reencoded_name(base, "PrintableString", "upper")
    spaced = P.reencoded_name(base, "UTF8String", "spaces")
    bmp = P.reencoded_name(base, "BMPString")
    teletex = P.reencoded_name(base, "T61String")
    assert key is not None
    ref = canonical_dn(base.public_bytes())
    assert canonical_dn(same.public_bytes()) == ref == canonical_dn(spaced.public_bytes())
    assert canonical_dn(bmp.public_bytes()) != ref and canonical_dn(teletex.public_bytes()) != ref
    assert canonical_dn(parse_dn_text("cn=acme issuing ca, o=acme").public_bytes()) == ref
    assert parse_dn_text("cn=x, o=y, c=us") == x509.Name.from_rfc4514_string("CN=x,O=y,C=US")
    assert canonical_dn.cache_info().maxsize == 4096  # bounded memo


def test_java_aborts_on_the_request_itself() -> None:
    big = CaRequest(
        False, tuple(b"0" + bytes([130, 0x7F, 0xF0]) + b"x" * 100 for _ in range(320)), (1,), (0x0401,)
    )
    said = java_aborts(big)
    assert said is not None and "32768 (jdk.tls.maxHandshakeMessageSize)" in said
    assert "-Djdk.tls.maxHandshakeMessageSize=65536" in said
    empty = CaRequest(True, (), (), (0x0804,), ca_names_present=True)
    assert "insufficient data" in (java_aborts(empty) or "")
    assert java_aborts(CaRequest(True, (), (), (0x0804,), ca_names_present=False)) is None


def test_select_without_a_server_says_which_request_it_assumes(cli, tmp_path, acme):  # type: ignore[no-untyped-def]
    """OpenSSL 3 servers offer DSA schemes in TLS 1.2, and Java then sends a DSA entry."""
    from cryptography.hazmat.primitives.asymmetric import dsa

    leaf = P.issue("dsa-client", acme.intermediate, key=dsa.generate_private_key(2048))
    path = P.write_jks(
        tmp_path / "d.jks", "pw", keys=[("dsa", leaf.key, [leaf.cert, acme.intermediate.cert])]
    )
    names = tmp_path / "names.txt"
    names.write_text("cn=acme root ca, o=acme\n")  # lower-case keywords are valid input
    base = ("select", "--keystore", str(path), "--storepass", "pw", "--ca-names", str(names))
    assumed = cli(*base, "--java-version", "17")
    assert assumed.status == 0, assumed.err
    assert "signature_algorithms assumed: what OpenSSL-based servers send" in assumed.out
    assert "dsa_sha256" in assumed.out and "Simulating Java 17's client" in assumed.out
    assert "PKIX:    'dsa'" in assumed.out
    given = cli(*base, "--sigalgs", "rsa_pss_rsae_sha256,rsa_pkcs1_sha256", "--json")
    assert given.status == 1 and given.json()["selection"]["pkix"] is None
    assert given.json()["selection"]["request"]["assumed"] == "given (--sigalgs)"
    no_dss = cli(*base, "--cert-types", "rsa_sign,ecdsa_sign", "--json")
    assert no_dss.json()["selection"]["pkix"] is None
    bad = cli(*base, "--sigalgs", "nonsense")
    assert bad.status == 2 and "--sigalgs: 'nonsense' is not a signature scheme" in bad.err


def test_java_version_changes_the_pick(tmp_path, acme):  # type: ignore[no-untyped-def]
    """JDK 11 asks for one key type at a time (EC first here): PKIX takes the expired EC entry;
    JDK 17 asks for all at once and prefers the valid RSA one (both measured)."""
    from inspector.java.versions import profile

    past = {"not_before": NOW - dt.timedelta(days=30), "not_after": NOW - dt.timedelta(days=1)}
    old_ec = P.issue("ec", acme.intermediate, key=P.new_key("ec", 256), **past)
    tail = [acme.intermediate.cert, acme.root.cert]
    ks = store(tmp_path, ("ec", old_ec.key, [old_ec.cert, *tail]), ("rsa", acme.leaf.key, full(acme)))
    req = request(acme.root, schemes=(0x0403, 0x0804, 0x0401))
    assert select(ks, req, NOW, java=profile(11)).pkix == ["ec"]
    assert select(ks, req, NOW, java=profile(17)).pkix == ["rsa"]
    assert select(ks, req, NOW, java=profile(17)).java == "Java 17"


def test_pcap_and_select_say_which_jdk_they_simulate(cli, tmp_path):  # type: ignore[no-untyped-def]
    from inspector.java.versions import use

    acme = P.make_pki()  # same DNs as the CA the capture's server names
    path = P.write_jks(tmp_path / "c.jks", "pw", keys=[("letstestcba", acme.leaf.key, full(acme))])
    try:
        doc = cli(
            "pcap", str(CAPTURES / "tls12-no-client-cert.pcap"), "--keystore", str(path), "--storepass", "pw",
            "--java-version", "11", "--json",
        ).json()  # fmt: skip
        assert doc["connections"][0]["selection"]["java"] == "Java 11"
        text = cli("pcap", str(CAPTURES / "tls12-no-client-cert.pcap"), "--keystore", str(path),
                   "--storepass", "pw", "--java-version", "25").out  # fmt: skip
        assert "(simulating Java 25)" in text
        with pytest.raises(SystemExit) as usage:  # argparse: a usage error, exit 2
            cli(
                "select",
                "--keystore",
                str(path),
                "--storepass",
                "pw",
                "--empty-ca-list",
                "--java-version",
                "9",
            )
        assert usage.value.code == 2
    finally:
        use(None)
