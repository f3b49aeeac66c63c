"""Indexing facts by period: a year's lists merged from its quarters' are the lists indexed
for the year alone; sums over facts sharing their data equal the sums fact by fact."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal, localcontext
from fractions import Fraction
from itertools import pairwise
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from dsl.compile import runtime
from dsl.compile.runtime import sum_data
from dsl.facts.index import YearIndex, index_periods
from dsl.facts.periods import Period
from dsl.facts.records import Fact

YEAR = Period(2025)
PERIODS = [YEAR, *YEAR.quarters(), Period(2024), Period(2024, 4)]


def _facts(seed: int, n: int, ordered: bool) -> list[Fact]:
    """Dated facts of 2024–2025 and period facts of the year, its quarters and 2024Q4, of a
    few types (some mixing dated and period facts) on a few subjects."""
    rnd = random.Random(seed)
    out = []
    for i in range(n):
        kind = rnd.random()
        day, per = None, None
        if kind < 0.6:
            day = date(2024, 10, 1) + timedelta(days=rnd.randrange(450))
        else:
            per = rnd.choice(PERIODS)
        line = i + 1 if ordered else rnd.choice([0, 0, i])
        out.append(
            Fact(
                f"f{i}", rnd.choice("abc"), rnd.choice(["u1", "u2", "p1"]), day, per, {}, line=line
            )
        )
    return out


def _plain(index: dict[str, dict[str, list[Fact]]]) -> dict[str, dict[str, list[str]]]:
    subjects = {s for s in ("u1", "u2", "p1", "nobody") if index.get(s) is not None}
    out = {}
    for s in subjects:
        by_type = index.get(s)
        assert by_type is not None
        types = {t for t in "abcd" if by_type.get(t) is not None}
        if types:  # a subject with only quarterly values may be there with no facts of the year
            out[s] = {t: [f.id for f in by_type[t]] for t in types}
    return out


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10**6), st.integers(0, 120), st.booleans())
def test_year_read_from_quarters_is_the_year_indexed_alone(
    seed: int, n: int, ordered: bool
) -> None:
    facts = _facts(seed, n, ordered)
    alone = index_periods(facts, [YEAR])[YEAR]
    together = index_periods(facts, [YEAR, *YEAR.quarters()])
    assert _plain(together[YEAR]) == _plain(alone)
    increasing = all(a.line < b.line for a, b in pairwise(facts))
    assert isinstance(together[YEAR], YearIndex) == increasing
    for q in YEAR.quarters():
        assert _plain(together[q]) == _plain(index_periods(facts, [q])[q])


def test_year_by_hand() -> None:
    """Dated facts of every quarter and a yearly value, in recording order; a quarterly value
    and a fact of 2024 are not the year's."""
    f = [
        Fact("q3", "a", "u1", date(2025, 8, 1), None, {}, line=1),
        Fact("y", "a", "u1", None, YEAR, {}, line=2),
        Fact("q1", "a", "u1", date(2025, 1, 5), None, {}, line=3),
        Fact("qv", "a", "u1", None, Period(2025, 2), {}, line=4),
        Fact("old", "a", "u1", date(2024, 12, 31), None, {}, line=5),
        Fact("q4", "a", "u1", date(2025, 12, 31), None, {}, line=6),
    ]
    got = index_periods(f, [YEAR, *YEAR.quarters()])
    assert [x.id for x in got[YEAR]["u1"]["a"]] == ["q3", "y", "q1", "q4"]
    assert [x.id for x in got[Period(2025, 2)]["u1"]["a"]] == ["qv"]
    assert got[YEAR].get("u2") is None and "u2" not in got[YEAR]
    assert got[YEAR]["u1"].get("b") is None


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.sampled_from(["0", "1.2", "0.60", "-3", "2.125"])),
        max_size=40,
    )
)
def test_sum_per_distinct_data_is_the_sum_fact_by_fact(rows: list[tuple[int, str]]) -> None:
    shared = {k: {"points": Decimal(v)} for k, v in {r: r[1] for r in rows}.items()}
    facts = [Fact(f"f{i}", "w", "p", None, YEAR, shared[r]) for i, r in enumerate(rows)]
    one_by_one = sum((f.data["points"] * Decimal("1.5") for f in facts), Decimal(0))
    got = sum_data(facts, lambda d: d["points"] * Decimal("1.5"), Decimal(0))
    assert repr(got) == repr(one_by_one)  # the same value and the same exponent
    rat = sum_data(facts, lambda d: Fraction(d["points"]) / 3, Fraction(0))
    assert rat == sum((Fraction(f.data["points"]) / 3 for f in facts), Fraction(0))


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10**6), st.integers(0, 120), st.booleans())
def test_each_period_is_indexed_as_fact_by_fact(seed: int, n: int, ordered: bool) -> None:
    """Quarters and a year that do not overlap (each fact goes to one index at most): every
    index is what appending the facts one by one gives, subjects and types in the order their
    first fact came, each list in the facts' order."""
    periods = [Period(2025, 1), Period(2025, 3), Period(2024)]
    facts = _facts(seed, n, ordered)
    expected = _naive(facts, periods)
    got = index_periods(facts, periods)
    for p in periods:
        shown = {s: {t: [f.id for f in lst] for t, lst in by.items()} for s, by in got[p].items()}
        assert shown == expected[p]
        assert [(s, list(by)) for s, by in got[p].items()] == [
            (s, list(by)) for s, by in expected[p].items()
        ]


