"""The parts of pages kept beside the evaluations (app/web/parts.py), the workbook kept per
watermark, and the one look at the database a page reads the scores in: a kept page is the
page a fresh server renders, and a new fact shows at once. Expected numbers come from the
rulebook (§2.1: K1 is 30 points at 100 % or more, 3 points less per point below) and the
hand-worked example's expected results, not from the services the pages call."""

from __future__ import annotations

import io
import json
import re
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from fastapi import FastAPI
from markupsafe import Markup

from app.services.cache import ScoreCache
from app.web import parts
from dsl.analysis.render import render_pdf
from dsl.facts.periods import Period
from tests.app.api.conftest import EXAMPLES, Client, make_app, token
from tests.app.web.conftest import cells, signed_in

EXPECTED = json.loads((EXAMPLES / "handworked" / "expected-2025Q1.json").read_text())
LOST = "/analysis/lost-points?period=2025Q1&ruleset=2025&scorecard=county"
PAGES = [
    LOST,
    "/analysis/lost-points?period=2025Q1&ruleset=2025&scorecard=dept",
    "/analysis/warnings?period=2025Q1&ruleset=2025&as_of=2025-03-20",
    "/subjects/nanyue?period=2025Q1&ruleset=2025",
    "/subjects/hengdong?period=2025Q1&ruleset=2025",
    "/subjects/hy-policy?period=2025Q1&ruleset=2025",
    "/subjects/nanyue-levy-1?period=2025Q1&ruleset=2025",
]
LOST_XLSX = "/analysis/lost-points.xlsx?period=2025Q1&ruleset=2025&scorecard=county"
INDICATORS = ["K1", "K2", "K3", "K4", "G1", "G2", "G3"]


def county(subject: str) -> dict[str, Any]:
    return next(r for r in EXPECTED["results"] if r["subject"] == subject)


def same_browser(html: str) -> str:
    """The page without its form token (each browser has its own)."""
    return re.sub(r'name="csrf" value="[^"]*"', 'name="csrf" value=""', html)


