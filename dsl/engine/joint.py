"""Joint liability: amounts passed from facts on one scorecard's subjects to another's."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING

from dsl.compile.runtime import Missing
from dsl.engine.context import TraceLine
from dsl.engine.scoring import add, mul, sub
from dsl.facts.records import Fact
from dsl.syntax.errors import RuleRuntimeError

if TYPE_CHECKING:
    from dsl.engine.period import PeriodRun

Number = Decimal | Fraction


def joint_amounts(
    run: PeriodRun, card: str, failures: dict[str, RuleRuntimeError] | None = None
) -> dict[str, tuple[Number, list[TraceLine]]]:
    """What each subject of `card` receives in the run's period, capped; with its trace.
    A link that fails on a fact is put in `failures` under the subject it goes to (or, when
    that cannot be told, dropped with the other subjects' amounts intact)."""
    out: dict[str, tuple[Number, list[TraceLine]]] = {}
    for j in run.compiled.joints:
        if j.into != card:
            continue
        members = set(run.pops[card])
        received: dict[str, Number] = {}
        lines: dict[str, list[TraceLine]] = {}
        for link in j.links:
            spec = link.per
            for subject in run.pops[link.scorecard]:
                facts = run.index.get(subject, {}).get(spec.fact, ())
                for f in sorted(facts, key=_fact_order) if run.traced else facts:
                    target = None
                    try:
                        if spec.select is not None and not spec.select(f):
                            continue
                        target = link.target(f, run.ctx(link.scorecard, subject))
                        if target is None or target not in members:
                            continue
                        base = spec.amount(f)
                        amount = mul(link.ratio, base) if link.ratio is not None else link.amount
                    except Missing:
                        continue  # an optional field it reads is absent: the fact passes nothing
                    except (ArithmeticError, LookupError, TypeError) as e:
                        if failures is not None and target in members:
                            ctx = run.ctx(link.scorecard, subject)
                            failures.setdefault(target, run.rule_error(e, link.span, ctx))
                        continue
                    assert amount is not None
                    received[target] = add(received.get(target, Decimal(0)), amount)
                    if target in run.traced:
                        how = f"{link.ratio:%} of {base}" if link.ratio is not None else "fixed"
                        lines.setdefault(target, []).append(
                            TraceLine(
                                f"  joint {j.id}.{link.id} from {f.type} at {subject}",
                                amount,
                                f"{link.span.path}:{link.span.line}",
                                [f.id],
                                how,
                                "joint",
                                f"{j.id}.{link.id}",
                            )
                        )
        given = run.joint_given.setdefault(j.id, {})
        for target, total in received.items():
            cap: Number | None = j.cap
            before: Number = Decimal(0)
            if j.cap is not None and j.cap_per == "year":
                before = _year_before(run, j.id, target)
                left = sub(j.cap, before)
                cap = left if left > 0 else Decimal(0)
            capped = total if cap is None or total <= cap else cap
            given[target] = capped
            trace = lines.get(target, [])
            if target in run.traced:
                per_year = f" ({j.cap} a year, {before} in the quarters before)" if before else ""
                note = (
                    f"{total} received, capped at {cap}{per_year}"
                    if capped != total
                    else f"{total} received"
                )
                trace.append(TraceLine(f"joint {j.id}", capped, "", [], note, "joint_total", j.id))
            prev = out.get(target)
            if prev is None:
                out[target] = (capped, trace)
            else:
                out[target] = (add(prev[0], capped), prev[1] + trace)
    return out


def _year_before(run: PeriodRun, joint: str, target: str) -> Number:
    """What a joint block passed to a target in the quarters of the year before this one."""
    period = run.period
    if period.quarter is None or run.quarter_run is None:
        return Decimal(0)
    total: Number = Decimal(0)
    for q in period.quarters()[: period.quarter - 1]:
        got = run.quarter_run(q).joint_given.get(joint, {}).get(target)
        if got is not None:
            total = add(total, got)
    return total


def _fact_order(f: Fact) -> tuple[int, str]:
    """Fact ids in natural order (f2 before f10) for readable traces."""
    digits = "".join(ch for ch in f.id if ch.isdigit())
    return (int(digits) if digits else 0, f.id)
