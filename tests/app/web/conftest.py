"""Web page fixtures: the app on the hand-worked example, and clients that keep cookies.

`WebClient` keeps the cookies a page sets (the form token, the session) and sends forms with
the form token, as a browser would.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

# `app`, `db_url` and `sqlite_url` are the API tests' fixtures, used here too.
from tests.app.api.conftest import (  # noqa: F401
    Client,
    app,
    db_url,
    load_example,
    make_app,
    sqlite_url,
    token,
)


class WebClient:
    """A browser-like client: cookies kept between requests, no redirects followed."""

    def __init__(self, application: FastAPI) -> None:
        self.app = application
        self.cookies: dict[str, str] = {}

    def request(self, method: str, url: str, **kw: Any) -> httpx.Response:
        """One request with the cookies held; the cookies it sets are kept."""

        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://web", cookies=self.cookies
            ) as c:
                r = await c.request(method, url, **kw)
                self.cookies.update(dict(c.cookies))
                return r

        return asyncio.run(go())

    def get(self, url: str, **kw: Any) -> httpx.Response:
        """GET."""
        return self.request("GET", url, **kw)

    def form_token(self) -> str:
        """The form token of this browser (fetched from the sign-in page when not held)."""
        if "jx_csrf" not in self.cookies:
            self.get("/login")
        return self.cookies["jx_csrf"]

    def post_form(self, url: str, fields: dict[str, str], csrf: bool = True) -> httpx.Response:
        """POSTs a form, with the form token unless `csrf` is False."""
        data = {**fields, **({"csrf": self.form_token()} if csrf else {})}
        return self.request("POST", url, data=data)

    def sign_in(self, secret: str) -> httpx.Response:
        """Signs in with an API token."""
        return self.post_form("/login", {"token": secret, "next": "/"})


def signed_in(application: FastAPI, role: str) -> WebClient:
    """A browser signed in with a new token of `role`."""
    web = WebClient(application)
    r = web.sign_in(token(application, role))
    assert r.status_code == 303, r.text
    return web


@pytest.fixture
def example_app(app: FastAPI) -> FastAPI:  # noqa: F811
    """The app (SQLite and PostgreSQL) with the hand-worked example recorded."""
    load_example(Client(app, token(app, "admin")), "handworked")
    return app


@pytest.fixture
def sqlite_example_app(sqlite_url: str) -> Iterator[FastAPI]:  # noqa: F811
    """The app on SQLite with the hand-worked example recorded."""
    application = make_app(sqlite_url)
    load_example(Client(application, token(application, "admin")), "handworked")
    yield application
    application.state.services.engine.dispose()


def cells(html: str, table_id: str) -> list[list[str]]:
    """The text of each body row's cells of a table, tags and surrounding space removed."""
    m = re.search(rf'<table[^>]*id="{table_id}".*?<tbody>(.*?)</tbody>', html, re.S)
    assert m is not None, f"no table {table_id}"
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", m.group(1), re.S)
    out = []
    for row in rows:
        texts = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        out.append([" ".join(re.sub(r"<[^>]+>", " ", t).split()) for t in texts])
    return out
