"""The HTTP layer's edges: authentication before any body is read, the body's size limit,
demo mode's mark and limits, 405 with the full Allow header, strict parameters, and errors
that say what is wrong where it is."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator, MutableMapping
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from app.cli.serve import is_loopback
from app.main import create_app
from app.settings import Settings
from tests.app.api.conftest import RULES, Client, load_example, token

ISSUE = {"id": "e1", "type": "overdue_document", "subject": "nanyue", "date": "2025-02-03"}


def asgi(
    app: FastAPI, method: str, path: str, headers: dict[str, str], chunks: list[bytes]
) -> tuple[int, dict[str, str], bytes, int]:
    """One request straight through ASGI: (status, headers, body, chunks the app read)."""
    read = 0
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal read
        if read >= len(chunks):
            return {"type": "http.disconnect"}
        read += 1
        return {"type": "http.request", "body": chunks[read - 1], "more_body": read < len(chunks)}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "server": ("api", 80), "client": ("127.0.0.1", 1),
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }  # fmt: skip
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    head = {k.decode().lower(): v.decode() for k, v in start["headers"]}
    return start["status"], head, body, read


@pytest.fixture
def small(sqlite_url: str) -> Iterator[FastAPI]:
    """The application with a body limit of 2,000 bytes."""
    app = create_app(Settings(database_url=sqlite_url, rules_dir=RULES, max_body_bytes=2000))
    yield app
    app.state.services.engine.dispose()


def test_a_stranger_s_body_is_not_read(small: FastAPI) -> None:
    big = {"content-type": "application/json", "content-length": str(100 * 2**20)}
    status, head, body, read = asgi(small, "POST", "/v1/facts", big, [b"[" * 1000])
    assert (status, read) == (401, 0)
    assert json.loads(body)["code"] == "unauthorized" and head["www-authenticate"] == "Bearer"
    bad = {**big, "authorization": "Bearer jx_nothing"}
    assert asgi(small, "PUT", "/v1/org", bad, [b"{}"])[::3] == (401, 0)


def test_a_body_over_the_limit_is_413_whether_announced_or_streamed(small: FastAPI) -> None:
    auth = {"authorization": f"Bearer {token(small, 'admin')}", "content-type": "application/json"}
    status, _, body, read = asgi(small, "POST", "/v1/facts", {**auth, "content-length": "2001"},
                                 [b" " * 2001])  # fmt: skip
    assert (status, read) == (413, 0)
    assert json.loads(body) == {
        "code": "too_large",
        "message": "the body is larger than the limit of 2000 bytes",
        "details": [
            {"field": "body", "message": "the body is larger than the limit of 2000 bytes"}
        ],
    }
    # No Content-Length: the bytes read pass the limit, in the route's own reading or FastAPI's
    for method, path in (("POST", "/v1/facts"), ("PUT", "/v1/facts/x1"), ("PUT", "/v1/org")):
        status, _, body, read = asgi(small, method, path, auth, [b" " * 1500, b" " * 1500])
        assert status == 413, (method, path, body)
        assert json.loads(body)["code"] == "too_large"
    # at the limit: read and answered as usual (here: not a fact list)
    status, _, body, _ = asgi(small, "POST", "/v1/facts", auth, [b"{}" + b" " * 1998])
    assert status == 422


def test_the_limit_is_configured_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JIXIAO_MAX_BODY_BYTES", "12345")
    assert Settings.from_env().max_body_bytes == 12345
    monkeypatch.delenv("JIXIAO_MAX_BODY_BYTES")
    assert Settings.from_env().max_body_bytes == 64 * 2**20
    monkeypatch.setenv("JIXIAO_MAX_BODY_BYTES", "lots")
    with pytest.raises(ValueError, match="JIXIAO_MAX_BODY_BYTES"):
        Settings.from_env()


@pytest.fixture
def demo(sqlite_url: str) -> Iterator[FastAPI]:
    """The application in demo mode."""
    app = create_app(Settings(database_url=sqlite_url, rules_dir=RULES, demo=True))
    yield app
    app.state.services.engine.dispose()


def test_demo_says_so_on_every_answer_and_makes_no_tokens(demo: FastAPI) -> None:
    anyone = Client(demo, None)
    for r in (
        anyone.get("/v1/health"),
        anyone.get("/v1/scores", params={"period": "2025Q1"}),  # an error
        anyone.get("/v1/nowhere"),
        anyone.get("/"),  # a page
        anyone.post("/v1/tokens", json={"name": "x", "role": "admin"}),
    ):
        assert r.headers["x-jixiao-mode"] == "demo", r.request.url
    made = anyone.post("/v1/tokens", json={"name": "x", "role": "admin"})
    assert made.status_code == 403 and "demo mode creates no tokens" in made.json()["message"]
    assert anyone.get("/v1/tokens").json()["tokens"] == []


def test_outside_demo_no_answer_is_marked(api: Client) -> None:
    assert "x-jixiao-mode" not in api.get("/v1/health").headers


def test_demo_refuses_a_bind_beyond_this_machine(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.dsl.helpers import run_cli

    monkeypatch.chdir(tmp_path)
    for host in ("127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"):
        assert is_loopback(host), host
    for host in ("0.0.0.0", "::", "192.168.1.5", "example.org", ""):
        assert not is_loopback(host), host
    code, _, err = run_cli(capsys, "serve", "--demo", "--host", "0.0.0.0", "--rules", RULES)
    assert code == 2
    assert "loopback address only" in err and not Path("jixiao-demo.db").exists()


def test_405_names_every_method_of_the_path(api: Client) -> None:
    r = api.request("PATCH", "/v1/facts")
    assert r.status_code == 405 and r.json()["code"] == "method_not_allowed"
    assert r.headers["allow"] == "GET, HEAD, POST"
    r = api.delete("/v1/facts/f1")
    assert r.headers["allow"] == "GET, HEAD, PUT"
    assert api.request("PATCH", "/v1/tokens/3").headers["allow"] == "DELETE"


def test_dates_and_periods_are_only_what_the_schema_says(api: Client) -> None:
    load_example(api, "handworked")
    r = api.get("/v1/org", params={"at": "0"})
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "query.at"
    assert api.get("/v1/org", params={"at": "2025-01-01"}).status_code == 200
    for period in ("", " 2025", "0000", "2025Q5", "２０２５"):
        r = api.get("/v1/scores", params={"period": period})
        assert r.status_code == 422, period
        assert r.json()["details"][0]["field"] == "query.period"
    spec = api.get("/openapi.json").json()
    params = {p["name"]: p for p in spec["paths"]["/v1/scores"]["get"]["parameters"]}
    assert params["period"]["schema"]["pattern"] == "^[1-9][0-9]{3}(Q[1-4])?$"


def test_malformed_json_is_shown_by_line_and_column(api: Client) -> None:
    text = '[\n  {"id": "e1",\n   "type": "overdue_document" "subject": "nanyue"}\n]'
    for method, path in (("POST", "/v1/facts"), ("PUT", "/v1/org")):
        r = api.request(method, path, content=text, headers={"content-type": "application/json"})
        assert r.status_code == 422, r.text
        detail = r.json()["details"][0]
        assert detail["field"] == "body"
        assert (detail["line"], detail["column"]) == (3, 31)
        assert detail["message"] == "malformed JSON at line 3, column 31: Expecting ',' delimiter"
    r = api.post("/v1/facts", content=b'["\xff"]', headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert r.json()["details"][0]["message"].startswith("malformed JSON at line 1, column 3")


def test_a_body_that_is_not_json_is_415(api: Client) -> None:
    for method, path in (("POST", "/v1/facts"), ("PUT", "/v1/facts/x"), ("POST", "/v1/tokens")):
        r = api.request(method, path, content="hello", headers={"content-type": "text/plain"})
        assert r.status_code == 415, (path, r.text)
        assert r.json()["code"] == "unsupported_media_type"
        assert "not text/plain" in r.json()["message"]


def test_a_fact_without_its_date_says_so(api: Client) -> None:
    load_example(api, "handworked")
    r = api.post("/v1/facts", json=[{k: v for k, v in ISSUE.items() if k != "date"}])
    assert r.status_code == 422
    assert r.json()["details"] == [
        {"field": "body[0].date", "id": "e1",
         "message": "date is required for a dated fact: overdue_document facts happen on a day "
                    "(YYYY-MM-DD)"}
    ]  # fmt: skip
    value = {"id": "v1", "type": "revenue_completion", "subject": "nanyue", "data": {"value": 1}}
    r = api.post("/v1/facts", json=[value])
    assert r.json()["details"][0]["field"] == "body[0].period"
    assert r.json()["details"][0]["message"].startswith("period is required for a period value")


def test_put_fact_answers_201_then_200_as_documented(api: Client) -> None:
    load_example(api, "handworked")
    body = {k: v for k, v in ISSUE.items() if k != "id"}
    assert api.put("/v1/facts/e9", json=body).status_code == 201
    assert api.put("/v1/facts/e9", json=body).status_code == 200
    documented = api.get("/openapi.json").json()["paths"]["/v1/facts/{fact_id}"]["put"]
    assert {"200", "201"} <= set(documented["responses"])


def test_titles_and_names_stand_for_their_ids_and_are_suggested(api: Client) -> None:
    load_example(api, "handworked")
    issue = {"id": "t1", "type": "inspection_issue", "subject": "nanyue", "date": "2025-02-14"}
    r = api.post("/v1/facts", json=[{**issue, "data": {"level": "市级"}}])
    assert r.status_code == 201, r.text
    assert api.get("/v1/facts/t1").json()["data"] == {"level": "municipal"}
    # the same fact given by its id is the same fact
    again = api.post("/v1/facts", json=[{**issue, "data": {"level": "municipal"}}])
    assert again.status_code == 200 and again.json()["unchanged"] == 1
    r = api.post("/v1/facts", json=[{**issue, "id": "t2", "data": {"level": "市局"}}])
    assert r.json()["details"][0]["message"] == (
        "'市局' is not one of provincial (省级), municipal (市级)"
        " (did you mean 'municipal' (市级)?)"
    )
    lvl = {"data": {"level": "municipal"}}
    r = api.post("/v1/facts", json=[{**issue, **lvl, "id": "t3", "subject": "nanyu"}])
    assert r.json()["details"][0]["field"] == "body[0].subject"
    assert "did you mean 'nanyue' (南岳区税务局)" in r.json()["details"][0]["message"]
    r = api.post("/v1/facts", json=[{**issue, **lvl, "id": "t4", "subject": "南岳区税务局"}])
    assert "did you mean 'nanyue' (南岳区税务局)" in r.json()["details"][0]["message"]


def test_a_broken_multipart_body_is_422_naming_the_body(api: Client) -> None:
    r = api.post(
        "/v1/facts",
        content=b"not multipart at all",
        headers={"content-type": "multipart/form-data; boundary=xyz"},
    )
    assert r.status_code in (422,), r.text
    assert r.json()["details"][0]["field"].startswith("body")


def test_deep_nesting_and_huge_numbers_are_422(api: Client) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    for method, path in (("POST", "/v1/facts"), ("PUT", "/v1/org")):
        r = api.request(method, path, content=deep, headers={"content-type": "application/json"})
        assert r.status_code == 422, (path, r.text[:200])
        assert "nested too deeply" in r.json()["message"]
    r = api.get("/v1/facts", params={"after": str(2**63)})
    assert r.status_code == 422 and r.json()["details"][0]["field"] == "query.after"
    assert api.get("/v1/facts", params={"after": str(2**63 - 1)}).json()["facts"] == []
