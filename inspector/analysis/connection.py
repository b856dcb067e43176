"""One connection judged: the wire rules' findings and, with a keystore, Java's choice."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from inspector.findings import Finding, sort_findings
from inspector.java.key_managers import Selection
from inspector.keystore.model import Keystore
from inspector.rules.wire_rules import WireContext, check_transcript, selection_for
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
    found = check_transcript(t, store, file, at, command)
    if also_judge is not None:
        found = [*found, *also_judge(t)]
    findings = sort_findings(found)
    selection = selection_for(WireContext(t, store, file, at)) if store is not None else None
    return ConnectionResult(t, findings, selection)
