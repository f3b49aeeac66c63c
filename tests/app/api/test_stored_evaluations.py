"""Evaluations stored across processes (`app.services.stored`) on the random 2025 example, on
SQLite and PostgreSQL: a process starting cold reads the quarter another stored instead of
scoring it, gives the same bytes as one that scored everything, and stops reading it once a
fact arrives (the watermark moved); an approved quarter's replay is stored for good."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from fastapi import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import NotFound
from app.services import analysis, stored
from app.services.cache import ScoreCache
from app.services.stored import stored_after
from app.store.models import StoredEvaluation
from dsl.engine.report import explain_json, results_json
from dsl.facts.periods import Period
from tests.app.api.conftest import Client, load_example

Q1, Q2 = Period(2025, 1), Period(2025, 2)
DAY = date(2025, 5, 20)
# Nanyue's municipal inspection issue in Q1: its K4 loses points, so its final moves, and with
# it every nanyue person's (a tenth of the county bureau's final is in theirs).
LATE = {"id": "late-1", "type": "inspection_issue", "subject": "nanyue", "date": "2025-03-12",
        "data": {"level": "municipal"}}  # fmt: skip


def fresh(api: Client, keep: bool) -> analysis.DbSource:
    """A new process's view of the database: an empty cache (storing evaluations or not)."""
    svc = api.app.state.services
    return analysis.DbSource(ScoreCache(svc.engine, keep=keep), svc.registry)


def old_way(api: Client, day: date = DAY) -> bytes:
    """The warnings as made before evaluations were stored: nothing read back, the quarter
    scored whole first, then again as of the day."""
    src = fresh(api, keep=False)
    src.require(Q2)
    return analysis.warnings(src, Q2, day)


def test_cold_warnings_read_the_quarter_stored_and_answer_the_same_bytes(api: Client) -> None:
    load_example(api, "random-2025")
    before = old_way(api)
    first = fresh(api, keep=True)  # scores Q1 whole (and stores it) and Q2 as of the day
    assert analysis.warnings(first, Q2, DAY) == before
    assert (first.cache.fills, first.cache.restored) == (2, 0)
    cold = fresh(api, keep=True)  # reads Q1 and Q2 as of the day back: nothing scored
    assert analysis.warnings(cold, Q2, DAY) == before
    assert (cold.cache.fills, cold.cache.restored) == (0, 2)
    svc = api.app.state.services
    with Session(svc.engine) as session:  # Q1 whole, Q2 as of the day
        rows = session.execute(select(StoredEvaluation.period, StoredEvaluation.as_of)).all()
    assert sorted(rows) == [("2025Q1", ""), ("2025Q2", str(DAY))]
    other = date(2025, 5, 21)  # another day: Q2 as of it is scored, Q1 read back
    assert analysis.warnings(fresh(api, keep=True), Q2, other) == old_way(api, other)
    assert b'"kind":"missing_value"' in before and b'"kind":"last_tier"' in before

    # The quarter read back is the one scored: results, the facts its traces cite, and the
    # explanations (a person's scores Q1 again, traced, from the facts read anew).
    scored = fresh(api, keep=False).require(Q1)
    back = fresh(api, keep=True).require(Q1)
    assert back.inputs is None and back.reload is not None
    assert back.body == scored.body
    assert (back.recorded, back.cited.keys()) == (scored.recorded, scored.cited.keys())
    for subject in ("nanyue", "nanyue-levy-1"):
        assert back.explanation(subject) == scored.explanation(subject)
    assert explain_json(back.traced_evaluation(), "hengdong-levy-2") == explain_json(
        scored.traced_evaluation(), "hengdong-levy-2"
    )


