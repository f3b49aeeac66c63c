"""Scoring the same facts under two rulesets, and attributing each change of final to the rules.

Every value compared is the published one (rounded as its ruleset says), so the changes shown
add up to what a reader of both result files sees. Each isolable step of the diff (see
`dsl.audit.hybrid`) is scored on its own, on top of the old rules; what the steps do not explain
separately is reported as their interaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from dsl.audit.diff import diff_rulesets
from dsl.audit.hybrid import hybrid, plan
from dsl.audit.impact_facts import FactSource
from dsl.audit.impact_report import ImpactReport, Key, Standing, StepResult, SubjectImpact
from dsl.audit.rulesource import RuleSource
from dsl.compile.compiler import compile_program
from dsl.compile.ir import CompiledRuleset
from dsl.compile.runtime import round_to
from dsl.engine.evaluate import Evaluation, evaluate
from dsl.facts.periods import Period
from dsl.facts.records import Org
from dsl.syntax.errors import DslError
from dsl.syntax.program import Program


def _published(
    compiled: CompiledRuleset,
    org: Org,
    facts: Any,
    period: Period,
    org_at: Callable[[Period], Org] | None,
) -> dict[Key, Any]:
    ev = evaluate(compiled, org, facts, period, org_at=org_at)
    out: dict[Key, Any] = dict(standings(ev))
    for r in ev.results:
        if r.kind == "pool":
            out[("", r.subject)] = r.as_json(compiled.places, compiled.round_mode)
    return out


def standings(ev: Evaluation) -> dict[Key, Standing]:
    """Each scorecard result's published final, rank, tier and grade (pools left out)."""
    c = ev.compiled
    out: dict[Key, Standing] = {}
    for r in ev.results:
        if r.kind == "pool":
            continue
        final = None if r.final is None else round_to(r.final, c.places, c.round_mode)
        out[(r.scorecard, r.subject)] = Standing(final, r.rank, r.tier, r.grade, r.why_missing)
    return out


def _score(program: Program, sources: dict[str, str], inp: _Inputs) -> Any:
    compiled = compile_program(program, sources)
    got = inp.facts(compiled.schema, inp.lenient)
    return got, _published(compiled, inp.org, got.facts, inp.period, inp.org_at)


@dataclass
class _Inputs:
    org: Org
    facts: FactSource
    period: Period
    lenient: bool = False
    org_at: Callable[[Period], Org] | None = None


def run_impact(
    old: RuleSource,
    new: RuleSource,
    org: Org,
    facts: FactSource,
    period: Period,
    attribute: bool = True,
    org_at: Callable[[Period], Org] | None = None,
) -> ImpactReport:
    """Scores `period` under both rulesets and, if asked, each step of the diff alone.

    `org_at` gives the organisation of each period scored (a year's quarters), as `evaluate`.
    """
    d = diff_rulesets(old, new)
    inp = _Inputs(org, facts, period, org_at=org_at)
    f_old, before = _score(old.program, old.sources, inp)
    f_new, after = _score(new.program, new.sources, inp)
    steps, loose = plan(d.changes)
    results: list[StepResult] = []
    alone: dict[str, dict[Key, Any]] = {}
    if attribute:
        lenient = _Inputs(org, facts, period, lenient=True, org_at=org_at)
        sources = {**old.sources, **new.sources}
        for step in steps:
            program = hybrid(old.program, new.program, step)
            try:
                _, alone[step.id] = _score(program, sources, lenient)
            except (DslError, LookupError, TypeError, ValueError, ArithmeticError) as e:
                # A step that needs other changes (a rule reading a new table, say) fails alone.
                why = f"cannot be applied alone ({type(e).__name__}: {e})"
                results.append(StepResult(step, why))
                continue
            results.append(StepResult(step))
    pools = {
        side: [(k[1], v) for k, v in sorted(got.items()) if k[0] == ""]
        for side, got in (("from", before), ("to", after))
    }
    keys = {k for k in {*before, *after} if k[0] != ""}
    subjects = [compare(k, before.get(k), after.get(k), alone) for k in keys]
    subjects.sort(key=impact_order)
    return ImpactReport(
        d,
        period,
        subjects,
        results,
        loose,
        {"from": f_old.unknown, "to": f_new.unknown},
        {"from": f_old.problems, "to": f_new.problems},
        attribute,
        pools,
    )


def compare(
    key: Key,
    a: Standing | None,
    b: Standing | None,
    alone: dict[str, dict[Key, Standing]] | None = None,
) -> SubjectImpact:
    """One subject before (`a`) and after (`b`), and what each step scored alone did to it."""
    alone = alone or {}
    card, subject = key
    if a is None or b is None or a.final is None or b.final is None:
        return SubjectImpact(subject, card, a, b, None)
    delta = b.final - a.final
    steps: dict[str, Decimal] = {}
    for step_id, finals in alone.items():
        got = finals.get(key)
        if got is not None and got.final is not None and got.final != a.final:
            steps[step_id] = got.final - a.final
    interaction = (delta - sum(steps.values(), Decimal(0))) if alone else None
    return SubjectImpact(subject, card, a, b, delta, steps, interaction)


def impact_order(s: SubjectImpact) -> tuple[int, Decimal, str, str]:
    """Largest change first; subjects without a change of final last."""
    if s.delta is None:
        return (1, Decimal(0), s.scorecard, s.subject)
    return (0, -abs(s.delta), s.scorecard, s.subject)
