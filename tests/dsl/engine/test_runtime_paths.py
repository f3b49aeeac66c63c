"""Quick paths give what the general ones give: values read without tracing, means of
decimals summed as decimals."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from dsl.compile.runtime import _exact_sum, mean, mean_of, values
from dsl.engine.context import Ctx
from dsl.facts.periods import Period
from dsl.facts.records import Fact

VALUES = st.one_of(
    st.none(), st.sampled_from(["0", "-0", "1.20", "3", "2.125", "-7.5", "99.99"]).map(Decimal)
)


def _ctx(present: list[Decimal | None], traced: bool) -> tuple[Ctx, list[Fact]]:
    facts = [
        Fact(f"f{i}", "r", "p", None, Period(2025, 1), {} if v is None else {"value": v})
        for i, v in enumerate(present)
    ]
    return Ctx(None, "card", "p", {"r": facts}, traced), facts  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(st.lists(VALUES, max_size=30))
def test_values_and_mean_untraced_are_the_traced(present: list[Decimal | None]) -> None:
    quick, _ = _ctx(present, traced=False)
    traced, facts = _ctx(present, traced=True)
    got = values(quick, "r", "value")
    assert got == [v for v in present if v is not None]
    assert values(traced, "r", "value") == got
    # Traced, the facts read are recorded (those with a value), in order.
    read = [f.id for f, v in zip(facts, present, strict=True) if v is not None]
    assert traced.take_used() == read
    if got:
        exact = sum(map(Fraction, got), Fraction(0)) / len(got)
        assert mean(quick, "r", "value") == exact == mean(traced, "r", "value")
        assert type(mean(quick, "r", "value")) is Fraction


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(["0", "1.20", "-3", "2.125"]).map(Decimal),
            st.fractions(max_denominator=12),
            st.integers(-5, 5),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_mean_of_mixed_numbers_is_exact(xs: list[Any]) -> None:
    exact = sum(map(Fraction, xs), Fraction(0)) / len(xs)
    got = mean_of(xs)
    assert got == exact and type(got) is Fraction
    assert _exact_sum(xs) == sum(map(Fraction, xs), Fraction(0))
