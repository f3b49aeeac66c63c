"""Workbooks over HTTP: templates to download, filled-in workbooks and CSV files posted to
/v1/facts (all or none, problems at their cells), results as workbooks."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import openpyxl

from app.excel.columns import vocabulary_of
from app.excel.reader import XLSX_MEDIA_TYPE
from dsl.compile.compiler import compile_path
from dsl.facts.records import org_from_json
from tests.app.api.conftest import Client, example_facts, example_org
from tests.app.excel.test_roundtrip import fill

REPO = Path(__file__).resolve().parents[3]
HANDWORKED = REPO / "tests" / "examples" / "handworked"


def _filename(r: Any) -> str:
    """The file name a response's Content-Disposition gives (RFC 5987 `filename*`)."""
    header = r.headers["content-disposition"]
    assert header.startswith('attachment; filename="')
    return unquote(header.split("filename*=UTF-8''", 1)[1])


def _put_org(api: Client) -> None:
    r = api.put("/v1/org", json=example_org("handworked"))
    assert r.status_code == 200, r.text


def _count(api: Client) -> int:
    return len(api.get("/v1/facts", params={"limit": 1000}).json()["facts"])


def test_template_filled_and_posted_scores_as_published(api: Client) -> None:
    _put_org(api)
    r = api.get("/v1/rulesets/2025/template.xlsx")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == XLSX_MEDIA_TYPE
    assert _filename(r) == "2025年度事实填报模板.xlsx"
    compiled = compile_path(REPO / "rules" / "2025")
    org = org_from_json(example_org("handworked"))
    filled = fill(r.content, vocabulary_of(compiled, org), example_facts("handworked"), org)
    files = {"file": ("台账.xlsx", filled, XLSX_MEDIA_TYPE)}
    first = api.post("/v1/facts", files=files)
    assert first.status_code == 201, first.text
    assert (first.json()["added"], first.json()["unchanged"]) == (69, 0)
    again = api.post("/v1/facts", content=filled, headers={"content-type": XLSX_MEDIA_TYPE})
    assert again.status_code == 200, again.text
    assert (again.json()["added"], again.json()["unchanged"]) == (0, 69)
    got = {r["subject"]: r["final"] for r in api.get("/v1/scores?period=2025Q1").json()["results"]}
    expected = json.loads((HANDWORKED / "expected-2025Q1.json").read_text(encoding="utf-8"))
    assert got == {r["subject"]: r["final"] for r in expected["results"]}


def _ledger(rows: list[list[Any]]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "督察发现问题"
    for row in [["编号", "单位", "日期", "level"], *rows]:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_a_bad_workbook_records_nothing_and_names_the_cells(api: Client) -> None:
    _put_org(api)
    data = _ledger(
        [
            ["w1", "南岳区税务局", "2025-02-14", "省级"],
            ["w2", "衡山县税务局", "2025-02-15", "县级"],
            ["w3", "nowhere", "2025-02-16", "市级"],
        ]
    )
    r = api.post("/v1/facts", files={"file": ("台账.xlsx", data, XLSX_MEDIA_TYPE)})
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "invalid"
    assert [(d["field"], d["message"]) for d in r.json()["details"]] == [
        ("督察发现问题!D3", "'县级' is not one of 省级, 市级"),
        ("督察发现问题!B4", "unknown subject 'nowhere'"),
    ]
    assert _count(api) == 0


def test_changed_content_under_a_recorded_id_conflicts_at_its_cell(api: Client) -> None:
    _put_org(api)
    ok = _ledger([["w1", "南岳区税务局", "2025-02-14", "省级"]])
    assert api.post("/v1/facts", files={"file": ("a.xlsx", ok, XLSX_MEDIA_TYPE)}).status_code == 201
    changed = _ledger([["w1", "南岳区税务局", "2025-02-14", "市级"]])
    r = api.post("/v1/facts", files={"file": ("a.xlsx", changed, XLSX_MEDIA_TYPE)})
    assert r.status_code == 409, r.text
    assert r.json()["details"][0]["field"] == "督察发现问题!A2"


def test_csv_in_gb18030_named_by_its_header(api: Client) -> None:
    _put_org(api)
    text = "单位,期间,value\n南岳区税务局,2025Q1,98.5\n"
    name = "attachment; filename*=UTF-8''" + quote("税收收入完成率.csv")
    r = api.post(
        "/v1/facts",
        content=text.encode("gb18030"),
        headers={"content-type": "text/csv", "content-disposition": name},
    )
    assert r.status_code == 201, r.text
    got = api.get("/v1/facts/revenue_completion-2025-r2").json()
    assert got["data"] == {"value": "98.5"}
    assert got["subject"] == "nanyue"


def test_a_multipart_without_file_and_an_empty_body(api: Client) -> None:
    r = api.post("/v1/facts", files={"other": ("a.xlsx", b"x", XLSX_MEDIA_TYPE)})
    assert r.status_code == 422
    assert r.json()["details"][0]["field"] == "body.file"
    r = api.post("/v1/facts", content=b"", headers={"content-type": XLSX_MEDIA_TYPE})
    assert r.status_code == 422
    r = api.post("/v1/facts", content=b"not a workbook", headers={"content-type": XLSX_MEDIA_TYPE})
    assert r.status_code in (404, 422)


def test_results_ranking_explanation_and_impact_as_workbooks(api: Client) -> None:
    _put_org(api)
    assert api.post("/v1/facts", json=example_facts("handworked")).status_code == 201
    published = api.get("/v1/scores?period=2025Q1").json()
    r = api.get("/v1/scores?period=2025Q1&format=xlsx")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == XLSX_MEDIA_TYPE
    assert _filename(r) == "2025年第一季度考评结果.xlsx"
    assert r.headers["x-jixiao-ruleset"] == published["ruleset"]["digest"]
    wb = openpyxl.load_workbook(io.BytesIO(r.content))
    rows = list(wb["县区局组织绩效"].iter_rows(min_row=2, values_only=True))
    ids = rows[0]
    for row in rows[1:]:
        mine = dict(zip(ids, row, strict=False))
        want = next(x for x in published["results"] if x["subject"] == mine["subject"])
        assert Decimal(repr(mine["final"])) == Decimal(want["final"])

    r = api.get("/v1/rankings/county_bureaus?period=2025Q1&format=xlsx")
    assert r.status_code == 200, r.text
    assert _filename(r) == "2025年第一季度县区局排名.xlsx"
    assert openpyxl.load_workbook(io.BytesIO(r.content)).sheetnames[0] == "县区局组织绩效"
    r = api.get("/v1/explanations/nanyue?period=2025Q1&format=xlsx")
    assert r.status_code == 200, r.text
    assert _filename(r) == "2025年第一季度南岳区税务局得分说明.xlsx"
    assert "说明-南岳区税务局" in openpyxl.load_workbook(io.BytesIO(r.content)).sheetnames
    body = {"old": "2024", "new": "2025", "period": "2025Q1"}
    r = api.post("/v1/impact?format=xlsx", json=body)
    assert r.status_code == 200, r.text
    assert _filename(r) == "2025年第一季度规则变更影响.xlsx"
    r = api.get("/v1/rulesets/2025/org-template.xlsx")
    assert r.status_code == 200, r.text
    assert openpyxl.load_workbook(io.BytesIO(r.content))["单位"]["A3"].value == "hengdong"
