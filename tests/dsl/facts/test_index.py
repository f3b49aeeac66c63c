"""Facts grouped as they are read (`dsl.facts.index.Indexer`): fed a batch at a time, facts
superseded among them, it gives what `index_periods` gives of the live facts in one pass —
the same lists, and every dict's keys in the same order."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsl.facts.index import Indexer, index_periods
from dsl.facts.periods import Period
from dsl.facts.records import Fact, live
from tests.dsl.facts.conftest import index_shape

YEAR = Period(2025)
Q1, Q2, Q3, Q4 = YEAR.quarters()
ASKED = [
    {YEAR, Q1, Q2, Q3, Q4},  # a year's evaluation: the year merged from its quarters
    {Q1},
    {Q1, Q2},
    {YEAR},
    {YEAR, Q1},  # a dated fact of Q1 goes to two indexes
]


def _facts(seed: int, n: int) -> list[Fact]:
    """Facts in recording order on a few subjects and types, dated in 2024–2025 or of a
    period; about one in four a correction of an earlier fact of its subject and type (of a
    correction too: chains), mostly on its date, sometimes moved to another quarter."""
    rnd = random.Random(seed)
    out: list[Fact] = []
    live_ids: list[int] = []  # positions in `out` not yet corrected
    for i in range(n):
        line = i + 1
        if live_ids and rnd.random() < 0.25:
            at = rnd.choice(live_ids)
            old = out[at]
            live_ids.remove(at)
            day = old.date
            if day is not None and rnd.random() < 0.2:
                day = day + timedelta(days=rnd.choice([-100, 100]))
            out.append(Fact(f"f{i}", old.type, old.subject, day, old.period, {}, None, old.id,
                            line))  # fmt: skip
        else:
            day, per = None, None
            if rnd.random() < 0.7:
                day = date(2024, 12, 1) + timedelta(days=rnd.randrange(420))
            else:
                per = rnd.choice([YEAR, Q1, Q2, Q4, Period(2024)])
            out.append(Fact(f"f{i}", rnd.choice("abc"), rnd.choice(["u1", "u2", "p1", "p2"]),
                            day, per, {}, None, None, line))  # fmt: skip
        live_ids.append(i)
    return out


@settings(max_examples=80, deadline=None)
@given(
    st.integers(0, 10**6), st.integers(0, 150), st.integers(0, len(ASKED) - 1), st.integers(1, 40)
)
def test_batches_with_corrections_index_as_the_live_facts_at_once(
    seed: int, n: int, which: int, batch: int
) -> None:
    facts = _facts(seed, n)
    periods = ASKED[which]
    want = index_periods(live(facts), periods)
    indexer = Indexer(periods)
    for i in range(0, len(facts), batch):
        indexer.add(facts[i : i + batch])
    got = indexer.finish()
    assert got is not None
    assert {p: index_shape(x) for p, x in got.items()} == {
        p: index_shape(x) for p, x in want.items()
    }


def test_a_correction_of_the_first_fact_moves_its_subject_and_type_by_hand() -> None:
    """u1's first fact (type a, line 1) is corrected by line 4: u1's first live fact is then
    line 3 (type b), after u2's (line 2): Q1 lists u2 before u1, and u1's type b before a,
    as if the first fact had never come."""
    day = date(2025, 2, 1)
    facts = [
        Fact("x", "a", "u1", day, None, {}, line=1),
        Fact("z", "a", "u2", day, None, {}, line=2),
        Fact("y", "b", "u1", day, None, {}, line=3),
        Fact("x2", "a", "u1", day, None, {}, None, "x", line=4),
    ]
    indexer = Indexer({Q1})
    indexer.add(facts[:2])
    indexer.add(facts[2:])
    got = indexer.finish()
    assert got is not None
    assert index_shape(got[Q1]) == [("u2", [("a", ["z"])]), ("u1", [("b", ["y"]), ("a", ["x2"])])]


def test_a_correction_moved_to_another_quarter_leaves_its_fact_out_there() -> None:
    facts = [
        Fact("x", "a", "u1", date(2025, 2, 1), None, {}, line=1),
        Fact("x2", "a", "u1", date(2025, 5, 1), None, {}, None, "x", line=2),
    ]
    indexer = Indexer({Q1, Q2})
    indexer.add(facts)
    got = indexer.finish()
    assert got is not None
    assert index_shape(got[Q1]) == [] and index_shape(got[Q2]) == [("u1", [("a", ["x2"])])]


@pytest.mark.parametrize("periods", [{YEAR, Q1, Q2, Q3, Q4}, {Q1}])
def test_facts_out_of_order_are_not_indexed_as_they_came(periods: set[Period]) -> None:
    """Batches out of recording order: a merged year cannot be read from its quarters, and
    `finish` without the facts says so (None); quarters alone do not depend on it."""
    day = date(2025, 2, 1)
    indexer = Indexer(periods)
    indexer.add([Fact("b", "a", "u1", day, None, {}, line=5)])
    indexer.add([Fact("a", "a", "u1", day, None, {}, line=3)])
    assert indexer.ordered is False
    got = indexer.finish()
    if YEAR in periods:
        assert got is None
    else:
        assert got is not None and index_shape(got[Q1]) == [("u1", [("a", ["b", "a"])])]


def test_the_indexes_are_handed_out_once() -> None:
    """A second `finish` gives None (the caller then groups the facts itself): the first
    caller's indexes are its own, the year among them wrapped once."""
    facts = _facts(3, 40)
    indexer = Indexer({YEAR, Q1, Q2, Q3, Q4})
    indexer.add(facts)
    first = indexer.finish()
    assert first is not None and indexer.finish() is None
    want = index_periods(live(facts), {YEAR, Q1, Q2, Q3, Q4})
    assert {p: index_shape(x) for p, x in first.items()} == {
        p: index_shape(x) for p, x in want.items()
    }
