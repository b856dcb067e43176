"""Time `mtls-inspect pcap F --html OUT` against the text report on the dense capture, and the page
in a headless Chromium.

    python benchmarks/bench_html.py [--runs 3] [--capture F] [--regen]

The capture is bench_pcap.py's dense one (8,000+ real handshakes in ~330 MB, 1.5 % of packets
lost; generated into benchmarks/out/ when missing, which needs root and tcpdump). Alternating, it
times `pcap F` (text) and `pcap F --html OUT` (text on stdout and the page), with wall time, CPU
time and peak RSS (GNU time); then opens the page in headless Chromium (selenium and
chromedriver: apt-get install chromium chromium-driver; pip install selenium) and times the
load until the page's script has run, and reads how many connections the page says it shows.
Targets: the --html run <= 150 MB peak RSS and <= 1.3x the text run's time; the page open in < 3 s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from benchmarks.bench_pcap import OUT, Run, generate_dense, measure  # noqa: E402
from benchmarks.common import byte_compile  # noqa: E402

MAX_RSS_MB = 150
MAX_RATIO = 1.3
MAX_OPEN_S = 3.0


def _browser() -> Any:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if chromium is None or driver is None:
        sys.exit("bench_html: needs chromium and chromedriver (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    options.add_argument("--window-size=1100,900")
    return webdriver.Chrome(service=Service(executable_path=driver), options=options)


def open_page(driver: Any, page: Path) -> tuple[float, str]:
    """Seconds from asking for the page to its load event with the page's script run (the table's
    filter shows its count), and the page's own "shows X of Y" sentence."""
    driver.get("about:blank")
    start = time.perf_counter()
    driver.get(page.resolve().as_uri())  # returns at the load event
    count = driver.execute_script(
        "var c = document.getElementById('shown-count'); return c ? c.textContent : '';"
    )
    elapsed = time.perf_counter() - start
    if "shown" not in count:
        sys.exit(f"bench_html: the page's script did not run in Chromium ({count!r})")
    shown = driver.execute_script(
        "var s = document.getElementById('shown-of'); return s ? s.textContent : '(the page does not say)';"
    )
    return elapsed, " ".join(shown.split())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--capture", type=Path, help="time this capture instead of the dense one")
    parser.add_argument("--regen", action="store_true", help="generate the dense capture again")
    args = parser.parse_args()
    path = args.capture or OUT / "dense.pcap"
    if args.capture is None and (args.regen or not path.exists()):
        generate_dense(path, OUT / "dense.keys", 8400, 300)
    byte_compile()
    script = Path(sysconfig.get_path("scripts")) / "mtls-inspect"
    ours = [str(script)] if script.exists() else [sys.executable, "-m", "inspector"]
    print(f"load average {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f}; {args.runs} run(s) each, median")
    runs: dict[str, list[Run]] = {"text": [], "html": []}
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "report.html"
        for _ in range(args.runs):
            runs["text"].append(measure([*ours, "pcap", str(path)]))
            runs["html"].append(measure([*ours, "pcap", str(path), "--html", str(page)]))
        driver = _browser()
        try:
            opened = [open_page(driver, page) for _ in range(args.runs)]
        finally:
            driver.quit()
        size_mb = page.stat().st_size / 1e6
    wall = {form: statistics.median(r.seconds for r in done) for form, done in runs.items()}
    for form, done in runs.items():
        print(
            f"{path.name} {form:<4}: {wall[form]:6.2f} s ({min(r.seconds for r in done):.2f}-"
            f"{max(r.seconds for r in done):.2f}) cpu {statistics.median(r.cpu for r in done):5.2f} s "
            f"peak {max(r.peak_mb for r in done):4d} MB"
        )
    ratio = wall["html"] / wall["text"]
    peak = max(r.peak_mb for r in runs["html"])
    open_s = statistics.median(seconds for seconds, _ in opened)
    print(f"--html / text: {ratio:.2f}x (target <= {MAX_RATIO}); --html peak {peak} MB (<= {MAX_RSS_MB})")
    print(f"page {size_mb:.1f} MB, opened in Chromium in {open_s:.2f} s (target < {MAX_OPEN_S})")
    print(f"the page says: {opened[0][1]}")
    print(f"load average {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f}")
    met = ratio <= MAX_RATIO and peak <= MAX_RSS_MB and open_s < MAX_OPEN_S
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