def _naive(
    facts: list[Fact], periods: list[Period]
) -> dict[Period, dict[str, dict[str, list[str]]]]:
    """Each period's facts appended one by one (a dated fact to its quarter if asked, else to
    its year; a period value to its period), as `index_periods` documents them."""
    out: dict[Period, dict[str, dict[str, list[str]]]] = {p: {} for p in periods}
    for f in facts:
        if f.date is not None:
            quarter, year = Period(f.date.year, (f.date.month + 2) // 3), Period(f.date.year)
            target = quarter if quarter in out else year if year in out else None
        else:
            target = f.period if f.period in out else None
        if target is not None:
            out[target].setdefault(f.subject, {}).setdefault(f.type, []).append(f.id)
    return out


def _shown(
    index: dict[str, dict[str, list[Fact]]],
) -> list[tuple[str, list[tuple[str, list[str]]]]]:
    """An index as it iterates: subjects, their types and lists, in order."""
    return [(s, [(t, [f.id for f in lst]) for t, lst in by.items()]) for s, by in index.items()]


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 10**6), st.integers(0, 150), st.booleans(), st.booleans())
def test_a_years_quarters_and_values_are_indexed_as_fact_by_fact(
    seed: int, n: int, ordered: bool, fresh: bool
) -> None:
    """A year's evaluation (the year, its quarters, and a quarter of another year): each
    quarter's index and the year's own values are what appending the facts one by one gives,
    subjects and types in the order their first fact came; facts of other years and periods,
    and a fact with neither date nor period, are in none. With `fresh`, period values hold
    equal periods that are not the same object (as facts built by hand may)."""
    periods = [YEAR, *YEAR.quarters(), Period(2024, 4)]
    facts = _facts(seed, n, ordered)
    rnd = random.Random(seed)
    if fresh:
        facts = [
            Fact(
                f.id,
                f.type,
                f.subject,
                f.date,
                Period(f.period.year, f.period.quarter),
                {},
                line=f.line,
            )
            if f.period is not None and rnd.random() < 0.5
            else f
            for f in facts
        ]
    if facts and rnd.random() < 0.3:
        facts.insert(rnd.randrange(len(facts)), Fact("none", "a", "u1", None, None, {}, line=0))
    got = index_periods(facts, periods)
    expected = _naive(facts, periods)
    for p in [*YEAR.quarters(), Period(2024, 4)]:
        assert _shown(got[p]) == [
            (s, [(t, ids) for t, ids in by.items()]) for s, by in expected[p].items()
        ]
    year = got[YEAR]
    if isinstance(year, YearIndex):  # the year's own values; its dated facts are its quarters'
        own = _naive([f for f in facts if f.date is None], [YEAR])[YEAR]
        assert _shown(year.own) == [(s, list(by.items())) for s, by in own.items()]
    else:  # facts not in recording order: the year's dated facts and values, in that order
        alone = _naive(facts, [YEAR])[YEAR]
        assert _shown(year) == [(s, list(by.items())) for s, by in alone.items()]


