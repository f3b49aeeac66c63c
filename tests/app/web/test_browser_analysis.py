"""The analysis pages in a real browser on the demo data: the lost-points chart and the risk
chart draw their bars, a feedback report downloads as a PDF, the home page lists the latest
warnings, the 2026 bonus amounts show on the persons page; every page read on a laptop
(1366×768) and a tablet (820×1180) without sideways scrolling, nothing fetched from outside.
Screenshots are kept in build/screenshots/."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.app.web.browser import ARGS, CHROMIUM, SHOTS, Served, need_chromium, serve
from tests.app.web.test_browser import Visitor

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 768}
TABLET = {"width": 820, "height": 1180}
# the colours app.js draws with: lost points, and the high risk grade
LOST_RED = (0xB8, 0x28, 0x1D)
PAGES = {
    "home": "/",
    "lost-county-2025Q2": "/analysis/lost-points?period=2025Q2&ruleset=2025&scorecard=county",
    "lost-dept-2025Q2": "/analysis/lost-points?period=2025Q2&ruleset=2025&scorecard=dept",
    "warnings-2025Q2": "/analysis/warnings?period=2025Q2&ruleset=2025&as_of=2025-06-20",
    "reports-2025Q2": "/reports?period=2025Q2&ruleset=2025",
    "report-nanyue-2025Q2": "/reports/nanyue?period=2025Q2&ruleset=2025",
    "persons-nanyue-2026": "/units/nanyue/persons?period=2026&ruleset=2026",
    "persons-hy-policy-2026": "/units/hy-policy/persons?period=2026Q1&ruleset=2026",
}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    need_chromium()
    yield from serve(tmp_path_factory.mktemp("web-analysis"))


@pytest.fixture(scope="module")
def browser(served: Served) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def reader(browser: Any, served: Served) -> Iterator[Visitor]:
    v = Visitor(browser, served, "reader", LAPTOP)
    yield v
    v.close()


def api(served: Served, path: str, **params: str) -> Any:
    r = httpx.get(
        served.base + path,
        params=params,
        headers={"Authorization": f"Bearer {served.tokens['reader']}"},
        timeout=60,
    )
    assert r.status_code == 200, r.text
    return r.json()


def pixels(page: Any, selector: str, colour: tuple[int, int, int]) -> tuple[int, int, int]:
    """(painted pixels, pixels of `colour`, all pixels) of the chart's canvas."""
    page.wait_for_selector(selector + " canvas")
    got: list[int] = page.evaluate(
        """([sel, rgb]) => {
            const c = document.querySelector(sel + ' canvas');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let painted = 0, coloured = 0;
            for (let i = 0; i < d.length; i += 4) {
                if (d[i + 3] > 0) painted++;
                if (Math.abs(d[i] - rgb[0]) < 8 && Math.abs(d[i + 1] - rgb[1]) < 8
                    && Math.abs(d[i + 2] - rgb[2]) < 8) coloured++;
            }
            return [painted, coloured, c.width * c.height];
        }""",
        [selector, list(colour)],
    )
    return got[0], got[1], got[2]


def test_the_lost_points_chart_draws_each_indicator_s_loss(reader: Visitor, served: Served) -> None:
    page = reader.open(PAGES["lost-county-2025Q2"])
    painted, red, total = pixels(page, '.chart[data-chart="lost"]', LOST_RED)
    assert painted > total // 50 and red > 500
    # the table holds what the API says, indicator by indicator
    want = api(served, "/v1/analysis/lost-points", period="2025Q2", scorecard="county")
    rows = page.locator("#indicators-table tbody tr")
    assert rows.count() == len(want["indicators"])
    for i, ind in enumerate(want["indicators"]):
        cells = [c.strip() for c in rows.nth(i).locator("td").all_inner_texts()]
        assert cells[0] == f"{ind['indicator']} {ind['title']}" and cells[5] == ind["total"]
    # the totals are the subjects' losses added up (points − published score)
    first = want["indicators"][0]["indicator"]
    by_subject = [
        Decimal(i["lost"]) for s in want["subjects"] for i in s["indicators"]
        if i["indicator"] == first
    ]  # fmt: skip
    assert sum(by_subject, Decimal(0)) == Decimal(want["indicators"][0]["total"])
    reader.shot("lost-county-2025Q2")


