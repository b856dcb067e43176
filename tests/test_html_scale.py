"""The HTML report of a capture of thousands of connections: the page says how many it shows of
how many, is well formed, is exactly what `report` makes of the --json document (with --redact
too), and is drawn without holding the document (the allocations while it is written stay far
below the decoded document's).

The capture: ~2,500 copies of real captured handshakes (tests/pcap_stream_generator.py), one in
seven rejected by the server (unknown CA)."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tracemalloc
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from inspector.render.html import render_html, write_html
from inspector.render.html.assemble import MAX_DETAILED, MAX_TABLE_ROWS
from inspector.render.html.source import DocumentSource
from inspector.render.json_out import compact
from inspector.render.pcap_page import PageReport
from inspector.render.spool import Spool

ROOT = Path(__file__).resolve().parent.parent
CAPTURE_BYTES = 36_000_000  # ~2,540 connections of ~14 KB


class Capture:
    def __init__(self, path: Path, counts: dict[str, int]) -> None:
        self.path = path
        self.total = sum(counts.values())
        self.rejected = counts["unknown_ca"]


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> Capture:
    path = tmp_path_factory.mktemp("scale") / "many.pcap"
    with path.open("wb") as out:
        made = subprocess.run(
            [
                sys.executable,
                "-m",
                "tests.pcap_stream_generator",
                "--bytes",
                str(CAPTURE_BYTES),
                "--bulk",
                "0",
            ],
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            timeout=120,
            check=True,
        )
    counts = {key: int(value) for key, value in (word.split("=") for word in made.stderr.split())}
    return Capture(path, counts)


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "inspector", *argv], capture_output=True, text=True, cwd=ROOT, timeout=600
    )


@pytest.fixture(scope="module")
def json_run(capture: Capture, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    """`pcap --json --html`: the document on stdout and the page beside it."""
    page = tmp_path_factory.mktemp("page") / "many.html"
    done = _run("pcap", str(capture.path), "--json", "--html", str(page))
    assert done.returncode == 1, done.stderr  # the rejected connections are errors
    assert done.stderr == f"mtls-inspect: wrote {page} ({page.stat().st_size} bytes)\n"
    return json.loads(done.stdout), page.read_text()


class Balanced(HTMLParser):
    """Every element closed in order (void elements aside), and the text of every script."""

    VOID = frozenset({"meta", "br", "img", "input", "link", "hr", "rect", "line", "polygon", "path"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.errors: list[str] = []
        self.scripts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        pass  # <rect .../> in the SVG

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.open[-1:] or 'nothing'} at {self.getpos()}")
            return
        self.open.pop()

    def handle_data(self, data: str) -> None:
        if self.open and self.open[-1] == "script":
            self.scripts.append(data)


def test_the_page_says_how_many_it_shows_and_lists_every_failure(
    capture: Capture, json_run: tuple[dict[str, Any], str]
) -> None:
    document, page = json_run
    assert len(document["connections"]) == capture.total > MAX_TABLE_ROWS
    assert (
        f"This page shows {MAX_TABLE_ROWS} of {capture.total} connections (errors first, then warnings); "
        f"{MAX_DETAILED} are drawn in full." in page
    )
    assert page.count('<tr class="row-') == MAX_TABLE_ROWS
    assert page.count('<tr class="row-fail"') == capture.rejected  # every failure is listed
    assert page.count('<section class="connection') == MAX_DETAILED
    left = capture.total - MAX_TABLE_ROWS
    assert f"{left} more connections are not listed; the JSON document has them all." in page
    assert f"Not listed, by outcome: completed {left}." in page
    verdict = page.split('id="verdict"', 1)[1].split("</section>", 1)[0]
    assert f"{capture.total} TLS connections in {capture.path}: {capture.rejected} failed" in verdict


def test_the_page_is_well_formed_with_only_its_own_script(json_run: tuple[dict[str, Any], str]) -> None:
    _, page = json_run
    parser = Balanced()
    parser.feed(page)
    parser.close()
    assert parser.errors == [] and parser.open == []
    script = resources.files("inspector.render.html").joinpath("static").joinpath("report.js").read_text()
    assert parser.scripts == [script]


def test_the_page_is_what_report_makes_of_the_json(json_run: tuple[dict[str, Any], str]) -> None:
    document, page = json_run
    assert page == render_html(document)


def test_redacted_page_read_part_by_part_is_the_whole_documents(
    capture: Capture, json_run: tuple[dict[str, Any], str], tmp_path: Path
) -> None:
    document, _ = json_run
    page = tmp_path / "redacted.html"
    done = _run("pcap", str(capture.path), "--html", str(page), "--redact")
    assert done.returncode == 1 and done.stderr.endswith(", redacted)\n")
    redacted = page.read_text()
    assert redacted == render_html(document, redact=True)
    assert "127.0.0.1" not in redacted and "192.0.2.1" in redacted


def _spooled(document: dict[str, Any]) -> DocumentSource:
    """The document as `pcap --html` reads it: its lists parked in spools (on disk past 8 MB)."""
    connections, findings = Spool(), Spool()
    for item in document["connections"]:
        connections.add(item["index"], compact(item))
    for item in document["findings"]:
        findings.add(0, compact(item))
    head = {key: value for key, value in document.items() if key not in ("connections", "findings")}
    return DocumentSource(head, tuple(document), connections.texts, findings.texts)


def test_the_page_is_drawn_without_holding_the_document(
    json_run: tuple[dict[str, Any], str], tmp_path: Path
) -> None:
    document, page = json_run
    text = json.dumps(document)
    source = _spooled(document)
    del document
    tracemalloc.start()
    try:
        json.loads(text)  # what holding the document costs
        _, whole = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        write_html(source, tmp_path / "spooled.html")
        _, drawing = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert (tmp_path / "spooled.html").read_text() == page
    assert drawing < whole / 2, (drawing >> 20, whole >> 20)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(0, 2), min_size=1, max_size=60), st.randoms(use_true_random=False), st.integers(1, 9)
)
def test_a_connection_the_page_lists_is_never_kept_as_a_stub(
    ranks: list[int], order: random.Random, rows: int
) -> None:
    """Connections end in any order; whatever the order, each that the page lists (errors first,
    then warnings, then the others, each by number, `rows` at most) was kept whole."""
    numbers = list(range(1, len(ranks) + 1))
    listed = set(sorted(numbers, key=lambda n: (ranks[n - 1], n))[:rows])
    report = PageReport(rows)
    arrival = numbers[:]
    order.shuffle(arrival)
    kept = {n for n in arrival if report._may_be_listed(n, ranks[n - 1])}
    assert listed <= kept
