"""No single fact, whatever its content within the schema, makes another subject's score
unavailable: it is refused on entry (`dsl.facts.limits`, the type's ranges), or the evaluation
scores every other subject (a rule failing on it fails that subject alone)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any
from unittest.mock import patch

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsl.compile.compiler import compile_path
from dsl.compile.ir import CompiledRuleset
from dsl.engine.evaluate import Evaluation, evaluate
from dsl.facts.inputs import Inputs, load_inputs
from dsl.facts.periods import Period
from dsl.facts.validate import validate_facts
from dsl.syntax import nodes as n
from tests.dsl.helpers import HANDWORKED, RULES_2025

PERIODS = (Period.parse("2025Q1"), Period.parse("2025"))


@cache
def _setup() -> tuple[CompiledRuleset, Inputs, dict[Period, Evaluation]]:
    compiled = compile_path(RULES_2025)
    inputs = load_inputs(compiled, HANDWORKED / "org.json", HANDWORKED / "facts.jsonl")
    base = {p: evaluate(compiled, inputs.org, inputs.facts, p) for p in PERIODS}
    return compiled, inputs, base


def _numbers() -> st.SearchStrategy[Any]:
    """Any JSON number: small and huge, short and with hundreds of digits."""
    return st.one_of(
        st.integers(min_value=-(10**30), max_value=10**30),
        st.floats(allow_nan=False, allow_infinity=False),
        st.integers(0, 250).flatmap(
            lambda k: st.decimals(allow_nan=False, allow_infinity=False, places=k)
        ),
        st.decimals(allow_nan=False, allow_infinity=False),
        st.sampled_from([Decimal("1e400"), Decimal("1e-400"), Decimal("0." + "3" * 198)]),
        st.integers(0, 30).map(lambda k: Decimal(10) ** k - Decimal("1e-20")),
    )


def _value(t: n.FieldType, org: Any, indicators: frozenset[str]) -> st.SearchStrategy[Any]:
    if t.is_enum:
        return st.sampled_from([e.id for e in t.values])
    kind = t.name
    if kind in ("number", "integer"):
        return _numbers()
    if kind == "person":
        return st.sampled_from(sorted(org.persons))
    if kind == "unit":
        return st.sampled_from(sorted(org.units))
    if kind == "indicator":
        return st.sampled_from(sorted(indicators))
    if kind == "date":
        return st.dates(date(2024, 1, 1), date(2026, 12, 31)).map(date.isoformat)
    return st.text(max_size=50)


@st.composite
def one_fact(draw: st.DrawFn) -> dict[str, Any]:
    """A fact of any 2025 type on any subject it may be on, in 2025Q1, any field values."""
    compiled, inputs, _ = _setup()
    schema = compiled.schema
    decl = schema.types[draw(st.sampled_from(sorted(schema.types)))]
    org = inputs.org
    subjects = sorted(
        [u for u in org.units if "unit" in decl.subjects]
        + [p for p in org.persons if "person" in decl.subjects]
    )
    raw: dict[str, Any] = {"id": "x1", "type": decl.id, "subject": draw(st.sampled_from(subjects))}
    if decl.kind == "dated":
        raw["date"] = draw(st.dates(date(2025, 1, 1), date(2025, 3, 31))).isoformat()
    else:
        raw["period"] = draw(st.sampled_from(["2025Q1", "2025"]))
    data = {}
    for f in decl.fields:
        if f.type.optional and draw(st.booleans()):
            continue
        data[f.name] = draw(_value(f.type, org, schema.indicators))
    raw["data"] = data
    if draw(st.booleans()):
        # a correction of a fact of the example (it may or may not be of the same kind)
        raw["supersedes"] = draw(st.sampled_from(sorted(f.id for f in inputs.facts)))
    return raw


def _available(ev: Evaluation) -> set[tuple[str, str]]:
    return {
        (r.scorecard, r.subject)
        for r in ev.results
        if r.kind != "pool" and r.final is not None and r.error is None
    }


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(one_fact())
def test_one_fact_never_makes_another_subjects_score_unavailable(raw: dict[str, Any]) -> None:
    _check(raw)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(one_fact())
def test_the_engine_alone_isolates_a_fact_past_the_entry_bounds(raw: dict[str, Any]) -> None:
    """Without the global bounds on numbers (only the types' own ranges), the evaluation
    still scores everyone else: a value of 1e400 or of 198 digits fails its subject alone."""
    with patch("dsl.facts.fields.number_problem", lambda d: ""):
        _check(raw)


def _check(raw: dict[str, Any]) -> None:
    compiled, inputs, base = _setup()
    records: list[tuple[int, Any]] = [(f.line, f) for f in inputs.facts]
    checked = validate_facts([*records, (len(records) + 1, raw)], compiled.schema, inputs.org)
    facts = checked.facts
    if len(facts) == len(inputs.facts):
        return  # refused on entry: it changes nothing
    [fact] = [f for f in facts if f.id == "x1"]
    if fact.supersedes is not None:
        # a correction in a file: the fact it corrects gives way (only its own subject's)
        old = next(f for f in inputs.facts if f.id == fact.supersedes)
        assert (old.type, old.subject) == (fact.type, fact.subject)
    for period in PERIODS:
        ev = evaluate(compiled, inputs.org, facts, period)  # never raises
        before = {k for k in _available(base[period]) if k[1] != fact.subject}
        after = _available(ev)
        assert before <= after, (raw, period, sorted(before - after))
        for r in ev.failed():
            assert r.subject == fact.subject or fact.id in (r.error or {}).get("facts", [])


def test_a_failed_quarter_fails_the_year_not_the_others() -> None:
    """A person's year is the mean of their quarters: with one quarter failed, the year is
    the error (not the mean of the rest); their colleagues' years are scored as before."""
    compiled, inputs, base = _setup()
    raw = {"id": "x1", "type": "work_item", "subject": "nanyue-levy-1", "date": "2025-01-08",
           "data": {"points": Decimal("1e400"), "quality": "excellent"}}  # fmt: skip
    with patch("dsl.facts.fields.number_problem", lambda d: ""):
        checked = validate_facts([(1, raw)], compiled.schema, inputs.org)
    facts = [*inputs.facts, *checked.facts]
    year = evaluate(compiled, inputs.org, facts, Period.parse("2025"))
    failed = [(r.scorecard, r.subject) for r in year.failed()]
    assert failed and {s for _, s in failed} == {"nanyue-levy-1"}
    assert "annual" in {r.kind for r in year.failed()}
    for r in year.failed():
        assert r.final is None and r.error is not None and "x1" in r.error["facts"]
    before = {(r.scorecard, r.subject): r.final for r in base[Period.parse("2025")].results}
    for r in year.results:
        if r.subject != "nanyue-levy-1" and r.kind != "pool":
            assert r.final == before[(r.scorecard, r.subject)], (r.scorecard, r.subject)
