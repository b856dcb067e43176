"""One connection judged: the wire rules' findings and, with a keystore, Java's choice."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from inspector.findings import Finding, sort_findings
from inspector.java.key_managers import Selection
from inspector.keystore.model import Keystore
from inspector.rules.wire_context import WireContext
from inspector.rules.wire_rules import RULES as WIRE_RULES
from parsers.model import Transcript


@dataclass(frozen=True)
class ConnectionResult:
    """One connection judged: its findings (sorted) and, with a keystore, Java's choice."""

    transcript: Transcript
    findings: list[Finding]
    selection: Selection | None


def analyse_connection(
    t: Transcript,
    store: Keystore | None,
    file: str | None,
    at: dt.datetime | None,
    command: str = "pcap",
    also_judge: Callable[[Transcript], list[Finding]] | None = None,
) -> ConnectionResult:
    """The wire rules' findings (and `also_judge`'s: Java's trust with --truststore), sorted."""
    context = WireContext(t, store, file, at, command)
    found = WIRE_RULES.run(context)
    if also_judge is not None:
        found = [*found, *also_judge(t)]
    # the choice the rules judged is the one the report shows: worked out once, in the context
    return ConnectionResult(t, sort_findings(found), context.selection)


def selection_for(t: Transcript, store: Keystore | None, at: dt.datetime | None = None) -> Selection | None:
    """The key entry a Java client would pick for the transcript's CertificateRequest, and why
    (None without a keystore or a request)."""
    return WireContext(t, store, None, at).selection
