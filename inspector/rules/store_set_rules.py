"""A store of a many-keystore run that could not be opened: one finding on it, the run goes on."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from inspector.findings import Evidence, Finding, Location, Severity, make, register
from inspector.rules import RuleSet

UNREADABLE = register(
    "keystore-unreadable",
    Severity.ERROR,
    "A keystore of the set could not be opened",
    """In a run over many keystores, one that cannot be read (wrong password, a corrupt or
    truncated file, not a keystore) is reported on its own and the others are still judged. The
    message is the one a single-store run would print (exit status 2 there).""",
    "keystore",
)


@dataclass(frozen=True)
class UnreadableStore:
    path: str
    message: str
    hint: str


RULES: RuleSet[UnreadableStore] = RuleSet()


@RULES.rule(UNREADABLE)
def unreadable(ctx: UnreadableStore) -> Iterator[Finding]:
    yield make(
        UNREADABLE,
        ctx.message,
        location=Location(file=ctx.path),
        evidence=[Evidence(ctx.path, ctx.message)],
        fix=ctx.hint,
    )
