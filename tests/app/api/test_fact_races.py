"""Writers racing over one period value or one correction: the database keeps one, the others
are told 409; on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.services.factcheck import fact_row
from app.store import repository
from app.store.bulk import insert_facts
from app.store.db import transaction
from app.store.models import Fact
from dsl.facts.periods import Period
from dsl.facts.records import Fact as FactRecord
from tests.app.api.conftest import Client, load_example

CLIENTS = 8
ROUNDS = [
    ("hengdong", "2025Q2"),
    ("hengdong", "2025Q3"),
    ("hengdong", "2025Q4"),
    ("hengshan", "2025Q2"),
    ("hengshan", "2025Q3"),
]


def _race(calls: list[Callable[[], httpx.Response]]) -> list[int]:
    """Runs the calls at once (each on its own thread, released together); their statuses."""
    barrier = threading.Barrier(len(calls))
    statuses: list[int] = [0] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        statuses[i] = calls[i]().status_code

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses


@pytest.fixture
def loaded(app: FastAPI, api: Client) -> FastAPI:
    """The app with the handworked example recorded."""
    load_example(api, "handworked")
    return app


def _live(app: FastAPI, subject: str, period: str) -> dict[tuple[str, str, str], str]:
    with Session(app.state.services.engine) as s:
        return repository.live_period_values(s, ["revenue_completion"], [subject], [period])


def test_first_values_posted_at_once_leave_one_live(loaded: FastAPI, api: Client) -> None:
    for subject, period in ROUNDS:

        def post(i: int, subject: str = subject, period: str = period) -> httpx.Response:
            fact = {"id": f"{subject}-{period}-{i}", "type": "revenue_completion",
                    "subject": subject, "period": period, "data": {"value": 90 + i}}  # fmt: skip
            return api.post("/v1/facts", json=[fact])

        statuses = _race([partial(post, i) for i in range(CLIENTS)])
        assert sorted(statuses) == [201] + [409] * (CLIENTS - 1), (subject, period, statuses)
        live = _live(loaded, subject, period)
        assert len(live) == 1
        winner = live[("revenue_completion", subject, period)]
        assert statuses[int(winner.rsplit("-", 1)[1])] == 201
        # the value recorded is the winner's, and a correction of it is still possible
        fix = {"id": f"{winner}-fix", "data": {"value": 77}}
        assert api.post(f"/v1/facts/{winner}/supersede", json=fix).status_code == 201
        assert list(_live(loaded, subject, period).values()) == [f"{winner}-fix"]


def test_corrections_of_one_fact_posted_at_once_keep_one(loaded: FastAPI, api: Client) -> None:
    def correct(i: int) -> httpx.Response:
        return api.post("/v1/facts/f3/supersede", json={"id": f"f3-c{i}", "data": {"value": i}})

    statuses = _race([partial(correct, i) for i in range(CLIENTS)])
    assert sorted(statuses) == [201] + [409] * (CLIENTS - 1), statuses
    winner = f"f3-c{statuses.index(201)}"
    assert api.get("/v1/facts/f3").json()["superseded_by"] == winner
    assert list(_live(loaded, "hengshan", "2025Q1").values()) == [winner]


def test_a_retracted_value_may_be_followed_by_a_new_first_value(
    loaded: FastAPI, api: Client
) -> None:
    fact = {"id": "r1", "type": "revenue_completion", "subject": "hengdong",
            "period": "2025Q2", "data": {"value": 90}}  # fmt: skip
    assert api.post("/v1/facts", json=[fact]).status_code == 201
    assert api.post("/v1/facts", json=[{**fact, "id": "r2"}]).status_code == 409
    assert api.post("/v1/facts/r1/retract", json={"reason": "wrong quarter"}).status_code == 200
    assert api.post("/v1/facts", json=[{**fact, "id": "r2"}]).status_code == 201
    assert list(_live(loaded, "hengdong", "2025Q2").values()) == ["r2"]
    slots = _slots(loaded, ["r1", "r2"])
    assert slots == {"r1": 0, "r2": 1}


def _slots(app: FastAPI, ids: list[str]) -> dict[str, Any]:
    with Session(app.state.services.engine) as s:
        rows = s.query(Fact.client_id, Fact.value_slot).filter(Fact.client_id.in_(ids))
        return dict(rows.all())


def test_the_database_refuses_a_second_value_in_one_slot(loaded: FastAPI) -> None:
    engine = loaded.state.services.engine
    rows = []
    for ident in ("s1", "s2"):
        f = FactRecord(ident, "revenue_completion", "hengdong", None, Period.parse("2025Q2"),
                       {"value": 1})  # fmt: skip
        rows.append(fact_row(f, "0" * 64, "test", _now(), slot=0))
    with transaction(engine) as session:
        insert_facts(session.connection(), rows[:1])
    refused = (IntegrityError, engine.dialect.loaded_dbapi.IntegrityError)
    with pytest.raises(refused), transaction(engine) as session:
        insert_facts(session.connection(), rows[1:])
    rows[1]["value_slot"] = 1
    with transaction(engine) as session:
        insert_facts(session.connection(), rows[1:])
    assert _slots(loaded, ["s1", "s2"]) == {"s1": 0, "s2": 1}


def _now() -> datetime:
    return datetime.now(UTC)


def test_retractions_of_one_fact_posted_at_once_keep_one(loaded: FastAPI, api: Client) -> None:
    def retract(i: int) -> httpx.Response:
        return api.post("/v1/facts/f3/retract", json={"reason": f"reason {i}"})

    statuses = _race([partial(retract, i) for i in range(CLIENTS)])
    assert sorted(statuses) == [200] + [409] * (CLIENTS - 1), statuses
    got = api.get("/v1/facts/f3").json()
    assert got["status"] == "retracted"
    assert got["retraction"]["reason"] == f"reason {statuses.index(200)}"
