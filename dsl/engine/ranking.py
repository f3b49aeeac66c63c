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
    """Vetoes first, then the bands given directly, then the first tier (grade) whose condition
    holds. A band given directly is outside the quota: the others' conditions see their rank
    among the subjects of their group not given a band directly (n stays the group's size)."""
    for bands in (card.tiers, card.grades):
        if bands is None or not _applies(bands.period, run):
            continue
        given: dict[str, tuple[str, str, str, str]] = {}
        for s in sorted(results):
            if results[s].final is not None:
                try:
                    got = _given(run, card, bands, results[s])
                except RuleRuntimeError as e:
                    results[s].fail(e)
                    continue
                if got is not None:
                    given[s] = got
        places = _places(run, card, results, given) if card.direct else {}
        for s in sorted(results):
            if results[s].final is not None:
                try:
                    _band(run, bands, results[s], given.get(s), places.get(s))
                except RuleRuntimeError as e:
                    results[s].fail(e)


def _given(
    run: PeriodRun, card: CScorecard, bands: CBands, res: SubjectResult
) -> tuple[str, str, str, str] | None:
    """The band a veto or a direct statement gives the subject: (band, why, step, ref)."""
    c = run.ctx(card.id, res.subject)
    view = ResultView(res, c, run, published=True, rank=res.rank, n=res.n, mode=bands.round_mode)
    for v in card.vetoes:
        if v.kind != bands.kind:
            continue
        if v.test is None and v.fact is not None:
            if c.facts(v.fact):
                ids = [f.id for f in c.facts(v.fact)]
                c.take_notes()
                return v.band, f"veto: {v.fact} ({', '.join(sorted(ids))})", "veto", v.fact
            continue
        held = _holds(run, c, v.test, view, v.span)
        notes, _ = c.take_notes(), c.take_used()
        if held:
            if v.text == "when":
                why = f"veto when ({v.span.path}:{v.span.line})" + (f": {notes}" if notes else "")
            else:
                why = f"veto: {notes or v.text}"
            return v.band, why, "veto", v.text
    for d in card.direct:
        if d.kind != bands.kind:
            continue
        held = _holds(run, c, d.cond, view, d.span)
        notes, _ = c.take_notes(), c.take_used()
        if held:
            why = f"{d.text} directly ({d.span.path}:{d.span.line}), outside the quota"
            return d.band, why + (f": {notes}" if notes else ""), "direct", d.band
    return None


def _holds(run: PeriodRun, c: Any, test: Any, view: ResultView, span: Any) -> bool:
    try:
        return bool(test(view))
    except Missing:
        return False  # a condition whose value is missing is false, as a band's is
    except (ArithmeticError, LookupError, TypeError) as e:
        raise run.rule_error(e, span, c) from e


def _places(
    run: PeriodRun,
    card: CScorecard,
    results: dict[str, SubjectResult],
    given: dict[str, tuple[str, str, str, str]],
) -> dict[str, int]:
    """Each subject's rank among the subjects of its group not given a band directly (a veto
    keeps the place: ranks do not move for it), compared as `rank` compares them."""
    spec = card.rank_for(run.period.kind)
    if spec is None:
        return {}
    direct = {s for s, g in given.items() if g[2] == "direct"}
    if not direct:
        return {}
    places, mode = run.compiled.places, run.compiled.round_mode
    scored = {s: r for s, r in results.items() if r.final is not None and r.rank is not None}
    out: dict[str, int] = {}
    for members in _groups(run, card, scored, spec.within).values():
        keyed = {}
        for s in members:
            ks = []
            for name, desc in spec.keys:
                v = _key_value(results[s], name, places, mode)
                ks.append(-v if desc else v)
            keyed[s] = tuple(ks)
        others = [s for s in members if s not in direct]
        for s in others:
            out[s] = 1 + sum(1 for o in others if keyed[o] < keyed[s])
    return out


def _band(
    run: PeriodRun,
    bands: CBands,
    res: SubjectResult,
    given: tuple[str, str, str, str] | None,
    place: int | None,
) -> None:
    c = run.ctx(res.scorecard, res.subject)
    chosen: str | None = None
    why = step = ref = ""
    rank = res.rank if place is None else place
    if given is not None:
        chosen, why, step, ref = given
    else:
        view = ResultView(res, c, run, published=True, rank=rank, n=res.n, mode=bands.round_mode)
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
        ranked = f"rank {res.rank} of {res.n}"
        if place is not None and place != res.rank and given is None:
            ranked += f", place {place} among those not given a band directly"
        notes = "; ".join(x for x in (ranked, c.take_notes()) if x)
        res.trace.append(TraceLine(bands.kind, chosen, why, [], notes, step or "band", ref))
