"""Timestamps as the JDK prints them: `2026-11-27 07:09:47.200 EST` (11+), `Thu Nov 26 13:15:33 UTC
2026` (JDK 8 certificate dumps). The zone is an abbreviation; unknown ones are read as UTC and
reported by the caller through `zone_known`.

JDK 11+ writes the hour with the pattern `kk` (1-24): the first hour after midnight is `24`, on
the date it starts (`2026-12-08 24:22:07.290 UTC` is 00:22 on 8 December)."""

from __future__ import annotations

import datetime as dt
import re

from parsers.javalog.model import LogSummary

ZONES = {
    "UTC": 0.0,
    "GMT": 0.0,
    "Z": 0.0,
    "WET": 0.0,
    "WEST": 1.0,
    "BST": 1.0,
    "CET": 1.0,
    "CEST": 2.0,
    "MET": 1.0,
    "MEST": 2.0,
    "EET": 2.0,
    "EEST": 3.0,
    "MSK": 3.0,
    "IST": 5.5,
    "IRST": 3.5,
    "PKT": 5.0,
    "ICT": 7.0,
    "WIB": 7.0,
    "SGT": 8.0,
    "HKT": 8.0,
    "CST": -6.0,
    "CDT": -5.0,
    "EST": -5.0,
    "EDT": -4.0,
    "MST": -7.0,
    "MDT": -6.0,
    "PST": -8.0,
    "PDT": -7.0,
    "AKST": -9.0,
    "HST": -10.0,
    "JST": 9.0,
    "KST": 9.0,
    "AEST": 10.0,
    "AEDT": 11.0,
    "ACST": 9.5,
    "AWST": 8.0,
    "NZST": 12.0,
    "NZDT": 13.0,
    "BRT": -3.0,
    "ART": -3.0,
    "SAST": 2.0,
}
_MODERN = re.compile(r"(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,3}))?\s*([A-Za-z+\-:0-9]*)")
_LEGACY = re.compile(r"\w{3} (\w{3}) +(\d{1,2}) (\d\d):(\d\d):(\d\d) ([A-Za-z+\-:0-9]+) (\d{4})")
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTHS = {m: i for i, m in enumerate(_MONTH_NAMES, 1)}
#: the hour as `kk` writes it (24 for the first hour of the day) → the hour of the day
_HOURS = {f"{h:02d}": h % 24 for h in range(25)}


def zone_known(zone: str) -> bool:
    return zone.upper() in ZONES or bool(re.fullmatch(r"(GMT|UTC)?[+-]\d\d:?\d\d", zone.upper()))


def _offset(zone: str) -> dt.timezone:
    z = zone.upper()
    if z in ZONES:
        return dt.timezone(dt.timedelta(hours=ZONES[z]))
    m = re.fullmatch(r"(?:GMT|UTC)?([+-])(\d\d):?(\d\d)", z)
    if m:
        sign = 1 if m.group(1) == "+" else -1
        return dt.timezone(sign * dt.timedelta(hours=int(m.group(2)), minutes=int(m.group(3))))
    return dt.timezone.utc


def parse_java_time(text: str) -> dt.datetime | None:
    m = _MODERN.search(text)
    if m:
        y, mo, d, h, mi, s = (int(x) for x in m.groups()[:6])
        h = 0 if h == 24 else h  # `kk`: the first hour of the day
        ms = int((m.group(7) or "0").ljust(3, "0"))
        try:
            return dt.datetime(y, mo, d, h, mi, s, ms * 1000, tzinfo=_offset(m.group(8) or "UTC"))
        except ValueError:
            return None
    m = _LEGACY.search(text)
    if m and m.group(1) in _MONTHS:
        try:
            return dt.datetime(
                int(m.group(7)),
                _MONTHS[m.group(1)],
                int(m.group(2)),
                int(m.group(3)),
                int(m.group(4)),
                int(m.group(5)),
                tzinfo=_offset(m.group(6)),
            )
        except ValueError:
            return None
    return None


class Stamps:
    """JDK 11+ header stamps as seconds, cached (one log repeats a few zones and days millions of
    times); the zones seen, and those not known, are noted in the summary."""

    def __init__(self, summary: LogSummary) -> None:
        self.summary = summary
        self._epochs: dict[str, float | None] = {}
        self._days: dict[str, float | None] = {}

    def epoch(self, stamp: str) -> float | None:
        # fast path: `yyyy-MM-dd HH:mm:ss.SSS ZONE`, the day and zone parsed once
        if len(stamp) >= 23 and stamp[10] == " " and stamp[13] == ":" and stamp[19] == ".":
            key = stamp[:10] + stamp[23:]
            day = self._days.get(key, -1.0)
            if day == -1.0:
                midnight = self._slow(f"{stamp[:10]} 00:00:00.000{stamp[23:]}")
                day = self._days[key] = midnight
            if day is not None and stamp[11:13] in _HOURS and stamp[14:16].isdigit():
                try:
                    return day + _HOURS[stamp[11:13]] * 3600 + int(stamp[14:16]) * 60 + float(stamp[17:23])
                except ValueError:
                    pass
        return self._slow(stamp)

    def _slow(self, stamp: str) -> float | None:
        if stamp in self._epochs:
            return self._epochs[stamp]
        when = parse_java_time(stamp)
        zone = stamp.rsplit(" ", 1)[-1] if " " in stamp.strip() else ""
        if zone and not zone[0].isdigit():
            self.summary.zones.add(zone)
            if not zone_known(zone):
                self.summary.unknown_zones.add(zone)
        value = when.timestamp() if when else None
        if len(self._epochs) > 4096:
            self._epochs.clear()
        self._epochs[stamp] = value
        return value
