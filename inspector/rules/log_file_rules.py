"""Findings about a Java log as a whole, not one of its handshakes: its lone exceptions (one
finding per distinct failure), the application's own word that a handshake completed, the
parts of the log that are missing or cannot be read."""

from __future__ import annotations

import dataclasses
import re

from inspector.findings import Evidence, Finding, Location, make
from inspector.rules.java_exceptions import explain_exception, explain_pair
from inspector.rules.log_rules import LOG_INCOMPLETE, NOT_SHOWN
from parsers.javalog.model import JavaException, LogSummary

_EMPTY_CHAIN = re.compile(r"Empty server certificate chain|null cert chain")
_CLIENT_ALERT = re.compile(r"Received fatal alert: (bad_certificate|certificate_required|handshake_failure)")


def explain_exceptions(
    exceptions: list[JavaException], file: str, host: str | None, clues: list[tuple[int, str]]
) -> list[Finding]:
    """One finding per distinct failure (a count for repeats); both sides of one failure as one."""
    servers = [e for e in exceptions if _EMPTY_CHAIN.search(e.text)]
    clients = [e for e in exceptions if _CLIENT_ALERT.search(e.text) and not _EMPTY_CHAIN.search(e.text)]
    out: list[Finding] = []
    if servers and clients:  # the server's and the client's side of one failure, pasted together
        out.append(explain_pair(servers[0], clients[0], file, host))
        exceptions = [e for e in exceptions if e not in (servers[0], clients[0])]
    groups: dict[tuple[str, str], list[Finding]] = {}
    for e in exceptions:
        f = explain_exception(e, file, host, clues)
        groups.setdefault((f.code, f.summary), []).append(f)
    for found in groups.values():
        first = found[0]
        if len(found) > 1:
            lines = [ev for f in found[1:] for ev in f.evidence[:1]]
            first = dataclasses.replace(
                first,
                summary=f"{first.summary} (×{len(found)}: the same failure repeated)",
                evidence=first.evidence + tuple(lines[:5]),
            )
        out.append(first)
    return out


def completed_by_application(summary: LogSummary, file: str) -> list[Finding]:
    """No debug output, no exception, but the application's log says the handshake completed
    (Apache HttpClient's 'Secure session established', the JDK's JFR TLSHandshake event)."""
    done = [
        (n, t) for n, t in summary.app_lines if "Secure session established" in t or "TLSHandshake: " in t
    ]
    if not done:
        return []
    return [
        make(
            NOT_SHOWN,
            "no javax.net.debug output and no exception: the application's own log says the TLS "
            f"handshake completed (line {done[0][0]}); nothing failed here",
            location=Location(file=file),
            evidence=[Evidence(f"log line {n}", t[:200]) for n, t in done[:3]],
            fix="if the call still fails, it failed after the handshake (the HTTP answer); rerun with "
            "-Djavax.net.debug=ssl:handshake:verbose to see the handshake itself",
        )
    ]


def unreadable_parts(summary: LogSummary, file: str) -> list[Finding]:
    """What the reader could not take in: cut or broken blocks, time zones it does not know."""
    out: list[Finding] = []
    if summary.problems:
        out.append(
            make(
                LOG_INCOMPLETE,
                f"{file}: {summary.problems[0]}"
                + (f" (+{len(summary.problems) - 1} more)" if len(summary.problems) > 1 else ""),
                location=Location(file=file),
                evidence=[Evidence(file, p) for p in summary.problems[:6]],
                fix="keep the JVM's whole stderr, unedited (java ... 2> client.log)",
            )
        )
    if summary.unknown_zones:
        out.append(
            make(
                NOT_SHOWN,
                f"time zone {', '.join(sorted(summary.unknown_zones))} is unknown here: "
                "its times were read as UTC",
                location=Location(file=file),
                fix="give --at YYYY-MM-DD to judge validity at a date of your choice",
            )
        )
    return out
