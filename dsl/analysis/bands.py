"""Where subjects stand among their peers: the tier or grade of the neighbours one place above
and below (a boundary within one place), and the year as it would end if the remaining quarters
went as the ones so far (the annual expression, ranking and grades of the engine, applied to
the quarterly finals published so far).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from dsl.analysis.view import PeriodScores
from dsl.compile.ir import CompiledRuleset, CScorecard
from dsl.engine.annual import score_annual
from dsl.engine.context import Ctx
from dsl.engine.period import PeriodRun
from dsl.engine.ranking import apply_bands, apply_rank
from dsl.engine.results import SubjectResult
from dsl.facts.index import index_periods
from dsl.facts.periods import Period
from dsl.facts.records import Fact, Org, live
from dsl.syntax import nodes as n

# Chinese names of the bands the shipped rules use; others are shown by their id.
BAND_TITLES = {
    "first": "第一段",
    "second": "第二段",
    "third": "第三段",
    "excellent": "优秀",
    "competent": "称职",
    "basic": "基本称职",
    "incompetent": "不称职",
}


def band_title(band: str | None) -> str:
    """`third` → 第三段."""
    return "" if band is None else BAND_TITLES.get(band, band)


@dataclass(frozen=True)
class Neighbours:
    """A ranked subject and its neighbours one place above and below in a better or worse band."""

    result: SubjectResult
    band: str
    above: SubjectResult | None  # one place better, in a better band
    below: SubjectResult | None  # one place worse, in a worse band
    worst: bool  # in the worst band of the scorecard (and there is more than one)


def band_order(
    results: Iterable[SubjectResult],
    band_of: Callable[[SubjectResult], str | None],
    last: str | None = None,
) -> list[str]:
    """The bands present, best first: by the mean rank of their members, except `last` (the
    band a veto puts a subject in, whatever its rank), which is always the worst."""
    ranks: dict[str, list[int]] = {}
    for r in results:
        band = band_of(r)
        if r.rank is not None and band is not None:
            ranks.setdefault(band, []).append(r.rank)
    return sorted(ranks, key=lambda b: (b == last, Fraction(sum(ranks[b]), len(ranks[b])), b))


def veto_band(card: CScorecard, kind: str) -> str | None:
    """The tier (or grade) a veto of the scorecard puts a subject in, if it declares one."""
    return next((v.band for v in card.vetoes if v.kind == kind), None)


def neighbours(
    results: Iterable[SubjectResult],
    band_of: Callable[[SubjectResult], str | None],
    group_of: Callable[[SubjectResult], Any],
    last: str | None = None,
) -> list[Neighbours]:
    """For each ranked subject with a band: its neighbours in better or worse bands, within
    its ranking group. `last`: the band a veto gives, the worst whatever the ranks say."""
    rows_all = [r for r in results if r.rank is not None and band_of(r) is not None]
    order = band_order(rows_all, band_of, last)
    place = {b: i for i, b in enumerate(order)}
    groups: dict[Any, list[SubjectResult]] = {}
    for r in rows_all:
        groups.setdefault(group_of(r), []).append(r)
    out = []
    for rows in groups.values():
        rows.sort(key=lambda r: (r.rank or 0, r.subject))
        for i, r in enumerate(rows):
            band = band_of(r) or ""
            up = rows[i - 1] if i > 0 else None
            down = rows[i + 1] if i + 1 < len(rows) else None
            up = up if up is not None and place[band_of(up) or ""] < place[band] else None
            down = down if down is not None and place[band_of(down) or ""] > place[band] else None
            worst = band == last if last is not None else len(order) > 1 and band == order[-1]
            out.append(Neighbours(r, band, up, down, worst))
    return out


def group_key(compiled: CompiledRuleset, org: Org, period: Period, card: str) -> Callable[..., Any]:
    """The group a subject is ranked in (`rank within ...`), as the engine computes it."""
    # the ranking of the period's kind: `rank quarter ...` and `rank year ...` group apart
    spec = compiled.scorecards[card].rank_for(period.kind)
    if spec is None or spec.within is None:
        return lambda r: None
    # the contexts are not kept in the run: no cycle, freed as soon as the key is read
    run = PeriodRun(compiled, org, {}, period, (), None)
    within = spec.within
    return lambda r: within(Ctx(run, card, r.subject, {}, False))


# What a band's condition says of a subject's standing: `final >= 85` and `rank <= quota(20%)`
# hold for a high standing, `final < 60` and `rank > n - quota(10%)` for a low one. These
# results are better higher; a rank is better lower.
_HIGHER_BETTER = frozenset(("final", "base", "bonus"))
_LOWER_BETTER = frozenset(("rank", "penalty", "joint"))


def falls(bands: n.Bands | None) -> frozenset[str]:
    """The bands (tiers or grades) that mean a fall: those whose condition holds for a low
    standing only, as `incompetent: final < 60` or `third: rank > n - quota(10%)`. Not the
    `otherwise` band, nor a band for a high standing (`excellent: rank <= quota(20%) and
    final >= 85`): with grades by quota, a subject ranked below the quota is `competent`, which
    is no fall, whatever grades the others of its group have. A condition that reads neither
    a rank nor a result compared with a bound (a count of facts alone) says no standing."""
    if bands is None:
        return frozenset()
    return frozenset(b.id for b in bands.bands if b.cond is not None and _standing(b.cond) < 0)


def _standing(cond: n.Expr) -> int:
    """1 when the condition holds for a high standing, -1 for a low one, 0 when it says
    neither (or both)."""
    if isinstance(cond, n.Unary) and cond.op == "not":
        return -_standing(cond.operand)
    if not isinstance(cond, n.Binary):
        return 0
    if cond.op in ("and", "or"):
        found = {_standing(cond.left), _standing(cond.right)} - {0}
        return found.pop() if len(found) == 1 else 0
    if cond.op not in ("<", "<=", ">", ">="):
        return 0
    left, right = _measure(cond.left), _measure(cond.right)
    if (left == 0) == (right == 0):
        return 0  # two measures compared, or none
    above = cond.op in (">", ">=")  # the left side above the right
    return (left if above else -left) if left else (-right if above else right)


def _measure(expr: n.Expr) -> int:
    """1 for a result that is better higher (`final`), -1 for one better lower (`rank`)."""
    if isinstance(expr, n.Name):
        if expr.id in _HIGHER_BETTER:
            return 1
        if expr.id in _LOWER_BETTER:
            return -1
    return 0


def band_facts(card: n.Scorecard) -> set[str]:
    """The fact types a scorecard's tier and grade conditions and vetoes read."""
    found = {v.fact.name for v in card.vetoes if v.fact is not None}
    conds = [v.when for v in card.vetoes] + [d.cond for d in card.direct]
    for bands in (card.tiers, card.grades, *conds):
        for x in n.walk(bands):
            if isinstance(x, n.Call) and x.args:
                arg = x.args[0].value
                if isinstance(arg, n.Name):
                    found.add(arg.id)
                elif isinstance(arg, n.Attr) and isinstance(arg.obj, n.Name):
                    found.add(arg.obj.id)
    return found


