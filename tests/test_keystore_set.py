"""Many keystores in one run: a directory, a glob, several files; the expiry
window; --fail-on; the JUnit file read back as XML; the Prometheus textfile read back by the
Prometheus project's own parser (prometheus_client)."""

from __future__ import annotations

import datetime as dt
import os
import stat
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests import pki as P

PW = "changeit"


@pytest.fixture
def fleet(tmp_path: Path, acme: P.Pki) -> Path:
    """good.p12 (a year left), soon.p12 (10 days left), other.jks (another password),
    broken.p12 (not a keystore's bytes), root.pem (a CA file, not a keystore)."""
    d = tmp_path / "stores"
    d.mkdir()
    chain = [acme.leaf.cert, acme.intermediate.cert, acme.root.cert]
    P.write_pkcs12(d / "good.p12", PW, "client", acme.leaf.key, chain)
    soon = P.issue("soon", acme.intermediate, not_after=P.NOW + dt.timedelta(days=10, hours=12))
    P.write_pkcs12(d / "soon.p12", PW, "soon", soon.key, [soon.cert, acme.intermediate.cert, acme.root.cert])
    P.write_jks(
        d / "other.jks",
        "otherpass",
        keys=[("other", acme.leaf.key, chain)],
        trusted=[("root", acme.root.cert)],
    )
    (d / "broken.p12").write_bytes(b"\x30\x82\x01\x00\x02\x01\x03" + b"\x00" * 40)
    (d / "root.pem").write_bytes(acme.root.pem)
    (tmp_path / "passwords").write_text("# per-store passwords\nother.jks otherpass\n")
    return d


def _codes(store: dict) -> list[str]:  # type: ignore[type-arg]
    return sorted(f["code"] for f in store["findings"])


