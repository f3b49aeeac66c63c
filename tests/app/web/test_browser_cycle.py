"""The evaluation cycle in a real browser on the demo data: a reader sees no publish button;
the admin publishes 2025Q1 from the cycle page; an appeal filed from a county bureau's K4 line
on its score card reaches the inbox; the committee upholds it by correcting the disputed
inspection issue from provincial to municipal, and the score card and the ranking then show
the ruling's new result. Screenshots of each page go to build/screenshots/.

The expected change is worked from the rule (rules/2025/county.jx, §2.1 K4: 3 points per
provincial issue, 1.5 per municipal one, floor 0): a bureau whose K4 is above 0 has every issue
deducted in full, so turning one provincial issue into a municipal one gives back exactly
3 − 1.5 = 1.50 on K4.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from app.services.demo import COUNTIES
from tests.app.web.browser import ARGS, CHROMIUM, SHOTS, Served, need_chromium, serve

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 900}
TABLET = {"width": 820, "height": 1180}
Q = "period=2025Q1&ruleset=2025"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    need_chromium()
    yield from serve(tmp_path_factory.mktemp("web-cycle"))


@pytest.fixture(scope="module")
def browser(served: Served) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


class Visitor:
    """A browser context signed in with one role's token."""

    def __init__(self, browser: Any, served: Served, role: str) -> None:
        self.served = served
        self.context = browser.new_context(viewport=LAPTOP, locale="zh-CN")
        self.errors: list[str] = []
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(served.base + "/login")
        self.page.fill("input[name=token]", served.tokens[role])
        self.page.click("button[type=submit]")
        self.page.wait_for_url(served.base + "/")

    def open(self, path: str) -> Any:
        self.page.goto(self.served.base + path)
        self.page.wait_for_load_state("load")
        return self.page

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

    def close(self) -> None:
        self.context.close()
        assert self.errors == []


def k4_value(page: Any) -> Decimal:
    line = page.locator("details.line-indicator").filter(has=page.locator("code", has_text="K4"))
    return Decimal(line.locator("summary .num.strong").first.inner_text().strip())


def final_of(page: Any) -> str:
    text: str = page.locator(".headline .big-number .value").first.inner_text()
    return text.strip()


