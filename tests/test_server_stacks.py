"""The server-stack model without servers: the verdict matrix the real servers gave
(tests/live/test_server_stacks_oracle.py re-measures it), exact words, and the CLI's output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes

from inspector.server_stacks import STACKS, Problem, Stack, predict
from tests import server_chains as SC
from tests.pki import write_jks

ROOT = Path(__file__).resolve().parent.parent

#: measured on Debian 12 (OpenSSL 3.0, nginx 1.22, Apache 2.4, HAProxy 2.6, Go 1.19, Node 20,
#: JDK 17): A accepts, r refuses; columns in STACKS order (openssl nginx apache haproxy go node
#: java envoy; envoy modelled)
MATRIX = {
    "no-certificate": "rrrrrrrr",
    "good": "AArAAAAA",
    "leaf-only": "rrrrrrrr",
    "with-root": "AArAAAAA",
    "wrong-order": "AArAAAAA",
    "extra-unrelated": "AArAAAAA",
    "two-intermediates": "ArrAAAAA",
    "intermediate-anchor": "rrrrArAA",
    "leaf-server-eku": "rrrrrrrr",
    "intermediate-server-eku": "rrrrrrAr",
    "intermediate-client-eku": "AArAAAAA",
    "leaf-no-eku": "AArAAAAA",
    "expired-intermediate": "rrrrrrrr",
    "leaf-not-yet-valid": "rrrrrrrr",
    "leaf-expired": "rrrrrrrr",
    "sha1-intermediate": "rrrrrrAA",
    "rsa1024-leaf": "rrrrAAAA",
    "pathlen-violated": "rrrrrrrr",
    "name-constraints-violated": "rrrrrrrr",
    "name-constraints-ok": "AArAAAAA",
    "unknown-critical-extension": "rrrrrrrr",
    "self-signed-trusted": "AAAAAAAA",
    "self-signed-untrusted": "rrrrrrrr",
    "cross-signed": "AArAAAAA",
    "issuer-not-ca": "rrrrrrrr",
    "ec-leaf": "AArAAAAA",
    "leaf-no-digital-signature": "rrrrArrr",
    "leaf-any-eku": "rrrrArAr",
    "cross-intermediate-trusted": "AArAAAAA",
    "cross-intermediate-untrusted": "rrrrrrrr",
    "bad-signature": "rrrrrrrr",
    "leaf-and-root": "rrrrrrrr",
    "pinned-leaf": "rrrrArAA",
    "duplicate-intermediate": "AArAAAAA",
    "expired-root": "rrrrrrAr",
    "rsa1024-intermediate": "rrrrAAAA",
    "root-server-eku": "rrrrrrAr",
}


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> SC.Catalogue:
    return SC.build(tmp_path_factory.mktemp("chains"))


def test_matrix(catalogue: SC.Catalogue) -> None:
    assert [c.name for c in catalogue.cases] == list(MATRIX)
    got = {
        c.name: "".join("A" if v.accepted else "r" for v in predict(c.sent, catalogue.trust))
        for c in catalogue.cases
    }
    assert got == MATRIX


def test_matrix_with_a_large_trust_store(catalogue: SC.Catalogue) -> None:
    """The same verdicts when the trust holds many unrelated CAs (predict reads only the ones
    the chain's names lead to)."""
    filler = [
        SC.make(f"Filler Root {i}", ca=True, eku=None, org=f"Filler {i}", key_kind="ec", key_size=256)
        for i in range(24)
    ]
    trust = tuple(f.cert for f in filler[:12]) + catalogue.trust + tuple(f.cert for f in filler[12:])
    got = {
        c.name: "".join("A" if v.accepted else "r" for v in predict(c.sent, trust)) for c in catalogue.cases
    }
    assert got == MATRIX


def says(catalogue: SC.Catalogue, case: str, stack: Stack) -> str:
    (v,) = predict(catalogue.case(case).sent, catalogue.trust, stacks=[stack])
    return v.stack_says


def test_words(catalogue: SC.Catalogue) -> None:
    assert (
        says(catalogue, "leaf-only", Stack.OPENSSL)
        == "verify error:num=20:unable to get local issuer certificate"
    )
    # nginx's callback goes on: the last error is reported
    assert says(catalogue, "leaf-only", Stack.NGINX) == (
        "client SSL certificate verify error: (21:unable to verify the first certificate)"
    )
    assert says(catalogue, "issuer-not-ca", Stack.NGINX) == (
        "client SSL certificate verify error: (32:key usage does not include certificate signing)"
    )
    assert says(catalogue, "issuer-not-ca", Stack.OPENSSL) == "verify error:num=79:invalid CA certificate"
    assert says(catalogue, "good", Stack.APACHE) == (
        "AH02040: Certificate Verification: Certificate Chain too long (chain has 2 certificates, "
        "but maximum allowed are only 1)"
    )
    assert says(catalogue, "intermediate-anchor", Stack.HAPROXY).startswith(
        "SSL client CA chain cannot be verified"
    )
    assert says(catalogue, "leaf-only", Stack.HAPROXY).startswith("SSL client certificate not trusted")
    assert says(catalogue, "sha1-intermediate", Stack.GO) == (
        "tls: failed to verify client certificate: x509: certificate signed by unknown authority (possibly "
        'because of "x509: cannot verify signature: insecure algorithm SHA1-RSA (temporarily override with '
        'GODEBUG=x509sha1=1)" while trying to verify candidate authority certificate "Acme Root CA")'
    )
    assert says(catalogue, "leaf-server-eku", Stack.JAVA) == (
        "Extended key usage does not permit use for TLS client authentication"
    )
    assert says(catalogue, "pathlen-violated", Stack.JAVA).endswith(
        "pathLenConstraint violated - this cert must be the last cert in the certification path"
    )
    assert says(catalogue, "name-constraints-violated", Stack.NODE).startswith(
        "authorizationError UNSPECIFIED"
    )


def test_problems_and_settings(catalogue: SC.Catalogue) -> None:
    (nginx,) = predict(catalogue.case("two-intermediates").sent, catalogue.trust, stacks=[Stack.NGINX])
    assert nginx.problem is Problem.TOO_DEEP and nginx.setting == "ssl_verify_depth 2;"
    (apache,) = predict(catalogue.case("good").sent, catalogue.trust, stacks=[Stack.APACHE])
    assert apache.problem is Problem.TOO_DEEP and apache.setting == "SSLVerifyDepth 2"
    (go,) = predict(catalogue.case("sha1-intermediate").sent, catalogue.trust, stacks=[Stack.GO])
    assert go.problem is Problem.WEAK_SIGNATURE and go.setting.startswith("GODEBUG=x509sha1=1")
    (openssl,) = predict(catalogue.case("intermediate-anchor").sent, catalogue.trust, stacks=[Stack.OPENSSL])
    assert openssl.problem is Problem.ANCHOR_NOT_SELF_SIGNED and "-partial_chain" in openssl.setting
    (java,) = predict(catalogue.case("leaf-server-eku").sent, catalogue.trust, stacks=[Stack.JAVA])
    assert java.problem is Problem.LEAF_PURPOSE and "EKU=clientAuth" in java.client_fix
    envoy = predict(catalogue.case("good").sent, catalogue.trust)[-1]
    assert envoy.stack is Stack.ENVOY and envoy.tested is False
    assert [v.tested for v in predict(catalogue.case("good").sent, catalogue.trust)] == [True] * 7 + [False]


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "inspector", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        cwd=ROOT,
    )


