"""The summary of an impact report: tiers moved, largest gains and losses, mean change, steps."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from dsl.compile.runtime import round_to

if TYPE_CHECKING:
    from dsl.audit.impact import ImpactReport, SubjectImpact

TOP = 3


def _brief(s: SubjectImpact) -> dict[str, Any]:
    return {"subject": s.subject, "scorecard": s.scorecard, "delta": str(s.delta)}


def _mean(values: list[Decimal]) -> str | None:
    if not values:
        return None
    exact = Fraction(sum(values, Decimal(0))) / len(values)
    return str(round_to(exact, 2, "half_up"))


def gains(subjects: list[SubjectImpact], sign: int) -> list[SubjectImpact]:
    """The subjects whose final rose (sign 1) or fell (sign -1) most, largest first."""
    found = [s for s in subjects if s.delta is not None and s.delta * sign > 0]
    found.sort(key=lambda s: (-abs(s.delta or Decimal(0)), s.scorecard, s.subject))
    return found


def by_scorecard(r: ImpactReport) -> dict[str, dict[str, Any]]:
    """Per scorecard: subjects, how many moved tier or grade, mean change, extremes."""
    out: dict[str, dict[str, Any]] = {}
    for card in sorted({s.scorecard for s in r.subjects}):
        rows = [s for s in r.subjects if s.scorecard == card]
        up, down = gains(rows, 1), gains(rows, -1)
        out[card] = {
            "subjects": len(rows),
            "moved": sum(s.moved for s in rows),
            "mean_change": _mean([s.delta for s in rows if s.delta is not None]),
            "largest_gain": _brief(up[0]) if up else None,
            "largest_loss": _brief(down[0]) if down else None,
        }
    return out


def step_totals(r: ImpactReport) -> list[dict[str, Any]]:
    """Each step: the changes it applies, how many subjects it moves alone, and by how much."""
    out = []
    for res in r.steps:
        moved = [s.steps[res.step.id] for s in r.subjects if res.step.id in s.steps]
        out.append(
            {
                "id": res.step.id,
                "label": res.step.label,
                "changes": list(res.step.changes),
                "subjects": len(moved),
                "total": str(sum(moved, Decimal(0))),
                "error": res.error,
            }
        )
    return out


def summary(r: ImpactReport) -> dict[str, Any]:
    """The `summary` object of the impact JSON (docs/audit.md)."""
    interacting = [s for s in r.subjects if s.interaction]
    return {
        "subjects": len(r.subjects),
        "moved": sum(s.moved for s in r.subjects),
        "largest_gains": [_brief(s) for s in gains(r.subjects, 1)[:TOP]],
        "largest_losses": [_brief(s) for s in gains(r.subjects, -1)[:TOP]],
        "by_scorecard": by_scorecard(r),
        "facts_of_unknown_type": r.unknown,
        "facts_invalid": {k: len(v) for k, v in r.invalid.items()},
        "attribution": {
            "done": r.attributed,
            "steps": step_totals(r),
            "not_isolated": r.loose,
            "interacting_subjects": [
                {"subject": s.subject, "scorecard": s.scorecard, "interaction": str(s.interaction)}
                for s in interacting
            ],
        },
    }