def test_an_appeal_from_a_line_changes_the_shown_result(browser: Any, served: Served) -> None:
    reader = Visitor(browser, served, "reader")
    admin = Visitor(browser, served, "admin")
    committee = Visitor(browser, served, "committee")
    try:
        # A reader sees the cycle, but no publish button (nor any write button).
        page = reader.open("/cycles/2025Q1?ruleset=2025")
        assert page.locator("#cycle-state").inner_text() == "未公示"
        assert page.locator("#publish-form").count() == 0
        assert page.locator("button[data-write]").count() == 0
        assert page.get_by_role("button", name="公示考评结果").count() == 0
        reader.shot("cycle-reader-open")

        # The admin publishes from the cycle page.
        page = admin.open("/cycles/2025Q1?ruleset=2025")
        page.get_by_role("button", name="公示考评结果").click()
        page.wait_for_url("**/cycles/2025Q1?ruleset=2025")
        assert page.locator("#cycle-state").inner_text() == "公示中"
        assert (
            page.locator("#cycle-history tbody tr").first.locator("td").nth(1).inner_text()
            == "公示"
        )
        admin.shot("cycle-published")
        page = reader.open("/cycles/2025Q1?ruleset=2025")
        assert page.locator("#cycle-state").inner_text() == "公示中"
        assert page.locator("button[data-write]").count() == 0

        # A county bureau whose K4 counts a provincial issue and is above 0.
        chosen = None
        for cid, _ in COUNTIES:
            page = admin.open(f"/subjects/{cid}?{Q}")
            if k4_value(page) <= 0:
                continue
            line = page.locator("details.line-indicator").filter(
                has=page.locator("code", has_text="K4")
            )
            if "省级" in " ".join(line.locator(".explain table.facts").all_text_contents()):
                chosen = cid
                break
        assert chosen is not None, "no county bureau with a provincial issue on K4 in 2025Q1"
        before_k4, before_final = k4_value(page), final_of(page)
        name = page.locator("h1").inner_text().split()[0]

        # "申诉此项" on the K4 line opens the filing form, prefilled.
        line.locator("summary").click()
        admin.shot("subject-appeal-line")
        line.get_by_role("link", name="申诉此项").click()
        page.wait_for_url("**/appeals/new?**")
        assert page.locator("input[name=subject]").input_value() == chosen
        assert page.locator("select[name=indicator]").input_value() == "K4"
        row = page.locator("#appeal-form table.facts tbody tr").filter(has_text="省级").first
        disputed = row.locator("code").inner_text()
        row.locator("input[type=checkbox]").check()
        page.fill("textarea[name=reason]", "该问题经省局复查认定为市级问题")
        page.fill("input[name=evidence]", "湘税督〔2025〕18号")
        admin.shot("appeal-filing-form")
        page.get_by_role("button", name="提交申诉").click()
        page.wait_for_url("**/appeals/*")
        appeal_url = page.url
        appeal_path = appeal_url.removeprefix(served.base)
        assert page.locator("#appeal-state").inner_text() == "待裁定"

        # It reaches the inbox.
        page = reader.open("/appeals")
        rows = page.locator("#appeals-table tbody tr")
        assert rows.count() == 1
        cells = [c.strip() for c in rows.first.locator("td").all_inner_texts()]
        assert cells[2:6] == [name, "K4 减税降费落实", disputed, "待裁定"]
        assert cells[6] == "admin 测试"
        reader.shot("appeals-inbox")

        # The committee upholds it: the issue corrected to a municipal one.
        page = committee.page
        page.goto(appeal_url)
        page.check("input[name=decision][value=upheld]")
        fix = page.locator(f"#correction-{disputed}")
        fix.locator("select[name$=_action]").select_option("correct")
        fix.locator("select[name$=_level]").select_option("municipal")
        page.fill("textarea[name=reason]", "复核属实，改按市级问题扣分")
        committee.shot("appeal-ruling-form")
        page.get_by_role("button", name="提交裁定").click()
        page.wait_for_url(appeal_url)
        assert page.locator("#appeal-state").inner_text() == "维持申诉"
        effect = page.locator("#effect-table tbody tr").filter(has_text=name).first
        old_final, new_final = (
            effect.locator("td").nth(2).inner_text(),
            effect.locator("td").nth(3).inner_text(),
        )
        assert old_final == before_final and new_final != old_final
        committee.shot("appeal-ruled-effect")

        # The score card and the ranking show the new result.
        page = reader.open(f"/subjects/{chosen}?{Q}")
        assert k4_value(page) - before_k4 == Decimal("1.50")
        assert final_of(page) == new_final
        reader.shot("subject-after-ruling")
        page = reader.open(f"/rankings/county_bureaus?{Q}")
        shown = page.locator("#ranking-table tbody tr").filter(has_text=name).first
        assert shown.locator("td").nth(2).inner_text().strip() == new_final
        reader.shot("rankings-after-ruling")
        page = reader.open("/cycles/2025Q1?ruleset=2025")
        assert page.locator("#cycle-history tbody tr").count() == 3
        reader.shot("cycle-history")
        # A tablet reads the cycle and the ruling without sideways scrolling.
        reader.page.set_viewport_size(TABLET)
        for path, shot in (
            ("/cycles/2025Q1?ruleset=2025", "tablet-cycle"),
            (appeal_path, "tablet-appeal"),
        ):
            page = reader.open(path)
            assert page.evaluate("document.documentElement.scrollWidth") <= TABLET["width"], path
            reader.shot(shot)
    finally:
        for v in (reader, admin, committee):
            v.close()
