"""Tokens and roles: 401 without a valid token, 403 outside the role or the recorder's scope."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from app.services import tokens
from tests.app.api.conftest import Client, load_example, token

ISSUE = {
    "id": "i1",
    "type": "inspection_issue",
    "subject": "nanyue",
    "date": "2025-02-14",
    "data": {"level": "municipal"},
}


@pytest.fixture
def loaded(app: FastAPI, api: Client) -> FastAPI:
    """The app with the handworked example recorded."""
    load_example(api, "handworked")
    return app


def test_no_token_is_401_and_health_is_open(loaded: FastAPI) -> None:
    anon = Client(loaded, None)
    r = anon.get("/v1/scores", params={"period": "2025Q1"})
    assert r.status_code == 401
    assert r.json()["code"] == "unauthorized"
    assert r.headers["www-authenticate"] == "Bearer"
    assert anon.get("/v1/health").status_code == 200
    assert anon.get("/v1/version").status_code == 200
    bad = Client(loaded, "jx_not-a-token")
    assert bad.get("/v1/scores", params={"period": "2025Q1"}).status_code == 401


def test_tokens_are_stored_hashed(loaded: FastAPI) -> None:
    secret = token(loaded, "reader")
    listed = Client(loaded, token(loaded, "admin")).get("/v1/tokens").json()["tokens"]
    assert all(secret not in str(t) for t in listed)
    got = tokens.authenticate(loaded.state.services.engine, secret)
    assert got is not None and got.role == "reader"
    assert tokens.digest(secret) != secret


def test_roles(loaded: FastAPI) -> None:
    reader = Client(loaded, token(loaded, "reader"))
    auditor = Client(loaded, token(loaded, "auditor"))
    recorder = Client(loaded, token(loaded, "recorder"))
    q = {"period": "2025Q1"}
    assert reader.get("/v1/scores", params=q).status_code == 200
    assert reader.post("/v1/facts", json=[ISSUE]).status_code == 403
    assert reader.get("/v1/facts/f1").status_code == 403
    assert reader.get("/v1/rulesets/diff", params={"from": "2024", "to": "2025"}).status_code == 403
    assert (
        auditor.get("/v1/rulesets/diff", params={"from": "2024", "to": "2025"}).status_code == 200
    )
    assert auditor.get("/v1/facts/history/nanyue").status_code == 200
    assert auditor.post("/v1/facts", json=[ISSUE]).status_code == 403
    assert recorder.get("/v1/scores", params=q).status_code == 403
    assert recorder.put("/v1/org/units", json=[]).status_code == 403
    assert auditor.post("/v1/tokens", json={"name": "x", "role": "admin"}).status_code == 403
    assert recorder.post("/v1/facts", json=[ISSUE]).status_code == 201


def test_revoked_token_stops_working(loaded: FastAPI) -> None:
    admin = Client(loaded, token(loaded, "admin"))
    made = admin.post("/v1/tokens", json={"name": "tmp", "role": "reader"}).json()
    reader = Client(loaded, made["token"])
    assert reader.get("/v1/rulesets").status_code == 200
    assert admin.delete(f"/v1/tokens/{made['id']}").status_code == 200
    assert reader.get("/v1/rulesets").status_code == 401


def test_recorder_scope_by_type_and_unit(loaded: FastAPI) -> None:
    scoped = token(loaded, "recorder", fact_types=["inspection_issue"], units=["nanyue"])
    rec = Client(loaded, scoped)
    assert rec.post("/v1/facts", json=[ISSUE]).status_code == 201
    other_unit = {**ISSUE, "id": "i2", "subject": "hengshan"}
    r = rec.post("/v1/facts", json=[ISSUE, other_unit])
    assert r.status_code == 403
    assert r.json()["details"] == [
        {"field": "body[1].subject", "message": "'hengshan' is not under this token's units"}
    ]
    other_type = {"id": "o1", "type": "overdue_document", "subject": "nanyue", "date": "2025-01-09"}
    r = rec.post("/v1/facts", json=[other_type])
    assert r.status_code == 403
    assert r.json()["details"][0]["field"] == "body[0].type"
    # a person under the unit is in scope; nothing of a refused batch was recorded
    person = {**ISSUE, "id": "p1", "type": "inspection_issue"}
    assert rec.post("/v1/facts", json=[person]).status_code == 201
    assert Client(loaded, token(loaded, "auditor")).get("/v1/facts/i2").status_code == 404
    # retracting or correcting a fact outside the scope is refused too
    assert rec.post("/v1/facts/f3/retract", json={"reason": "no"}).status_code == 403


def test_demo_mode_needs_no_token(sqlite_url: str) -> None:
    from app.main import create_app
    from app.settings import Settings
    from tests.app.api.conftest import RULES

    app = create_app(Settings(database_url=sqlite_url, rules_dir=RULES, demo=True))
    assert Client(app, None).get("/v1/rulesets").status_code == 200
    assert Client(app, None).get("/v1/health").json()["demo"] is True
