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
from dsl.audit.hybrid import Step, hybrid, plan
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
        results, alone = _attribute(old.program, new.program, steps, sources, lenient)
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


_FAILS = (DslError, LookupError, TypeError, ValueError, ArithmeticError)


def _attribute(
    old: Program, new: Program, steps: list[Step], sources: dict[str, str], inp: _Inputs
) -> tuple[list[StepResult], dict[str, dict[Key, Any]]]:
    """Scores each step on top of the old rules. A step that fails alone because it reads
    what another step brings (a union of a new sequence, an item of a new table) is scored
    once more together with the steps its error names; the pair is then one line, so that
    no change is counted twice."""
    results: dict[str, StepResult] = {}
    alone: dict[str, dict[Key, Any]] = {}
    failed: dict[str, Exception] = {}
    for step in steps:
        try:
            _, alone[step.id] = _score(hybrid(old, new, step), sources, inp)
            results[step.id] = StepResult(step)
        except _FAILS as e:
            failed[step.id] = e
    groups: dict[str, list[Step]] = {}  # merged step id -> its members
    for step in steps:
        if step.id not in failed:
            continue
        group, error = [step], failed[step.id]
        while True:
            more = _named(error, steps, group, failed)
            # A step already scored with others comes with them.
            for gid, members in list(groups.items()):
                if any(m in more for m in members):
                    more += [m for m in members if m not in more and m not in group]
                    del groups[gid]
                    alone.pop(gid, None)
                    results.pop(gid, None)
            if not more:
                break
            group += more
            program = old
            for member in group:
                program = hybrid(program, new, member)
            try:
                _, together = _score(program, sources, inp)
            except _FAILS as e:
                error = e
                continue
            merged = Step(step.key, tuple(sorted({c for m in group for c in m.changes})))
            for member in group:
                alone.pop(member.id, None)
                results.pop(member.id, None)
                failed.pop(member.id, None)
            groups[merged.id] = group
            alone[merged.id] = together
            results[merged.id] = StepResult(merged, together_with=tuple(m.label for m in group[1:]))
            break
        if step.id in failed:
            results[step.id] = StepResult(step, f"cannot be applied alone ({_reason(error)})")
    order = {s.id: i for i, s in enumerate(steps)}
    return sorted(results.values(), key=lambda r: order.get(r.step.id, 0)), alone


def _named(
    error: Exception, steps: list[Step], group: list[Step], failed: dict[str, Exception]
) -> list[Step]:
    """The steps outside `group` whose node `error` names, with what they need in turn."""
    found: list[Step] = []
    todo = [str(error)]
    while todo:
        said = todo.pop()
        for other in steps:
            if other in group or other in found or not other.key[-1]:
                continue
            if f"'{other.key[-1]}'" in said:
                found.append(other)
                if other.id in failed:
                    todo.append(str(failed[other.id]))
    return found


def _reason(e: Exception) -> str:
    """The error in words; a bare key error names what was not found."""
    if isinstance(e, KeyError):
        return f"it reads '{e.args[0]}', which the old rules do not define"
    return f"{type(e).__name__}: {e}"


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