def test_directory_one_table_per_store_and_a_summary(cli, fleet, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("STOREPASS", PW)
    result = cli(
        "keystore",
        str(fleet),
        "--storepass-env",
        "STOREPASS",
        "--storepass-map",
        str(fleet.parent / "passwords"),
        "--json",
    )
    doc = result.json()["keystores"]
    by_name = {Path(s["path"]).name: s for s in doc["stores"]}
    assert sorted(by_name) == ["broken.p12", "good.p12", "other.jks", "soon.p12"]
    assert [Path(s["path"]).name for s in doc["skipped"]] == ["root.pem"]
    assert _codes(by_name["good.p12"]) == []
    assert _codes(by_name["soon.p12"]) == ["cert-expires-soon"]
    assert _codes(by_name["other.jks"]) == []
    assert _codes(by_name["broken.p12"]) == ["keystore-unreadable"]
    assert by_name["soon.p12"]["key_entries"][0]["alias"] == "soon"
    assert 10 < by_name["soon.p12"]["key_entries"][0]["days_to_expiry"] < 11
    assert result.status == 1  # the unreadable store is an error
    text = cli(
        "keystore",
        str(fleet),
        "--storepass-env",
        "STOREPASS",
        "--storepass-map",
        str(fleet.parent / "passwords"),
    )
    assert text.out.count("\nKeystore ") + text.out.startswith("Keystore ") == 4
    assert "Summary: 4 keystore(s)" in text.out
    assert "skipped " + str(fleet / "root.pem") + ": PEM" in text.out
    summary = text.out.split("Summary:")[1]
    soon_row = next(line for line in summary.splitlines() if "soon.p12" in line)
    assert soon_row.split()[1:] == ["PKCS12", "1", "10", "(soon)", "0", "1", "0"]


def test_fail_on_and_window(cli, fleet, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("STOREPASS", PW)
    (fleet / "broken.p12").unlink()
    base = [
        "keystore",
        str(fleet / "good.p12"),
        str(fleet / "soon.p12"),
        "--storepass-env",
        "STOREPASS",
        "--json",
    ]
    assert cli(*base).status == 0  # a warning does not fail by default
    assert cli(*base, "--fail-on", "warning").status == 1
    narrow = cli(*base, "--expires-within", "5", "--fail-on", "warning")
    assert narrow.status == 0 and narrow.codes() == []
    wide = cli(*base, "--expires-within", "400")
    # a year left: good.p12 leaf, intermediate, root; soon.p12 leaf and the same two CAs
    assert wide.codes() == ["cert-expires-soon"] * 6
    bad = cli(*base, "--expires-within", "-1")
    assert bad.status == 2 and "--expires-within -1" in bad.err


def test_one_store_gets_the_window_and_fail_on_too(cli, fleet):  # type: ignore[no-untyped-def]
    one = cli("keystore", str(fleet / "soon.p12"), "--storepass", PW, "--json")
    assert one.codes() == ["cert-expires-soon"] and one.status == 0
    assert "expires in 10 day(s)" in one.json()["findings"][0]["summary"]
    assert cli("keystore", str(fleet / "soon.p12"), "--storepass", PW, "--fail-on", "warning").status == 1


def test_quoted_glob(cli, fleet):  # type: ignore[no-untyped-def]
    result = cli("keystore", str(fleet / "*.p12"), "--storepass", PW, "--json")
    names = sorted(Path(s["path"]).name for s in result.json()["keystores"]["stores"])
    assert names == ["broken.p12", "good.p12", "soon.p12"]
    none = cli("keystore", str(fleet / "*.nothing"), "--storepass", PW)
    assert none.status == 2 and "no file matches this pattern" in none.err


def test_junit_file(cli, fleet, tmp_path):  # type: ignore[no-untyped-def]
    out = tmp_path / "keystores.xml"
    cli(
        "keystore",
        str(fleet),
        "--storepass",
        PW,
        "--storepass-map",
        str(fleet.parent / "passwords"),
        "--junit",
        str(out),
        "--fail-on",
        "warning",
    )
    root = ET.parse(out).getroot()
    assert root.tag == "testsuites"
    suites = {Path(s.get("name", "")).name: s for s in root.iter("testsuite")}
    assert sorted(suites) == ["broken.p12", "good.p12", "other.jks", "soon.p12"]
    cases = {c.get("name"): c for c in suites["soon.p12"].iter("testcase")}
    assert sorted(cases) == ["alias soon", "keystore"]  # one per store, one per key entry
    failure = cases["alias soon"].find("failure")
    assert failure is not None and failure.get("type") == "cert-expires-soon"
    assert cases["keystore"].find("failure") is None
    broken = next(suites["broken.p12"].iter("testcase"))
    assert broken.find("failure").get("type") == "keystore-unreadable"  # type: ignore[union-attr]
    assert root.get("tests") == "7" and root.get("failures") == "2"  # 3 stores x 2, broken.p12 x 1
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o644
    # at the default level the expiry warning is output, not a failure
    cli(
        "keystore",
        str(fleet),
        "--storepass",
        PW,
        "--storepass-map",
        str(fleet.parent / "passwords"),
        "--junit",
        str(out),
    )
    soon = {
        c.get("name"): c
        for s in ET.parse(out).getroot().iter("testsuite")
        if s.get("name", "").endswith("soon.p12")
        for c in s.iter("testcase")
    }
    assert soon["alias soon"].find("failure") is None
    assert "cert-expires-soon" in (soon["alias soon"].findtext("system-out") or "")


def test_prometheus_textfile(cli, fleet, tmp_path):  # type: ignore[no-untyped-def]
    from prometheus_client.parser import text_string_to_metric_families

    out = tmp_path / "mtls.prom"
    cli(
        "keystore",
        str(fleet),
        "--storepass",
        PW,
        "--storepass-map",
        str(fleet.parent / "passwords"),
        "--prometheus",
        str(out),
    )
    families = {f.name: f for f in text_string_to_metric_families(out.read_text())}
    expiry = {
        (Path(s.labels["store"]).name, s.labels["alias"]): s.value
        for s in families["mtls_keystore_cert_expiry_days"].samples
    }
    assert sorted(expiry) == [("good.p12", "client"), ("other.jks", "other"), ("soon.p12", "soon")]
    assert 10 < expiry[("soon.p12", "soon")] < 11
    findings = {
        (Path(s.labels["store"]).name, s.labels["severity"]): s.value
        for s in families["mtls_keystore_findings"].samples
    }
    assert findings[("soon.p12", "warning")] == 1 and findings[("broken.p12", "error")] == 1
    readable = {Path(s.labels["store"]).name: s.value for s in families["mtls_keystore_readable"].samples}
    assert readable == {"good.p12": 1, "soon.p12": 1, "other.jks": 1, "broken.p12": 0}
    assert families["mtls_keystore_expiry_window_days"].samples[0].value == 30


def test_label_values_are_escaped(cli, tmp_path, acme):  # type: ignore[no-untyped-def]
    from prometheus_client.parser import text_string_to_metric_families

    odd = tmp_path / 'we"ird\\name.p12'
    P.write_pkcs12(odd, PW, "client", acme.leaf.key, [acme.leaf.cert, acme.intermediate.cert, acme.root.cert])
    out = tmp_path / "m.prom"
    cli("keystore", str(odd), str(odd), "--storepass", PW, "--prometheus", str(out))
    families = {f.name: f for f in text_string_to_metric_families(out.read_text())}
    assert families["mtls_keystore_readable"].samples[0].labels["store"] == str(odd)


@pytest.mark.parametrize("hash_name", ["sha1", "sha224", "sha256", "sha384", "sha512"])
def test_openssl_pkcs12_kdf_equals_ours(hash_name):  # type: ignore[no-untyped-def]
    """The fast path (libcrypto's PKCS12_key_gen_uni) gives the RFC 7292 KDF's bytes exactly."""
    from inspector.keystore.pkcs12_crypto import _openssl_kdf, bmp_password, pkcs12_kdf, python_kdf

    for password in (b"", bmp_password(""), bmp_password("changeit"), bmp_password("pässwörd€")):
        for purpose in (1, 2, 3):
            for iterations, size, salt in (
                (1, 8, b"s" * 8),
                (2048, 24, b"\x01" * 20),
                (10000, 64, b"x" * 16),
            ):
                expected = python_kdf(hash_name, password, salt, purpose, iterations, size)
                assert pkcs12_kdf(hash_name, password, salt, purpose, iterations, size) == expected
                assert _openssl_kdf(hash_name, password, salt, purpose, iterations, size) in (expected, None)
    assert _openssl_kdf(hash_name, b"ab\x00\x00", b"salt", 3, 100, 20) is not None  # used, not skipped


def test_passwords_are_never_written(cli, fleet, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """Neither the store password nor a mapped one appears in the report, the JUnit file or the
    textfile, whatever the stores say (a wrong password is named as such, never quoted)."""
    monkeypatch.setenv("STOREPASS", PW)
    junit, prom = tmp_path / "j.xml", tmp_path / "m.prom"
    args = [
        "keystore",
        str(fleet),
        "--storepass-env",
        "STOREPASS",
        "--storepass-map",
        str(fleet.parent / "passwords"),
    ]
    text = cli(*args, "--junit", str(junit), "--prometheus", str(prom))
    as_json = cli(*args, "--json")
    written = text.out + text.err + as_json.out + as_json.err + junit.read_text() + prom.read_text()
    assert PW not in written and "otherpass" not in written
