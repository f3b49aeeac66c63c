"""The largest-remainder allocation: amounts add up exactly; ties as declared; zero weights."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dsl.engine.allocation import AllocationError, allocate

CENT = Decimal("0.01")


def test_hengshan_the_cent_goes_to_the_higher_annual() -> None:
    # 《衡阳市税务局2026年度绩效考评办法》§9: 26,400 / 168.96 = 156.25 exactly; both remainders are
    # half a cent; the higher annual (93.94) takes the cent although the other id sorts first
    weights = {"hengshan-levy-1": Decimal("75.02"), "hengshan-levy-2": Decimal("93.94")}
    a = allocate(26400, weights, CENT, lambda s: (-weights[s], s))
    assert a.of("hengshan-levy-1").exact == Fraction("11721.875")
    assert a.of("hengshan-levy-1").amount == Fraction("11721.87")
    assert a.of("hengshan-levy-2").amount == Fraction("14678.13")
    assert a.leftover == 1
    assert a.allocated == 26400
    # by id alone, the other one gets it
    b = allocate(26400, weights, CENT, lambda s: (s,))
    assert b.of("hengshan-levy-1").amount == Fraction("11721.88")


def test_a_zero_weight_gets_nothing_and_all_zero_pays_nothing() -> None:
    a = allocate(100, {"a": 1, "b": 2, "c": 0}, CENT)
    # 33.333… and 66.666…: rounded down 33.33 + 66.66, one cent to the larger remainder (b)
    assert [s.amount for s in a.shares] == [Fraction("33.33"), Fraction("66.67"), 0]
    none = allocate(100, {"a": 0, "b": 0}, CENT)
    assert none.allocated == 0 and [s.amount for s in none.shares] == [0, 0]


def test_bad_weights_and_units_are_refused() -> None:
    with pytest.raises(AllocationError, match="negative weight for b"):
        allocate(100, {"a": 1, "b": -1}, CENT)
    with pytest.raises(AllocationError, match="above 0"):
        allocate(100, {"a": 1}, 0)


@given(
    st.integers(min_value=0, max_value=10**7),
    st.lists(st.integers(min_value=0, max_value=10**5), min_size=1, max_size=12),
)
def test_amounts_add_up_and_stay_within_a_unit(total_cents: int, ws: list[int]) -> None:
    total = Fraction(total_cents, 100)
    weights = {f"p{i:02d}": Fraction(w, 100) for i, w in enumerate(ws)}
    a = allocate(total, weights, CENT)
    if sum(ws) == 0:
        assert a.allocated == 0
        return
    assert a.allocated == total
    for s in a.shares:
        assert (s.amount * 100).denominator == 1
        assert 0 <= s.amount - s.down <= Fraction(1, 100)
        assert abs(s.amount - s.exact) < Fraction(1, 100)
        if s.weight == 0:
            assert s.amount == 0
    # the lucky ones have remainders at least as large as everyone left out
    lucky = [s.remainder for s in a.shares if s.extra]
    left = [s.remainder for s in a.shares if not s.extra and s.weight > 0]
    assert not lucky or not left or min(lucky) >= max(left)
