"""A client's pasted error text (curl, openssl, Python, Go, Node, .NET, Postman, the platform's
own words, an HTTP 400 page) read and diagnosed: the typed result `log` renders when the input
holds no javax.net.debug output and no Java exception."""

from __future__ import annotations

from dataclasses import dataclass

from inspector.findings import Finding, has_errors
from inspector.rules.errortext_rules import Diagnosis, ErrorTextContext, diagnose
from parsers.errortext import ErrorTextReading, read_error_text


@dataclass(frozen=True)
class ErrorTextResult:
    source: str  # the file name as given, or "stdin"
    reading: ErrorTextReading
    diagnoses: tuple[Diagnosis, ...]

    @property
    def findings(self) -> list[Finding]:
        return [d.finding for d in self.diagnoses]

    @property
    def failed(self) -> bool:
        return has_errors(self.findings)


def analyse(text: str, source: str, keystore: str | None = None) -> ErrorTextResult | None:
    """The diagnosis of the text; None when nothing in it is recognised."""
    reading = read_error_text(text)
    if not reading.sightings:
        return None
    diagnoses = diagnose(ErrorTextContext(reading, source, keystore))
    return ErrorTextResult(source, reading, tuple(diagnoses)) if diagnoses else None