def test_a_fact_recorded_after_the_quarter_was_stored_is_read(api: Client) -> None:
    load_example(api, "random-2025")
    fresh(api, keep=True).require(Q1)  # stored
    was = results_json(fresh(api, keep=True).require(Q1).evaluation)
    assert api.post("/v1/facts", json=[LATE]).status_code == 201
    now = fresh(api, keep=True)
    got = now.require(Q1)
    assert (now.cache.fills, now.cache.restored) == (1, 0)  # scored again: the watermark moved
    scored = fresh(api, keep=False).require(Q1)
    assert results_json(got.evaluation) == results_json(scored.evaluation)
    assert results_json(got.evaluation) != was
    nanyue = next(r for r in got.evaluation.results if r.subject == "nanyue")
    assert "late-1" in str(explain_json(got.evaluation, "nanyue"))
    assert nanyue.final is not None
    # the warnings of a cold process are those of the old way, with the new fact
    cold = fresh(api, keep=True)
    assert analysis.warnings(cold, Q2, DAY) == old_way(api)
    assert (cold.cache.fills, cold.cache.restored) == (1, 1)  # Q1 as stored just above


def test_an_approved_quarter_is_stored_for_good_and_proved_when_read(api: Client) -> None:
    load_example(api, "random-2025")
    assert api.post("/v1/cycles/2025Q1/publish", params={"ruleset": "2025"}).status_code == 200
    ok = api.post("/v1/cycles/2025Q1/approve", params={"ruleset": "2025"})
    assert ok.status_code == 200, ok.text
    replayed = fresh(api, keep=True)
    first = replayed.require(Q1)
    assert first.approved is not None and replayed.cache.fills == 0  # a replay, not a fill
    later = {**LATE, "date": "2025-04-12"}  # Q1 is closed; the watermark moves all the same
    assert api.post("/v1/facts", json=[later]).status_code == 201
    cold = fresh(api, keep=True)
    back = cold.require(Q1)
    assert cold.cache.restored == 1 and back.inputs is None
    assert back.body == first.body and back.approved == first.approved
    assert back.explanation("nanyue-levy-1") == first.explanation("nanyue-levy-1")
    # A stored replay that does not give the receipt's results is not served: replayed again.
    svc = api.app.state.services
    digest = svc.registry.for_year(2025).compiled.digest
    kept = stored.read(svc.engine, digest, Q1, None, f"r:{ok.json()['receipt']}")
    assert kept is not None
    nanyue = next(r for r in kept.results if r.subject == "nanyue")
    assert nanyue.final is not None
    nanyue.final += 1
    stored.write(svc.engine, digest, Q1, None, f"r:{ok.json()['receipt']}", kept)
    again = fresh(api, keep=True)
    assert again.require(Q1).body == first.body and again.cache.restored == 0


def test_a_row_of_other_code_or_unreadable_is_a_miss(api: Client) -> None:
    from sqlalchemy import update

    load_example(api, "random-2025")
    svc = api.app.state.services
    fresh(api, keep=True).require(Q1)
    for change in ({"code": "0" * 64}, {"body": b"not a stored evaluation"}):
        with Session(svc.engine) as session, session.begin():
            session.execute(update(StoredEvaluation).values(**change))
        cold = fresh(api, keep=True)
        assert cold.require(Q1).body == fresh(api, keep=False).require(Q1).body
        assert (cold.cache.fills, cold.cache.restored) == (1, 0)  # and stored anew
    cold = fresh(api, keep=True)
    cold.require(Q1)
    assert cold.cache.restored == 1
    stored.clear(svc.engine)
    assert fresh(api, keep=True).require(Q1) is not None


def test_the_endpoint_answers_the_bytes_of_the_old_way(api: Client) -> None:
    """Through the web (one look at the database for the request, the quarter before scored on
    a thread of its own beside the quarter as of the day, both sharing the look)."""
    load_example(api, "random-2025")
    params = {"ruleset": "2025", "period": "2025Q2", "as_of": str(DAY)}
    for _ in range(2):  # cold, then warm
        r = api.get("/v1/warnings", params=params)
        assert r.status_code == 200, r.text
        assert r.content == old_way(api)


