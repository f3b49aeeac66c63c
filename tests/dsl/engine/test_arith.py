"""The engine's shortcuts in exact arithmetic give what plain Fraction arithmetic gives, and an
evaluation leaves no cycles for the collector (its runs are released when it ends)."""

from __future__ import annotations

import gc
import operator
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from dsl.compile.compiler import compile_path
from dsl.compile.runtime import div, mean_of, radd, round_to, rsub
from dsl.engine.context import Ctx
from dsl.engine.evaluate import evaluate
from dsl.engine.period import PeriodRun
from dsl.engine.scoring import add, sub
from dsl.facts.inputs import load_inputs
from dsl.facts.periods import Period
from tests.dsl.helpers import HANDWORKED, RULES_2025

decimals = st.decimals(min_value=-(10**6), max_value=10**6, places=3, allow_nan=False)
numbers = st.one_of(
    decimals,
    st.fractions(max_denominator=10**4).filter(lambda f: abs(f) < 10**6),
    st.sampled_from([Decimal(0), Decimal("0.00"), Decimal("-0"), Fraction(0)]),
)


def _q(x: Decimal | Fraction | int) -> Fraction:
    return Fraction(x)


@given(numbers, numbers)
def test_add_and_sub_are_exact(a: Decimal | Fraction, b: Decimal | Fraction) -> None:
    ops: list[tuple[Callable[[Any, Any], Any], Callable[[Any, Any], Any]]] = [
        (add, operator.add),
        (sub, operator.sub),
    ]
    for op, ref in ops:
        got = op(a, b)
        assert _q(got) == ref(_q(a), _q(b))
        if type(a) is Decimal and type(b) is Decimal:
            assert type(got) is Decimal and str(got) == str(ref(a, b))  # exponent kept
        else:
            assert type(got) is Fraction


rationals = st.one_of(
    st.fractions(max_denominator=10**4),
    st.integers(-100, 100),
    st.sampled_from([Fraction(0), Fraction(0, 7), 0]),
)


@given(rationals, rationals)
def test_rational_add_and_sub_skip_zeros_exactly(a: Fraction | int, b: Fraction | int) -> None:
    """What generated code does for `+` and `-` of rationals: the value and type of plain
    arithmetic, a zero's partner returned as it is."""
    for op, ref in ((radd, operator.add), (rsub, operator.sub)):
        got, expected = op(a, b), ref(a, b)
        assert got == expected and type(got) is type(expected)
        assert str(got) == str(expected)


@given(st.one_of(decimals, st.integers(-1000, 1000)), st.one_of(decimals, st.integers(-9, 9)))
def test_division_of_decimals_is_the_rational_quotient(a: Decimal | int, b: Decimal | int) -> None:
    if b == 0:
        with pytest.raises(ZeroDivisionError):
            div(a, b)
        return
    got = div(a, b)
    assert type(got) is Fraction
    assert got == Fraction(a) / Fraction(b)
    assert got.denominator > 0


@given(st.lists(st.one_of(decimals, st.fractions(max_denominator=50)), min_size=1, max_size=9))
def test_mean_is_the_exact_mean(xs: list[Decimal | Fraction]) -> None:
    got = mean_of(xs)
    assert type(got) is Fraction
    assert got == sum((Fraction(x) for x in xs), Fraction(0)) / len(xs)


def test_mean_by_hand() -> None:
    assert mean_of([Decimal("90"), Decimal("85.5"), Decimal("80")]) == Fraction(511, 6)
    assert mean_of([Decimal("0.1"), Fraction(1, 3)]) == Fraction(13, 60)


def test_an_evaluation_leaves_no_cycles(tmp_path: Path) -> None:
    compiled = compile_path(RULES_2025)
    inputs = load_inputs(compiled, HANDWORKED / "org.json", HANDWORKED / "facts.jsonl", False)
    was = gc.isenabled()
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        ev = evaluate(compiled, inputs.org, inputs.facts, Period.parse("2025"))
        gc.collect()
        left = [type(o) for o in gc.garbage if isinstance(o, PeriodRun | Ctx)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was:
            gc.enable()
    assert ev.results  # the year was scored
    assert left == []


@given(
    st.fractions(max_denominator=10**5).filter(lambda f: abs(f) < 10**9),
    st.integers(0, 6),
    st.sampled_from(["half_up", "half_even", "down", "up", "ceiling", "floor"]),
)
@example(Fraction(-1, 4), 0, "half_up")  # rounds to zero from below
def test_a_rational_rounds_to_the_decimal_of_its_exact_quotient(
    x: Fraction, places: int, mode: str
) -> None:
    got = round_to(x, places, mode)
    exact = Decimal(x.numerator) / Decimal(x.denominator)  # 28 digits: enough for |x| < 1e9
    modes = {"half_up": "ROUND_HALF_UP", "half_even": "ROUND_HALF_EVEN", "down": "ROUND_DOWN"}
    modes |= {"up": "ROUND_UP", "ceiling": "ROUND_CEILING", "floor": "ROUND_FLOOR"}
    if Fraction(exact) == x:  # a terminating quotient: quantize rounds it as published
        want = exact.quantize(Decimal(1).scaleb(-places), modes[mode])
        if want.is_zero():  # quantize keeps the sign of -0.25 in -0; a published score has no -0
            want = want.copy_abs()
        assert got.as_tuple() == want.as_tuple()
    assert not (got.is_zero() and got.is_signed())
    assert got.as_tuple().exponent == -places
    assert abs(Fraction(got) - x) < Fraction(1, 10**places)


def test_rounding_by_hand() -> None:
    assert str(round_to(Fraction(1, 3), 2, "half_up")) == "0.33"
    assert str(round_to(Fraction(-5, 8), 2, "half_up")) == "-0.63"
    assert str(round_to(Fraction(-5, 8), 2, "half_even")) == "-0.62"
    assert str(round_to(Fraction(0), 2, "half_up")) == "0.00"
    assert str(round_to(Fraction(7, 2), 0, "half_up")) == "4"
    assert str(round_to(Fraction(-1, 4), 0, "half_up")) == "0"  # not "-0"
    assert str(round_to(Fraction(-1, 1000), 2, "down")) == "0.00"
    assert str(round_to(Fraction(-1, 1000), 2, "floor")) == "-0.01"
