"""Keystores a real JDK judges differently from keytool's listing.

Every store is made at test time (openssl, keytool, a small Java program for PKCS#12 per-entry
key passwords); a real Java (JDK on PATH) is the truth: KeyStore.load, SunX509 and PKIX
KeyManagerFactory.init, chooseClientAlias + getPrivateKey, Signature.sign with each key, and a
Java client's handshake against `openssl s_server -verify 1`.
"""

from __future__ import annotations

import datetime as dt
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, x25519

from tests import pki as P
from tests.conftest import needs_keytool

JAVA, OPENSSL = shutil.which("java"), shutil.which("openssl")
pytestmark = [
    needs_keytool,
    pytest.mark.keytool,
    pytest.mark.skipif(JAVA is None or OPENSSL is None, reason="java and openssl are the oracle"),
]
PW = "changeit"

# Writes a PKCS#12 whose entries each have their own key password (Java keeps per-entry
# protection), and reports what Java's key managers make of a store.
ORACLE = r"""
import java.io.*; import java.nio.file.*; import java.security.*; import java.security.cert.*;
import java.security.spec.*; import java.util.*; import javax.net.ssl.*;
public class Oracle {
  public static void main(String[] a) throws Exception {
    if (a[0].equals("make")) { make(a); return; }
    char[] pw = a[2].toCharArray();
    KeyStore ks;
    try { ks = KeyStore.getInstance(new File(a[1]), pw); }
    catch (Exception e) { System.out.println("LOAD_FAILED=" + e.getMessage()); return; }
    for (String alias : Collections.list(ks.aliases())) {
      if (!ks.isKeyEntry(alias)) continue;
      String r;
      try {
        PrivateKey k = (PrivateKey) ks.getKey(alias, pw);
        String alg = k.getAlgorithm().equals("EC") ? "SHA256withECDSA"
          : k.getAlgorithm().equals("RSA") ? "SHA256withRSA"
          : k.getAlgorithm().equals("EdDSA") ? ((java.security.interfaces.EdECKey) k).getParams().getName()
          : k.getAlgorithm();
        Signature s = Signature.getInstance(alg); s.initSign(k); s.update(new byte[] {1}); s.sign();
        r = "ok";
      } catch (Exception e) { r = "fail " + e; }
      System.out.println("SIGN " + alias + "=" + r);
    }
    try { KeyManagerFactory f = KeyManagerFactory.getInstance("SunX509"); f.init(ks, pw);
          System.out.println("SUNX509=started"); }
    catch (Exception e) { System.out.println("SUNX509_FAILED=" + e.getMessage()); }
    KeyManagerFactory f = KeyManagerFactory.getInstance("PKIX"); f.init(ks, pw);
    X509KeyManager km = (X509KeyManager) f.getKeyManagers()[0];
    String chosen = km.chooseClientAlias(new String[] {"RSA"}, null, null);
    System.out.println("PKIX_ALIAS=" + (chosen == null ? "" : chosen.replaceFirst("^\\d+\\.\\d+\\.", "")));
    System.out.println("PKIX_KEY=" + (chosen != null && km.getPrivateKey(chosen) != null));
  }
  // make OUT STOREPASS alias:keypass:key.der:chain.der ...  (RSA keys, one DER certificate each)
  static void make(String[] a) throws Exception {
    KeyStore ks = KeyStore.getInstance("PKCS12"); ks.load(null, null);
    CertificateFactory cf = CertificateFactory.getInstance("X.509");
    for (int i = 3; i < a.length; i++) {
      String[] p = a[i].split(":", -1);
      PrivateKey key = KeyFactory.getInstance("RSA").generatePrivate(
          new PKCS8EncodedKeySpec(Files.readAllBytes(Paths.get(p[2]))));
      java.security.cert.Certificate c = cf.generateCertificate(new FileInputStream(p[3]));
      ks.setKeyEntry(p[0], key, p[1].toCharArray(), new java.security.cert.Certificate[] {c});
    }
    try (OutputStream out = new FileOutputStream(a[1])) { ks.store(out, a[2].toCharArray()); }
  }
}
"""


@pytest.fixture(scope="module")
def oracle(tmp_path_factory: pytest.TempPathFactory) -> object:
    work = tmp_path_factory.mktemp("oracle")
    (work / "Oracle.java").write_text(ORACLE)
    subprocess.run(["javac", "-d", str(work), str(work / "Oracle.java")], check=True, capture_output=True)

    def run(*args: str) -> dict[str, str]:
        done = subprocess.run(
            [JAVA or "java", "-cp", str(work), "Oracle", *args], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        return dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)

    return run