def test_warnings_and_the_risk_chart(reader: Visitor, served: Served) -> None:
    page = reader.open(PAGES["warnings-2025Q2"])
    want = api(served, "/v1/warnings", period="2025Q2", as_of="2025-06-20")
    rows = page.locator("#warnings-table tbody tr")
    assert rows.count() == len(want["warnings"]) > 0
    assert want["warnings"][0]["message"] in rows.first.inner_text()
    painted, _, total = pixels(page, '.chart[data-chart="risk"]', LOST_RED)
    assert painted > total // 50
    reader.shot("warnings-2025Q2")


def test_a_feedback_report_opens_and_downloads_as_pdf(reader: Visitor) -> None:
    page = reader.open(PAGES["reports-2025Q2"])
    page.locator("#reports-county tbody tr").first.locator("a", has_text="查看").click()
    page.wait_for_url("**/reports/*?period=2025Q2*")
    assert "绩效反馈报告" in page.locator("h1").inner_text()
    reader.shot("report-first-2025Q2")
    with page.expect_download() as got:
        page.click("a.pdf")
    body = Path(got.value.path()).read_bytes()
    assert body.startswith(b"%PDF-") and len(body) > 10_000
    name = got.value.suggested_filename
    assert "-2025Q2-" in name and name.endswith("税务局.pdf")


def test_home_lists_the_latest_warnings(reader: Visitor) -> None:
    page = reader.open("/")
    panel = page.locator("section.latest-warnings")
    assert panel.count() == 1 and panel.locator("li").count() > 0
    panel.locator("a.button").click()
    page.wait_for_url("**/analysis/warnings?period=*")
    assert page.locator("#warnings-table tbody tr").count() > 0


def test_persons_with_their_2026_bonus_amounts(reader: Visitor, served: Served) -> None:
    page = reader.open(PAGES["persons-nanyue-2026"])
    year = api(served, "/v1/scores", period="2026", ruleset="2026")["results"]
    paid = {r["subject"]: r["bonus_amount"] for r in year if "bonus_amount" in r}
    pool = next(r for r in year if r["scorecard"] == "pool" and r["group"] == "nanyue")
    rows = page.locator("#persons-table tbody tr")
    shown = [rows.nth(i).locator("td").last.inner_text().strip() for i in range(rows.count())]
    assert rows.count() > 0 and all(s != "—" for s in shown)
    # the pool is shared to the cent: the amounts shown add up to what the pool paid out
    assert sum(Decimal(s) for s in shown) == Decimal(pool["allocated"])
    assert sorted(shown) == sorted(v for k, v in paid.items() if k.startswith("nanyue-"))
    assert pool["amount"] in page.locator("#pool-nanyue").inner_text()


@pytest.mark.parametrize("viewport", [LAPTOP, TABLET], ids=["laptop", "tablet"])
def test_every_analysis_page_fits_and_loads_nothing_from_outside(
    browser: Any, served: Served, viewport: dict[str, int]
) -> None:
    v = Visitor(browser, served, "reader", viewport)
    name = "laptop" if viewport is LAPTOP else "tablet"
    try:
        for shot, path in PAGES.items():
            page = v.open(path)
            assert page.title(), shot
            if page.locator(".chart").count():
                page.wait_for_selector(".chart canvas")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= viewport["width"], (shot, width)
            v.shot(f"{name}-{shot}")
        outside = [u for u in v.requests if urlsplit(u).hostname not in ("127.0.0.1", None)]
        assert outside == []
    finally:
        v.close()