def test_the_whole_quarter_stored_serves_as_of_a_day_after_its_last_fact(api: Client) -> None:
    """As of a day after the quarter's last dated fact (as of today on a live system) the
    quarter's own evaluation is the day's: stored whole, it is read back for that day, and not
    for a day before a fact."""
    load_example(api, "random-2025")
    last = date(2025, 6, 30)
    expected = old_way(api, last)
    first = fresh(api, keep=True)
    assert analysis.warnings(first, Q2, last) == expected
    assert first.cache.kept(api.app.state.services.registry.for_year(2025), Q2) is not None
    cold = fresh(api, keep=True)
    assert analysis.warnings(cold, Q2, last) == expected
    assert (cold.cache.fills, cold.cache.restored) == (0, 2)  # Q1 and Q2 whole
    before_a_fact = date(2025, 6, 13)  # the example has facts dated later in June
    again = fresh(api, keep=True)
    assert analysis.warnings(again, Q2, before_a_fact) == old_way(api, before_a_fact)
    assert (again.cache.fills, again.cache.restored) == (1, 1)  # Q2 as of it scored


def test_within_later_the_rows_are_written_once_run(api: Client) -> None:
    """A request's evaluations are stored for other processes after it answered: within
    `stored.later()` nothing is written until the writes put off are run, then both are."""
    load_example(api, "random-2025")
    svc = api.app.state.services

    def rows() -> list[tuple[str, str]]:
        with Session(svc.engine) as session:
            got = session.execute(select(StoredEvaluation.period, StoredEvaluation.as_of))
            return sorted((p, a) for p, a in got.all())

    first = fresh(api, keep=True)
    with stored.later() as pending:
        body = analysis.warnings(first, Q2, DAY)
        with stored.later() as inner:  # nested: the outer one holds them
            assert inner is pending
    assert body == old_way(api) and rows() == []
    assert len(pending.writes) == 2
    assert pending.run() == 2 and pending.writes == []
    assert rows() == [("2025Q1", ""), ("2025Q2", str(DAY))]
    cold = fresh(api, keep=True)
    assert analysis.warnings(cold, Q2, DAY) == body
    assert (cold.cache.fills, cold.cache.restored) == (0, 2)


def test_the_endpoint_stores_what_it_made_after_answering(api: Client) -> None:
    """Through the API and the web: the answer, then the rows (the test client runs what
    follows the response before it returns)."""
    load_example(api, "random-2025")
    svc = api.app.state.services
    params = {"ruleset": "2025", "period": "2025Q2", "as_of": str(DAY)}
    r = api.get("/v1/warnings", params=params)
    assert r.status_code == 200 and r.content == old_way(api)
    with Session(svc.engine) as session:
        got = session.execute(select(StoredEvaluation.period, StoredEvaluation.as_of)).all()
    assert sorted((p, a) for p, a in got) == [("2025Q1", ""), ("2025Q2", str(DAY))]
    stored.clear(svc.engine)
    svc.cache = ScoreCache(svc.engine, keep=True)  # a process starting cold
    from tests.app.web.conftest import signed_in

    page = signed_in(api.app, "reader").get("/analysis/warnings", params=params)
    assert page.status_code == 200, page.text
    with Session(svc.engine) as session:
        got = session.execute(select(StoredEvaluation.period, StoredEvaluation.as_of)).all()
    assert sorted((p, a) for p, a in got) == [("2025Q1", ""), ("2025Q2", str(DAY))]


def test_an_answer_that_fails_writes_what_it_made_before_the_error(api: Client) -> None:
    load_example(api, "random-2025")
    svc = api.app.state.services
    digest = svc.registry.for_year(2025).compiled.digest
    fresh(api, keep=True).require(Q1)
    kept = stored.read(
        svc.engine, digest, Q1, None, "w:" + str(fresh(api, False).require(Q1).watermark)
    )
    assert kept is not None
    stored.clear(svc.engine)

    def count() -> int:
        with Session(svc.engine) as session:
            return len(session.execute(select(StoredEvaluation.period)).all())

    async def failing() -> Response:
        assert stored.write(svc.engine, digest, Q1, None, "w:x", kept)  # put off
        assert count() == 0
        raise NotFound("no such page")

    with pytest.raises(NotFound):
        asyncio.run(stored_after(failing))
    assert count() == 1

    async def answering() -> Response:
        stored.write(svc.engine, digest, Q2, None, "w:x", kept)
        return Response(b"{}")

    response = asyncio.run(stored_after(answering))
    assert count() == 1 and response.background is not None  # written once it is sent
    asyncio.run(response.background())
    assert count() == 2
