"""One JSON error shape for every error, pinned: code, message, details with field paths."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI

from tests.app.api.conftest import Client, load_example, token

SHAPE = {"code", "message", "details"}


def assert_shape(body: Any) -> None:
    """The one error shape: exactly these keys, details a list of objects naming a field."""
    assert set(body) == SHAPE, body
    assert isinstance(body["code"], str) and body["code"]
    assert isinstance(body["message"], str) and body["message"]
    assert "Traceback" not in body["message"]
    assert isinstance(body["details"], list)
    for d in body["details"]:
        assert isinstance(d["field"], str) and isinstance(d["message"], str)


def _cases(api: Client) -> list[tuple[Any, int, str]]:
    p = {"period": "2025Q1"}
    bad_fact = [{"id": "x", "type": "inspection_issue", "subject": "nanyue"}]
    return [
        (api.get("/v1/scores", params={"period": "2025Q7"}), 422, "invalid"),
        (api.get("/v1/scores"), 422, "invalid"),
        (api.get("/v1/scores", params={"period": "2031Q1"}), 404, "not_found"),
        (api.get("/v1/scores", params={**p, "ruleset": "1999"}), 404, "not_found"),
        (api.get("/v1/scores", params={**p, "ruleset": "deadbeefdead"}), 404, "not_found"),
        (api.get("/v1/scores/nobody", params=p), 404, "not_found"),
        (api.get("/v1/explanations/nobody", params=p), 404, "not_found"),
        (api.get("/v1/rankings/nothing", params=p), 404, "not_found"),
        (api.get("/v1/facts/none"), 404, "not_found"),
        (api.get("/v1/receipts/999"), 404, "not_found"),
        (api.get("/v1/no-such-route"), 404, "not_found"),
        (api.delete("/v1/scores"), 405, "method_not_allowed"),
        (api.post("/v1/facts", json=bad_fact), 422, "invalid"),
        (
            api.post("/v1/facts", content=b"[{", headers={"content-type": "application/json"}),
            422,
            "invalid",
        ),
        (api.post("/v1/facts", json={"not": "a list"}), 422, "invalid"),
        (api.post("/v1/facts/f2/retract", json={"reason": "x"}), 200, ""),
        (api.post("/v1/facts/f2/retract", json={"reason": "again"}), 409, "conflict"),
        (Client(api.app, None).get("/v1/scores", params=p), 401, "unauthorized"),
        (Client(api.app, token(api.app, "reader")).post("/v1/facts", json=[]), 403, "forbidden"),
    ]


def test_every_error_has_the_one_shape(api: Client) -> None:
    load_example(api, "handworked")
    for r, status, code in _cases(api):
        assert r.status_code == status, (r.request.url, r.text)
        if status >= 400:
            assert r.headers["content-type"] == "application/json"
            assert_shape(r.json())
            assert r.json()["code"] == code


def test_the_shape_is_pinned_exactly(api: Client) -> None:
    load_example(api, "handworked")
    bad = {"id": "x1", "type": "inspection_issue", "subject": "nanyue", "date": "2025-02-30"}
    ok = {"id": "x2", "type": "overdue_document", "subject": "nanyue", "date": "2025-02-03"}
    r = api.post("/v1/facts", json=[ok, {**bad, "data": {"level": "regional"}}])
    assert r.status_code == 422
    assert r.json() == {
        "code": "invalid",
        "message": "2 problem(s) in the posted facts; none recorded",
        "details": [
            {
                "field": "body[1].data.level",
                "id": "x1",
                "message": r.json()["details"][0]["message"],
            },
            {"field": "body[1].date", "id": "x1", "message": "not a YYYY-MM-DD date: '2025-02-30'"},
        ],
    }
    assert "regional" in r.json()["details"][0]["message"]
    assert api.get("/v1/facts/x2").status_code == 404  # all or none


def test_pydantic_errors_name_the_field(api: Client) -> None:
    r = api.post("/v1/facts", json=[{"id": "a", "type": "t"}])
    assert r.status_code == 422
    fields = {d["field"] for d in r.json()["details"]}
    assert fields == {"body[0].subject"}
    r = api.get("/v1/facts", params={"limit": 0})
    assert [d["field"] for d in r.json()["details"]] == ["query.limit"]


def test_an_unexpected_error_is_500_without_a_trace(
    app: FastAPI, api: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*_: Any) -> Any:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(app.state.services.cache, "get", boom)
    r = api.get("/v1/scores", params={"period": "2025Q1"})
    assert r.status_code == 500
    assert r.json() == {
        "code": "internal",
        "message": "internal error; the server log has it",
        "details": [],
    }
