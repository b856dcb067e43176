"""The HTML reports in a real browser (headless Chromium driven by selenium): the sample captures,
the sample keystore, a selection and live probes against our own server. Each page is checked in
the DOM (findings, ladder arrows, the failing step, CA names), for network use (none) and secrets
(none), its script and styles must run under its own CSP, and it is photographed at desktop and
phone width into a temporary directory (printed; MTLS_HTML_SCREENSHOTS=DIR to choose it)."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.x509.oid import ExtendedKeyUsageOID

from inspector.render.html import write_html
from tests import pki as P
from tests.test_html_report import CAPTURES, PW, keylog_secrets, run_json, sample_documents

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
CHROMEDRIVER = shutil.which("chromedriver")
PASS_VAR = "MTLS_HTML_TEST_PASS"


@dataclass
class Report:
    name: str
    status: int
    document: dict[str, Any]
    path: Path
    secrets: list[str]


def _driver() -> Any:
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip("Chromium or chromedriver is not installed (apt-get install chromium chromium-driver)")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("selenium is not installed (pip install -e '.[test]')")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
    ):
        options.add_argument(flag)
    options.add_argument("--window-size=1100,900")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    driver = _driver()
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def shots(request: pytest.FixtureRequest) -> Path:
    chosen = os.environ.get("MTLS_HTML_SCREENSHOTS")
    folder = Path(chosen) if chosen else Path(tempfile.mkdtemp(prefix="mtls-inspect-html-"))
    folder.mkdir(parents=True, exist_ok=True)
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        print(f"\nHTML report screenshots: {folder}", flush=True)
    return folder


def _live_probes(work: Path) -> dict[str, tuple[int, dict[str, Any], list[str]]]:
    """Probes of our reference server: the Java choice (none fits: empty Certificate) and the
    stranger's certificate forced (unknown_ca), each with the key log written, in TLS 1.3."""
    from inspector.live.reference_server import ReferenceServer

    acme, stranger = P.make_pki(), P.make_pki("stranger", org="Stranger")
    server = P.issue("localhost", acme.intermediate, eku=[ExtendedKeyUsageOID.SERVER_AUTH])
    (work / "server.pem").write_bytes(server.pem + acme.intermediate.pem)
    (work / "server.key").write_bytes(server.key_pem)
    (work / "acme-root.pem").write_bytes(acme.root.pem)
    store = P.write_jks(
        work / "stranger.jks",
        PW,
        keys=[("stranger", stranger.leaf.key, [stranger.leaf.cert, stranger.intermediate.cert])],
    )
    os.environ[PASS_VAR] = PW
    found = {}
    with ReferenceServer(
        work / "server.pem", work / "server.key", [work / "acme-root.pem"], tls_version="1.3"
    ) as reference:
        for name, extra in (("probe-java-choice", []), ("probe-forced", ["--alias", "stranger"])):
            keys = work / f"{name}.keys"
            status, doc = run_json(
                "probe",
                f"127.0.0.1:{reference.port}",
                "--insecure",
                "--keystore",
                str(store),
                "--storepass-env",
                PASS_VAR,
                "--keylog",
                str(keys),
                *extra,
            )
            found[name] = (status, doc, keylog_secrets(keys))
    return found


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Report]:
    work = tmp_path_factory.mktemp("html-browser")
    made: dict[str, Report] = {}
    tls13_secrets = keylog_secrets(CAPTURES / "tls13-unknown-ca.keys")
    tls13_secrets += keylog_secrets(CAPTURES / "tls13-certificate-required.keys")
    for name, (status, doc) in sample_documents().items():
        made[name] = Report(name, status, doc, work / f"{name}.html", [*tls13_secrets, PW])
    acme, partner = P.make_pki(), P.make_pki("partner-client", org="Partner")
    store = P.write_jks(
        work / "two.jks",
        PW,
        keys=[
            ("acme", acme.leaf.key, [acme.leaf.cert, acme.intermediate.cert]),
            ("partner", partner.leaf.key, [partner.leaf.cert, partner.intermediate.cert]),
        ],
    )
    os.environ[PASS_VAR] = PW
    status, doc = run_json(
        "select",
        "--keystore",
        str(store),
        "--storepass-env",
        PASS_VAR,
        "--from-pcap",
        str(CAPTURES / "several.pcap"),
    )
    made["select"] = Report("select", status, doc, work / "select.html", [PW])
    for name, (status, doc, secrets) in _live_probes(work).items():
        made[name] = Report(name, status, doc, work / f"{name}.html", [*secrets, PW])
    made["several-redacted"] = Report(
        "several-redacted",
        made["several"].status,
        made["several"].document,
        work / "several-redacted.html",
        [],
    )
    for report in made.values():
        write_html(report.document, report.path, redact=report.name.endswith("-redacted"))
    return made


