"""The pages in a real browser on the demo data: ranking order and tiers, a click through to
a score card whose explanation shows the rule line and the facts, a chart with drawn pixels,
what a reader cannot see, nothing fetched from outside; a screenshot of every page is kept
in build/screenshots/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from app.web import labels
from tests.app.web.browser import ARGS, CHROMIUM, SHOTS, Served, need_chromium, serve

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 900}
TABLET = {"width": 820, "height": 1180}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    need_chromium()
    yield from serve(tmp_path_factory.mktemp("web"))


@pytest.fixture(scope="module")
def browser(served: Served) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


class Visitor:
    """A browser context signed in with one role's token, recording every request."""

    def __init__(self, browser: Any, served: Served, role: str, viewport: dict[str, int]) -> None:
        self.served = served
        self.context = browser.new_context(viewport=viewport, locale="zh-CN")
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.context.on("request", lambda r: self.requests.append(r.url))
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(served.base + "/login")
        self.page.fill("input[name=token]", served.tokens[role])
        self.page.click("button[type=submit]")
        self.page.wait_for_url(served.base + "/")

    def open(self, path: str) -> Any:
        """Goes to a page of the server and waits for its scripts."""
        self.page.goto(self.served.base + path)
        self.page.wait_for_load_state("load")
        return self.page

    def shot(self, name: str) -> Path:
        """A full-page screenshot kept as a test artefact."""
        path = SHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def close(self) -> None:
        """Closes the context; no page may have thrown."""
        self.context.close()
        assert self.errors == []


@pytest.fixture(scope="module")
def admin(browser: Any, served: Served) -> Iterator[Visitor]:
    v = Visitor(browser, served, "admin", LAPTOP)
    yield v
    v.close()


def api_ranking(served: Served, period: str) -> dict[str, Any]:
    r = httpx.get(
        f"{served.base}/v1/rankings/county_bureaus",
        params={"period": period},
        headers={"Authorization": f"Bearer {served.tokens['reader']}"},
    )
    assert r.status_code == 200
    body: dict[str, Any] = r.json()
    return body


def test_rankings_list_the_county_bureaus_in_rank_order_with_tiers(
    admin: Visitor, served: Served
) -> None:
    from app.services.demo import COUNTIES

    names = {cid: f"{name}税务局" for cid, name in COUNTIES}
    page = admin.open("/rankings/county_bureaus?period=2025Q1&ruleset=2025")
    rows = page.locator("#ranking-table tbody tr")
    assert rows.count() == len(COUNTIES)
    shown = [
        [c.strip() for c in rows.nth(i).locator("td").all_inner_texts()[:4]]
        for i in range(rows.count())
    ]
    want = api_ranking(served, "2025Q1")["ranking"]
    assert shown == [
        [str(r["rank"]), names[r["subject"]], r["final"], labels.band(r["tier"])] for r in want
    ]
    ranks = [int(r[0]) for r in shown]
    assert ranks == sorted(ranks)
    admin.shot("rankings-county-2025Q1")


def test_the_chart_draws_the_tiers_colours(admin: Visitor) -> None:
    page = admin.open("/rankings/county_bureaus?period=2025Q1&ruleset=2025")
    page.wait_for_selector(".chart canvas")
    counts = page.evaluate(
        """() => {
            const c = document.querySelector('.chart canvas');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let painted = 0, firstTier = 0;
            for (let i = 0; i < d.length; i += 4) {
                if (d[i + 3] > 0) painted++;
                if (Math.abs(d[i] - 0xc0) < 8 && Math.abs(d[i + 1] - 0x39) < 8
                    && Math.abs(d[i + 2] - 0x2b) < 8) firstTier++;
            }
            return [painted, firstTier, c.width * c.height];
        }"""
    )
    painted, first_tier, total = counts
    assert painted > total // 50  # axes, labels and bars
    assert first_tier > 500  # the first tier's bars, in its colour


