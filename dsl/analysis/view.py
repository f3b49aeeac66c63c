"""A period's scores as the analysis reads them, and where they come from.

`PeriodScores` is one evaluation (traced at least for the subjects analysed) with the ruleset,
the organisation and the facts its traces cite. A `Source` gives the scores of any period: from
files (`dsl.analysis.source.FileSource`) or from the database's score cache (the service).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Protocol

from dsl.compile.ir import CompiledRuleset
from dsl.compile.runtime import round_to
from dsl.engine.evaluate import Evaluation
from dsl.engine.results import SubjectResult
from dsl.facts.periods import Period
from dsl.facts.records import Fact, Org

Number = Decimal | Fraction


@dataclass
class PeriodScores:
    """One evaluation of a period under one ruleset, with what the analysis reads beside it."""

    compiled: CompiledRuleset
    evaluation: Evaluation
    org: Org
    facts: Mapping[str, Fact]  # at least the facts the traces cite, by id
    note: str = ""  # provenance shown to readers (a watermark, a file name)
    recorded: int | None = None  # how many live facts the period has (None: not counted)
    _by_card: dict[str, dict[str, SubjectResult]] = field(default_factory=dict, repr=False)

    @property
    def period(self) -> Period:
        """The period scored."""
        return self.evaluation.period

    def results(self, card: str) -> dict[str, SubjectResult]:
        """A scorecard's results by subject."""
        if not self._by_card:
            for r in self.evaluation.results:
                self._by_card.setdefault(r.scorecard, {})[r.subject] = r
        return self._by_card.get(card, {})

    def result(self, card: str, subject: str) -> SubjectResult | None:
        """A subject's result on a scorecard, if it was scored."""
        return self.results(card).get(subject)

    def pub(self, x: Number | int) -> Decimal:
        """A value as the ruleset publishes it (rounded to its places, with its mode)."""
        return round_to(x, self.compiled.places, self.compiled.round_mode)

    def name(self, subject: str) -> str:
        """A unit's or person's name, else its id."""
        unit = self.org.units.get(subject)
        if unit is not None:
            return unit.name or subject
        person = self.org.persons.get(subject)
        return (person.name or subject) if person is not None else subject

    def ruleset_json(self) -> dict[str, object]:
        """`{"name", "year", "digest"}` of the ruleset."""
        c = self.compiled
        return {"name": c.name, "year": c.year, "digest": c.digest}


def cited(ev: Evaluation, facts: Iterable[Fact]) -> dict[str, Fact]:
    """The facts that the evaluation's traces name, by id."""
    wanted = {i for r in ev.results for t in r.trace or () for i in t.facts}
    return {f.id: f for f in facts if f.id in wanted} if wanted else {}


def units_of(org: Org) -> set[str]:
    """Every unit of the organisation: the subjects traced for the analysis."""
    return set(org.units)


class Source(Protocol):
    """Scores of any period, as the analysis asks for them."""

    def scores(self, period: Period, ruleset: str | None = None) -> PeriodScores | None:
        """The period's scores under the named ruleset (a year or digest), else the one serving
        the period's year; None when no ruleset serves it."""

    def as_of(self, period: Period, day: date, ruleset: str | None = None) -> PeriodScores:
        """The period's scores from what had happened by `day`: facts dated later left out."""

    def facts_of(self, period: Period, types: Collection[str]) -> list[Fact]:
        """The live facts of the given types that belong to a period."""

    def recorded(self, period: Period) -> int:
        """How many facts belong to the period (0: none; a source may stop counting at 1)."""


def previous(p: Period) -> Period:
    """The period before: the quarter before a quarter, the year before a year."""
    if p.quarter is None:
        return Period(p.year - 1)
    return Period(p.year, p.quarter - 1) if p.quarter > 1 else Period(p.year - 1, 4)


def next_period(p: Period) -> Period:
    """The period after: the next quarter, or the next year."""
    if p.quarter is None:
        return Period(p.year + 1)
    return Period(p.year, p.quarter + 1) if p.quarter < 4 else Period(p.year + 1, 1)


def year_ago(p: Period) -> Period:
    """The same period a year earlier."""
    return Period(p.year - 1, p.quarter)


def quarters_back(p: Period, count: int) -> list[Period]:
    """`count` quarters ending with quarter `p`, oldest first."""
    out = [p]
    while len(out) < count:
        out.append(previous(out[-1]))
    return out[::-1]


def in_period(facts: Iterable[Fact], period: Period) -> int:
    """How many of the facts belong to the period (by date, or the period they name)."""
    return sum(
        1
        for f in facts
        if (f.date is not None and period.contains(f.date))
        or (f.period is not None and f.period == period)
    )


def keep_until(facts: Iterable[Fact], day: date) -> list[Fact]:
    """The facts that had happened by `day`: dated facts after it are left out."""
    return [f for f in facts if f.date is None or f.date <= day]


def subjects_of(ps: PeriodScores, card: str, only: Collection[str] | None = None) -> list[str]:
    """A scorecard's subjects in the period (optionally only some), by id."""
    got = ps.results(card)
    return sorted(s for s in got if only is None or s in only)
