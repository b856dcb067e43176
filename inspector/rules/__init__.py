"""Rule registry: every rule is a small function yielding findings, registered with its code.

Rule modules are imported on demand so `keystore` never pays for the capture rules' imports.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from inspector.findings import REGISTRY, CodeSpec, Finding

ContextT = TypeVar("ContextT")

#: Modules that register finding codes (with those they load: log_rules brings java_exceptions
#: and log_server_rules, wire_rules and keystore_rules the modules of their rules); `explain` and
#: the docs page load them all.
RULE_MODULES = (
    "inspector.rules.keystore_rules",
    "inspector.rules.wire_rules",
    "inspector.rules.probe_rules",
    "inspector.rules.log_rules",
    "inspector.rules.errortext_rules",
    "inspector.rules.serverlog_rules",
    "inspector.rules.server_rules",
    "inspector.rules.reply_rules",
    "inspector.rules.expiry_rules",
    "inspector.rules.store_set_rules",
    "inspector.rules.trust_rules",
)


@dataclass(frozen=True)
class Rule(Generic[ContextT]):
    name: str
    #: the codes this rule may report (a test holds every rule to them)
    codes: tuple[CodeSpec, ...]
    check: Callable[[ContextT], Iterator[Finding]]


class RuleSet(Generic[ContextT]):
    """An ordered group of rules over one kind of context (keystore, transcript...)."""

    def __init__(self) -> None:
        self.rules: list[Rule[ContextT]] = []

    def rule(
        self, *codes: CodeSpec
    ) -> Callable[[Callable[[ContextT], Iterator[Finding]]], Callable[[ContextT], Iterator[Finding]]]:
        def decorate(
            func: Callable[[ContextT], Iterator[Finding]],
        ) -> Callable[[ContextT], Iterator[Finding]]:
            self.rules.append(Rule(func.__name__, codes, func))
            return func

        return decorate

    @classmethod
    def in_order(
        cls, parts: Sequence[RuleSet[ContextT]], order: Sequence[Callable[[ContextT], Iterator[Finding]]]
    ) -> RuleSet[ContextT]:
        """The rules of several modules as one set, run in the order given (every rule of the
        parts named once: a rule added to a part and not to the order fails at import)."""
        by_check = {rule.check: rule for part in parts for rule in part.rules}
        if len(order) != len(by_check) or set(order) != set(by_check):
            missing = sorted(r.name for c, r in by_check.items() if c not in order)
            raise ValueError(f"the rule order must name every rule once (missing: {missing})")
        joined: RuleSet[ContextT] = cls()
        joined.rules = [by_check[check] for check in order]
        return joined

    def run(self, context: ContextT) -> list[Finding]:
        return [finding for _, finding in self.run_by_rule(context)]

    def run_by_rule(self, context: ContextT) -> Iterator[tuple[Rule[ContextT], Finding]]:
        """Each finding with the rule that made it, in rule order."""
        for rule in self.rules:
            for finding in rule.check(context):
                yield rule, finding


def load_all() -> dict[str, CodeSpec]:
    """Import every rule module so the registry is complete."""
    for module in RULE_MODULES:
        importlib.import_module(module)
    return REGISTRY