def test_keystore_and_select_json(catalogue: SC.Catalogue, tmp_path: Path) -> None:
    good, deep = catalogue.case("good"), catalogue.case("two-intermediates")
    store = tmp_path / "client.jks"
    assert good.key is not None and deep.key is not None
    write_jks(
        store, "changeit", keys=[("good", good.key, list(good.sent)), ("deep", deep.key, list(deep.sent))]
    )
    (tmp_path / "server-ca.pem").write_bytes(SC.pem(catalogue.trust))
    done = run(
        "keystore",
        str(store),
        "--storepass-env",
        "SP",
        "--server-ca",
        str(tmp_path / "server-ca.pem"),
        "--json",
        SP="changeit",
    )
    doc = json.loads(done.stdout)
    verdicts = doc["server_verdicts"]
    assert {tuple(sorted(v)) for v in verdicts} >= {tuple(sorted(verdicts[0]))}
    assert set(verdicts[0]) >= {"stack", "verdict", "reason", "stack_says", "tested"}
    by = {(v["alias"], v["stack"]): v for v in verdicts}
    assert len(by) == 2 * len(STACKS)
    assert by[("good", "apache")]["verdict"] == "reject" and by[("good", "nginx")]["verdict"] == "accept"
    assert by[("deep", "nginx")]["stack_says"] == (
        "client SSL certificate verify error: (20:unable to get local issuer certificate)"
    )
    assert by[("good", "envoy")]["tested"] is False
    codes = {f["code"] for f in doc["findings"]}
    assert "server-stacks-disagree" in codes and "server-stack-rejects-chain" not in codes
    assert done.returncode == 0, done.stderr
    # one stack named: its refusal is an error, exit status 1
    done = run(
        "keystore",
        str(store),
        "--storepass-env",
        "SP",
        "--alias",
        "good",
        "--server-ca",
        str(tmp_path / "server-ca.pem"),
        "--server-stack",
        "apache",
        SP="changeit",
    )
    assert done.returncode == 1
    assert "error[server-stack-rejects-chain]: apache would refuse 'good'" in done.stdout
    assert "SSLVerifyDepth 2" in done.stdout
    # select judges the chain Java sends
    names = tmp_path / "names.txt"
    names.write_text("CN=Acme Root CA,O=Acme\n")
    done = run(
        "select",
        "--keystore",
        str(store),
        "--storepass-env",
        "SP",
        "--ca-names",
        str(names),
        "--server-ca",
        str(tmp_path / "server-ca.pem"),
        "--server-stack",
        "go",
        "--json",
        SP="changeit",
    )
    doc = json.loads(done.stdout)
    (go,) = doc["server_verdicts"]
    assert go["stack"] == "go" and go["verdict"] == "accept" and go["tested"] is True
    assert done.returncode == 0