def test_a_click_opens_the_score_card_whose_lines_explain_themselves(admin: Visitor) -> None:
    page = admin.open("/rankings/county_bureaus?period=2025Q1&ruleset=2025")
    first = page.locator("#ranking-table tbody tr").first.locator("a")
    name = first.inner_text()
    first.click()
    page.wait_for_url("**/subjects/**")
    assert page.locator("h1").inner_text().startswith(name)
    line = page.locator("details.line-indicator").filter(has=page.locator("code", has_text="K3"))
    line.locator("summary").click()
    explain = line.locator(".explain")
    assert explain.is_visible()
    assert explain.locator("a.source-link").inner_text().startswith("county.jx:20")
    assert "risk_step" in explain.locator(".source-snippet pre").inner_text()
    facts = explain.locator("table.facts tbody tr")
    assert facts.count() >= 1
    assert "风险应对环节" in facts.first.inner_text()
    page.click("text=全部展开")
    admin.shot("subject-expanded")
    explain.locator("a.source-link").click()
    page.wait_for_url("**/rulesets/2025/files/county.jx#L20")
    target = page.locator("#L20")
    assert "indicator" in target.inner_text() and "K3" in target.inner_text()
    admin.shot("ruleset-file-county")


def test_every_page_renders_and_nothing_comes_from_outside(admin: Visitor, served: Served) -> None:
    pages = {
        "home": "/",
        "rankings-departments": "/rankings/departments?period=2025Q1",
        "rankings-persons-2025": "/rankings/staff?period=2025&ruleset=2025",
        "subject-nanyue": "/subjects/nanyue?period=2025Q2&ruleset=2025",
        "subject-person": "/subjects/nanyue-levy-1?period=2025Q1&ruleset=2025",
        "persons-nanyue": "/units/nanyue/persons?period=2025Q1&ruleset=2025",
        "rulesets": "/rulesets",
        "ruleset-2025": "/rulesets/2025",
        "audit": "/audit",
        "diff-2024-2025": "/audit/diff?from=2024&to=2025",
        "impact-2024-2025": "/audit/impact?from=2024&to=2025&period=2025Q1",
        "docs": "/docs",
        "redoc": "/redoc",
    }
    for name, path in pages.items():
        page = admin.open(path)
        if name in ("docs", "redoc"):
            page.wait_for_selector(".swagger-ui .info, .api-info", timeout=15000)
        assert page.title(), name
        admin.shot(name)
    outside = [u for u in admin.requests if urlsplit(u).hostname not in ("127.0.0.1", None)]
    assert outside == []


def test_a_receipt_kept_and_replayed_in_the_browser(admin: Visitor) -> None:
    page = admin.open("/audit")
    page.fill("input[name=note]", "浏览器测试留存")
    page.click("button:has-text('保存凭证')")
    page.wait_for_url("**/audit/receipts/*")
    page.click("button:has-text('复算并核对')")
    assert "复算一致" in page.locator(".replay").inner_text()
    admin.shot("receipt-replayed")


def test_a_reader_sees_no_write_buttons(browser: Any, served: Served) -> None:
    reader = Visitor(browser, served, "reader", LAPTOP)
    try:
        page = reader.open("/rulesets")
        assert page.locator("[data-write]").count() == 0
        assert page.locator("nav.main-nav a", has_text="审计").count() == 0
        page = reader.open("/audit")
        assert "无权访问" in page.locator("h1").inner_text()
        reader.shot("reader-audit-forbidden")
        page = reader.open("/rankings/county_bureaus?period=2025Q1")
        assert page.locator("#ranking-table tbody tr").count() > 0
        assert page.locator("form[method=post] button[data-write]").count() == 0
    finally:
        reader.close()


def test_a_tablet_reads_the_ranking_and_the_score_card(browser: Any, served: Served) -> None:
    tablet = Visitor(browser, served, "reader", TABLET)
    try:
        page = tablet.open("/rankings/county_bureaus?period=2025Q1")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= TABLET["width"]  # no sideways scrolling of the page itself
        tablet.shot("tablet-rankings")
        page = tablet.open("/subjects/hengyangx?period=2025Q1")
        assert page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]
        tablet.shot("tablet-subject")
    finally:
        tablet.close()


def test_the_sign_in_page(browser: Any, served: Served) -> None:
    context = browser.new_context(viewport=LAPTOP, locale="zh-CN")
    page = context.new_page()
    page.goto(served.base + "/rankings/county_bureaus")
    assert "/login" in page.url
    page.fill("input[name=token]", "jx_wrong")
    page.click("button[type=submit]")
    assert "令牌无效" in page.locator(".form-error").inner_text()
    page.screenshot(path=str(SHOTS / "login-refused.png"), full_page=True)
    context.close()
