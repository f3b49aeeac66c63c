"""Quick paths give what the general ones give: values read without tracing, means of
decimals summed as decimals, a base built from integers."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from dsl.compile.runtime import _exact_sum, mean, mean_of, values
from dsl.engine.context import Ctx
from dsl.engine.scoring import add, mul, weighted_sum
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


NUMBERS = st.one_of(
    st.sampled_from(["0", "0.7", "0.10", "1", "33.5", "-2.25", "100"]).map(Decimal),
    st.fractions(min_value=-200, max_value=200, max_denominator=60),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(NUMBERS, NUMBERS), max_size=6))
def test_weighted_sum_is_the_sum_product_by_product(terms: list[tuple[Any, Any]]) -> None:
    """The base as the parts' weights and scores give it: the same value, type and text as
    adding the products one by one from a decimal 0."""
    folded: Any = Decimal(0)
    for w, s in terms:
        folded = add(folded, mul(w, s))
    got = weighted_sum(terms)
    assert type(got) is type(folded)
    assert got == folded and str(got) == str(folded)
