"""The pages of an approved period show the approved results and say so."""

from __future__ import annotations

from fastapi import FastAPI

from tests.app.api.conftest import Client, token
from tests.app.web.conftest import cells, signed_in


def test_an_approved_ranking_says_so(sqlite_example_app: FastAPI) -> None:
    app = sqlite_example_app
    api = Client(app, token(app, "admin"))
    web = signed_in(app, "reader")
    url = "/rankings/county_bureaus?period=2025Q1&ruleset=2025"
    assert "已审定" not in web.get(url).text
    q = {"ruleset": "2025"}
    assert api.post("/v1/cycles/2025Q1/publish", params=q).status_code == 200
    r = api.post("/v1/cycles/2025Q1/approve", params=q)
    assert r.status_code == 200
    page = web.get(url)
    assert page.status_code == 200
    assert f"已审定</strong>（回执 {r.json()['receipt']}" in page.text
    rows = cells(page.text, "ranking-table")
    assert any("86.93" in " ".join(row) for row in rows)
