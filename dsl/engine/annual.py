"""Annual results of scorecards scored per quarter: the annual expression over the quarters."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dsl.compile.ir import CScorecard
from dsl.compile.runtime import Missing, round_to
from dsl.engine.context import TraceLine
from dsl.engine.results import SubjectResult
from dsl.engine.scoring import ResultView, rounded

if TYPE_CHECKING:
    from dsl.engine.period import PeriodRun


def score_annual(
    run: PeriodRun, card: CScorecard, quarters: list[PeriodRun]
) -> dict[str, SubjectResult]:
    """Each subject's year from its published quarterly finals."""
    assert card.annual is not None
    places, mode = run.compiled.places, run.compiled.round_mode
    out: dict[str, SubjectResult] = {}
    for s in run.pops[card.id]:
        res = SubjectResult(s, card.id, str(run.period), "annual")
        if s in run.traced:
            res.trace = []
        finals = []
        for q in quarters:
            qres = q.results.get(card.id, {}).get(s)
            if qres is not None and qres.final is not None:
                finals.append(round_to(qres.final, places, mode))
                if q.period.quarter is not None:
                    res.by_quarter[q.period.quarter] = finals[-1]
        res.quarters = finals
        c = run.ctx(card.id, s)
        broken = [q.results.get(card.id, {}).get(s) for q in quarters]
        failed = next((b for b in broken if b is not None and b.error is not None), None)
        if failed is not None and failed.error is not None:
            # A quarter that failed fails the year: the mean of the other quarters is not it.
            error = failed.error
            res.error, res.failure = dict(error), failed.failure
            res.why_missing = f"a quarter failed, so left out of rankings: {error['message']}"
            res.missing.append("final")
            out[s] = res
            continue
        try:
            res.final = card.annual(ResultView(res, c, run))
            if res.final is not None:
                res.final = rounded(card, "final", res.final, res)
        except Missing:
            res.final = None
            res.missing.append("final")
            whys = [q.results.get(card.id, {}).get(s) for q in quarters]
            why = next((w.why_missing for w in whys if w is not None and w.why_missing), None)
            res.why_missing = f"no quarterly final ({why})" if why else "no quarterly final"
        except (ArithmeticError, LookupError, TypeError) as e:
            out[s] = res.fail(run.rule_error(e, card.span, c))
            continue
        if res.trace is not None:
            res.trace.append(
                TraceLine(
                    "annual",
                    res.final,
                    f"{card.span.path}:{card.span.line}",
                    [],
                    "from quarters " + ", ".join(str(x) for x in finals),
                )
            )
        out[s] = res
    return out


def blend_annual(
    run: PeriodRun,
    card: CScorecard,
    quarters: list[PeriodRun],
    results: dict[str, SubjectResult],
) -> None:
    """A scorecard scored for the year from its own facts and with an `annual` too: the year's
    final becomes `annual`, which reads the year's own results and the quarters' finals."""
    assert card.annual is not None
    places, mode = run.compiled.places, run.compiled.round_mode
    for s, res in results.items():
        if res.final is None:
            continue
        finals = []
        for q in quarters:
            qres = q.results.get(card.id, {}).get(s)
            if qres is not None and qres.final is not None:
                finals.append(round_to(qres.final, places, mode))
                if q.period.quarter is not None:
                    res.by_quarter[q.period.quarter] = finals[-1]
        res.quarters = finals
        c = run.ctx(card.id, s)
        own = res.final
        try:
            res.final = card.annual(ResultView(res, c, run))
            if res.final is not None:
                res.final = rounded(card, "final", res.final, res)
        except Missing as e:
            res.final = None
            res.missing.append("final")
            res.why_missing = f"annual missing: {e}"
        except (ArithmeticError, LookupError, TypeError) as e:
            raise run.rule_error(e, card.span, c) from e
        if res.trace is not None:
            shown = ", ".join(str(x) for x in finals)
            note = f"from the year's own final {own} and quarters {shown}"
            res.trace.append(
                TraceLine("annual", res.final, f"{card.span.path}:{card.span.line}", [], note)
            )