def _generated_term(source: str) -> Any:
    """A term as generated rule code has it: a function of the data, in a namespace of the
    runtime and constants alone (the terms whose values are kept by data dict)."""
    ns: dict[str, Any] = {"rt": runtime, "__builtins__": {}, "_k0": Decimal("1.5")}
    return eval(source, ns)  # a fixed lambda of this test


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.sampled_from(["0", "1.2", "0.60", "-3", "2.125"])),
        max_size=40,
    ),
    st.booleans(),
)
def test_sum_of_a_generated_term_is_the_sum_fact_by_fact(
    rows: list[tuple[int, str]], own_dicts: bool
) -> None:
    """A term of generated code is computed once per data dict met, over calls; the sum is
    the sum fact by fact, in value and exponent, whether the facts share their data or each
    has its own (new dicts of the same content, or of another, never take a kept value)."""
    dec = _generated_term("lambda d: d['points'] * _k0")
    rat = _generated_term("lambda d: rt.div(d['points'], 3)")
    shared = {r: {"points": Decimal(r[1])} for r in rows}
    for _ in range(2):  # the second time from the values kept
        datas = [{"points": Decimal(r[1])} if own_dicts else shared[r] for r in rows]
        facts = [Fact(f"f{i}", "w", "p", None, YEAR, d) for i, d in enumerate(datas)]
        one_by_one = sum((d["points"] * Decimal("1.5") for d in datas), Decimal(0))
        assert repr(sum_data(facts, dec, Decimal(0))) == repr(one_by_one)
        assert len(rows) < 4 or any(m[0] is dec.__globals__ for m in runtime._MEMOS.values())
        exact = sum((Fraction(d["points"]) / 3 for d in datas), Fraction(0))
        assert sum_data(facts, rat, Fraction(0)) == exact
    # Another data dict in a fact of the same content: its own value (the dict is its own).
    other = [{"points": Decimal("7.25")} for _ in range(5)]
    facts = [Fact(f"g{i}", "w", "p", None, YEAR, d) for i, d in enumerate(other)]
    assert repr(sum_data(facts, dec, Decimal(0))) == repr(Decimal("54.375"))


def test_a_term_not_of_generated_code_is_computed_each_time() -> None:
    """A function that may read more than the data (a closure here) is not kept by dict."""
    rate = [Decimal(2)]
    shared = {"points": Decimal("1.5")}
    facts = [Fact(f"f{i}", "w", "p", None, YEAR, shared) for i in range(6)]

    def term(d: dict[str, Decimal]) -> Decimal:
        return d["points"] * rate[0]

    assert sum_data(facts, term, Decimal(0)) == Decimal("18.0")
    rate[0] = Decimal(3)
    assert sum_data(facts, term, Decimal(0)) == Decimal("27.0")


def test_a_kept_term_is_of_its_decimal_context() -> None:
    """Values kept under one precision are not those of another (a term may round there)."""
    dec = _generated_term("lambda d: d['points'] * _k0")
    shared = {"points": Decimal("2.125")}
    facts = [Fact(f"f{i}", "w", "p", None, YEAR, shared) for i in range(6)]
    with localcontext() as ctx:
        ctx.prec = 200
        assert sum_data(facts, dec, Decimal(0)) == Decimal("19.1250")
        ctx.prec = 2
        assert sum_data(facts, dec, Decimal(0)) == Decimal("19")  # 3.2 six times, rounded
        ctx.prec = 200
        assert sum_data(facts, dec, Decimal(0)) == Decimal("19.1250")
