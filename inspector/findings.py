"""The findings model and the registry of finding codes.

Every rule reports through `Finding`; every code is registered once here with its long
explanation, so `mtls-inspect explain CODE` and docs/findings.md come from one place.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"error": 0, "warning": 1, "info": 2}[self.value]


@dataclass(frozen=True)
class Evidence:
    """One fact a finding rests on, naming where it was seen."""

    source: str
    fact: str


@dataclass(frozen=True)
class Location:
    """Where the problem is: a file, and optionally an alias and a chain position."""

    file: str | None = None
    alias: str | None = None
    position: int | None = None
    connection: int | None = None

    def describe(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file)
        if self.connection is not None:
            parts.append(f"connection #{self.connection}")
        if self.alias is not None:
            parts.append(f"alias '{self.alias}'")
        if self.position is not None:
            parts.append(f"chain[{self.position}]")
        return ", ".join(parts)


@dataclass(frozen=True)
class CodeSpec:
    """A registered finding code: its default severity, title and the long story."""

    code: str
    severity: Severity
    title: str
    explanation: str
    group: str


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    summary: str
    location: Location = field(default_factory=Location)
    evidence: tuple[Evidence, ...] = ()
    fix: str = ""
    inference: bool = False

    @property
    def spec(self) -> CodeSpec:
        return REGISTRY[self.code]


REGISTRY: dict[str, CodeSpec] = {}


def register(code: str, severity: Severity, title: str, explanation: str, group: str) -> CodeSpec:
    """Register a finding code once; a second registration of the same code is a bug."""
    if code in REGISTRY:
        raise ValueError(f"finding code {code!r} registered twice")
    spec = CodeSpec(code, severity, title, " ".join(explanation.split()), group)
    REGISTRY[code] = spec
    return spec


def make(
    spec: CodeSpec,
    summary: str,
    *,
    location: Location | None = None,
    evidence: Iterable[Evidence] = (),
    fix: str = "",
    severity: Severity | None = None,
    inference: bool = False,
) -> Finding:
    """Build a finding from its registered code, so codes cannot be misspelt."""
    return Finding(
        code=spec.code,
        severity=severity or spec.severity,
        summary=summary,
        location=location or Location(),
        evidence=tuple(evidence),
        fix=fix,
        inference=inference,
    )


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=lambda f: (f.severity.rank, f.location.alias or "", f.code))


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.severity is Severity.ERROR for f in findings)