NO_EXTERNAL = """
const bad = [];
for (const el of document.querySelectorAll('*')) {
  for (const attr of el.attributes) {
    const name = attr.name.toLowerCase();
    const value = attr.value.trim().toLowerCase();
    if (['src', 'href', 'xlink:href', 'srcset', 'action', 'poster', 'data', 'formaction'].includes(name)
        && value && !value.startsWith('#')) bad.push(el.tagName + ' ' + name + '=' + value);
    if (name === 'style' && value.includes('url(')) bad.push(el.tagName + ' style url');
  }
}
return {bad: bad, resources: performance.getEntriesByType('resource').map(r => r.name)};
"""


def _load(browser: Any, report: Report) -> None:
    browser.set_window_size(1100, 900)
    browser.get(report.path.as_uri())
    assert browser.execute_script("return document.readyState") == "complete"


def _photograph(browser: Any, report: Report, shots: Path) -> None:
    height = int(browser.execute_script("return document.documentElement.scrollHeight"))
    browser.set_window_size(1100, min(height + 40, 12000))
    browser.save_screenshot(str(shots / f"{report.name}.png"))
    browser.set_window_size(390, 900)
    overflow = browser.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{report.name}: {overflow}px wider than a phone"
    height = int(browser.execute_script("return document.documentElement.scrollHeight"))
    browser.set_window_size(390, min(height + 40, 12000))
    browser.save_screenshot(str(shots / f"{report.name}-phone.png"))


def _check_page(browser: Any, report: Report) -> None:
    """What every page must do: nothing external, nothing secret, styles and script allowed by its CSP."""
    found = browser.execute_script(NO_EXTERNAL)
    assert found == {"bad": [], "resources": []}, report.name
    source = browser.page_source
    leaked = [s for s in report.secrets if s in source]
    assert leaked == [], report.name
    background = browser.execute_script(
        "return getComputedStyle(document.querySelector('#verdict')).backgroundColor"
    )
    assert background not in ("rgba(0, 0, 0, 0)", "transparent"), "the page's CSS was blocked"
    violations = [e for e in browser.get_log("browser") if "Content Security Policy" in e.get("message", "")]
    assert violations == [], violations
    errors = [f["code"] for f in report.document["findings"] if f["severity"] == "error"]
    shown = browser.execute_script(
        "return [...document.querySelectorAll('#verdict > article.finding.sev-error')]"
        ".map(a => a.dataset.code)"
    )
    assert shown == errors, report.name


def _ladder(browser: Any, index: int) -> dict[str, Any]:
    result: dict[str, Any] = browser.execute_script(
        """
        const section = document.getElementById('conn-' + arguments[0]);
        const groups = [...section.querySelectorAll('svg.ladder-svg g.msg')];
        return {
          arrows: section.querySelectorAll('svg.ladder-svg line.arrow').length,
          messages: groups.map(g => g.dataset.message),
          failing: groups.filter(g => g.classList.contains('fail')).map(g => g.dataset.message),
          encrypted: groups.filter(g => g.classList.contains('enc')).length,
          end: section.querySelector('svg.ladder-svg text.end').textContent,
        };
        """,
        index,
    )
    return result


PAGES = [
    "several",
    "tls13-unknown-ca",
    "tls13-certificate-required",
    "tls12-success",
    "keystore",
    "select",
    "probe-java-choice",
    "probe-forced",
    "several-redacted",
]


