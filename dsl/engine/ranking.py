"""Ranking within a scorecard's sequence (or groups of it), vetoes, tiers and grades."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from dsl.compile.ir import CBands, CScorecard
from dsl.compile.runtime import Missing, round_to
from dsl.engine.context import TraceLine
from dsl.engine.results import SubjectResult
from dsl.engine.scoring import ResultView
from dsl.syntax.errors import RuleRuntimeError

if TYPE_CHECKING:
    from dsl.engine.period import PeriodRun


def _applies(period: str | None, run: PeriodRun) -> bool:
    return period is None or period == run.period.kind


def _groups(
    run: PeriodRun,
    card: CScorecard,
    results: dict[str, SubjectResult],
    within: Callable[..., Any] | None,
) -> dict[Any, list[str]]:
    groups: dict[Any, list[str]] = {}
    for s in sorted(results):
        try:
            key = within(run.ctx(card.id, s)) if within is not None else None
        except Missing:
            key = None  # no class (an optional attribute not given): a group of their own
        groups.setdefault(key, []).append(s)
    return groups


_RESULTS = frozenset(("final", "base", "bonus", "penalty", "joint"))


def _key_value(res: SubjectResult, name: str, places: int, mode: str) -> Decimal:
    """A rank key as published; a result the subject has no value for (an annual result has
    no `base` and no parts) counts as 0."""
    if name in res.parts:
        v = res.parts[name]
    elif name in res.indicators:
        v = res.indicators[name]
    elif name in res.not_applicable:
        v = None  # not applicable (不涉及): counts as 0, as a result with no value does
    elif name in _RESULTS:
        v = getattr(res, name)
    else:
        v = None
    return round_to(v if v is not None else Decimal(0), places, mode)


def apply_rank(run: PeriodRun, card: CScorecard, results: dict[str, SubjectResult]) -> None:
    """Ranks subjects by the rank keys, compared as published; full ties share the best rank."""
    spec = card.rank_for(run.period.kind)
    if spec is None:
        return
    places, mode = run.compiled.places, run.compiled.round_mode
    scored = {s: r for s, r in results.items() if r.final is not None}
    for members in _groups(run, card, scored, spec.within).values():
        keyed = {}
        for s in members:
            ks = []
            for name, desc in spec.keys:
                v = _key_value(results[s], name, places, mode)
                ks.append(-v if desc else v)
            keyed[s] = tuple(ks)
        for s in members:
            res = results[s]
            res.rank = 1 + sum(1 for o in members if keyed[o] < keyed[s])
            res.n = len(members)
            if res.trace is not None:
                keys = ", ".join(f"{k} {'desc' if d else 'asc'}" for k, d in spec.keys)
                res.trace.append(
                    TraceLine("rank", res.rank, "", [], f"rank {res.rank} of {res.n} by {keys}")
                )


def apply_bands(run: PeriodRun, card: CScorecard, results: dict[str, SubjectResult]) -> None:
    """Vetoes first, then the first tier (grade) whose condition holds."""
    for bands in (card.tiers, card.grades):
        if bands is None or not _applies(bands.period, run):
            continue
        for s in sorted(results):
            if results[s].final is not None:
                try:
                    _band(run, card, bands, results[s])
                except RuleRuntimeError as e:
                    results[s].fail(e)


def _band(run: PeriodRun, card: CScorecard, bands: CBands, res: SubjectResult) -> None:
    c = run.ctx(card.id, res.subject)
    chosen: str | None = None
    why = ""
    vetoed_by = ""
    for fact, kind, band in card.vetoes:
        if kind == bands.kind and c.facts(fact):
            ids = [f.id for f in c.facts(fact)]
            chosen, why, vetoed_by = band, f"veto: {fact} ({', '.join(sorted(ids))})", fact
            break
    c.take_notes()
    if chosen is None:
        view = ResultView(
            res, c, run, published=True, rank=res.rank, n=res.n, mode=bands.round_mode
        )
        for b in bands.bands:
            try:
                ok = b.cond is None or bool(b.cond(view))
            except Missing:
                ok = False
            except (ArithmeticError, LookupError, TypeError) as e:
                raise run.rule_error(e, b.span, c) from e
            if ok:
                chosen, why = b.id, f"{b.span.path}:{b.span.line}"
                break
    if bands.kind == "tier":
        res.tier = chosen
    else:
        res.grade = chosen
    if res.trace is not None:
        notes = "; ".join(x for x in (f"rank {res.rank} of {res.n}", c.take_notes()) if x)
        step, ref = ("veto", vetoed_by) if vetoed_by else ("band", "")
        res.trace.append(TraceLine(bands.kind, chosen, why, [], notes, step, ref))
