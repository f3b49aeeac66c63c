"""API fixtures: the application on a fresh SQLite file and, when configured, PostgreSQL.

Requests go through httpx's ASGI transport (no sockets). `api` acts with an admin token;
`as_token(secret)` gives a client with another.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from app.main import create_app
from app.services import tokens
from app.settings import Settings
from app.store.db import upgrade
from tests.app.conftest import pg_schema_url
from tests.conftest import PG_ENV, PG_SKIP_REASON, REPO_ROOT

RULES = REPO_ROOT / "rules"
EXAMPLES = REPO_ROOT / "tests" / "examples"


class Client:
    """A synchronous client of the app with a bearer token (or none)."""

    def __init__(self, app: FastAPI, token: str | None) -> None:
        self.app = app
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def request(self, method: str, url: str, **kw: Any) -> httpx.Response:
        """One request through the ASGI transport."""

        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://api") as c:
                headers = {**self.headers, **kw.pop("headers", {})}
                return await c.request(method, url, headers=headers, **kw)

        return asyncio.run(go())

    def get(self, url: str, **kw: Any) -> httpx.Response:
        """GET."""
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw: Any) -> httpx.Response:
        """POST."""
        return self.request("POST", url, **kw)

    def put(self, url: str, **kw: Any) -> httpx.Response:
        """PUT."""
        return self.request("PUT", url, **kw)

    def delete(self, url: str, **kw: Any) -> httpx.Response:
        """DELETE."""
        return self.request("DELETE", url, **kw)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated database: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'api.db'}"
        upgrade(url)
        yield url
        return
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(PG_SKIP_REASON)
    for url in pg_schema_url(base):
        upgrade(url)
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A migrated SQLite database (tests that need not run on both)."""
    url = f"sqlite:///{tmp_path / 'api.db'}"
    upgrade(url)
    return url


def make_app(url: str, rules: Path = RULES) -> FastAPI:
    """The application on a database, serving a rules folder, tokens checked."""
    return create_app(Settings(database_url=url, rules_dir=rules))


@pytest.fixture
def app(db_url: str) -> Iterator[FastAPI]:
    """The application on the database under test."""
    application = make_app(db_url)
    yield application
    application.state.services.engine.dispose()


def token(app: FastAPI, role: str, **scope: Any) -> str:
    """A new token's secret."""
    _, secret = tokens.create(app.state.services.engine, role, f"test {role}", "tester", **scope)
    return secret


@pytest.fixture
def api(app: FastAPI) -> Client:
    """A client with an admin token."""
    return Client(app, token(app, "admin"))


def example_facts(name: str) -> list[Any]:
    """An example's facts as JSON objects, in file order."""
    import json

    lines = (EXAMPLES / name / "facts.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(x) for x in lines if x.strip()]


def example_org(name: str) -> Any:
    """An example's organisation JSON."""
    import json

    return json.loads((EXAMPLES / name / "org.json").read_text(encoding="utf-8"))


def load_example(api: Client, name: str) -> None:
    """Puts an example's organisation and posts its facts."""
    r = api.put("/v1/org", json=example_org(name))
    assert r.status_code == 200, r.text
    r = api.post("/v1/facts", json=example_facts(name))
    assert r.status_code == 201, r.text
