"""`mtls-inspect select` from CA names given as PEM, as DNs, as an empty list, or from a pcap."""

from __future__ import annotations

from pathlib import Path

from tests import pki as P

CAPTURES = Path(__file__).resolve().parent.parent / "captures"
PW = "changeit"


def two_entries(tmp_path: Path, acme: P.Pki, partner: P.Pki) -> Path:
    return P.write_jks(
        tmp_path / "two.jks",
        PW,
        keys=[
            ("acme", acme.leaf.key, [acme.leaf.cert, acme.intermediate.cert, acme.root.cert]),
            ("partner", partner.leaf.key, [partner.leaf.cert, partner.intermediate.cert, partner.root.cert]),
        ],
    )


def test_ca_names_from_pem_and_from_dn_text(cli, tmp_path, acme, partner):  # type: ignore[no-untyped-def]
    store = two_entries(tmp_path, acme, partner)
    pem = tmp_path / "names.pem"
    pem.write_bytes(partner.root.pem)
    doc = cli("select", "--keystore", str(store), "--storepass", PW, "--ca-names", str(pem), "--json").json()
    assert doc["selection"]["pkix"] == "partner" and doc["selection"]["sunx509"] == "partner"
    dns = tmp_path / "names.txt"
    dns.write_text("# the server's CA list\nCN=Acme  Root CA, O=Acme\n")  # spacing and case vary
    doc = cli("select", "--keystore", str(store), "--storepass", PW, "--ca-names", str(dns), "--json").json()
    assert doc["selection"]["pkix"] == "acme"
    assert doc["selection"]["openssl"] == "acme"


def test_empty_ca_list_names_every_candidate(cli, tmp_path, acme, partner):  # type: ignore[no-untyped-def]
    store = two_entries(tmp_path, acme, partner)
    result = cli("select", "--keystore", str(store), "--storepass", PW, "--empty-ca-list")
    assert result.status == 0
    assert (
        "SunX509: 'partner' — first fitting RSA entry in SunX509's alias order (partner, acme" in result.out
    )
    assert "PKIX:    'acme' — first fully valid entry in keystore order (acme, partner)" in result.out
    assert "not defined" not in result.out
    assert "signature_algorithms assumed: what OpenSSL-based servers send" in result.out
    assert "dsa_sha256" in result.out and "Simulating Java " in result.out


def test_from_pcap_and_nothing_matches(cli, tmp_path, partner):  # type: ignore[no-untyped-def]
    store = P.write_jks(
        tmp_path / "p.jks",
        PW,
        keys=[("partner", partner.leaf.key, [partner.leaf.cert, partner.intermediate.cert])],
    )
    result = cli(
        "select",
        "--keystore",
        str(store),
        "--storepass",
        PW,
        "--from-pcap",
        str(CAPTURES / "several.pcap"),
        "--json",
    )
    assert result.status == 1  # Java would send an empty Certificate
    sel = result.json()["selection"]
    assert sel["pkix"] is None and sel["request"]["ca_names"] == ["CN=Acme Root CA,O=Acme"]
    assert sel["candidates"][0]["accepted"] is False


def test_tls13_pcap_needs_keylog(cli, tmp_path, acme):  # type: ignore[no-untyped-def]
    store = P.write_jks(tmp_path / "a.jks", PW, keys=[("a", acme.leaf.key, [acme.leaf.cert])])
    pcap = str(CAPTURES / "tls13-success.pcap")
    missing = cli("select", "--keystore", str(store), "--storepass", PW, "--from-pcap", pcap)
    assert missing.status == 2 and "needs --keylog" in missing.err
    found = cli(
        "select",
        "--keystore",
        str(store),
        "--storepass",
        PW,
        "--from-pcap",
        pcap,
        "--keylog",
        str(CAPTURES / "tls13-success.keys"),
        "--json",
    )
    assert found.json()["selection"]["request"]["tls13"] is True


def test_bad_dn_file(cli, tmp_path, acme):  # type: ignore[no-untyped-def]
    store = P.write_jks(tmp_path / "a.jks", PW, keys=[("a", acme.leaf.key, [acme.leaf.cert])])
    names = tmp_path / "names.txt"
    names.write_text("this is not a DN\n")
    result = cli("select", "--keystore", str(store), "--storepass", PW, "--ca-names", str(names))
    assert result.status == 2 and "line 1: not a DN" in result.err
