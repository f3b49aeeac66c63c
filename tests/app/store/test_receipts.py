"""Receipts: a kept evaluation replays to the same results, whatever is recorded later."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import Engine

from app.errors import NotFound
from app.services import receipts, rulesets
from app.services.facts import record_facts, retract
from app.services.org import import_org
from app.services.scoring import score
from dsl.engine.evaluate import evaluate
from dsl.facts.periods import Period
from tests.app.conftest import EXAMPLES
from tests.app.util import USER, load_example, org_now, rules


def _keep(engine: Engine, period: Period) -> int:
    compiled = rules(2025)
    rulesets.register(engine, compiled, USER, None)
    ev, inputs = score(engine, compiled, period)
    return receipts.keep(engine, ev, inputs, USER, published=True)


def test_a_receipt_replays_to_the_same_results(engine: Engine) -> None:
    load_example(engine, "random-2025", rules(2025))
    rid = _keep(engine, Period(2025, 1))
    got = receipts.replay(engine, rid)
    assert got.same and got.facts > 0 and got.period == "2025Q1"


def test_later_facts_corrections_and_moves_do_not_change_a_replay(engine: Engine) -> None:
    compiled = rules(2025)
    load_example(engine, "handworked", compiled)
    rid = _keep(engine, Period(2025, 1))
    org, _ = org_now(engine)
    fix = {"id": "n1", "type": "revenue_completion", "subject": "nanyue", "period": "2025Q1"}
    record_facts(
        engine,
        [{**fix, "data": {"value": 100}, "supersedes": "f2"}],
        compiled.schema,
        org,
        USER,
        "t",
    )
    retract(engine, "f3", USER, "wrong bureau")
    raw = json.loads((EXAMPLES / "handworked" / "org.json").read_text(encoding="utf-8"))
    raw["persons"][0]["attrs"]["workload"] = 50
    import_org(engine, raw, "org2.json", USER, date(2025, 1, 1))
    new_ev, _ = score(engine, compiled, Period(2025, 1))
    assert receipts.results_digest(new_ev) != receipts.replay(engine, rid).expected
    assert receipts.replay(engine, rid).same


def test_an_unknown_receipt_is_not_found(engine: Engine) -> None:
    with pytest.raises(NotFound):
        receipts.replay(engine, 42)


def test_a_year_receipt_replays_with_each_quarters_organisation(engine: Engine) -> None:
    compiled = rules(2025)
    load_example(engine, "handworked", compiled)
    raw = json.loads((EXAMPLES / "handworked" / "org.json").read_text(encoding="utf-8"))
    raw["units"].append(
        {"id": "hengshan-levy", "name": "征收管理股", "kind": "county_dept", "parent": "hengshan"}
    )
    raw["persons"][0]["unit"] = "hengshan-levy"
    import_org(engine, raw, "moved.json", USER, date(2025, 7, 1))
    rid = _keep(engine, Period(2025))
    got = receipts.replay(engine, rid)
    assert got.same and got.period == "2025"
    # Replayed with the year-end organisation for every quarter, the results would differ.
    ev, inputs = score(engine, compiled, Period(2025))
    flat = evaluate(compiled, inputs.org, inputs.facts, Period(2025))
    assert receipts.results_digest(flat) != got.expected == receipts.results_digest(ev)
