"""The HTML report rendered from real --json documents: content, escaping, secrets, --redact,
bad input, file safety, and that no other command loads Jinja2. (The page in a real browser:
test_html_browser.py.)"""

from __future__ import annotations

import contextlib
import copy
import functools
import html
import io
import json
import os
import re
import stat
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from cryptography.x509.oid import ExtendedKeyUsageOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inspector.cli import main
from inspector.render.html import render_html
from tests import pki as P

ROOT = Path(__file__).resolve().parent.parent
CAPTURES = ROOT / "captures"
PW = "changeit"


def run_json(*argv: str) -> tuple[int, dict[str, Any]]:
    """A command run in-process with --json: its exit status and document."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        status = main([*argv, "--json"])
    return status, json.loads(out.getvalue())


def keylog_secrets(path: Path) -> list[str]:
    """The secret column of every key-log line (what must never reach a page)."""
    lines = [line.split() for line in path.read_text().splitlines() if line and not line.startswith("#")]
    return [parts[2] for parts in lines if len(parts) == 3]


@functools.lru_cache(maxsize=1)
def sample_documents() -> dict[str, tuple[int, dict[str, Any]]]:
    """The documents of the sample captures and keystore (each command run once per session)."""
    os.environ["MTLS_HTML_TEST_PASS"] = PW
    docs = {
        "several": run_json("pcap", str(CAPTURES / "several.pcap")),
        "tls13-unknown-ca": run_json(
            "pcap",
            str(CAPTURES / "tls13-unknown-ca.pcap"),
            "--keylog",
            str(CAPTURES / "tls13-unknown-ca.keys"),
        ),
        "tls13-certificate-required": run_json(
            "pcap",
            str(CAPTURES / "tls13-certificate-required.pcap"),
            "--keylog",
            str(CAPTURES / "tls13-certificate-required.keys"),
        ),
        "tls12-success": run_json("pcap", str(CAPTURES / "tls12-success.pcap")),
        "keystore": run_json(
            "keystore", str(CAPTURES / "letstestcba.jks"), "--storepass-env", "MTLS_HTML_TEST_PASS"
        ),
    }
    return docs


@pytest.fixture(scope="module")
def samples() -> dict[str, tuple[int, dict[str, Any]]]:
    return sample_documents()


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text, of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(page: str) -> Tags:
    tags = Tags()
    tags.feed(page)
    return tags


def external_references(tags: Tags) -> list[str]:
    refs = []
    for _, attrs in tags.tags:
        for name in ("src", "href", "srcset", "poster", "data", "action", "xlink:href"):
            value = attrs.get(name, "").strip().lower()
            if value and not value.startswith("#"):
                refs.append(value)
    return refs


def test_report_command_writes_private_page_and_keeps_exit_status(tmp_path, samples) -> None:  # type: ignore[no-untyped-def]
    for name, (status, doc) in samples.items():
        source = tmp_path / f"{name}.json"
        source.write_text(json.dumps(doc))
        out = tmp_path / f"{name}.html"
        err = io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()) as said, contextlib.redirect_stderr(err):
            result = main(["report", str(source), "--html", str(out)])
        assert result == status, name  # 1 when the document has error findings, like its command
        assert said.getvalue().startswith(f"wrote {out} (")
        assert stat.S_IMODE(out.stat().st_mode) == 0o600
        page = out.read_text()
        assert page.startswith("<!doctype html>")
        assert external_references(parse(page)) == []
    assert samples["several"][0] == 1 and samples["tls12-success"][0] == 0


def test_verdict_lists_every_error_with_evidence_and_fix(samples) -> None:  # type: ignore[no-untyped-def]
    _, doc = samples["tls13-unknown-ca"]
    page = render_html(doc, redact=False)
    verdict = page.split('id="verdict"', 1)[1].split("</section>", 1)[0]
    errors = [f for f in doc["findings"] if f["severity"] == "error"]
    assert [m for m in re.findall(r'<article class="finding sev-error" data-code="([^"]+)"', verdict)] == [
        f["code"] for f in errors
    ]
    assert "1 error to fix" in verdict
    assert "send the full chain (leaf + intermediates)" in verdict
    assert "Alert unknown_ca from server at 0.003 s, frame 11" in verdict
    # warnings follow, collapsed
    minor = verdict.split('<details class="minor">', 1)[1]
    assert 'data-code="issuer-not-in-ca-list"' in minor and "1 warning" in minor


def test_ladder_has_one_arrow_per_message_and_marks_the_failing_alert(samples) -> None:  # type: ignore[no-untyped-def]
    _, doc = samples["tls13-unknown-ca"]
    page = render_html(doc, redact=False)
    groups = re.findall(r'<g class="msg([^"]*)" data-message="([^"]*)"', page)
    events = doc["connections"][0]["events"]
    assert len(groups) == len(events) == 14
    assert page.count('<line class="arrow"') == 14 and page.count('<polygon class="head"') == 14
    failing = [message for classes, message in groups if " fail" in classes]
    assert failing == ["Alert unknown_ca (fatal)"]
    encrypted = sum(1 for classes, _ in groups if " enc" in classes)
    assert encrypted == sum(1 for e in events if e["encrypted"])
    cited = [message for classes, message in groups if "cited" in classes]
    assert cited == ["CertificateRequest [1 CA name]", "Certificate (2): CN=stranger"]
    assert "✗ the handshake fails here: fatal alert from the server" in page
    assert ">2.4 ms<" in page and ">frame 11<" in page


def test_ca_names_beside_the_chain_name_the_missing_issuer(samples) -> None:  # type: ignore[no-untyped-def]
    page = render_html(samples["tls13-unknown-ca"][1], redact=False)
    assert "Missing link: the server wants a certificate issued by CN=Acme Root CA,O=Acme" in page
    assert re.search(r'<li id="conn-1-ca-1" class="wanted">', page)
    assert page.count("✗ issuer not named by the server") == 2
    success = render_html(samples["tls12-success"][1], redact=False)
    # TLS 1.2 in clear: the client's chain is visible and its issuer is linked to the CA name
    assert re.search(r'<li id="conn-1-ca-1" class="hit">', success)
    assert 'href="#conn-1-ca-1">✓ issuer is CA name 1' in success


def test_selection_table_and_every_certificate(samples, tmp_path) -> None:  # type: ignore[no-untyped-def]
    acme, partner = P.make_pki(), P.make_pki("partner-client", org="Partner")
    store = P.write_jks(
        tmp_path / "two.jks",
        PW,
        keys=[
            ("acme", acme.leaf.key, [acme.leaf.cert, acme.intermediate.cert]),
            ("partner", partner.leaf.key, [partner.leaf.cert, partner.intermediate.cert]),
        ],
    )
    os.environ["MTLS_HTML_TEST_PASS"] = PW
    status, doc = run_json(
        "select",
        "--keystore",
        str(store),
        "--storepass-env",
        "MTLS_HTML_TEST_PASS",
        "--from-pcap",
        str(CAPTURES / "several.pcap"),
    )
    assert status == 0
    page = render_html(doc, redact=False)
    assert "Java SunX509 (the JDK default)" in page and "Java PKIX" in page and "OpenSSL / curl" in page
    assert "sends &#39;acme&#39;" in page
    assert re.search(r"<code>partner</code></td><td>[A-Z]+</td><td><span class=\"badge bad\">no", page)
    keystore = render_html(samples["keystore"][1], redact=False)
    certs = re.findall(r'<details class="cert" id="(cert-\d+)">', keystore)
    assert len(certs) == 4  # one key entry (self-signed) + three trusted certificates
    for fingerprint in (
        "ac4674900148b6c630e0dab9cc2729b231960ad895dc0331a6eab651e0bb4f77",
        "3d4f1c71568a4efa073376c711f7ed0fac1f4fa0581d2a840f94271c8c121bed",
    ):
        assert fingerprint in keystore
    assert "<dt>extended key usage</dt><dd>clientAuth</dd>" in keystore
    assert "<dt>key</dt><dd>RSA 2048 bits</dd>" in keystore
    assert "2026-11-26T03:18:47+00:00 → 2036-11-24T03:18:47+00:00" in keystore


def test_pcap_table_lists_every_connection_with_its_outcome(samples) -> None:  # type: ignore[no-untyped-def]
    page = render_html(samples["several"][1], redact=False)
    rows = re.findall(r'<tr class="row-(\w+)" data-class="\w+" data-outcome="([^"]*)">', page)
    assert rows == [
        ("ok", "completed"),
        ("fail", "handshake_failure from server"),
        ("fail", "closed after a 19-byte record (alert?)"),
        ("fail", "unknown_ca from server"),
    ]
    assert '<div class="table-tools" hidden>' in page  # the filter appears only where the script runs
    assert page.count('<svg class="ladder-svg"') == 4


def test_many_connections_and_long_ones_stay_readable() -> None:
    event = {"direction": "client", "time": 0.5, "frame": 1, "message": "ApplicationData", "encrypted": True}
    connections = [
        {"index": i, "client": f"10.0.0.{i % 200}:5000", "server": "10.0.1.1:443", "outcome": "completed"}
        for i in range(1, 301)
    ]
    connections[0]["events"] = [dict(event, frame=n) for n in range(200)]
    doc = {"schema": "mtls-inspector/pcap", "schema_version": 1, "connections": connections, "findings": []}
    page = render_html(doc, redact=False)
    assert page.count('<tr class="row-ok"') == 300
    assert page.count('<section class="connection') == 100
    assert "200 connections are listed in the table only; 100 are drawn below, those with findings" in page
    assert page.count('<g class="msg') == 60 and "… 140 more messages not drawn …" in page


def test_a_capture_of_thousands_of_failures_gives_a_short_verdict_and_a_bounded_table() -> None:
    failure = {"code": "server-rejected-client-cert", "severity": "error", "summary": "unknown_ca"}
    connections = [{"index": i, "outcome": "unknown_ca from server"} for i in range(1, 2501)]
    connections += [{"index": 2501, "outcome": "completed"}]
    findings = [dict(failure, location={"connection": i}) for i in range(1, 2501)]
    doc = {
        "schema": "mtls-inspector/pcap",
        "schema_version": 1,
        "capture": {"path": "big.pcap"},
        "connections": connections,
        "findings": findings,
    }
    page = render_html(doc, redact=True)
    verdict = page.split('id="verdict"', 1)[1].split("</section>", 1)[0]
    assert verdict.count("<article") == 1 and "2500 errors to fix" in verdict
    assert "2501 TLS connections in big.pcap: 2500 failed, 1 completed, 0 unclear." in verdict
    also = re.search(r'<p class="also small">(.*?)</p>', verdict, re.S)
    assert also is not None
    assert re.sub(r"<[^>]+>", "", also.group(1)) == (
        "Also in connections " + ", ".join(str(n) for n in range(2, 22)) + " and 2479 more."
    )
    assert page.count('<tr class="row-') == 1000 and page.count('<section class="connection') == 100
    assert "1501 more connections are not listed; the JSON document has them all." in page


HOSTILE = 'CN=<script>alert(1)</script>\x1b[31mred\x1b]0;title\x07,O="Evil" & <b>Co</b>'


def hostile_document() -> dict[str, Any]:
    img = "<img src=x onerror=alert(2)>"
    chain = [{"subject": HOSTILE, "issuer": HOSTILE, "not_after": "x", "sha256": img}]
    return {
        "schema": "mtls-inspector/pcap",
        "schema_version": 1,
        "tool_version": "<i>0.1</i>",
        "capture": {"path": "/tmp/<svg onload=alert(3)>.pcap", "problems": [HOSTILE]},
        "connections": [
            {
                "index": 1,
                "client": "127.0.0.1:1",
                "server": "127.0.0.1:2",
                "server_name": "</title><script>alert(4)</script>",
                "outcome": "unknown_ca from server\x1b[2J",
                "events": [
                    {"direction": "client", "time": 0, "frame": 1, "message": "ClientHello"},
                    {
                        "direction": "server",
                        "time": 0.1,
                        "frame": 2,
                        "message": "CertificateRequest",
                        "ca_names": [HOSTILE],
                    },
                    {"direction": "client", "frame": 3, "message": "Certificate", "chain": chain},
                    {
                        "direction": "server",
                        "time": 0.3,
                        "frame": 4,
                        "message": "Alert <script>",
                        "alert": {"level": 2, "name": "<script>"},
                    },
                ],
            }
        ],
        "findings": [
            {
                "code": 'x"><script>alert(5)</script>',
                "severity": "error",
                "summary": HOSTILE,
                "location": {"connection": 1, "file": "]]><script>"},
                "evidence": [{"source": "<style>", "fact": "</svg><script>alert(6)</script>"}],
                "fix": "keytool -alias '<script>alert(7)</script>' \x1b[0m",
                "explanation": "<a href='https://evil.example/'>x</a>",
            }
        ],
        "<script>alert(8)</script>": "\x1b[31m",
    }


@pytest.mark.parametrize("redact", [False, True])
def test_everything_from_the_input_is_escaped(redact: bool) -> None:
    page = render_html(hostile_document(), redact=redact)
    assert page.count("<script") == 1 and page.count("</script>") == 1  # only the page's own script
    assert "<img" not in page and "<svg onload" not in page and "<b>Co</b>" not in page
    assert "<a href='https://evil" not in page and "<style>" not in page.split("</style>", 1)[1]
    assert "\x1b" not in page and "\x07" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;\\x1b[31mred\\x1b]0;title\\x07" in page
    tags = parse(page)
    assert external_references(tags) == []
    assert [tag for tag, _ in tags.tags].count("script") == 1


def test_content_security_policy_allows_only_the_page_itself() -> None:
    page = render_html(hostile_document(), redact=False)
    csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', page)
    assert csp is not None
    policy = html.unescape(csp.group(1))
    assert policy.startswith("default-src 'none'; style-src 'sha256-") and "unsafe" not in policy
    assert "script-src 'sha256-" in policy


def test_secrets_never_reach_the_page_even_if_a_document_carried_them(samples) -> None:  # type: ignore[no-untyped-def]
    secrets = keylog_secrets(CAPTURES / "tls13-unknown-ca.keys")
    assert len(secrets) == 5
    page = render_html(samples["tls13-unknown-ca"][1], redact=False)
    assert not [s for s in secrets if s in page]
    keystore_page = render_html(samples["keystore"][1], redact=False)
    assert PW not in keystore_page
    key_pem = P.make_pki().leaf.key_pem.decode()
    keylog = (CAPTURES / "tls13-unknown-ca.keys").read_text()
    doc = copy.deepcopy(samples["keystore"][1])
    doc["keystore"]["notes"] = [key_pem, keylog, "ok"]
    page = render_html(doc, redact=False)
    body = key_pem.splitlines()[1]
    assert body not in page and "PRIVATE KEY" not in page
    assert not [s for s in secrets if s in page]
    assert page.count("[secret removed]") == 1 + 5


def test_redact_masks_hosts_and_addresses_consistently(samples, tmp_path) -> None:  # type: ignore[no-untyped-def]
    doc = samples["tls13-unknown-ca"][1]
    page = render_html(doc, redact=True)
    assert "127.0.0.1" not in page and "localhost" not in page and "captures/" not in page
    assert "Redacted: host names" in page
    # the same address gets the same name everywhere: table, ladder lanes, endpoints
    assert page.count("192.0.2.1:47206") >= 2 and page.count("192.0.2.1:44305") >= 2
    assert "SNI host-1" in page and "CN=host-1,O=Partner" in page
    # the story still reads: CA names and organisations stay
    assert "CN=Acme Root CA,O=Acme" in page and "CN=Stranger Issuing CA,O=Stranger" in page
    assert "tls13-unknown-ca.pcap" in page
    source = tmp_path / "doc.json"
    source.write_text(json.dumps(doc))
    with contextlib.redirect_stdout(io.StringIO()) as said:
        assert main(["report", str(source), "--html", str(tmp_path / "r.html"), "--redact"]) == 1
    assert "redacted" in said.getvalue()
    assert "127.0.0.1" not in (tmp_path / "r.html").read_text()


def test_redact_names_from_every_place_a_host_appears() -> None:
    doc = {
        "schema": "mtls-inspector/probe",
        "schema_version": 1,
        "probe": {
            "target": "api.partner.example:8443",
            "servername": "Api.Partner.Example",
            "proxy": "[fd00::5]:3128",
        },
        "connections": [
            {
                "index": 1,
                "client": "[fd00::7]:50000",
                "server": "203.0.113.77:8443",
                "server_name": "api.partner.example",
                "events": [
                    {
                        "direction": "server",
                        "message": "Certificate (1)",
                        "chain": [{"subject": "CN=gw-01,O=Partner", "issuer": "CN=Partner CA,O=Partner"}],
                    }
                ],
            }
        ],
        "findings": [
            {
                "code": "c",
                "severity": "warning",
                "summary": "api.partner.example (203.0.113.77) named CN=*.partner.example; "
                "mail ops@partner.example via gw-01",
            }
        ],
    }
    page = render_html(doc, redact=True)
    for leak in ("partner.example", "203.0.113.77", "fd00::", "gw-01", "ops@"):
        assert leak not in page.lower(), leak
    assert "host-1:8443" in page and "CN=*.host-" in page and "mail-1@example.invalid" in page
    assert "CN=Partner CA,O=Partner" in page


BAD_INPUTS = [
    ("missing.json", None, "no such file"),
    ("list.json", "[1, 2]", "not an mtls-inspector document"),
    ("other.json", '{"schema": "something/else"}', "not an mtls-inspector document"),
    ("future.json", '{"schema": "mtls-inspector/pcap", "schema_version": 2}', "schema_version 2 is not"),
    ("broken.json", '{"schema": ', "not JSON (line 1, column 12"),
    ("binary.json", b"\xff\xfe\x00", "not UTF-8 text"),
    ("deep.json", "[" * 100000, "JSON nested too deeply"),
]


@pytest.mark.parametrize(("name", "content", "said"), BAD_INPUTS)
def test_bad_input_is_one_line_naming_the_file(tmp_path, capsys, name, content, said) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    assert main(["report", str(path), "--html", str(tmp_path / "out.html")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"mtls-inspect: error: {path}: ") and said in err
    assert not (tmp_path / "out.html").exists()


def test_the_page_is_never_written_through_a_symlink(tmp_path, capsys, samples) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "doc.json"
    source.write_text(json.dumps(samples["keystore"][1]))
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    link = tmp_path / "report.html"
    link.symlink_to(victim)
    assert main(["report", str(source), "--html", str(link)]) == 2
    assert capsys.readouterr().err == (
        f"mtls-inspect: error: --html {link}: is a symbolic link (not followed)"
        " — give the path of a regular file\n"
    )
    assert victim.read_text() == "keep me"
    existing = tmp_path / "old.html"
    existing.write_text("old")
    existing.chmod(0o644)
    assert main(["report", str(source), "--html", str(existing)]) == 1
    assert stat.S_IMODE(existing.stat().st_mode) == 0o600 and existing.read_text().startswith("<!doctype")
    assert main(["report", str(source), "--html", str(tmp_path / "no-such-dir" / "x.html")]) == 2
    assert "cannot write (No such file or directory)" in capsys.readouterr().err


def test_stdin_document(tmp_path, monkeypatch, samples) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(samples["tls12-success"][1])))
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["report", "-", "--html", str(tmp_path / "s.html")]) == 0
    assert "No problems found" in (tmp_path / "s.html").read_text()


_JSON_LEAF = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=8), st.builds(list), st.builds(dict)
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value[:3]):
            found += _paths(item, (*prefix, index))
    return found


@settings(
    max_examples=60 if os.environ.get("CI") else 150, deadline=None, suppress_health_check=list(HealthCheck)
)
@given(st.data())
def test_any_edit_of_a_document_still_renders(samples, data: st.DataObject) -> None:  # type: ignore[no-untyped-def]
    """A hand-edited document (wrong types anywhere) still gives a page, never an internal error."""
    doc = copy.deepcopy(data.draw(st.sampled_from([doc for _, doc in samples.values()])))
    paths = _paths(doc)
    for path in data.draw(st.lists(st.sampled_from(paths), min_size=1, max_size=4)):
        target = doc
        try:
            for step in path[:-1]:
                target = target[step]
            target[path[-1]] = data.draw(_JSON_LEAF)
        except (KeyError, IndexError, TypeError):
            continue
    page = render_html(doc, redact=data.draw(st.booleans()))
    assert '<section id="verdict" class="verdict verdict-' in page and page.rstrip().endswith("</html>")


def _modules_loaded_by(argv: list[str]) -> set[str]:
    code = (
        "import sys, contextlib, io\n"
        "from inspector.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
        "    try:\n"
        f"        main({argv!r})\n"
        "    except SystemExit:\n"
        "        pass\n"
        "watched = ('jinja2', 'markupsafe', 'inspector.render.html.page')\n"
        "print(' '.join(m for m in watched if m in sys.modules))\n"
    )
    env = dict(os.environ, MTLS_HTML_TEST_PASS=PW, PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return set(result.stdout.split())


def test_only_the_report_command_loads_jinja2(tmp_path, samples) -> None:  # type: ignore[no-untyped-def]
    keystore = ["keystore", str(CAPTURES / "letstestcba.jks"), "--storepass-env", "MTLS_HTML_TEST_PASS"]
    for argv in (
        ["--help"],
        ["report", "--help"],
        keystore,
        [*keystore, "--json"],
        ["pcap", str(CAPTURES / "several.pcap")],
        ["probe", "127.0.0.1:9", "--insecure", "--timeout", "2"],  # nothing listens on port 9: exit 2
    ):
        assert _modules_loaded_by(argv) == set(), argv
    source = tmp_path / "doc.json"
    source.write_text(json.dumps(samples["keystore"][1]))
    loaded = _modules_loaded_by(["report", str(source), "--html", str(tmp_path / "x.html")])
    assert loaded == {"jinja2", "markupsafe", "inspector.render.html.page"}


def test_templates_and_assets_are_package_data() -> None:
    """Every template and asset matches a package-data pattern, so wheels carry them."""
    import fnmatch

    text = (ROOT / "pyproject.toml").read_text()
    section = text.split("[tool.setuptools.package-data]")[1]
    line = re.search(r'^"inspector\.render\.html" = \[(.*)\]$', section, re.M)
    assert line is not None
    patterns = json.loads(f"[{line.group(1)}]")
    base = ROOT / "inspector" / "render" / "html"
    shipped = [p.relative_to(base).as_posix() for p in base.rglob("*") if p.is_file() and p.suffix != ".py"]
    shipped = [p for p in shipped if "__pycache__" not in p]
    assert sorted(shipped) == sorted(
        ["static/report.css", "static/report.js", "templates/macros.html.j2", "templates/report.html.j2"]
    )
    assert all(any(fnmatch.fnmatch(p, pat) for pat in patterns) for p in shipped)


def test_select_document_where_java_sends_nothing_exits_1(tmp_path, samples) -> None:  # type: ignore[no-untyped-def]
    selection = {
        "request": {"source": "names.txt", "tls13": False, "ca_names": ["CN=Partner Root,O=Partner"]},
        "sunx509": None,
        "sunx509_possible": [],
        "sunx509_fails": None,
        "pkix": None,
        "pkix_possible": [],
        "openssl": "acme",
        "candidates": [
            {"alias": "acme", "key_type": "RSA", "accepted": False, "rank": None, "reasons": ["not named"]}
        ],
    }
    doc = {"schema": "mtls-inspector/select", "schema_version": 1, "selection": selection, "findings": []}
    source = tmp_path / "select.json"
    source.write_text(json.dumps(doc))
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["report", str(source), "--html", str(tmp_path / "s.html")]) == 1
    page = (tmp_path / "s.html").read_text()
    assert "A Java client would send an empty Certificate" in page
    assert "CertificateRequest from names.txt: a Java client (PKIX) sends an empty Certificate" in page
    selection["pkix"] = "acme"
    source.write_text(json.dumps(doc))
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["report", str(source), "--html", str(tmp_path / "s.html")]) == 0


def _run(argv: list[str]) -> tuple[int, str, str]:
    """A command run in-process: its exit status, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv)
    return status, out.getvalue(), err.getvalue()


