"""Every page's status and content on the hand-worked example (values from its expected file,
computed by hand: tests/examples/handworked/expected-2025Q1.json)."""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import FastAPI

from tests.app.api.conftest import EXAMPLES
from tests.app.web.conftest import cells, signed_in

EXPECTED = json.loads((EXAMPLES / "handworked" / "expected-2025Q1.json").read_text())
NAMES = {"nanyue": "南岳区税务局", "hengshan": "衡山县税务局", "hengdong": "衡东县税务局"}
TIERS = {"first": "第一段", "second": "第二段", "third": "第三段"}


def expected(subject: str) -> dict[str, Any]:
    return next(r for r in EXPECTED["results"] if r["subject"] == subject)


def test_rankings_list_the_county_bureaus_in_rank_order(example_app: FastAPI) -> None:
    web = signed_in(example_app, "reader")
    r = web.get("/rankings/county_bureaus?period=2025Q1&ruleset=2025")
    assert r.status_code == 200
    assert "县区局组织绩效排名" in r.text
    rows = cells(r.text, "ranking-table")
    want = sorted(
        (x for x in EXPECTED["results"] if x["scorecard"] == "county"), key=lambda x: x["rank"]
    )
    got = [(row[0], row[1], row[2], row[3]) for row in rows]
    assert got == [
        (str(x["rank"]), NAMES[str(x["subject"])], x["final"], TIERS[str(x["tier"])]) for x in want
    ]
    # categories as published: nanyue's key work 重点工作 and general work 一般工作
    nanyue = next(row for row in rows if row[1] == "南岳区税务局")
    categories = expected("nanyue")["categories"]
    assert nanyue[4:6] == [categories["key"], categories["general"]]
    # the chart's data carries the same strings
    chart = re.search(r'class="chart-data">(.*?)</script>', r.text, re.S)
    assert chart is not None
    finals = [d["final"] for d in json.loads(chart.group(1))]
    assert finals == [x["final"] for x in want]


def test_subject_page_shows_each_line_with_its_rule_and_facts(example_app: FastAPI) -> None:
    web = signed_in(example_app, "reader")
    r = web.get("/subjects/nanyue?period=2025Q1&ruleset=2025")
    assert r.status_code == 200
    html = r.text
    want = expected("nanyue")
    assert "南岳区税务局" in html and want["final"] == "86.93"
    assert re.search(r'<span class="value">86\.93</span>', html)
    for ind, value in want["indicators"].items():
        line = re.search(rf'id="county-ind-{ind}".*?</summary>', html, re.S)
        assert line is not None, ind
        assert f">{value}<" in line.group(0)
    # K4: 30 − 3 (provincial issue f16) − 1.5 (municipal issue f17) = 25.50, 4.50 lost
    k4 = re.search(r'id="county-ind-K4".*?</details>', html, re.S)
    assert k4 is not None
    block = k4.group(0)
    assert "−4.50" in block
    assert "湘税督〔2025〕12号" in block and "f16" in block and "f17" in block
    assert 'href="/rulesets/2025/files/county.jx#L25"' in block
    assert "deduct" in block  # the rule's own source line is shown
    # K1 reads the corrected fact f2 with its evidence, not the superseded f1
    k1 = re.search(r'id="county-ind-K1".*?</details>', html, re.S)
    assert k1 is not None
    assert "f2" in k1.group(0) and "衡税函〔2025〕31号（更正）" in k1.group(0)
    assert ">f1<" not in k1.group(0)


def test_person_page_and_persons_of_a_unit(example_app: FastAPI) -> None:
    web = signed_in(example_app, "reader")
    r = web.get("/subjects/nanyue-levy-1?period=2025Q1&ruleset=2025")
    assert r.status_code == 200
    assert expected("nanyue-levy-1")["final"] == "87.26"
    assert '<span class="value">87.26</span>' in r.text
    r = web.get("/units/nanyue/persons?period=2025Q1&ruleset=2025")
    assert r.status_code == 200
    rows = cells(r.text, "persons-table")
    # name, section, the four components of 2025Q1, then Q1's final
    q1 = sorted(row[6] for row in rows)
    assert q1 == [expected("nanyue-levy-2")["final"], expected("nanyue-levy-1")["final"]]


def test_ruleset_pages(example_app: FastAPI) -> None:
    web = signed_in(example_app, "reader")
    r = web.get("/rulesets/2025")
    assert r.status_code == 200
    assert "税收收入完成率" in r.text and "检查通过" in r.text
    assert 'href="/rulesets/2025/files/county.jx#L8"' in r.text
    r = web.get("/rulesets/2025/files/county.jx")
    assert r.status_code == 200
    assert 'id="L8"' in r.text and '<span class="kw">indicator</span>' in r.text
    assert web.get("/rulesets/2025/files/nothere.jx").status_code == 404


def test_missing_things_are_pages_in_chinese(example_app: FastAPI) -> None:
    web = signed_in(example_app, "reader")
    r = web.get("/subjects/nobody?period=2025Q1")
    assert r.status_code == 404 and "未找到" in r.text
    assert r.headers["content-type"].startswith("text/html")
    r = web.get("/rankings/county_bureaus?period=2025Q9")
    assert r.status_code == 422 and "请求有误" in r.text
    r = web.get("/rankings/nothing?period=2025Q1")
    assert r.status_code == 404


def test_roles_see_what_the_api_lets_them(example_app: FastAPI) -> None:
    reader = signed_in(example_app, "reader")
    home = reader.get("/")
    assert home.status_code == 200
    assert 'href="/audit"' not in home.text
    rules = reader.get("/rulesets")
    assert "data-write" not in rules.text and "重新加载" not in rules.text
    assert reader.get("/audit").status_code == 403
    recorder = signed_in(example_app, "recorder")
    assert recorder.get("/rankings/county_bureaus?period=2025Q1").status_code == 403
    admin = signed_in(example_app, "admin")
    assert "重新加载规则目录" in admin.get("/rulesets").text
    assert 'href="/audit"' in admin.get("/").text


def test_the_2026_year_ranks_agency_staff_and_a_pool_is_no_score_card(sqlite_url: str) -> None:
    from tests.app.api.conftest import Client, load_example, make_app, token

    application = make_app(sqlite_url)
    try:
        load_example(Client(application, token(application, "admin")), "handworked-2026")
        web = signed_in(application, "reader")
        r = web.get("/rankings/staff?period=2026")
        assert r.status_code == 200 and "hy-policy-1" in r.text
        r = web.get("/subjects/hy-policy-1?period=2026")
        assert r.status_code == 200
        r = web.get("/subjects/hengshan-pool?period=2026")
        assert r.status_code == 404 and "奖金分配结果" in r.text
    finally:
        application.state.services.engine.dispose()
