"""What-if (模拟测算): the recorded facts of a period with hypothetical changes, scored without
recording anything, and compared with the recorded scores in the shape of an impact report.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from app.errors import Invalid
from app.services.analysis import DbSource
from dsl.analysis.view import PeriodScores
from dsl.analysis.whatif import Applied, Changes, apply_changes
from dsl.audit.impact import compare, impact_order, standings
from dsl.audit.impact_report import by_scorecard
from dsl.engine.evaluate import evaluate
from dsl.facts.periods import Period
from dsl.facts.records import Fact, InputError, Org

FORMAT = "jixiao-what-if/1"


def what_if(
    base: PeriodScores,
    facts: list[Fact],
    changes: Changes,
    org_at: Callable[[Period], Org] | None = None,
) -> dict[str, Any]:
    """The subjects whose final, rank, tier or grade the changes move (and those they name),
    each as impact shows a subject: old, new, delta, moved."""
    if not changes:
        raise _invalid("give at least one change: add, correct or retract", "body")
    compiled = base.compiled
    try:
        applied = apply_changes(facts, changes, compiled.schema, base.org)
    except InputError as e:
        err = Invalid(str(e).split("\n", 1)[0])
        err.details = [
            {"field": f"body.{p.source}[{p.line}]" + (f".{p.field}" if p.field else ""),
             "message": p.message, "id": p.ident}
            for p in e.problems
        ]  # fmt: skip
        raise err from e
    after = evaluate(compiled, base.org, applied.facts, base.period, org_at=org_at)
    return _report(base, applied, after)


def _report(base: PeriodScores, applied: Applied, after: Any) -> dict[str, Any]:
    old, new = standings(base.evaluation), standings(after)
    named = {c["subject"] for c in applied.changes}
    rows = [compare(k, old.get(k), new.get(k)) for k in {*old, *new}]
    shown = [s for s in rows if s.old != s.new or s.subject in named]
    shown.sort(key=impact_order)
    return {
        "format": FORMAT,
        "ruleset": base.ruleset_json(),
        "period": str(base.period),
        "changes": applied.changes,
        "subjects": [s.as_json() | {"name": base.name(s.subject)} for s in shown],
        "summary": {"changed": sum(1 for s in rows if s.old != s.new),
                    "moved": sum(1 for s in rows if s.moved),
                    "by_scorecard": by_scorecard(rows)},
    }  # fmt: skip


def _invalid(message: str, field: str) -> Invalid:
    err = Invalid(message)
    err.details = [{"field": field, "message": message}]
    return err


def what_if_db(
    src: DbSource, period: Period, body: dict[str, Any], ruleset: str | None = None
) -> dict[str, Any]:
    """`POST /v1/what-if`: the recorded facts of the period with the body's changes."""
    s = src.require(period, ruleset)
    base = src.scores(period, ruleset)
    assert base is not None
    inputs = src.inputs(s)
    result = what_if(base, inputs.facts, Changes.of(body), org_at=inputs.org_of)
    return {**result, "watermark": s.watermark.as_json()}