def test_pcap_judges_each_client_chain() -> None:
    """A real capture (captures/tls12-leaf-only.pcap: the client sent its leaf alone): nginx's
    words for it are the last error, 21, not the first."""
    done = run(
        "pcap",
        "captures/tls12-leaf-only.pcap",
        "--keylog",
        "captures/tls12-leaf-only.keys",
        "--server-ca",
        "captures/acme-root.pem",
        "--server-stack",
        "nginx",
        "--json",
    )
    doc = json.loads(done.stdout)
    findings = [f for f in doc["findings"] if f["code"] == "server-stack-rejects-chain"]
    assert len(findings) == 1, done.stdout[-2000:]
    text = json.dumps(findings[0])
    assert "client SSL certificate verify error: (21:unable to verify the first certificate)" in text
    assert done.returncode == 1


def test_any_chain_any_trust_gives_a_verdict(catalogue: SC.Catalogue) -> None:
    """Whatever the client sends and whatever the server trusts, every stack answers (no
    exception, one verdict each): chains cut, reversed and mixed, trust sets of 0..2 anchors."""
    import itertools

    certs = [c for case in catalogue.cases for c in case.sent]
    pool = list({c.fingerprint(c.signature_hash_algorithm or hashes.SHA256()): c for c in certs}.values())
    for i, j in itertools.product(range(0, len(pool), 3), range(0, len(pool), 5)):
        chain = [pool[i], *pool[j : j + 3], *reversed(pool[i : i + 2])]
        for trust in ((), catalogue.trust[:1], (pool[j], *catalogue.trust[1:3])):
            verdicts = predict(chain, trust)
            assert [v.stack for v in verdicts] == list(STACKS)
            if not trust:
                assert not any(v.accepted for v in verdicts)


def test_html_report_shows_the_table(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    done = run(
        "keystore",
        "captures/letstestcba.jks",
        "--storepass-env",
        "SP",
        "--server-ca",
        "captures/acme-root.pem",
        "--html",
        str(out),
        SP="changeit",
    )
    assert done.returncode == 1, done.stderr
    page = out.read_text(encoding="utf-8")
    assert "The partner&#39;s server, per stack" in page or "The partner's server, per stack" in page
    assert "client SSL certificate verify error: (18:self-signed certificate)" in page
    assert "(modelled, not tested)" in page


def test_select_trusted_but_not_named(catalogue: SC.Catalogue, tmp_path: Path) -> None:
    """The request names another CA (Java sends nothing) but the server trusts the entry's root:
    every stack refuses Java's empty Certificate, and the warning says the configured entry would
    pass (nginx ssl_trusted_certificate / Apache SSLCADNRequestFile)."""
    good = catalogue.case("good")
    assert good.key is not None
    store = write_jks(tmp_path / "client.jks", "changeit", keys=[("client", good.key, list(good.sent))])
    (tmp_path / "server-ca.pem").write_bytes(SC.pem(catalogue.trust))
    names = tmp_path / "names.txt"
    names.write_text("CN=Some Other CA,O=Other\n")
    done = run(
        "select",
        "--keystore",
        str(store),
        "--storepass-env",
        "SP",
        "--ca-names",
        str(names),
        "--server-ca",
        str(tmp_path / "server-ca.pem"),
        "--server-stack",
        "nginx",
        "--json",
        SP="changeit",
    )
    doc = json.loads(done.stdout)
    (nginx,) = doc["server_verdicts"]
    assert nginx["verdict"] == "reject" and nginx["stack_says"] == "client sent no required SSL certificate"
    codes = [f["code"] for f in doc["findings"]]
    assert codes == ["server-stack-rejects-chain", "server-trusts-unnamed-ca"]
    assert done.returncode == 1


@pytest.mark.parametrize(
    "args",
    [
        ["keystore", "captures/letstestcba.jks", "--storepass-env", "SP", "--server-stack", "go"],
        ["pcap", "captures/tls12-leaf-only.pcap", "--server-stack", "nginx"],
        [
            "keystore",
            "captures/letstestcba.jks",
            "--storepass-env",
            "SP",
            "--server-ca",
            "captures/missing.pem",
        ],
    ],
)
def test_usage_errors(args: list[str]) -> None:
    done = run(*args, SP="changeit")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "--server-" in done.stderr
