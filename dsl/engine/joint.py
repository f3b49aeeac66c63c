"""Joint liability: amounts passed from facts on one scorecard's subjects to another's."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING

from dsl.compile.runtime import Missing
from dsl.engine.context import TraceLine
from dsl.engine.scoring import add, mul
from dsl.facts.records import Fact

if TYPE_CHECKING:
    from dsl.engine.period import PeriodRun

Number = Decimal | Fraction


def joint_amounts(run: PeriodRun, card: str) -> dict[str, tuple[Number, list[TraceLine]]]:
    """What each subject of `card` receives in the run's period, capped; with its trace."""
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
                    try:
                        if spec.select is not None and not spec.select(f):
                            continue
                        target = link.target(f, run.ctx(link.scorecard, subject))
                        base = spec.amount(f)
                    except Missing:
                        continue  # an optional field it reads is absent: the fact passes nothing
                    if target is None or target not in members:
                        continue
                    amount = mul(link.ratio, base) if link.ratio is not None else link.amount
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
        for target, total in received.items():
            capped = total if j.cap is None or total <= j.cap else j.cap
            trace = lines.get(target, [])
            if target in run.traced:
                note = (
                    f"{total} received, capped at {j.cap}"
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


def _fact_order(f: Fact) -> tuple[int, str]:
    """Fact ids in natural order (f2 before f10) for readable traces."""
    digits = "".join(ch for ch in f.id if ch.isdigit())
    return (int(digits) if digits else 0, f.id)