def _rsa_entry(work: Path, alias: str, keypass: str) -> str:
    issued = P.issue(alias, P.make_pki().intermediate)
    (work / f"{alias}.key.der").write_bytes(
        issued.key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    (work / f"{alias}.der").write_bytes(P.der(issued.cert))
    return f"{alias}:{keypass}:{work / f'{alias}.key.der'}:{work / f'{alias}.der'}"


def _select(cli, store: Path, *extra: str) -> dict[str, object]:  # type: ignore[no-untyped-def]
    out = cli(
        "select", "--keystore", str(store), "--storepass", PW, "--empty-ca-list", "--tls-version", "1.2",
        "--sigalgs", "rsa_pkcs1_sha256,rsa_pss_rsae_sha256,ecdsa_secp256r1_sha256", "--json", *extra,
    )  # fmt: skip
    selection: dict[str, object] = out.json()["selection"]
    return selection


# -- point 3: PKCS#12 keys under another password -----------------------------------------------


def test_pkcs12_keys_under_the_empty_password_are_an_error_and_java_sends_nothing(
    cli, tmp_path, oracle
) -> None:  # type: ignore[no-untyped-def]
    store = tmp_path / "chains.p12"
    oracle("make", str(store), PW, _rsa_entry(tmp_path, "server", ""), _rsa_entry(tmp_path, "ca", ""))
    java = oracle("check", str(store), PW)
    assert "Get Key failed" in java["SUNX509_FAILED"] and java["PKIX_KEY"] == "false"
    # keytool lists it happily: nothing in -list shows the problem
    listed = P.keytool("-list", "-keystore", str(store), "-storepass", PW, cwd=tmp_path).stdout
    assert "server, " in listed and "ca, " in listed
    result = cli("keystore", str(store), "--storepass", PW, "--json")
    found = [f for f in result.json()["findings"] if f["code"] == "key-password-differs"]
    assert sorted(f["location"]["alias"] for f in found) == ["ca", "server"]
    assert {f["severity"] for f in found} == {"error"} and result.status == 1
    facts = [e["fact"] for e in found[0]["evidence"]]
    assert "the key opens with the empty password" in facts
    assert any("Get Key failed: Given final block not properly padded" in f for f in facts)
    sel = _select(cli, store)
    assert "Get Key failed" in str(sel["sunx509_fails"])
    assert sel["pkix_possible"] == [] and "sends an empty Certificate" in str(sel["pkix_why"])


def test_pkix_chooses_an_entry_whose_key_does_not_open_and_sends_nothing(cli, tmp_path, oracle) -> None:  # type: ignore[no-untyped-def]
    """Measured: PKIX does not skip such an entry; it chooses it, then finds no key."""
    store = tmp_path / "mixed.p12"
    oracle("make", str(store), PW, _rsa_entry(tmp_path, "bbb", ""), _rsa_entry(tmp_path, "aaa", PW))
    java = oracle("check", str(store), PW)
    sel = _select(cli, store)
    chosen_key_opens = java["PKIX_KEY"] == "true"
    if chosen_key_opens:
        assert sel["pkix_possible"] == [java["PKIX_ALIAS"]]
    else:
        assert sel["pkix_possible"] == [], (java, sel)
        assert f"PKIX chose '{java['PKIX_ALIAS']}'" in str(sel["pkix_why"])
    assert "SUNX509_FAILED" in java and sel["sunx509_fails"]


def test_probe_presents_what_java_presents_for_keys_under_another_password(
    cli, tmp_path, oracle, s_server
) -> None:  # type: ignore[no-untyped-def]
    store = tmp_path / "locked.p12"
    oracle("make", str(store), PW, _rsa_entry(tmp_path, "client", ""))
    assert oracle("check", str(store), PW)["PKIX_KEY"] == "false"
    port = s_server("1.3")
    for manager in ("PKIX", "SunX509"):
        probed = cli(
            "probe", f"127.0.0.1:{port}", "--insecure", "--keystore", str(store), "--storepass", PW,
            "--tls-version", "1.3", "--key-manager", manager, "--json",
        )  # fmt: skip
        doc = probed.json()
        assert doc["probe"]["attempts"][0]["alias"] is None  # an empty Certificate, as Java sends
        codes = [f["code"] for f in doc["findings"]]
        assert "client-cert-not-sent" in codes and "key-password-differs" in codes


# -- point 5: keys a Java client cannot sign with ------------------------------------------------


def _p12(work: Path, alias: str, key: object, issuer: P.Issued) -> Path:
    cert = (
        x509.CertificateBuilder()
        .subject_name(P.name(alias, org="Field"))
        .issuer_name(issuer.cert.subject)
        .public_key(key.public_key())  # type: ignore[attr-defined]
        .serial_number(x509.random_serial_number())
        .not_valid_before(P.NOW - dt.timedelta(days=1))
        .not_valid_after(P.NOW + dt.timedelta(days=300))
        .sign(issuer.key, hashes.SHA256())
    )
    (work / f"{alias}.key.pem").write_bytes(
        key.private_bytes(  # type: ignore[attr-defined]
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    (work / f"{alias}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM) + issuer_pem(issuer))
    subprocess.run(
        [OPENSSL or "openssl", "pkcs12", "-export", "-inkey", f"{alias}.key.pem", "-in", f"{alias}.pem",
         "-name", alias, "-passout", f"pass:{PW}", "-out", f"{alias}.p12"],
        cwd=work, check=True, capture_output=True,
    )  # fmt: skip
    return work / f"{alias}.p12"


def issuer_pem(issuer: P.Issued) -> bytes:
    return issuer.cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def unsignable(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One PKCS#12 with a P-384 entry, a brainpoolP256r1 entry and an X25519 entry (merged by
    keytool -importkeystore, as the santuario and wss4j stores hold them)."""
    work = tmp_path_factory.mktemp("unsignable")
    ca = P.issue("Field CA", ca=True, org="Field")
    parts = {
        "secp384r1": ec.generate_private_key(ec.SECP384R1()),
        "brainpoolp256r1": ec.generate_private_key(ec.BrainpoolP256R1()),
        "x25519": x25519.X25519PrivateKey.generate(),
    }
    merged = work / "mixed.p12"
    for alias, key in parts.items():
        P.keytool(
            "-importkeystore", "-srckeystore", str(_p12(work, alias, key, ca)), "-srcstoretype", "PKCS12",
            "-srcstorepass", PW, "-destkeystore", str(merged), "-deststoretype", "PKCS12",
            "-deststorepass", PW, "-noprompt", cwd=work,
        )  # fmt: skip
    _p12(work, "brainpool-only", ec.generate_private_key(ec.BrainpoolP256R1()), ca)
    return work


def test_keystore_says_per_entry_which_keys_java_cannot_sign_with(cli, unsignable, oracle) -> None:  # type: ignore[no-untyped-def]
    store = unsignable / "mixed.p12"
    java = oracle("check", str(store), PW)
    cannot = {k.removeprefix("SIGN "): v for k, v in java.items() if k.startswith("SIGN ")}
    assert cannot["secp384r1"] == "ok"
    assert "Curve not supported" in cannot["brainpoolp256r1"]
    assert "XDH Signature not available" in cannot["x25519"]
    result = cli("keystore", str(store), "--storepass", PW, "--json")
    doc = result.json()
    found = {f["location"]["alias"]: f for f in doc["findings"] if f["code"] == "key-unusable-by-java"}
    assert set(found) == {a for a, verdict in cannot.items() if verdict != "ok"}
    assert found["brainpoolp256r1"]["severity"] == "error"  # chosen, then the handshake ends
    assert found["x25519"]["severity"] == "warning"  # never chosen; another entry can be sent
    entries = {e["alias"]: e for e in doc["keystore"]["entries"]}
    assert {a: e["java_can_sign"] for a, e in entries.items()} == {a: v == "ok" for a, v in cannot.items()}
    (multiple,) = [f for f in doc["findings"] if f["code"] == "multiple-key-entries"]
    assert multiple["summary"].startswith("1 key entries a Java client can send ('secp384r1')")
    assert [e["source"] for e in multiple["evidence"]] == ["keystore entry 'secp384r1'"]
    text = cli("keystore", str(store), "--storepass", PW).out
    assert "EC (brainpoolP256r1) 256 — Java cannot sign with it" in text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def s_server(tmp_path: Path) -> Iterator[object]:
    """openssl s_server asking for a client certificate (any), RSA server key."""
    subprocess.run(
        [OPENSSL or "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "srv.key",
         "-out", "srv.pem", "-subj", "/CN=localhost", "-days", "2"],
        cwd=tmp_path, check=True, capture_output=True,
    )  # fmt: skip
    procs: list[subprocess.Popen[str]] = []

    def start(version: str) -> int:
        port = _free_port()
        proc = subprocess.Popen(
            [OPENSSL or "openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert", "srv.pem", "-key",
             "srv.key", "-verify", "1", f"-tls{version.replace('.', '_')}", "-www", "-quiet"],
            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        procs.append(proc)
        for _ in range(50):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    return port
            time.sleep(0.1)
        raise AssertionError("s_server did not start")

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.parametrize("version", ["1.2", "1.3"])
def test_select_predicts_the_abort_after_java_chooses_a_brainpool_key(
    cli, unsignable, s_server, tmp_path, version
) -> None:  # type: ignore[no-untyped-def]
    store = unsignable / "brainpool-only.p12"
    source = Path(__file__).resolve().parent / "java" / "ChooseAlias.java"
    subprocess.run(["javac", "-d", str(tmp_path), str(source)], check=True, capture_output=True)
    port = s_server(version)
    done = subprocess.run(
        [JAVA or "java", "-cp", str(tmp_path), "ChooseAlias", str(store), PW, "127.0.0.1", str(port),
         "PKIX", f"TLSv{version}"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    lines = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    assert lines["ALIAS"].endswith("brainpool-only")
    assert "No supported CertificateVerify signature algorithm for EC" in lines["ERROR"]
    ours = cli(
        "select", "--keystore", str(store), "--storepass", PW, "--from-server", f"127.0.0.1:{port}",
        "--tls-version", version, "--json",
    )  # fmt: skip
    sel = ours.json()["selection"]
    assert sel["pkix_possible"] == ["brainpool-only"]
    assert "brainpoolP256r1" in sel["pkix_aborts"] and "No supported CertificateVerify" in sel["pkix_aborts"]
    assert ours.status == 1


# -- point 6: a store Java cannot load at all ---------------------------------------------------


@pytest.mark.parametrize("shape", ["pkcs12", "pkcs12-plain-certs", "jks"])
def test_x942_dh_certificate_makes_java_refuse_the_store(cli, tmp_path, oracle, shape) -> None:  # type: ignore[no-untyped-def]
    """Encrypted PKCS#12 certificates: Java blames the password; elsewhere it names the parse error."""

    def openssl(*args: str) -> None:
        subprocess.run([OPENSSL or "openssl", *args], cwd=tmp_path, check=True, capture_output=True)

    openssl("genpkey", "-genparam", "-algorithm", "DHX", "-pkeyopt", "dh_rfc5114:2", "-out", "dhx.param")
    openssl("genpkey", "-paramfile", "dhx.param", "-out", "dhx.key")
    openssl("pkey", "-in", "dhx.key", "-pubout", "-out", "dhx.pub")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
            "-subj", "/CN=Field DSA CA", "-days", "30")  # fmt: skip
    openssl("x509", "-new", "-subj", "/CN=DH-2048", "-force_pubkey", "dhx.pub", "-CA", "ca.pem",
            "-CAkey", "ca.key", "-days", "30", "-out", "dh.pem")  # fmt: skip
    if shape == "jks":
        import jks

        der = x509.load_pem_x509_certificate((tmp_path / "dh.pem").read_bytes()).public_bytes(
            serialization.Encoding.DER
        )
        store = tmp_path / "dh.jks"
        jks.KeyStore.new("jks", [jks.TrustedCertEntry.new("dh", der)]).save(str(store), PW)
    else:
        plain = ["-certpbe", "NONE"] if shape == "pkcs12-plain-certs" else []
        openssl("pkcs12", "-export", "-inkey", "ca.key", "-in", "ca.pem", "-certfile", "dh.pem", "-name",
                "ca", "-passout", f"pass:{PW}", "-out", "dh.p12", *plain)  # fmt: skip
        store = tmp_path / "dh.p12"
    java = oracle("check", str(store), PW)
    assert "LOAD_FAILED" in java
    listed = P.keytool("-list", "-keystore", str(store), "-storepass", PW, cwd=tmp_path, check=False)
    said = (listed.stdout + listed.stderr).splitlines()[0]
    result = cli("keystore", str(store), "--storepass", PW, "--json")
    (finding,) = [f for f in result.json()["findings"] if f["code"] == "keystore-unloadable-in-java"]
    assert finding["severity"] == "error" and result.status == 1
    quoted = finding["summary"].split('say "', 1)[1].split('"', 1)[0]
    assert said.startswith("keytool error: ") and said.endswith(quoted), (said, quoted)
    if shape == "pkcs12":
        assert quoted == "keystore password was incorrect" and "misleading" in finding["summary"]
    else:
        assert "Integer exceeds maximum valid value" in quoted and "misleading" not in finding["summary"]
    assert any("X9.42 DH public key" in e["fact"] for e in finding["evidence"])
    sel = _select(cli, store)
    assert sel["pkix_possible"] == [] and "Java cannot load the keystore" in str(sel["sunx509_fails"])
    # run as a user runs it: cryptography's FFDH deprecation warning never reaches stderr
    import os
    import sys

    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent), STOREPASS=PW)
    env.pop("PYTHONWARNINGS", None)
    done = subprocess.run(
        [sys.executable, "-m", "inspector", "keystore", str(store), "--storepass-env", "STOREPASS"],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1 and done.stderr == "", done.stderr
