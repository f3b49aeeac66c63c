"""Scoring a period: every subject of every scorecard, in dependency order, in one batch."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from decimal import Decimal, Inexact, localcontext
from typing import Any

from dsl.compiled import CompiledRuleset, CScorecard
from dsl.errors import RuleRuntimeError
from dsl.evalctx import Ctx, TraceLine
from dsl.facts import Fact, Org, live
from dsl.nodes import Span
from dsl.periods import Period
from dsl.ranking import apply_bands, apply_rank
from dsl.results import SubjectResult
from dsl.runtime import Missing, round_to
from dsl.scoring import score_subject


def index_facts(facts: Iterable[Fact], period: Period) -> dict[str, dict[str, list[Fact]]]:
    """Live facts of a period grouped by subject and type."""
    out: dict[str, dict[str, list[Fact]]] = {}
    year, quarter = period.year, period.quarter
    for f in facts:
        d = f.date
        if d is not None:
            if d.year != year or (quarter is not None and (d.month + 2) // 3 != quarter):
                continue
        elif f.period != period:
            continue
        by_type = out.get(f.subject)
        if by_type is None:
            by_type = out[f.subject] = {}
        lst = by_type.get(f.type)
        if lst is None:
            by_type[f.type] = [f]
        else:
            lst.append(f)
    return out


def population(card: CScorecard, org: Org) -> list[str]:
    """The subjects of a scorecard's sequence by kind, sorted by id (before any `where`)."""
    seq = card.sequence
    if seq.subject == "person":
        return sorted(org.persons)
    return sorted(u.id for u in org.units.values() if not seq.kinds or u.kind in seq.kinds)


class PeriodRun:
    """The evaluation of one period (a quarter or a year) for every scorecard."""

    def __init__(
        self,
        compiled: CompiledRuleset,
        org: Org,
        facts: list[Fact],
        period: Period,
        traced: Collection[str],
        annual_of: Callable[[Period], PeriodRun] | None,
    ) -> None:
        self.compiled = compiled
        self.org = org
        self.period = period
        self.facts = facts
        self.index = index_facts(facts, period)
        self.traced = traced
        self.results: dict[str, dict[str, SubjectResult]] = {}
        self.ctxs: dict[str, dict[str, Ctx]] = {}
        self._rank_cache: dict[tuple[str, str], dict[str, Any]] = {}
        self._quarter_run = annual_of
        self.pops = {k: self._members(c) for k, c in compiled.scorecards.items()}

    def _members(self, card: CScorecard) -> list[str]:
        subjects = population(card, self.org)
        where = card.sequence.where
        if where is None:
            return subjects
        return [s for s in subjects if where(Ctx(self, card.id, s, self.index.get(s, {}), False))]

    def ctx(self, card: str, subject: str) -> Ctx:
        """The (cached) context of a subject for a scorecard in this period."""
        by_card = self.ctxs.setdefault(card, {})
        c = by_card.get(subject)
        if c is None:
            c = Ctx(self, card, subject, self.index.get(subject, {}), subject in self.traced)
            by_card[subject] = c
        return c

    def rank_values(self, card: str, key: str, fn: Callable[[Ctx], Any]) -> dict[str, Any]:
        """Every present value of `fn` over a scorecard's population (computed once)."""
        got = self._rank_cache.get((card, key))
        if got is None:
            got = {}
            for s in self.pops[card]:
                try:
                    # An untraced context: reading peers' facts must not mark the traced subject's.
                    got[s] = fn(Ctx(self, card, s, self.index.get(s, {}), False))
                except Missing:
                    continue
            self._rank_cache[(card, key)] = got
        return got

    def published(self, card: str, subject: str, what: str) -> Decimal | None:
        """A result as published: rounded to the ruleset's places."""
        res = self.results.get(card, {}).get(subject)
        if res is None:
            return None
        value = res.parts.get(what, res.indicators.get(what, getattr(res, what, None)))
        if value is None:
            return None
        return round_to(value, self.compiled.places, self.compiled.round_mode)

    def rule_error(
        self, err: BaseException, span: Span, c: Ctx, rule: Callable[[Ctx], Any] | None = None
    ) -> RuleRuntimeError:
        """A failure inside a rule, with the rule's line, the subject and the facts it read."""
        tb = err.__traceback__
        line = span
        while tb is not None:
            code = tb.tb_frame.f_code
            if code.co_filename in self.compiled.generated:
                line = Span(code.co_filename, tb.tb_lineno, 1, tb.tb_lineno, 1)
            tb = tb.tb_next
        facts = tuple(f.id for t in c.index.values() for f in t)[:20]
        if rule is not None:
            # Run the rule again, traced, to name exactly the facts it read before failing.
            probe = Ctx(self, c.card, c.subject, c.index, True)
            try:
                rule(probe)
            except Exception:
                facts = tuple(probe.take_used())
        if isinstance(err, ZeroDivisionError):
            message = "division by zero"
        else:
            message = f"{type(err).__name__}: {err}"
        return RuleRuntimeError(f"{message} in {self.period}", line, c.subject, facts)

    def note_ref(self, c: Ctx, card: str, subject: str, what: str, value: Decimal) -> None:
        """Traces a cross-scorecard reference."""
        res = self.results.get(c.card, {}).get(c.subject)
        if c.subject in self.traced and res is not None and res.trace is not None:
            res.trace.append(
                TraceLine(f"uses {card}[{subject}].{what}", value, note="as published (rounded)")
            )

    def run(self) -> None:
        """Scores every scorecard that applies to this period, dependencies first."""
        from dsl.joint import joint_amounts

        for key in self.compiled.order:
            card = self.compiled.scorecards[key]
            if self.period.kind in card.periods:
                joint = joint_amounts(self, key)
                results = {}
                for s in self.pops[key]:
                    results[s] = score_subject(self, card, s, joint.get(s))
                    self.results.setdefault(key, {})[s] = results[s]
            elif self.period.kind == "year" and card.annual is not None and self._quarter_run:
                from dsl.annual import score_annual

                results = score_annual(
                    self, card, [self._quarter_run(q) for q in self.period.quarters()]
                )
                self.results[key] = results
            else:
                continue
            apply_rank(self, card, results)
            apply_bands(self, card, results)


@dataclass
class Evaluation:
    """The results of a period for every scored subject."""

    compiled: CompiledRuleset
    period: Period
    results: list[SubjectResult]

    def for_subject(self, subject: str) -> list[SubjectResult]:
        """The results of one subject (one per scorecard that scores it)."""
        return [r for r in self.results if r.subject == subject]


def evaluate(
    compiled: CompiledRuleset,
    org: Org,
    facts: list[Fact],
    period: Period,
    traced: Collection[str] = (),
) -> Evaluation:
    """Scores `period` (a quarter or a year) for every subject of every scorecard."""
    live_facts = live(facts)
    runs: dict[Period, PeriodRun] = {}

    def run_of(p: Period) -> PeriodRun:
        if p not in runs:
            r = PeriodRun(compiled, org, live_facts, p, traced, run_of)
            r.run()
            runs[p] = r
        return runs[p]

    with localcontext() as ctx:
        ctx.prec = 200
        ctx.traps[Inexact] = True  # a decimal result that had to be rounded is a bug, not a score
        main = run_of(period)
    ordered: list[SubjectResult] = []
    for key in sorted(main.results, key=compiled.order.index):
        ordered.extend(sorted(main.results[key].values(), key=_sort_key))
    return Evaluation(compiled, period, ordered)


def _sort_key(r: SubjectResult) -> tuple[int, str]:
    return (r.rank if r.rank is not None else 10**9, r.subject)
