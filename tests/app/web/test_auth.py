"""Signing in with a token, the session cookie, CSRF on forms, demo mode, and the docs pages
with every asset served locally."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI

from app.main import create_app
from app.services import tokens, websessions
from app.settings import Settings
from tests.app.api.conftest import RULES, token
from tests.app.web.conftest import WebClient


def test_pages_need_a_sign_in_and_come_back_after_it(sqlite_example_app: FastAPI) -> None:
    web = WebClient(sqlite_example_app)
    r = web.get("/rankings/county_bureaus?period=2025Q1")
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=%2Frankings%2Fcounty_bureaus%3Fperiod%3D2025Q1"
    page = web.get(r.headers["location"])
    assert page.status_code == 200 and 'name="token"' in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None and csrf.group(1) == web.cookies["jx_csrf"]
    secret = token(sqlite_example_app, "reader")
    r = web.post_form("/login", {"token": secret, "next": "/rankings/county_bureaus?period=2025Q1"})
    assert r.status_code == 303
    assert r.headers["location"] == "/rankings/county_bureaus?period=2025Q1"
    cookie = r.headers["set-cookie"]
    assert "jx_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert secret not in cookie  # the token itself never goes into a cookie
    assert web.get("/rankings/county_bureaus?period=2025Q1").status_code == 200


def test_a_wrong_token_or_a_form_without_its_token_is_refused(
    sqlite_example_app: FastAPI,
) -> None:
    web = WebClient(sqlite_example_app)
    r = web.sign_in("jx_not-a-token")
    assert r.status_code == 401 and "令牌无效" in r.text
    r = web.post_form("/login", {"token": token(sqlite_example_app, "admin")}, csrf=False)
    assert r.status_code == 403 and "CSRF" in r.text
    assert "jx_session" not in web.cookies
    r = web.request(
        "POST",
        "/login",
        data={"token": token(sqlite_example_app, "admin"), "csrf": web.form_token()},
        headers={"origin": "http://elsewhere.example"},
    )
    assert r.status_code == 403


def test_only_local_paths_are_followed_after_sign_in(sqlite_example_app: FastAPI) -> None:
    web = WebClient(sqlite_example_app)
    r = web.post_form(
        "/login", {"token": token(sqlite_example_app, "reader"), "next": "//evil.example/x"}
    )
    assert r.headers["location"] == "/"


def test_sign_out_and_revocation_end_the_session(sqlite_example_app: FastAPI) -> None:
    engine = sqlite_example_app.state.services.engine
    web = WebClient(sqlite_example_app)
    web.sign_in(token(sqlite_example_app, "reader"))
    held = dict(web.cookies)
    r = web.post_form("/logout", {})
    assert r.status_code == 303
    assert "jx_session=" in r.headers["set-cookie"] and "Max-Age=0" in r.headers["set-cookie"]
    web.cookies = held  # the old cookie, kept by someone: no longer signed in
    assert web.get("/").status_code == 303

    other = WebClient(sqlite_example_app)
    tid, secret = tokens.create(engine, "reader", "soon revoked", "tester")
    other.sign_in(secret)
    assert other.get("/").status_code == 200
    tokens.revoke(engine, tid)
    assert other.get("/").status_code == 303


def test_a_session_expires(sqlite_example_app: FastAPI) -> None:
    engine = sqlite_example_app.state.services.engine
    secret = websessions.sign_in(engine, token(sqlite_example_app, "reader"))
    assert secret is not None
    assert websessions.principal(engine, secret) is not None
    later = datetime.now(UTC) + websessions.LIFETIME
    assert websessions.principal(engine, secret, now=later) is None


@pytest.fixture
def demo_app(sqlite_url: str) -> FastAPI:
    return create_app(Settings(database_url=sqlite_url, rules_dir=RULES, demo=True))


def test_demo_mode_signs_in_as_admin_and_says_so_on_every_page(demo_app: FastAPI) -> None:
    web = WebClient(demo_app)
    for url in ("/", "/rulesets", "/rulesets/2025", "/audit", "/subjects/x?period=2025Q1"):
        r = web.get(url)
        assert r.status_code in (200, 404), url
        assert "演示模式" in r.text and "管理员" in r.text, url
    assert web.get("/login").status_code == 303


def test_docs_pages_load_only_local_assets(demo_app: FastAPI) -> None:
    web = WebClient(demo_app)
    for url in ("/docs", "/redoc"):
        r = web.get(url)
        assert r.status_code == 200
        assert "default-src 'self'" in r.headers["content-security-policy"]
        refs = re.findall(r'(?:src|href)="([^"]+)"', r.text)
        assert refs and all(ref.startswith("/static/") for ref in refs), refs
        for ref in refs:
            assert web.get(ref).status_code == 200, ref


def test_vendored_assets_are_pinned_and_licensed() -> None:
    vendor = Path(__file__).resolve().parents[3] / "app" / "web" / "static" / "vendor"
    pinned = (vendor / "VERSIONS").read_text().splitlines()
    names = {line.split()[0] for line in pinned if line and not line.startswith("#")}
    assert {"echarts", "swagger-ui-dist", "redoc"} <= names
    for name in ("echarts", "swagger-ui-dist", "redoc"):
        assert (vendor / name / "LICENSE").stat().st_size > 0
    assert "cdn.redoc.ly" not in (vendor / "redoc" / "redoc.standalone.js").read_text()
