"""The live facts: those no other fact supersedes, in their order."""

from __future__ import annotations

from datetime import date

from dsl.facts.records import Fact, live

DAY = date(2025, 2, 3)


def _fact(ident: str, supersedes: str | None = None) -> Fact:
    return Fact(ident, "a", "u1", DAY, None, {}, supersedes=supersedes)


def test_nothing_corrected_is_every_fact_in_a_new_list() -> None:
    facts = [_fact("f1"), _fact("f2"), _fact("f3")]
    got = live(facts)
    assert [f.id for f in got] == ["f1", "f2", "f3"]
    assert got is not facts  # the caller's list is not handed back to be changed
    got.pop()
    assert len(facts) == 3
    assert [f.id for f in live(iter(facts))] == ["f1", "f2", "f3"]
    assert live([]) == []


def test_a_superseded_fact_is_left_out_wherever_its_correction_comes() -> None:
    facts = [
        _fact("c1", supersedes="f2"),
        _fact("f1"),
        _fact("f2"),
        _fact("c2", supersedes="c1"),  # a correction of a correction: c1 is not live either
        _fact("c3", supersedes="elsewhere"),  # names a fact not here: nothing here is dropped
    ]
    assert [f.id for f in live(facts)] == ["f1", "c2", "c3"]
    assert [f.id for f in live(iter(facts))] == ["f1", "c2", "c3"]