#: each command on a sample file, with its error codes (judged at a fixed date: the page repeats it)
_STORE = ["--storepass-env", "MTLS_HTML_TEST_PASS"]
COMMAND_PAGES = {
    "keystore": (
        ["keystore", str(CAPTURES / "letstestcba.jks"), *_STORE, "--at", "2030-01-01"],
        ["signed-cert-under-other-alias"],
    ),
    "pcap": (
        ["pcap", str(CAPTURES / "several.pcap")],
        ["client-cert-not-sent", "handshake-encrypted-no-keylog", "server-rejected-client-cert"],
    ),
    "select": (
        [
            "select",
            "--keystore",
            str(CAPTURES / "letstestcba.jks"),
            *_STORE,
            "--ca-names",
            str(CAPTURES / "partner-ca-names.txt"),
            "--at",
            "2030-01-01",
            "--java-version",
            "17",
        ],
        [],
    ),
    "log": (
        ["log", str(CAPTURES / "java-nocert12.log")],
        ["client-cert-not-sent", "server-rejected-client-cert"],
    ),
}


@pytest.mark.parametrize("command", sorted(COMMAND_PAGES))
def test_each_command_writes_the_page_of_its_json_beside_its_text(command, tmp_path) -> None:  # type: ignore[no-untyped-def]
    argv, error_codes = COMMAND_PAGES[command]
    os.environ["MTLS_HTML_TEST_PASS"] = PW
    status, text_alone, _ = _run(argv)
    json_status, doc = run_json(*argv)
    out = tmp_path / f"{command}.html"
    (tmp_path / f"{command}.html").write_text("an older report")  # replaced, as report does
    html_status, text_with_page, err = _run([*argv, "--html", str(out)])
    assert html_status == status == json_status == 1
    assert text_with_page == text_alone  # stdout unchanged: the page is written beside it
    page = out.read_text()
    assert err == f"mtls-inspect: wrote {out} ({len(page.encode())} bytes)\n"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert page == render_html(doc)  # exactly what `report` makes of --json
    verdict = page.split('id="verdict"', 1)[1].split("</section>", 1)[0]
    shown = re.findall(r'<article class="finding sev-error" data-code="([^"]+)"', verdict)
    assert sorted(set(shown)) == sorted(error_codes)
    assert sorted({f["code"] for f in doc["findings"] if f["severity"] == "error"}) == sorted(error_codes)
    assert doc["schema"] == f"mtls-inspector/{command}"
    # with --json too, stdout is still the document and the same page is written
    again = tmp_path / f"{command}-json.html"
    _, json_text, _ = _run([*argv, "--json", "--html", str(again)])
    assert json.loads(json_text) == doc and again.read_text() == page


