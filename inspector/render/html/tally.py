"""Findings read one by one into what the page shows of them, in memory bounded by the number of
distinct codes (not of findings): the verdict's cards, the counts, which connections have an
error, and the findings of the few connections drawn in full."""

from __future__ import annotations

from dataclasses import dataclass, field

from inspector.render.html.model import FindingCard, FindingView
from inspector.render.html.sections import SEVERITIES
from inspector.render.html.source import FindingBrief

GROUP_OVER = 3  # a code found in more connections than this gets one card naming the others
ALSO_NAMED = 20


@dataclass
class _Code:
    first: int  # the position of its first finding
    shown: list[tuple[int, FindingView]] = field(default_factory=list)  # the first GROUP_OVER
    count: int = 0
    others: list[int] = field(default_factory=list)  # connections of the later ones, ALSO_NAMED at most


class CardPile:
    """Every finding of one severity as a card, except that a code seen in many connections is
    one card naming the rest (where it first appears); otherwise in the document's order."""

    def __init__(self) -> None:
        self._codes: dict[str, _Code] = {}
        self.count = 0

    def add(self, finding: FindingView) -> None:
        self.count_in(finding.code, finding.connection, finding)

    def shows(self, code: str) -> bool:
        """Whether the next finding of this code is drawn (not only counted)."""
        seen = self._codes.get(code)
        return seen is None or seen.count < GROUP_OVER + 1

    def count_in(self, code_name: str, connection: int | None, finding: FindingView | None) -> None:
        """`finding`: its view, which may be None only when `shows` says it is not drawn."""
        position = self.count
        self.count += 1
        code = self._codes.get(code_name)
        if code is None:
            code = self._codes[code_name] = _Code(position)
        if code.count < GROUP_OVER + 1:
            assert finding is not None, "a finding drawn without its view"
            code.shown.append((position, finding))
        if code.count and connection is not None and len(code.others) < ALSO_NAMED:
            code.others.append(connection)
        code.count += 1

    def cards(self) -> list[FindingCard]:
        placed: list[tuple[int, FindingCard]] = []
        for code in self._codes.values():
            if code.count <= GROUP_OVER:
                placed += [(position, FindingCard(f, [], 0)) for position, f in code.shown]
            else:
                card = FindingCard(code.shown[0][1], code.others, code.count - 1 - len(code.others))
                placed.append((code.first, card))
        return [card for _, card in sorted(placed, key=lambda pair: pair[0])]


class FindingTally:
    """`detailed`: the connections drawn in full, whose findings are kept whole."""

    def __init__(self, detailed: set[int]) -> None:
        self.piles = {severity: CardPile() for severity in SEVERITIES}
        self.with_errors: set[int] = set()
        self.detailed = detailed
        self._of_connection: dict[int | None, list[FindingView]] = {}
        self.alias_severities: dict[str, set[str]] = {}

    def add(self, finding: FindingView) -> None:
        self.piles[finding.severity].add(finding)
        if finding.severity == "error" and finding.connection is not None:
            self.with_errors.add(finding.connection)
        if finding.connection in self.detailed:
            self._of_connection.setdefault(finding.connection, []).append(finding)
        if finding.alias is not None:
            self.alias_severities.setdefault(finding.alias, set()).add(finding.severity)

    def counts_only(self, brief: FindingBrief) -> bool:
        """Whether this finding is only counted (its view would not be drawn): then `count` it,
        else `add` its view."""
        code, severity = _normal(brief)
        return brief.connection not in self.detailed and not self.piles[severity].shows(code)

    def count(self, brief: FindingBrief) -> None:
        """A finding `counts_only` said is only counted: what `add` records of it."""
        code, severity = _normal(brief)
        self.piles[severity].count_in(code, brief.connection, None)
        if severity == "error" and brief.connection is not None:
            self.with_errors.add(brief.connection)

    def of_connection(self, number: int) -> list[FindingView]:
        """Its findings, errors first (as the verdict orders them)."""
        mine = self._of_connection.get(number, [])
        return sorted(mine, key=lambda f: SEVERITIES.index(f.severity))

    def has_error(self, number: int | None) -> bool:
        return number in self.with_errors


def _normal(brief: FindingBrief) -> tuple[str, str]:
    """The code and severity as finding_view makes them."""
    return brief.code or "(no code)", brief.severity if brief.severity in SEVERITIES else "info"