@pytest.mark.parametrize("name", PAGES)
def test_report_in_chromium(browser, reports, shots, name) -> None:  # type: ignore[no-untyped-def]
    report = reports[name]
    _load(browser, report)
    _check_page(browser, report)
    doc = report.document
    for connection in doc.get("connections", []):
        ladder = _ladder(browser, connection["index"])
        assert ladder["arrows"] == len(connection["events"]), (name, connection["index"])
        alerts = [e["message"] for e in connection["events"] if e.get("alert", {}).get("level") == 2]
        assert ladder["failing"] == [f"{a} (fatal)" for a in alerts[:1]], (name, connection["index"])
        assert ladder["encrypted"] == sum(1 for e in connection["events"] if e["encrypted"])
        assert ladder["end"] == connection["outcome"] or name.endswith("-redacted")
    _photograph(browser, report, shots)


def test_pcap_table_sorts_and_filters_by_outcome(browser, reports) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    _load(browser, reports["several"])
    rows = (
        "return [...document.querySelectorAll('table.conns tbody tr')]"
        ".filter(r => !r.hidden).map(r => r.cells[0].textContent.trim())"
    )
    assert browser.execute_script(rows) == ["1", "2", "3", "4"]
    assert browser.find_element(By.ID, "shown-count").text == "4 of 4 shown"
    Select(browser.find_element(By.ID, "outcome-filter")).select_by_value("fail")
    assert browser.execute_script(rows) == ["2", "3", "4"]
    assert browser.find_element(By.ID, "shown-count").text == "3 of 4 shown"
    Select(browser.find_element(By.ID, "outcome-filter")).select_by_value("unknown_ca from server")
    assert browser.execute_script(rows) == ["4"]
    Select(browser.find_element(By.ID, "outcome-filter")).select_by_value("")
    header = browser.find_element(By.CSS_SELECTOR, "table.conns thead th:first-child button")
    header.click()  # ascending
    header.click()  # descending
    assert browser.execute_script(rows) == ["4", "3", "2", "1"]


def test_failing_step_and_missing_issuer_are_visible(browser, reports) -> None:  # type: ignore[no-untyped-def]
    _load(browser, reports["probe-forced"])
    assert _ladder(browser, 1)["failing"] == ["Alert unknown_ca (fatal)"]
    fail_row = browser.execute_script(
        "const g = document.querySelector('#conn-1 g.msg.fail'); "
        "return [getComputedStyle(g.querySelector('line.arrow')).stroke, "
        "g.querySelector('text.note').textContent]"
    )
    assert fail_row == ["rgb(217, 45, 32)", "✗ the handshake fails here: fatal alert from the server"]
    wanted = browser.execute_script(
        "return [...document.querySelectorAll('#conn-1 ol.names li.wanted')].map(li => li.textContent)"
    )
    assert len(wanted) == 1 and "CN=Acme Root CA,O=Acme" in wanted[0]
    _load(browser, reports["probe-java-choice"])
    sent = browser.execute_script(
        "return [...document.querySelectorAll('#conn-1 .select-table tbody tr')].map(r => r.textContent)"
    )
    assert any("Java PKIX" in row and "sends an empty Certificate" in row for row in sent)
    assert any("OpenSSL / curl" in row and "sends 'stranger'" in row for row in sent)


def test_certificates_open_and_print_expands_them(browser, reports) -> None:  # type: ignore[no-untyped-def]
    _load(browser, reports["keystore"])
    closed = browser.execute_script("return [...document.querySelectorAll('details.cert')].map(d => d.open)")
    assert closed == [False, False, False, False]
    browser.execute_script("window.dispatchEvent(new Event('beforeprint'))")
    assert browser.execute_script("return [...document.querySelectorAll('details')].every(d => d.open)")
    browser.execute_script("window.dispatchEvent(new Event('afterprint'))")
    assert (
        browser.execute_script("return [...document.querySelectorAll('details.cert')].some(d => d.open)")
        is False
    )