def test_redact_and_bad_html_paths_are_refused_before_the_work(tmp_path) -> None:
    os.environ["MTLS_HTML_TEST_PASS"] = PW
    argv = COMMAND_PAGES["keystore"][0]
    status, out, err = _run([*argv, "--redact"])
    assert (status, out) == (2, "")
    assert err == "mtls-inspect: error: --redact masks names in the --html page — give --html OUT.html too\n"
    missing = tmp_path / "nowhere" / "r.html"
    # no connection is tried (nothing listens on port 9): the error names --html
    status, out, err = _run(["probe", "127.0.0.1:9", "--insecure", "--html", str(missing)])
    assert (status, out) == (2, "")
    assert err == (
        f"mtls-inspect: error: --html {missing}: directory {missing.parent} does not exist "
        "— create it first, or give another path\n"
    )
    link = tmp_path / "link.html"
    link.symlink_to(tmp_path / "victim")
    status, _, err = _run([*argv, "--html", str(link)])
    assert status == 2 and "is a symbolic link (not followed)" in err
    assert not (tmp_path / "victim").exists()


def test_redacted_page_from_a_command(tmp_path) -> None:
    out = tmp_path / "r.html"
    status, _, err = _run(["pcap", str(CAPTURES / "tls12-unknown-ca.pcap"), "--html", str(out), "--redact"])
    page = out.read_text()
    assert status == 1 and err.endswith(", redacted)\n")
    assert "127.0.0.1" not in page and "Redacted: host names" in page


