"""The organisation's history: a person who moves unit mid-year is scored, for a period, in
the unit they belonged to on the period's last day; earlier dates still read the old unit."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.errors import Invalid
from app.services.org import import_org, org_at
from dsl.facts.periods import Period
from tests.app.conftest import EXAMPLES
from tests.app.util import USER, from_db, from_files, load_example, rules

MOVE = date(2025, 2, 15)


def _moved() -> dict[str, Any]:
    org: dict[str, Any] = json.loads(
        (EXAMPLES / "handworked" / "org.json").read_text(encoding="utf-8")
    )
    org["units"].append(
        {"id": "hengshan-levy", "name": "征收管理股", "kind": "county_dept", "parent": "hengshan"}
    )
    for p in org["persons"]:
        if p["id"] == "nanyue-levy-1":
            p["unit"] = "hengshan-levy"
    return org


def _person(results: dict[str, Any], pid: str) -> dict[str, Any]:
    return next(r for r in results["results"] if r["subject"] == pid)


def test_a_move_needs_a_date_and_is_recorded_once(engine: Engine) -> None:
    load_example(engine, "handworked", rules(2025))
    with pytest.raises(Invalid):
        import_org(engine, _moved(), "moved.json", USER)
    got = import_org(engine, _moved(), "moved.json", USER, MOVE)
    assert (got.units, got.persons, got.closed) == (1, 1, 0)
    assert import_org(engine, _moved(), "moved.json", USER, MOVE).revision is None


def test_the_unit_on_the_periods_last_day_is_used(engine: Engine, tmp_path: Path) -> None:
    compiled = rules(2025)
    load_example(engine, "handworked", compiled)
    import_org(engine, _moved(), "moved.json", USER, MOVE)
    with Session(engine) as session:
        before, _ = org_at(session, date(2025, 2, 14))
        after, _ = org_at(session, date(2025, 3, 31))
    assert before.persons["nanyue-levy-1"].unit == "nanyue-levy"
    assert after.persons["nanyue-levy-1"].unit == "hengshan-levy"

    moved = tmp_path / "moved.json"
    moved.write_text(json.dumps(_moved()), encoding="utf-8")
    folder = EXAMPLES / "handworked"
    q1 = Period(2025, 1)
    as_moved = from_files(compiled, moved, folder / "facts.jsonl", q1)
    as_before = from_files(compiled, folder / "org.json", folder / "facts.jsonl", q1)
    got = from_db(engine, compiled, q1)
    assert got == as_moved
    # The move matters: the person's organisational part is now hengshan's final.
    assert _person(got, "nanyue-levy-1") != _person(as_before, "nanyue-levy-1")


def test_a_person_who_left_is_not_scored_after_leaving(engine: Engine) -> None:
    load_example(engine, "handworked", rules(2025))
    org = json.loads((EXAMPLES / "handworked" / "org.json").read_text(encoding="utf-8"))
    org["persons"] = [p for p in org["persons"] if p["id"] != "nanyue-levy-2"]
    got = import_org(engine, org, "left.json", USER, date(2025, 7, 1))
    assert got.closed == 1
    with Session(engine) as session:
        q2, _ = org_at(session, date(2025, 6, 30))
        q3, _ = org_at(session, date(2025, 9, 30))
    assert "nanyue-levy-2" in q2.persons
    assert "nanyue-levy-2" not in q3.persons


def test_a_years_quarters_use_the_organisation_of_their_own_end(
    engine: Engine, tmp_path: Path
) -> None:
    """A person who moves on 1 July: the year (scored in the new unit, as of 31 December)
    takes its Q1 figure from Q1 as it stood, in the old unit, not from Q1 rescored in the new
    one."""
    compiled = rules(2025)
    load_example(engine, "handworked", compiled)
    import_org(engine, _moved(), "moved.json", USER, date(2025, 7, 1))
    q1 = _person(from_db(engine, compiled, Period(2025, 1)), "nanyue-levy-1")
    year = _person(from_db(engine, compiled, Period(2025)), "nanyue-levy-1")
    assert year["quarters"][0] == q1["final"]

    # The year-end organisation would have given Q1 another figure.
    moved = tmp_path / "moved.json"
    moved.write_text(json.dumps(_moved()), encoding="utf-8")
    facts = EXAMPLES / "handworked" / "facts.jsonl"
    q1_moved = _person(from_files(compiled, moved, facts, Period(2025, 1)), "nanyue-levy-1")
    assert q1_moved["final"] != q1["final"]
    # Q3 and Q4 are scored in the new unit: as the year-end organisation scores them.
    for i, q in ((2, Period(2025, 3)), (3, Period(2025, 4))):
        assert (
            year["quarters"][i]
            == _person(from_files(compiled, moved, facts, q), "nanyue-levy-1")["final"]
        )
