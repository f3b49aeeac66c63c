"""Results, explanations and impact as workbooks: read back by two other readers, every number
is the published value, stored as a number and shown with the ruleset's decimals."""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from app.excel.export import results_workbook
from app.excel.export_impact import impact_workbook
from app.excel.titles import Titles, titles_of
from dsl.audit.impact import run_impact
from dsl.audit.impact_facts import file_facts
from dsl.audit.rulesource import load_rules
from dsl.compile.compiler import compile_path
from dsl.compile.ir import CompiledRuleset
from dsl.engine.evaluate import evaluate
from dsl.engine.report import explain_json, results_json
from dsl.facts.inputs import load_inputs
from dsl.facts.periods import Period
from dsl.facts.records import Org, read_raw_facts
from tests.app.excel.conftest import HANDWORKED


def published(
    rules: CompiledRuleset, period: str, traced: frozenset[str] = frozenset()
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    inputs = load_inputs(rules, HANDWORKED / "org.json", HANDWORKED / "facts.jsonl")
    ev = evaluate(rules, inputs.org, inputs.facts, Period.parse(period), traced=traced)
    return results_json(ev), [explain_json(ev, s) for s in sorted(traced)]


def by_ids(ws: Any) -> list[dict[str, Any]]:
    """Rows of a sheet (openpyxl) as dicts keyed by the ids in row 2."""
    rows = list(ws.iter_rows(values_only=False))
    ids = [c.value for c in rows[1]]
    return [{k: c for k, c in zip(ids, r, strict=False) if k} for r in rows[2:]]


@pytest.mark.parametrize("period", ["2025Q1", "2025"])
def test_results_read_back_exactly(rules_2025: CompiledRuleset, org: Org, period: str) -> None:
    doc, explained = published(rules_2025, period, frozenset({"nanyue"}))
    titles = titles_of(rules_2025, org)
    data = results_workbook(doc, titles, explained)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames[:3] == ["县区局组织绩效", "市局机关科室组织绩效", "个人绩效"]
    assert "说明-南岳区税务局" in wb.sheetnames
    assert "图表" in wb.sheetnames
    cal = CalamineWorkbook.from_filelike(io.BytesIO(data))
    seen = 0
    for r in doc["results"]:
        ws = wb[titles.scorecards[r["scorecard"]]]
        row = next(x for x in by_ids(ws) if x["subject"].value == r["subject"])
        cell = row["final"]
        assert cell.data_type == "n"
        assert cell.number_format == "0.00"
        assert Decimal(repr(cell.value)) == Decimal(r["final"])
        assert format(Decimal(repr(cell.value)), ".2f") == r["final"]  # what a reader sees
        assert row["name"].value == titles.name(r["subject"])
        for ind, value in (r.get("indicators") or {}).items():
            assert Decimal(repr(row[ind].value)) == Decimal(value)
        grid = cal.get_sheet_by_name(ws.title).to_python()
        got = next(g for g in grid if g[1] == r["subject"])
        assert Decimal(repr(got[grid[1].index("final")])) == Decimal(r["final"])
        seen += 1
    assert seen == len(doc["results"]) > 0
    county = wb["县区局组织绩效"]
    assert county.freeze_panes == "D3"
    assert county.auto_filter.ref is not None
    assert county.auto_filter.ref.startswith("A2:")


def test_tiers_are_coloured_and_named(rules_2025: CompiledRuleset, org: Org) -> None:
    doc, _ = published(rules_2025, "2025Q1")
    data = results_workbook(doc, titles_of(rules_2025, org))
    rows = by_ids(openpyxl.load_workbook(io.BytesIO(data))["县区局组织绩效"])
    fills = {r["tier"].value: r["final"].fill.fgColor.rgb for r in rows}
    assert fills == {"第一段": "FFC6EFCE", "第二段": "FFFFEB9C", "第三段": "FFFFC7CE"}
    assert {r["tier"].value: r["tier"].fill.fgColor.rgb for r in rows} == fills
    assert [r["rank"].value for r in rows] == [1, 2, 3]


def test_the_chart_and_the_explanation(rules_2025: CompiledRuleset, org: Org) -> None:
    doc, explained = published(rules_2025, "2025Q1", frozenset({"nanyue"}))
    data = results_workbook(doc, titles_of(rules_2025, org), explained)
    names = zipfile.ZipFile(io.BytesIO(data)).namelist()
    assert sum(n.startswith("xl/charts/chart") for n in names) == 3  # one per scorecard
    ws = openpyxl.load_workbook(io.BytesIO(data))["说明-南岳区税务局"]
    lines = {r[0]: r for r in ws.iter_rows(values_only=True) if r[0]}
    final = next(r for what, r in lines.items() if what == "final")
    nanyue = next(r for r in doc["results"] if r["subject"] == "nanyue")
    assert Decimal(repr(final[1])) == Decimal(nanyue["final"])


def test_impact_read_back(rules_2025: CompiledRuleset, org: Org) -> None:
    records, unreadable = read_raw_facts(HANDWORKED / "facts.jsonl")
    facts = file_facts(records, org, "facts.jsonl", False, unreadable)
    report = run_impact(
        load_rules("rules/2024"), load_rules("rules/2025"), org, facts, Period.parse("2025Q1")
    )
    doc = report.as_json()
    data = impact_workbook(doc, titles_of(rules_2025, org))
    rows = by_ids(openpyxl.load_workbook(io.BytesIO(data))["影响"])
    assert len(rows) == len(doc["subjects"])
    for r, s in zip(rows, doc["subjects"], strict=True):
        assert r["subject"].value == s["subject"]
        assert Decimal(repr(r["delta"].value)) == Decimal(s["delta"])
        assert Decimal(repr(r["new.final"].value)) == Decimal(s["new"]["final"])


def test_a_title_less_ruleset_shows_ids(org: Org) -> None:
    titles = Titles(places=1)
    doc = {
        "ruleset": {"name": "r", "year": 2025, "digest": "d"},
        "period": "2025",
        "results": [
            {
                "subject": "x",
                "scorecard": "c",
                "final": "1.5",
                "rank": None,
                "tier": None,
                "grade": None,
            }
        ],
    }
    ws = openpyxl.load_workbook(io.BytesIO(results_workbook(doc, titles)))["c"]
    row = by_ids(ws)[0]
    assert row["final"].number_format == "0.0"
    assert row["name"].value == "x"


def test_a_2026_pool_and_bonus_amounts_are_exported(repo_root: Path) -> None:
    example = repo_root / "tests" / "examples" / "handworked-2026"
    rules = compile_path(repo_root / "rules" / "2026")
    inputs = load_inputs(rules, example / "org.json", example / "facts.jsonl")
    doc = results_json(evaluate(rules, inputs.org, inputs.facts, Period.parse("2026")))
    wb = openpyxl.load_workbook(io.BytesIO(results_workbook(doc, titles_of(rules, inputs.org))))
    pools = {r["subject"]: r for r in doc["results"] if "amount" in r}
    assert pools
    pool = next(r["scorecard"] for r in doc["results"] if "amount" in r)
    rows = by_ids(wb[titles_of(rules, inputs.org).scorecards.get(pool, pool)])
    for row in rows:
        want = pools[row["subject"].value]
        assert Decimal(repr(row["amount"].value)) == Decimal(want["amount"])
        assert row["head_count"].value == want["head_count"]
    people = {r["subject"]: r for r in doc["results"] if "bonus_amount" in r}
    rows = by_ids(wb[titles_of(rules, inputs.org).scorecards["person"]])
    got = {r["subject"].value: Decimal(repr(r["bonus_amount"].value)) for r in rows}
    assert got == {k: Decimal(v["bonus_amount"]) for k, v in people.items()}
