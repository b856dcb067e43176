"""Each keystore finding, proven on a keystore built at test time with pyjks / cryptography."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cryptography.x509.oid import ExtendedKeyUsageOID

from tests import pki as P
from tests.conftest import CliResult

PW = "ServiceNow123"


def inspect(cli, path: Path, *extra: str) -> CliResult:  # type: ignore[no-untyped-def]
    return cli("keystore", str(path), "--storepass", PW, "--json", *extra)


def test_correct_jks_has_no_error_and_exit_0(cli, tmp_path, acme):  # type: ignore[no-untyped-def]
    store = P.write_jks(
        tmp_path / "good.jks",
        PW,
        keys=[("letstestcba", acme.leaf.key, [acme.leaf.cert, acme.intermediate.cert, acme.root.cert])],
        trusted=[("root", acme.root.cert)],
    )
    result = inspect(cli, store)
    assert result.status == 0
    assert result.codes() == []
    doc = result.json()
    assert doc["schema"] == "mtls-inspector/keystore" and doc["schema_version"] == 1
    assert doc["keystore"]["type"] == "JKS"
    entry = next(e for e in doc["keystore"]["entries"] if e["alias"] == "letstestcba")
    assert [c["position"] for c in entry["chain"]] == [0, 1, 2]
    assert entry["chain"][0]["issued_by_next"] == {
        "ok": True,
        "issuer_name_matches": True,
        "key_id_matches": True,
        "signature_valid": True,
    }
    assert entry["key_algorithm"] == "RSA" and entry["key_size"] == 2048


def test_chain_incomplete_leaf_only(cli, tmp_path, acme):  # type: ignore[no-untyped-def]
    store = P.write_jks(
        tmp_path / "c.jks",
        PW,
        keys=[("letstestcba", acme.leaf.key, [acme.leaf.cert])],
        trusted=[("intermediate", acme.intermediate.cert)],
    )
    result = inspect(cli, store)
    assert result.status == 1
    assert result.error_codes() == ["chain-incomplete"]
    finding = result.json()["findings"][0]
    assert finding["location"] == {"file": str(store), "alias": "letstestcba", "position": 0}
    assert "keytool -importcert -alias letstestcba" in finding["fix"]
    assert any("'intermediate'" in e["source"] for e in finding["evidence"])


def test_chain_ending_at_intermediate_is_only_info(cli, tmp_path, acme):  # type: ignore[no-untyped-def]
    store = P.write_jks(
        tmp_path / "c.jks", PW, keys=[("a", acme.leaf.key, [acme.leaf.cert, acme.intermediate.cert])]
    )
    result = inspect(cli, store)
    assert result.status == 0
    assert [(f["code"], f["severity"]) for f in result.json()["findings"]] == [("chain-incomplete", "info")]


def test_chain_reversed_is_out_of_order(cli, tmp_path, acme):  # type: ignore[no-untyped-def]
    chain = [acme.root.cert, acme.intermediate.cert, acme.leaf.cert]
    store = P.write_jks(tmp_path / "r.jks", PW, keys=[("a", acme.leaf.key, chain)])
    result = inspect(cli, store)
    assert result.error_codes() == ["chain-out-of-order", "key-cert-mismatch"]
    order = next(f for f in result.json()["findings"] if f["code"] == "chain-out-of-order")
    assert "root first" in order["summary"]
    assert "CN=letstestcba → CN=Acme Issuing CA → CN=Acme Root CA" in order["summary"]
    mismatch = next(f for f in result.json()["findings"] if f["code"] == "key-cert-mismatch")
    assert "chain[2]" in mismatch["summary"]


def test_unrelated_cert_in_chain(cli, tmp_path, acme, partner):  # type: ignore[no-untyped-def]
    chain = [acme.leaf.cert, partner.intermediate.cert]
    store = P.write_jks(tmp_path / "u.jks", PW, keys=[("a", acme.leaf.key, chain)])
    result = inspect(cli, store)
    assert "chain-out-of-order" in result.error_codes()
    order = next(f for f in result.json()["findings"] if f["code"] == "chain-out-of-order")
    assert "not one path" in order["summary"]
    assert "issuer DN differs" in order["evidence"][0]["fact"]


def test_key_cert_mismatch(cli, tmp_path, acme, partner):  # type: ignore[no-untyped-def]
    store = P.write_jks(
        tmp_path / "m.jks",
        PW,
        keys=[("a", partner.leaf.key, [acme.leaf.cert, acme.intermediate.cert, acme.root.cert])],
    )
    assert inspect(cli, store).error_codes() == ["key-cert-mismatch"]


def test_signed_cert_under_other_alias(cli, tmp_path, acme):  # type: ignore[no-untyped-def]
    selfsigned = P.issue("letstestcba", key=acme.leaf.key)
    store = P.write_jks(
        tmp_path / "s.jks",
        PW,
        keys=[("letstestcba", acme.leaf.key, [selfsigned.cert])],
        trusted=[("signed", acme.leaf.cert), ("root", acme.root.cert)],
    )
    result = inspect(cli, store)
    assert result.error_codes() == ["signed-cert-under-other-alias"]
    fix = result.json()["findings"][0]["fix"]
    assert "keytool -importcert -alias letstestcba -file signed.pem" in fix
    assert "keytool -delete -alias signed" in fix


def test_self_signed_client_cert(cli, tmp_path):  # type: ignore[no-untyped-def]
    me = P.issue("letstestcba")
    store = P.write_jks(tmp_path / "letstestcba.jks", PW, keys=[("letstestcba", me.key, [me.cert])])
    result = inspect(cli, store)
    assert result.status == 0
    assert result.codes() == ["self-signed-client-cert"]
    assert "-exportcert -alias letstestcba" in result.json()["findings"][0]["fix"]
    assert "-rfc" in result.json()["findings"][0]["fix"]


def test_expired_and_not_yet_valid(cli, tmp_path, acme):  # type: ignore[no-untyped-def]
    old = P.issue(
        "old",
        acme.intermediate,
        not_before=P.NOW - dt.timedelta(days=400),
        not_after=P.NOW - dt.timedelta(days=2),
    )
    future = P.issue("future", acme.intermediate, not_before=P.NOW + dt.timedelta(days=30))
    chain_tail = [acme.intermediate.cert, acme.root.cert]
    store = P.write_jks(
        tmp_path / "d.jks",
        PW,
        keys=[("old", old.key, [old.cert, *chain_tail]), ("future", future.key, [future.cert, *chain_tail])],
    )
    result = inspect(cli, store)
    assert result.error_codes() == ["cert-expired", "cert-not-yet-valid"]
    # --at moves the judgement: a date inside both validity periods clears both.
    later = (P.NOW + dt.timedelta(days=60)).date().isoformat()
    assert inspect(cli, store, "--alias", "future", "--at", later).error_codes() == []
    assert inspect(cli, store, "--alias", "old", "--at", later).error_codes() == ["cert-expired"]


def test_missing_client_auth_usage(cli, tmp_path, acme):  # type: ignore[no-untyped-def]
    server_only = P.issue("svc", acme.intermediate, eku=[ExtendedKeyUsageOID.SERVER_AUTH])
    no_sig = P.issue("nosig", acme.intermediate, digital_signature=False)
    tail = [acme.intermediate.cert, acme.root.cert]
    store = P.write_jks(tmp_path / "e.jks", PW, keys=[("svc", server_only.key, [server_only.cert, *tail])])
    result = inspect(cli, store)
    assert result.error_codes() == ["missing-client-auth-usage"]
    assert "serverAuth (no clientAuth)" in result.json()["findings"][0]["summary"]
    store2 = P.write_jks(tmp_path / "k.jks", PW, keys=[("nosig", no_sig.key, [no_sig.cert, *tail])])
    summary = inspect(cli, store2).json()["findings"][0]["summary"]
    assert "no digitalSignature" in summary


def test_weak_key_and_weak_signature(cli, tmp_path, acme):  # type: ignore[no-untyped-def]
    small = P.resign(
        P.issue("small", acme.intermediate, key=P.new_key(size=1024)), acme.intermediate, "sha1", tmp_path
    )
    store = P.write_jks(
        tmp_path / "w.jks",
        PW,
        keys=[("small", small.key, [small.cert, acme.intermediate.cert, acme.root.cert])],
    )
    result = inspect(cli, store)
    # openssl -days 30: the certificate also falls in the default 30-day expiry window
    assert result.codes() == ["cert-expires-soon", "weak-key", "weak-signature"]
    # OpenSSL 3 at security level 2 refuses the handshake (measured: "EE certificate key too weak")
    assert result.status == 1 and result.error_codes() == ["weak-key"]
    weak = next(f for f in result.json()["findings"] if f["code"] == "weak-key")
    assert "RSA 1024-bit" in weak["summary"] and "EE certificate key too weak" in weak["summary"]


def test_multiple_key_entries(cli, tmp_path, acme, partner):  # type: ignore[no-untyped-def]
    store = P.write_jks(
        tmp_path / "two.jks",
        PW,
        keys=[
            ("acme", acme.leaf.key, [acme.leaf.cert, acme.intermediate.cert, acme.root.cert]),
            ("partner", partner.leaf.key, [partner.leaf.cert, partner.intermediate.cert, partner.root.cert]),
        ],
    )
    result = inspect(cli, store)
    assert result.codes() == ["multiple-key-entries"]
    assert "'acme', 'partner'" in result.json()["findings"][0]["summary"]


def test_key_password_differs(cli, tmp_path, acme):  # type: ignore[no-untyped-def]
    chain = [acme.leaf.cert, acme.intermediate.cert, acme.root.cert]
    store = P.write_jks(
        tmp_path / "kp.jks", PW, keys=[("letstestcba", acme.leaf.key, chain)], keypass="other-secret"
    )
    result = inspect(cli, store)
    assert result.error_codes() == ["key-password-differs"]
    assert "keytool -keypasswd -alias letstestcba" in result.json()["findings"][0]["fix"]
    entry = result.json()["keystore"]["entries"][0]
    assert entry["key_decrypted"] is False
    # with the key password the key opens: the mismatch check runs and passes
    opened = inspect(cli, store, "--keypass", "other-secret")
    assert opened.json()["keystore"]["entries"][0]["key_decrypted"] is True


def test_no_private_key_entry(cli, tmp_path, acme):  # type: ignore[no-untyped-def]
    store = P.write_jks(tmp_path / "trust.jks", PW, trusted=[("root", acme.root.cert)])
    result = inspect(cli, store)
    assert result.status == 1
    assert result.error_codes() == ["no-private-key-entry"]


def test_type_mismatch_p12_named_jks(cli, tmp_path, acme):  # type: ignore[no-untyped-def]
    path = P.write_pkcs12(
        tmp_path / "letstestcba.jks",
        PW,
        "letstestcba",
        acme.leaf.key,
        [acme.leaf.cert, acme.intermediate.cert, acme.root.cert],
    )
    result = inspect(cli, path)
    assert result.codes() == ["keystore-type-mismatch"]
    finding = result.json()["findings"][0]
    assert "-deststoretype JKS" in finding["fix"]
    assert result.json()["keystore"]["type"] == "PKCS12"


def test_alias_focus_filters_entries(cli, tmp_path, acme, partner):  # type: ignore[no-untyped-def]
    store = P.write_jks(
        tmp_path / "f.jks",
        PW,
        keys=[
            ("good", acme.leaf.key, [acme.leaf.cert, acme.intermediate.cert, acme.root.cert]),
            ("broken", partner.leaf.key, [partner.leaf.cert]),
        ],
    )
    assert "chain-incomplete" in inspect(cli, store).codes()
    focused = inspect(cli, store, "--alias", "good")
    assert focused.error_codes() == []
    assert [e["alias"] for e in focused.json()["keystore"]["entries"]] == ["good"]
    missing = inspect(cli, store, "--alias", "nope")
    assert missing.status == 2 and "no entry with alias 'nope'" in missing.err
