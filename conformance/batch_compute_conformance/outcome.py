"""What a run found: every check counted per category and rule, and each violation with its
evidence (the exchange that broke the rule and how to reproduce it)."""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field

from .exchange import Exchange
from .rules import RULES

__all__ = ["Broken", "CategoryResult", "Outcome", "Violation"]

# More examples of one rule broken in one category add nothing to the report.
_MAX_VIOLATIONS_PER_RULE = 5


class Broken(Exception):
    """A rule is broken so badly that the scenario checking it cannot go on."""

    def __init__(self, rule: str, message: str, exchange: Exchange | None = None) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.exchange = exchange


@dataclass
class Violation:
    rule: str
    category: str
    message: str
    exchange: Exchange | None = None
    reproduction: str | None = None  # when a curl of ``exchange`` is not the whole story

    @property
    def text(self) -> str:
        return RULES[self.rule].text

    def how_to_reproduce(self) -> str:
        if self.reproduction:
            return self.reproduction
        return self.exchange.curl() if self.exchange is not None else ""


@dataclass
class CategoryResult:
    name: str
    seconds: float = 0.0
    checks: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    failures: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    notes: list[str] = field(default_factory=list)

    @property
    def rules_checked(self) -> int:
        return len(self.checks)

    @property
    def rules_failed(self) -> int:
        return sum(1 for rule in self.checks if self.failures.get(rule))

    @property
    def rules_passed(self) -> int:
        return self.rules_checked - self.rules_failed


class Outcome:
    """Collects checks as categories run; one instance per run."""

    def __init__(self) -> None:
        self.categories: dict[str, CategoryResult] = {}
        self.violations: list[Violation] = []
        self._current: CategoryResult | None = None
        self._started = 0.0

    # -- categories -----------------------------------------------------------------------------

    def begin(self, category: str) -> None:
        self._current = self.categories.setdefault(category, CategoryResult(category))
        self._started = time.monotonic()

    def end(self) -> None:
        if self._current is not None:
            self._current.seconds += time.monotonic() - self._started
        self._current = None

    @property
    def category(self) -> str:
        return self._current.name if self._current is not None else "setup"

    def note(self, text: str) -> None:
        if self._current is not None:
            self._current.notes.append(text)

    # -- checks ---------------------------------------------------------------------------------

    def check(
        self,
        rule: str,
        ok: bool,
        message: str = "",
        exchange: Exchange | None = None,
        reproduction: str | None = None,
    ) -> bool:
        """Count one check of ``rule``; record a violation when ``ok`` is false."""
        if rule not in RULES:
            raise KeyError(f"unknown rule {rule!r}")
        current = self._current or self.categories.setdefault("setup", CategoryResult("setup"))
        current.checks[rule] += 1
        if ok:
            return True
        current.failures[rule] += 1
        if current.failures[rule] <= _MAX_VIOLATIONS_PER_RULE:
            self.violations.append(
                Violation(rule, current.name, message or RULES[rule].text, exchange, reproduction)
            )
        return False

    def broken(self, error: Broken) -> None:
        self.check(error.rule, False, error.message, error.exchange)

    # -- totals ---------------------------------------------------------------------------------

    @property
    def failed(self) -> bool:
        return any(result.failures for result in self.categories.values())

    def broken_rules(self) -> set[str]:
        return {violation.rule for violation in self.violations}