def test_probe_writes_its_page(tmp_path) -> None:
    """A live probe of our reference server on 127.0.0.1, with a keystore whose CA is not named."""
    from inspector.live.reference_server import ReferenceServer

    acme, stranger = P.make_pki(), P.make_pki("stranger", org="Stranger")
    server = P.issue("localhost", acme.intermediate, eku=[ExtendedKeyUsageOID.SERVER_AUTH])
    (tmp_path / "server.pem").write_bytes(server.pem + acme.intermediate.pem)
    (tmp_path / "server.key").write_bytes(server.key_pem)
    (tmp_path / "root.pem").write_bytes(acme.root.pem)
    store = P.write_jks(
        tmp_path / "s.jks",
        PW,
        keys=[("stranger", stranger.leaf.key, [stranger.leaf.cert, stranger.intermediate.cert])],
    )
    os.environ["MTLS_HTML_TEST_PASS"] = PW
    out = tmp_path / "probe.html"
    with ReferenceServer(tmp_path / "server.pem", tmp_path / "server.key", [tmp_path / "root.pem"]) as ref:
        argv = ["probe", f"127.0.0.1:{ref.port}", "--insecure", "--keystore", str(store), *_STORE]
        status, text, err = _run([*argv, "--html", str(out)])
    page = out.read_text()
    assert status == 1 and "error[client-cert-not-sent]" in text
    assert err == f"mtls-inspect: wrote {out} ({len(page.encode())} bytes)\n"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    verdict = page.split('id="verdict"', 1)[1].split("</section>", 1)[0]
    shown = set(re.findall(r'<article class="finding sev-error" data-code="([^"]+)"', verdict))
    assert "client-cert-not-sent" in shown
    assert PW not in page


def test_commands_load_jinja2_only_with_html(tmp_path) -> None:
    os.environ["MTLS_HTML_TEST_PASS"] = PW
    keystore = ["keystore", str(CAPTURES / "letstestcba.jks"), *_STORE]
    log = ["log", str(CAPTURES / "java-nocert12.log")]
    for argv in (keystore, log, ["keystore", "--help"], ["log", "--help"], ["pcap", "--help"]):
        assert _modules_loaded_by(argv) == set(), argv
    loaded = _modules_loaded_by([*keystore, "--html", str(tmp_path / "k.html")])
    assert loaded == {"jinja2", "markupsafe", "inspector.render.html.page"}
