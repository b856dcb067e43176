"""A JDK 11+ log stamps its lines with the pattern `yyyy-MM-dd kk:mm:ss.SSS z`: `kk` counts the
hours 1-24, so the first hour after midnight is written `24`, on the date it starts (a real JDK
17 server's log said `2026-12-08 24:22:07.290 UTC` at 00:22 UTC on 8 December). Read as hour 24
it was the next day, or no time at all; the expiry of a certificate is judged at this time."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from parsers.javalog.model import LogSummary
from parsers.javalog.times import Stamps, parse_java_time

ROOT = Path(__file__).resolve().parent.parent
UTC = dt.timezone.utc


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("2026-12-08 24:22:07.290 UTC", dt.datetime(2026, 12, 8, 0, 22, 7, 290000, tzinfo=UTC)),
        ("2026-12-08 00:22:07.290 UTC", dt.datetime(2026, 12, 8, 0, 22, 7, 290000, tzinfo=UTC)),
        ("2026-12-08 23:59:59.999 UTC", dt.datetime(2026, 12, 8, 23, 59, 59, 999000, tzinfo=UTC)),
        ("2026-12-08 25:00:00.000 UTC", None),
    ],
)
def test_the_first_hour_is_written_24_on_its_own_date(stamp: str, expected: dt.datetime | None) -> None:
    assert parse_java_time(stamp) == expected
    seconds = Stamps(LogSummary()).epoch(stamp)  # the fast path, the day parsed once
    assert seconds == (expected.timestamp() if expected else None)


def test_the_fast_path_agrees_once_the_day_is_known() -> None:
    stamps = Stamps(LogSummary())
    assert (
        stamps.epoch("2026-12-08 23:10:00.000 CET")
        == dt.datetime(2026, 12, 8, 22, 10, tzinfo=UTC).timestamp()
    )
    assert (
        stamps.epoch("2026-12-08 24:10:00.000 CET")
        == dt.datetime(2026, 12, 7, 23, 10, tzinfo=UTC).timestamp()
    )


def test_a_log_written_after_midnight_reads_as_the_same_log_at_00(cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    text = (ROOT / "captures" / "java-expired12.log").read_text()
    assert " 19:04:55." in text
    at_00, at_24 = tmp_path / "at00.log", tmp_path / "at24.log"
    at_00.write_text(text.replace("2026-12-07 19:", "2026-12-07 00:"))
    at_24.write_text(text.replace("2026-12-07 19:", "2026-12-07 24:"))
    reports = []
    for log in (at_00, at_24):
        result = cli("log", str(log), "--json")
        assert result.status == 1, result.err
        document = json.loads(result.out)
        reports.append(
            (
                [h["start_time"] for h in document["handshakes"]],
                sorted(f["code"] for f in document["findings"]),
            )
        )
    assert reports[0] == reports[1]
    assert reports[1][0] == ["2026-12-07T00:04:55.831000+00:00"]
    assert "client-cert-expired" in reports[1][1]
