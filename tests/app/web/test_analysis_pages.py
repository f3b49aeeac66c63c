"""The analysis pages, the home page's warnings, the persons' bonus amounts and the downloads,
on the hand-worked examples. Expected values are worked out here from the examples' expected
results (computed by hand: tests/examples/handworked*/expected-*.json) and the rulebook's
points, not read from the services the pages call."""

from __future__ import annotations

import io
import json
import re
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from fastapi import FastAPI

from app.web import analysis_view
from tests.app.api.conftest import EXAMPLES, Client, load_example, token
from tests.app.web.conftest import WebClient, cells, signed_in

EXPECTED = json.loads((EXAMPLES / "handworked" / "expected-2025Q1.json").read_text())
EXPECTED_2026 = json.loads((EXAMPLES / "handworked-2026" / "expected-2026.json").read_text())
NAMES = {"nanyue": "南岳区税务局", "hengshan": "衡山县税务局", "hengdong": "衡东县税务局"}
# 《衡阳市税务局2025年度绩效考评办法》: the county scorecard's indicators and their points.
POINTS = {"K1": 30, "K2": 20, "K3": 20, "K4": 30, "G1": 40, "G2": 30, "G3": 30}
TITLES = {"K1": "税收收入完成率", "K4": "减税降费落实", "G3": "机关效能"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def county() -> list[dict[str, Any]]:
    return [r for r in EXPECTED["results"] if r["scorecard"] == "county"]


def lost(r: dict[str, Any], ind: str) -> Decimal:
    return Decimal(POINTS[ind]) - Decimal(r["indicators"][ind])


def chart_data(html: str, kind: str) -> Any:
    m = re.search(rf'data-chart="{kind}".*?class="chart-data">(.*?)</script>', html, re.S)
    assert m is not None, kind
    return json.loads(m.group(1))


def test_lost_points_by_indicator_with_its_chart(example_app: FastAPI) -> None:
    web = signed_in(example_app, "reader")
    r = web.get("/analysis/lost-points?period=2025Q1&ruleset=2025&scorecard=county")
    assert r.status_code == 200, r.text
    html = r.text
    assert "县区局组织绩效 · 失分分析" in html
    # each indicator's total loss across the three bureaus: Σ (points − published score)
    want = {ind: sum((lost(x, ind) for x in county()), Decimal(0)) for ind in POINTS}
    assert want["K1"] == Decimal("34.50")  # nanyue 30 − 25.50, hengdong 30 − 0 (missing)
    chart = chart_data(html, "lost")
    assert [(c[0], Decimal(c[2])) for c in chart] == list(want.items())
    assert chart[0][1] == "税收收入完成率"
    rows = cells(html, "indicators-table")
    assert [(row[0].split()[0], Decimal(row[5])) for row in rows] == list(want.items())
    k1 = rows[0]
    assert k1[2] == "收入核算科" and k1[3] == "2 / 3" and k1[4] == "1"  # hengdong reported none
    assert k1[7] == "衡东县税务局（30.00）"
    # per subject, in rank order, each indicator's loss (hengdong's K1 missing: 缺报)
    subjects = cells(html, "subjects-table")
    ranked = sorted(county(), key=lambda x: x["rank"])
    assert [(s[1], s[2]) for s in subjects] == [(NAMES[x["subject"]], x["final"]) for x in ranked]
    nanyue = next(s for s in subjects if s[1] == "南岳区税务局")
    inds = list(POINTS)
    assert nanyue[5 + inds.index("K4")] == "4.50"
    hengdong = next(s for s in subjects if s[1] == "衡东县税务局")
    assert hengdong[5 + inds.index("K1")] == "缺报"
    # the causes: nanyue's K4 lost 3.00 (f16, provincial) and 1.50 (f17, municipal)
    assert "湘税督〔2025〕12号" in html and "f16" in html and "f17" in html
    xlsx = "/analysis/lost-points.xlsx?period=2025Q1&amp;ruleset=2025&amp;scorecard=county"
    assert f'href="{xlsx}"' in html


def test_lost_points_list_the_causes_of_the_first_subjects_only(
    example_app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(analysis_view, "CAUSE_SUBJECTS_SHOWN", 1)
    web = signed_in(example_app, "reader")
    html = web.get("/analysis/lost-points?period=2025Q1&ruleset=2025&scorecard=county").text
    losing = [x for x in county() if any(lost(x, i) for i in POINTS) or x.get("missing")]
    assert len(losing) == 3  # each bureau lost something (hengshan: G3 28.50 of 30)
    assert html.count('<details class="cause-group">') == 1
    assert f"另有 {len(losing) - 1} 个考评对象的失分原因未在此列出" in html
    # the totals still count every bureau
    want = sum((lost(x, "K1") for x in county()), Decimal(0))
    assert Decimal(cells(html, "indicators-table")[0][5]) == want


def test_lost_points_of_departments_and_bad_input(example_app: FastAPI) -> None:
    web = signed_in(example_app, "reader")
    r = web.get("/analysis/lost-points?period=2025Q1&ruleset=2025&scorecard=dept")
    assert r.status_code == 200
    assert "市局机关科室组织绩效" in r.text or "科室" in r.text
    r = web.get("/analysis/lost-points?period=2025Q1&scorecard=nothing")
    assert r.status_code == 404 and "nothing" in r.text
    assert r.headers["content-type"].startswith("text/html")
    r = web.get("/analysis/lost-points?period=2025Q9")
    assert r.status_code == 422 and "period" in r.text
    r = web.get("/analysis/warnings?period=2025Q1&as_of=2025-13-01")
    assert r.status_code == 422 and "as_of" in r.text
    r = web.get("/analysis/warnings?period=2025Q1&as_of=2025-05-01")
    assert r.status_code == 422 and "as_of" in r.text  # not inside the period


def test_the_lost_points_workbook_holds_the_page_s_numbers(example_app: FastAPI) -> None:
    web = signed_in(example_app, "reader")
    r = web.get("/analysis/lost-points.xlsx?period=2025Q1&ruleset=2025&scorecard=county")
    assert r.status_code == 200
    assert r.headers["content-type"] == XLSX
    assert "lost-points-county-2025Q1.xlsx" in r.headers["content-disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames[:2] == ["失分汇总", "指标失分"]
    ws = wb["失分汇总"]
    head = [c.value for c in ws[1]]
    assert head[:7] == ["名次", "编号", "名称", "最终得分", "段次/等次", "基础得分", "失分"]
    rows = {row[1]: row for row in ws.iter_rows(min_row=3, values_only=True)}
    for x in county():
        row = rows[x["subject"]]
        assert Decimal(str(row[3])) == Decimal(x["final"])
        for j, ind in enumerate(POINTS, 7):
            assert Decimal(str(row[j])) == lost(x, ind), (x["subject"], ind)
    ws = wb["失分明细"]
    found = [r for r in ws.iter_rows(min_row=3, values_only=True) if r[8] == "f16"]
    assert found and found[0][0] == "nanyue" and found[0][12] == 3.0
    assert found[0][13] == "湘税督〔2025〕12号"


def test_warnings_and_risk_grades(example_app: FastAPI) -> None:
    web = signed_in(example_app, "reader")
    r = web.get("/analysis/warnings?period=2025Q1&ruleset=2025&as_of=2025-03-20")
    assert r.status_code == 200, r.text
    html = r.text
    assert "截至 2025-03-20，距本期结束还有 11 天" in html  # 21 to 31 March
    rows = cells(html, "warnings-table")
    # hengdong was vetoed (a major violation), so it is in the last tier whatever its rank
    vetoed = [row for row in rows if row[2] == "衡东县税务局" and row[1] == "处于末段"]
    assert vetoed and vetoed[0][0] == "高" and "一票否决" in vetoed[0][4]
    # hengdong reported no revenue completion (K1) for the quarter: a missing value, 11 days
    missing = {row[3]: row for row in rows if row[1] == "未报送" and row[2] == "衡东县税务局"}
    k1 = missing["K1 税收收入完成率"]
    assert "11 天" in k1[4] and "将失 30.00 分" in k1[4]  # K1 is worth 30 points
    # the counts add up to the rows
    counts = re.findall(r'severity-card severity-(\w+)">.*?band-count">(\d+)<', html, re.S)
    assert sum(int(n) for _, n in counts) == len(rows)
    # risk grades: a row per county bureau, a grade per indicator; hengdong lost all 30 of K1
    risk = cells(html, "risk-table")
    assert {row[0] for row in risk} == set(NAMES.values())
    assert chart_data(html, "risk")[0]["code"] == "K1"
    hengdong = next(row for row in risk if row[0] == "衡东县税务局")
    assert int(hengdong[1]) + int(hengdong[2]) + int(hengdong[3]) == len(POINTS)


def test_feedback_report_page_and_pdf(example_app: FastAPI) -> None:
    web = signed_in(example_app, "reader")
    r = web.get("/reports?period=2025Q1&ruleset=2025")
    assert r.status_code == 200
    rows = cells(r.text, "reports-county")
    ranked = sorted(county(), key=lambda x: x["rank"])
    assert [(row[1], row[2]) for row in rows] == [(NAMES[x["subject"]], x["final"]) for x in ranked]
    r = web.get("/reports/nanyue?period=2025Q1&ruleset=2025")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "南岳区税务局2025年第一季度绩效反馈报告" in r.text
    assert "86.93" in r.text and "湘税督〔2025〕12号" in r.text
    assert 'href="/reports/nanyue.pdf?period=2025Q1&amp;ruleset=2025"' in r.text
    assert "default-src 'self'" in r.headers["content-security-policy"]
    r = web.get("/reports/nanyue.pdf?period=2025Q1&ruleset=2025")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/pdf" and r.content.startswith(b"%PDF-")
    assert "attachment" in r.headers["content-disposition"]
    assert "UTF-8''nanyue-2025Q1-" in r.headers["content-disposition"]
    assert web.get("/reports/nobody?period=2025Q1").status_code == 404
    assert web.get("/reports?period=2025").status_code == 404  # reports are per quarter


def test_subject_page_trend_over_eight_quarters(example_app: FastAPI) -> None:
    web = signed_in(example_app, "reader")
    r = web.get("/subjects/nanyue?period=2025Q1&ruleset=2025")
    assert r.status_code == 200
    trend = chart_data(r.text, "trend")
    # 2023Q2 … 2025Q1: only 2025Q1 has facts; the others say so
    want = [f"{y}Q{q}" for y in (2023, 2024, 2025) for q in (1, 2, 3, 4)][1:9]
    assert [t["period"] for t in trend] == want
    assert trend[-1]["final"] == "86.93" and trend[-1]["rank"] == 2
    assert all(not t["available"] and "没有记录任何事实" in t["reason"] for t in trend[:-1])
    assert "2024年第四季度（2024Q4 没有记录任何事实）" in r.text
    # the lost points chart of the score card: points − published score per indicator
    lost_chart = chart_data(r.text, "lost")
    nanyue = next(x for x in county() if x["subject"] == "nanyue")
    assert {c[0]: Decimal(c[2]) for c in lost_chart} == {
        ind: lost(nanyue, ind) for ind in POINTS if lost(nanyue, ind) > 0
    }


def test_home_shows_the_latest_warnings_and_the_cycle_states(example_app: FastAPI) -> None:
    web = signed_in(example_app, "reader")
    r = web.get("/")
    assert r.status_code == 200
    html = r.text
    # the only quarter with facts is 2025Q1, long closed: its warnings as of its last day
    assert "最新预警 · 2025年第一季度" in html and "截至 2025-03-31" in html
    assert "一票否决" in html
    # each period's cycle state, nothing published yet, linked to its cycle page
    cycle = 'href="/cycles/2025Q1?ruleset=2025">未公示</a>'
    assert cycle in html
    assert 'href="/analysis/lost-points?period=2025Q1&amp;ruleset=2025"' in html
    recorder = signed_in(example_app, "recorder")
    home = recorder.get("/").text
    assert "最新预警" not in home
    assert 'href="/cycles/2025Q1?ruleset=2025">2025年第一季度' in home


def test_a_recorder_sees_no_analysis(example_app: FastAPI) -> None:
    recorder = signed_in(example_app, "recorder")
    for path in (
        "/analysis/lost-points?period=2025Q1",
        "/analysis/lost-points.xlsx?period=2025Q1",
        "/analysis/warnings?period=2025Q1",
        "/reports?period=2025Q1",
        "/reports/nanyue?period=2025Q1",
        "/reports/nanyue.pdf?period=2025Q1",
        "/rankings/county_bureaus.xlsx?period=2025Q1",
        "/results.xlsx?period=2025Q1",
        "/subjects/nanyue.xlsx?period=2025Q1",
        "/units/nanyue/persons.xlsx?period=2025Q1",
    ):
        assert recorder.get(path).status_code == 403, path
    nobody = WebClient(example_app)
    r = nobody.get("/analysis/lost-points.xlsx?period=2025Q1")
    assert r.status_code == 303 and "/login" in r.headers["location"]
    reader = signed_in(example_app, "reader")
    assert reader.get("/audit/impact.xlsx?from=2024&to=2025&period=2025Q1").status_code == 403


def test_downloads_of_the_tables_shown(example_app: FastAPI) -> None:
    web = signed_in(example_app, "auditor")
    page = web.get("/rankings/county_bureaus?period=2025Q1&ruleset=2025").text
    assert 'href="/rankings/county_bureaus.xlsx?period=2025Q1&amp;ruleset=2025"' in page
    r = web.get("/rankings/county_bureaus.xlsx?period=2025Q1&ruleset=2025")
    assert r.status_code == 200 and r.headers["content-type"] == XLSX
    ws = openpyxl.load_workbook(io.BytesIO(r.content)).worksheets[0]
    got = {row[1]: row for row in ws.iter_rows(min_row=3, values_only=True) if row[1]}
    for x in county():
        assert Decimal(str(got[x["subject"]][3])).quantize(Decimal("0.01")) == Decimal(x["final"])
    r = web.get("/results.xlsx?period=2025Q1&ruleset=2025")
    assert r.status_code == 200 and "results-2025Q1.xlsx" in r.headers["content-disposition"]
    assert (
        'href="/subjects/nanyue.xlsx?period=2025Q1&amp;ruleset=2025"'
        in web.get("/subjects/nanyue?period=2025Q1&ruleset=2025").text
    )
    r = web.get("/subjects/nanyue.xlsx?period=2025Q1&ruleset=2025")
    assert r.status_code == 200 and "explain-nanyue-2025Q1.xlsx" in r.headers["content-disposition"]
    assert web.get("/subjects/nobody.xlsx?period=2025Q1").status_code == 404
    r = web.get("/units/nanyue/persons.xlsx?period=2025Q1&ruleset=2025")
    assert r.status_code == 200
    names = {
        row[1]
        for ws in openpyxl.load_workbook(io.BytesIO(r.content)).worksheets
        for row in ws.iter_rows(min_row=3, values_only=True)
    }
    assert {"nanyue-levy-1", "nanyue-levy-2"} <= names and "hengshan-levy-1" not in names
    r = web.get("/audit/impact.xlsx?from=2024&to=2025&period=2025Q1")
    assert r.status_code == 200 and r.headers["content-type"] == XLSX
    assert (
        'href="/audit/impact.xlsx?from=2024&amp;to=2025&amp;period=2025Q1"'
        in web.get("/audit/impact?from=2024&to=2025&period=2025Q1").text
    )


@pytest.fixture
def app_2026(app: FastAPI) -> FastAPI:
    """The app with the hand-worked example of the 2026 rules recorded."""
    load_example(Client(app, token(app, "admin")), "handworked-2026")
    return app


def test_persons_of_a_unit_with_their_2026_bonus_amounts(app_2026: FastAPI) -> None:
    web = signed_in(app_2026, "reader")
    r = web.get("/units/nanyue/persons?period=2026&ruleset=2026")
    assert r.status_code == 200, r.text
    rows = cells(r.text, "persons-table")
    want = {
        x["subject"]: x
        for x in EXPECTED_2026["results"]
        if x["scorecard"] == "person" and x["subject"].startswith("nanyue-")
    }
    assert len(rows) == len(want) == 3
    # name, section, four quarters, the year's final, rank, grade, then the bonus amount
    amounts = sorted(Decimal(row[-1]) for row in rows)
    assert amounts == sorted(Decimal(x["bonus_amount"]) for x in want.values())
    # §6: the pool is 12,000.00 per head × 3 persons × the second tier's coefficient 1.00,
    # shared to the cent (the incompetent person's weight is 0)
    assert sum(amounts) == Decimal(12000) * 3 * Decimal("1.00") == Decimal("36000.00")
    assert Decimal("0.00") in amounts
    # one pool pays nanyue's staff: nanyue's own group, not the municipal bureau's above it
    assert r.text.count('class="panel pool"') == 1
    pool = re.search(r'id="pool-nanyue".*?</section>', r.text, re.S)
    assert pool is not None
    assert "绩效奖金分配" in pool.group(0) and "36000.00" in pool.group(0)
    assert "人均基数" in pool.group(0) and "12000.00" in pool.group(0)
    # a department's staff are paid from the municipal bureau's agency group
    r = web.get("/units/hy-policy/persons?period=2026&ruleset=2026")
    assert r.status_code == 200
    assert r.text.count('class="panel pool"') == 1 and 'id="pool-hengyang"' in r.text
    rows = cells(r.text, "persons-table")
    want_policy = {
        x["bonus_amount"] for x in EXPECTED_2026["results"] if x["subject"].startswith("hy-policy-")
    }
    assert {row[-1] for row in rows} == want_policy == {"14861.40", "12384.50"}


@pytest.mark.parametrize(
    "path",
    [
        "/analysis/lost-points?period=2025&ruleset=2025",
        "/analysis/lost-points?period=2025Q1&scorecard=person",
        "/analysis/lost-points?period=2025Q3",  # no facts recorded in that quarter
        "/analysis/lost-points?period=2031Q1",
        "/analysis/lost-points?period=2025Q1&ruleset=1999",
        "/analysis/warnings?period=2025",
        "/analysis/warnings?period=2025Q1&scorecard=dept",
        "/analysis/warnings?period=2025Q1&scorecard=%00",
        "/reports/hy-policy?period=2025Q1",
        "/reports/nanyue-levy-1?period=2025Q1",
        "/reports/nanyue.pdf?period=2025",
        "/reports?period=garbage",
        "/subjects/nanyue?period=2025&ruleset=2025",
        "/units/nanyue/persons.xlsx?period=2025",
        "/rankings/nothing.xlsx?period=2025Q1",
        "/audit/impact.xlsx?from=2024&to=1999&period=2025Q1",
    ],
)
def test_no_input_makes_a_server_error(sqlite_example_app: FastAPI, path: str) -> None:
    web = signed_in(sqlite_example_app, "admin")
    r = web.get(path)
    assert r.status_code < 500, (path, r.status_code, r.text[-500:])
    if r.status_code >= 400:
        assert r.headers["content-type"].startswith("text/html")
