"""Scores for the analysis from files: an organisation, a facts file, and the rulesets of a
rules folder (`rules/2025`, with `rules/2024` beside it scoring the periods of 2024).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import date
from pathlib import Path

from dsl.analysis.view import PeriodScores, cited, in_period, keep_until, units_of
from dsl.compile.compiler import compile_path
from dsl.compile.ir import CompiledRuleset
from dsl.engine.evaluate import evaluate
from dsl.facts.inputs import Inputs, load_inputs
from dsl.facts.periods import Period
from dsl.facts.records import Fact, InputError, live
from dsl.syntax.errors import DslError

Finder = Callable[[int], CompiledRuleset | None]


def sibling_years(ruleset: Path, main: CompiledRuleset) -> Finder:
    """Rulesets by year: `main` for its own year, else a folder named by the year beside it."""
    cache: dict[int, CompiledRuleset | None] = {}
    if main.year is not None:
        cache[main.year] = main

    def find(year: int) -> CompiledRuleset | None:
        if year not in cache:
            folder = ruleset.resolve().parent / str(year)
            cache[year] = compile_path(folder) if folder.is_dir() else None
        return cache[year]

    return find


class FileSource:
    """Scores of any period from one organisation and facts file (`dsl.analysis.view.Source`).

    Every unit is traced (the analysis reads their traces); persons are traced when asked.
    """

    def __init__(
        self,
        main: CompiledRuleset,
        finder: Finder,
        org: Path,
        facts: Path,
        skip_invalid: bool = False,
        trace_persons: bool = True,
    ) -> None:
        self.main, self.finder = main, finder
        self.org_path, self.facts_path = org, facts
        self.skip_invalid = skip_invalid
        self.trace_persons = trace_persons
        self._inputs: dict[str, Inputs] = {}
        self._scores: dict[tuple[str, Period, date | None], PeriodScores] = {}

    def ruleset(self, period: Period, ruleset: str | None = None) -> CompiledRuleset | None:
        """The ruleset named (a year or the main ruleset's digest), else the period's year's."""
        if ruleset is None:
            return self.finder(period.year)
        if ruleset.isdigit() and len(ruleset) == 4:
            return self.finder(int(ruleset))
        if self.main.digest.startswith(ruleset):
            return self.main
        raise DslError(f"no ruleset '{ruleset}' here (give a year)")

    def inputs(self, compiled: CompiledRuleset) -> Inputs:
        """The organisation and facts, validated against a ruleset (once per ruleset).

        Another year's ruleset may not declare every type of the file (2026's new facts under
        the 2025 rules): facts of a type it does not know are left out of its periods, as
        impact does; any other problem stops as it would for the main ruleset."""
        got = self._inputs.get(compiled.digest)
        if got is None:
            main = compiled.digest == self.main.digest
            got = load_inputs(
                compiled, self.org_path, self.facts_path, self.skip_invalid or not main
            )
            other = [p for p in got.skipped if p.field != "type"]
            if other and not main and not self.skip_invalid:
                raise InputError(
                    "facts (nothing was scored; --skip-invalid scores the rest)", other
                )
            self._inputs[compiled.digest] = got
        return got

    def scores(self, period: Period, ruleset: str | None = None) -> PeriodScores | None:
        """The period's scores, or None when no ruleset serves its year."""
        compiled = self.ruleset(period, ruleset)
        if compiled is None:
            return None
        return self._score(compiled, period, None)

    def as_of(self, period: Period, day: date, ruleset: str | None = None) -> PeriodScores:
        """The period's scores without the facts dated after `day`."""
        compiled = self.ruleset(period, ruleset)
        if compiled is None:
            raise DslError(f"no ruleset scores {period}")
        return self._score(compiled, period, day)

    def facts_of(self, period: Period, types: Collection[str]) -> list[Fact]:
        """The live facts of the given types that belong to `period`."""
        inp = self.inputs(self.ruleset(period) or self.main)
        return [f for f in live(inp.facts) if f.type in types and _belongs(f, period)]

    def recorded(self, period: Period) -> int:
        """How many live facts belong to `period`."""
        inp = self.inputs(self.ruleset(period) or self.main)
        return in_period(live(inp.facts), period)

    def _score(self, compiled: CompiledRuleset, period: Period, day: date | None) -> PeriodScores:
        key = (compiled.digest, period, day)
        got = self._scores.get(key)
        if got is None:
            inp = self.inputs(compiled)
            facts = inp.facts if day is None else keep_until(inp.facts, day)
            traced = units_of(inp.org) | (set(inp.org.persons) if self.trace_persons else set())
            ev = evaluate(compiled, inp.org, facts, period, traced)
            got = PeriodScores(
                compiled,
                ev,
                inp.org,
                cited(ev, facts),
                str(self.facts_path),
                in_period(live(facts), period),
            )
            self._scores[key] = got
        return got


def _belongs(f: Fact, period: Period) -> bool:
    if f.date is not None:
        return period.contains(f.date)
    return f.period == period
