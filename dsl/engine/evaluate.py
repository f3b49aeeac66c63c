"""Scoring a period: every subject of every scorecard, in dependency order, in one batch."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from decimal import Inexact, localcontext

from dsl.compile.deps import needed
from dsl.compile.ir import CompiledRuleset
from dsl.engine.annual import blend_annual, score_annual
from dsl.engine.joint import joint_amounts
from dsl.engine.period import PeriodRun
from dsl.engine.pools import run_pools
from dsl.engine.populations import table_keys, unplaced
from dsl.engine.ranking import apply_bands, apply_rank
from dsl.engine.results import SubjectResult
from dsl.engine.scoring import score_subject
from dsl.facts.fields import check_org
from dsl.facts.index import Index, Indexer, index_periods
from dsl.facts.inputs import gc_paused
from dsl.facts.periods import Period
from dsl.facts.records import Fact, InputError, Org, live
from dsl.syntax.errors import RuleRuntimeError


def run_period(run: PeriodRun) -> None:
    """Scores every scorecard that applies to the run's period, dependencies first."""
    for key in run.compiled.order:
        card = run.compiled.scorecards[key]
        if run.cards is not None and key not in run.cards:
            continue
        if run.period.kind in card.periods:
            failures: dict[str, RuleRuntimeError] = {}
            joint = joint_amounts(run, key, failures)
            results = {}
            kind = "categories" if card.has_categories else "components"
            for s in run.pops[key]:
                # A rule failing on one subject's facts makes that subject's result an error
                # entry; every other subject is scored.
                err = failures.get(s)
                if err is None:
                    try:
                        results[s] = score_subject(run, card, s, joint.get(s))
                    except RuleRuntimeError as e:
                        err = e
                if err is not None:
                    results[s] = _failed(run, key, s, kind, err)
                run.results.setdefault(key, {})[s] = results[s]
            if run.period.kind == "year" and card.annual is not None and run.quarter_run:
                # The year from its own facts and from the quarters: `annual` over both.
                quarters = [run.quarter_run(q) for q in run.period.quarters()]
                blend_annual(run, card, quarters, results)
        elif run.period.kind == "year" and card.annual is not None and run.quarter_run:
            quarters = [run.quarter_run(q) for q in run.period.quarters()]
            results = score_annual(run, card, quarters)
            run.results[key] = results
        else:
            continue
        apply_rank(run, card, results)
        apply_bands(run, card, results)
    if run.cards is None:  # a focused run scores no pool (a pool may read any scorecard)
        run.pools = run_pools(run)


@dataclass
class Evaluation:
    """The results of a period for every scored subject."""

    compiled: CompiledRuleset
    period: Period
    results: list[SubjectResult]

    def failed(self) -> list[SubjectResult]:
        """The error entries: results of subjects on whose facts a rule failed."""
        return [r for r in self.results if r.error is not None]

    def raise_failed(self) -> None:
        """Raises the first error entry's failure, for callers that need every result."""
        for r in self.failed():
            if r.failure is not None:
                raise r.failure

    def for_subject(self, subject: str) -> list[SubjectResult]:
        """The results of one subject (one per scorecard that scores it)."""
        return [r for r in self.results if r.subject == subject]


def evaluate(
    compiled: CompiledRuleset,
    org: Org,
    facts: list[Fact],
    period: Period,
    traced: Collection[str] = (),
    focus: bool = False,
    org_at: Callable[[Period], Org] | None = None,
    cards: Collection[str] | None = None,
    facts_live: bool = False,
    indexed: Indexer | None = None,
) -> Evaluation:
    """Scores `period` (a quarter or a year) for every subject of every scorecard.

    With `focus`, scorecards whose results need no peers are scored only for the `traced`
    subjects (what `explain` needs); other results are then incomplete. `org_at`, when given,
    is the organisation as it stood for each period scored (the quarters behind a year may
    differ from the year's); otherwise `org` serves every period. With `cards`, only those
    scorecards and the ones their results read (`deps.needed`) are scored, and no pool: their
    results are what a full evaluation gives them, the other scorecards have none. With
    `facts_live`, the caller vouches that no fact supersedes another of `facts` (the database
    leaves out those superseded as it reads them): they are not looked for again. `indexed`:
    the same facts grouped as they were read (`load_inputs(..., periods=...)`), used where it
    was given the periods this evaluation reads (`periods_indexed`).
    """
    closed = None if cards is None else needed(compiled.scorecards, compiled.joints, cards)
    orgs = [org, *(org_at(q) for q in period.quarters())] if org_at else [org]
    for each in {id(o): o for o in orgs}.values():
        problems = check_org(each, compiled.program.organisation)
        problems += unplaced(each, compiled.persons, compiled.sequences)
        problems += table_keys(each, compiled.tables, compiled.sequences)
        if problems:
            raise InputError(
                "organisation records (they do not fit the ruleset's schema)", problems
            )
    periods = periods_indexed(compiled, period)
    runs: dict[Period, PeriodRun] = {}
    indexes: dict[Period, Index] = {}

    def run_of(p: Period) -> PeriodRun:
        if p not in runs:
            # Only the asked period is focused: the quarters behind a year need every subject.
            p_org = org_at(p) if org_at is not None else org
            r = PeriodRun(
                compiled, p_org, indexes.get(p, {}), p, traced, run_of, focus and p == period,
                closed,
            )  # fmt: skip
            run_period(r)
            runs[p] = r
        return runs[p]

    # One pause of the cyclic collector for the whole evaluation: re-enabled between indexing
    # and scoring, its next pass walked every list of the index (5% of a year's evaluation).
    with localcontext() as ctx, gc_paused():
        got = indexed.finish() if indexed is not None and indexed.periods == periods else None
        if got is None:
            got = index_periods(facts if facts_live else live(facts), periods)
        indexes.update(got)
        ctx.prec = 200
        ctx.traps[Inexact] = True  # a decimal result that had to be rounded is a bug, not a score
        main = run_of(period)
        ordered: list[SubjectResult] = []
        for key in sorted(main.results, key=compiled.order.index):
            ordered.extend(sorted(main.results[key].values(), key=_sort_key))
        ordered.extend(main.pools)
        # The runs refer to each other (`run_of`) and to their contexts, which refer back:
        # released, and the indexes with them, they are freed here by counting references.
        # Left to the cyclic collector, its next pass would walk every index list and context
        # (0.7 s of CPU for a year of a million facts) before freeing them.
        for r in runs.values():
            r.release()
        runs.clear()
        indexes.clear()  # held by `run_of`, which refers to itself
    return Evaluation(compiled, period, ordered)


def periods_indexed(compiled: CompiledRuleset, period: Period) -> set[Period]:
    """The periods whose facts evaluating `period` reads: a year's with its quarters; a
    quarter's, with the quarters before it where the ruleset caps a value per year."""
    periods = {period, *period.quarters()} if period.kind == "year" else {period}
    if period.quarter is not None and compiled.per_year:
        # A cap per year: the quarters before this one are scored too, for what they gave.
        periods.update(period.quarters()[: period.quarter - 1])
    return periods


def _failed(
    run: PeriodRun, card: str, subject: str, kind: str, err: RuleRuntimeError
) -> SubjectResult:
    res = SubjectResult(subject, card, str(run.period), kind)
    if subject in run.traced:
        res.trace = []
    return res.fail(err)


def _sort_key(r: SubjectResult) -> tuple[int, str]:
    return (r.rank if r.rank is not None else 10**9, r.subject)