class Renders:
    """Counts the parts rendered (not taken from what is kept)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        render = parts.render_part

        def counted(template: str, context: dict[str, Any]) -> Markup:
            self.count += 1
            return render(template, context)

        monkeypatch.setattr(parts, "render_part", counted)


def test_kept_pages_are_what_a_fresh_server_renders(
    example_app: FastAPI, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    renders = Renders(monkeypatch)
    web = signed_in(example_app, "reader")
    first = {p: web.get(p) for p in PAGES}
    assert all(r.status_code == 200 for r in first.values()), first
    assert renders.count == len(PAGES)  # one kept part per page
    again = {p: web.get(p).text for p in PAGES}
    assert renders.count == len(PAGES)  # nothing rendered again: every part was kept
    assert again == {p: r.text for p, r in first.items()}
    # A second server on the same database has kept nothing: it renders every part afresh,
    # and the pages are the same to the byte (but for the browser's form token).
    fresh = make_app(db_url)
    try:
        other = signed_in(fresh, "reader")
        rendered = {p: same_browser(other.get(p).text) for p in PAGES}
    finally:
        fresh.state.services.engine.dispose()
    assert renders.count == 2 * len(PAGES)
    assert rendered == {p: same_browser(html) for p, html in again.items()}
    # and what is kept is the page's numbers: nanyue's K4 lost 30 − 25.50
    rows = cells(again[LOST], "subjects-table")
    nanyue = next(row for row in rows if row[1] == "南岳区税务局")
    k4 = 30 - Decimal(county("nanyue")["indicators"]["K4"])
    assert Decimal(nanyue[5 + INDICATORS.index("K4")]) == k4 == Decimal("4.50")


def test_a_new_fact_shows_at_once(example_app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    renders = Renders(monkeypatch)
    web = signed_in(example_app, "reader")
    before = web.get(LOST).text
    hengdong = next(row for row in cells(before, "subjects-table") if row[1] == "衡东县税务局")
    assert hengdong[5] == "缺报"  # hengdong reported no revenue completion (K1)
    nanyue_k1 = 30 - Decimal(county("nanyue")["indicators"]["K1"])
    k1 = cells(before, "indicators-table")[0]
    assert Decimal(k1[5]) == nanyue_k1 + 30  # hengdong's missing K1 counts as all 30 lost
    assert "缺失" in web.get("/subjects/hengdong?period=2025Q1&ruleset=2025").text
    web.get(LOST)
    workbook = web.get(LOST_XLSX).content
    assert web.get(LOST_XLSX).content == workbook  # kept
    kept = renders.count

    admin = Client(example_app, token(example_app, "admin"))
    fact = {"id": "t-k1", "type": "revenue_completion", "subject": "hengdong"}
    r = admin.post("/v1/facts", json=[{**fact, "period": "2025Q1", "data": {"value": 99}}])
    assert r.status_code == 201, r.text

    after = web.get(LOST).text
    assert renders.count == kept + 1  # rendered again, once
    hengdong = next(row for row in cells(after, "subjects-table") if row[1] == "衡东县税务局")
    assert Decimal(hengdong[5]) == 3  # 99 %: 30 − 3 × (100 − 99) = 27, so 3 lost
    k1 = cells(after, "indicators-table")[0]
    assert Decimal(k1[5]) == nanyue_k1 + 3
    page = web.get("/subjects/hengdong?period=2025Q1&ruleset=2025").text
    k1_line = re.search(r'id="county-ind-K1".*?</summary>', page, re.S)
    assert k1_line is not None and "缺失" not in k1_line.group(0) and "27" in k1_line.group(0)
    fresh = web.get(LOST_XLSX).content
    assert fresh != workbook
    ws = openpyxl.load_workbook(io.BytesIO(fresh))["失分汇总"]
    rows = {row[1]: row for row in ws.iter_rows(min_row=3, values_only=True)}
    assert Decimal(str(rows["hengdong"][7])) == 3  # K1's column in the workbook


def test_a_report_pdf_is_made_once_per_evaluation(
    example_app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[str] = []

    def counted(report: dict[str, Any]) -> bytes:
        made.append(str(report["subject"]))
        return render_pdf(report)

    monkeypatch.setattr("app.web.pages.analysis.render_pdf", counted)
    web = signed_in(example_app, "reader")
    pdf = "/reports/nanyue.pdf?period=2025Q1&ruleset=2025"
    first = web.get(pdf)
    assert first.status_code == 200 and first.content.startswith(b"%PDF")
    assert web.get(pdf).content == first.content
    assert made == ["nanyue"]
    admin = Client(example_app, token(example_app, "admin"))
    fact = {"id": "t-k1", "type": "revenue_completion", "subject": "hengdong"}
    r = admin.post("/v1/facts", json=[{**fact, "period": "2025Q1", "data": {"value": 99}}])
    assert r.status_code == 201, r.text
    assert web.get(pdf).status_code == 200
    assert made == ["nanyue", "nanyue"]  # a new evaluation: made again


def test_a_page_reads_the_scores_in_one_look(example_app: FastAPI) -> None:
    web = signed_in(example_app, "reader")
    cache: ScoreCache = example_app.state.services.cache
    page = "/subjects/nanyue?period=2025Q1&ruleset=2025"
    assert web.get(page).status_code == 200
    looks = cache.looks
    # the page reads five evaluations of 2025 and eight quarters' trend: one watermark read
    assert web.get(page).status_code == 200
    assert cache.looks == looks + 1
    with cache.one_look():
        cache.watermark()
        cache.watermark()
    assert cache.looks == looks + 2


def test_which_periods_have_facts(example_app: FastAPI) -> None:
    cache: ScoreCache = example_app.state.services.cache
    asked = [Period(2024, 4), Period(2025, 1), Period(2025, 2), Period(2025)]
    # every fact of the hand-worked example is of the first quarter of 2025
    assert cache.recorded_among(asked) == {Period(2025, 1), Period(2025)}
    with cache.one_look():
        assert cache.recorded_among(asked) == {Period(2025, 1), Period(2025)}
        assert [cache.recorded(p) for p in asked] == [False, True, False, True]
