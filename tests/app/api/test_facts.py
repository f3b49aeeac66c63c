"""Facts over HTTP: idempotent posts, conflicts, one fact under its id, pages, corrections."""

from __future__ import annotations

from tests.app.api.conftest import Client, load_example

ISSUE = {
    "id": "i1",
    "type": "inspection_issue",
    "subject": "nanyue",
    "date": "2025-02-14",
    "data": {"level": "municipal"},
}


def test_posting_twice_is_idempotent_and_other_content_conflicts(api: Client) -> None:
    load_example(api, "handworked")
    first = api.post("/v1/facts", json=[ISSUE])
    assert first.status_code == 201
    assert (first.json()["added"], first.json()["unchanged"]) == (1, 0)
    again = api.post("/v1/facts", json=[ISSUE])
    assert again.status_code == 200
    assert (again.json()["added"], again.json()["unchanged"]) == (0, 1)
    assert again.json()["facts"] == first.json()["facts"]
    other = api.post("/v1/facts", json=[{**ISSUE, "data": {"level": "provincial"}}])
    assert other.status_code == 409
    assert other.json()["details"][0]["field"] == "body[0].id"


def test_put_one_fact_and_read_it_back_exactly(api: Client) -> None:
    load_example(api, "handworked")
    body = {"type": "revenue_completion", "subject": "hengdong", "period": "2025Q2"}
    r = api.put("/v1/facts/k1-q2", json={**body, "data": {"value": 99.125}})
    assert r.status_code == 201, r.text
    got = api.get("/v1/facts/k1-q2").json()
    assert got["data"] == {"value": "99.125"}  # decimals as strings, digit for digit
    assert got["status"] == "live" and got["period"] == "2025Q2" and got["date"] is None
    assert '"value":"99.125"' in api.get("/v1/facts/k1-q2").text


def test_a_second_period_value_must_supersede(api: Client) -> None:
    load_example(api, "handworked")
    second = {"id": "k1b", "type": "revenue_completion", "subject": "nanyue", "period": "2025Q1"}
    r = api.post("/v1/facts", json=[{**second, "data": {"value": 99}}])
    assert r.status_code == 409
    assert r.json()["details"][0]["field"] == "body[0].period"
    fix = api.post("/v1/facts/f2/supersede", json={"id": "f2-fix", "data": {"value": 100}})
    assert fix.status_code == 201, fix.text
    assert api.get("/v1/facts/f2").json()["superseded_by"] == "f2-fix"
    k1 = api.get("/v1/scores/nanyue", params={"period": "2025Q1"}).json()
    assert k1["results"][0]["indicators"]["K1"] == "30.00"
    twice = api.post("/v1/facts/f2/supersede", json={"id": "f2-fix2", "data": {"value": 90}})
    assert twice.status_code == 409


def test_listing_pages_by_sequence(api: Client) -> None:
    load_example(api, "handworked")
    seen: list[str] = []
    after = 0
    while True:
        page = api.get("/v1/facts", params={"subject": "nanyue", "after": after, "limit": 4})
        body = page.json()
        seen += [f["id"] for f in body["facts"]]
        assert all(f["subject"] == "nanyue" for f in body["facts"])
        if body["next"] is None:
            break
        after = body["next"]
    history = api.get("/v1/facts/history/nanyue").json()["facts"]
    assert seen == [f["id"] for f in history]
    assert len(seen) > 8
    typed = api.get("/v1/facts", params={"type": "risk_step", "period": "2025Q1"}).json()
    assert typed["facts"] and {f["type"] for f in typed["facts"]} == {"risk_step"}


def test_a_batch_of_mixed_years_is_checked_against_each_year(api: Client) -> None:
    load_example(api, "handworked")
    y2024 = {**ISSUE, "id": "old", "date": "2024-05-01"}
    y2031 = {**ISSUE, "id": "far", "date": "2031-05-01"}
    r = api.post("/v1/facts", json=[ISSUE, y2024, y2031])
    assert r.status_code == 422
    assert r.json()["details"] == [
        {"field": "body[2].date", "id": "far", "message": "no ruleset in service for 2031"}
    ]
    assert api.post("/v1/facts", json=[ISSUE, y2024]).json()["added"] == 2