def project_year(
    compiled: CompiledRuleset, org: Org, quarters: Sequence[PeriodScores], facts: Iterable[Fact]
) -> tuple[PeriodRun, dict[str, dict[str, SubjectResult]]]:
    """The annual results of scorecards with `annual`, from the quarters scored so far, as if
    the year ended with them: ranked and graded by the engine. `facts`: the year's so far."""
    year = Period(quarters[-1].period.year)
    cards = [c for c in compiled.scorecards.values() if c.annual is not None]
    wanted = {t for c in cards for t in band_facts(compiled.program.scorecards[c.id])}
    index = index_periods((f for f in live(facts) if f.type in wanted), {year})[year]
    run = PeriodRun(compiled, org, index, year, (), None)
    out: dict[str, dict[str, SubjectResult]] = {}
    for card in cards:
        runs = [_quarter_run(compiled, org, ps, card) for ps in quarters]
        results = score_annual(run, card, runs)
        run.results[card.id] = results
        apply_rank(run, card, results)
        apply_bands(run, card, results)
        out[card.id] = results
    run.release()  # its contexts refer back to it: freed now, not by the cyclic collector
    return run, out


def _quarter_run(
    compiled: CompiledRuleset, org: Org, ps: PeriodScores, card: CScorecard
) -> PeriodRun:
    """A scored quarter as the engine's annual step reads it (its published results)."""
    q = PeriodRun(compiled, org, {}, ps.period, (), None)
    q.results[card.id] = ps.results(card.id)
    return q


def gap(a: SubjectResult | None, b: SubjectResult, pub: Callable[[Any], Decimal]) -> str:
    """The published finals' difference |a − b|, for messages."""
    if a is None or a.final is None or b.final is None:
        return ""
    return str(abs(pub(a.final) - pub(b.final)))
