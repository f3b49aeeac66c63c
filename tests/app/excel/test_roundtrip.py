"""Template → filled in by another library → imported: the same facts and scores as JSON."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from typing import Any

import openpyxl
import pytest

from app.excel.columns import FactSheet, Vocabulary
from app.excel.facts_in import parse_sheets
from app.excel.reader import read_sheets
from app.excel.template import facts_template
from dsl.compile.ir import CompiledRuleset
from dsl.engine.evaluate import evaluate
from dsl.engine.report import results_json
from dsl.facts.inputs import load_inputs
from dsl.facts.periods import Period
from dsl.facts.records import Fact, Org
from dsl.facts.validate import validate_facts
from tests.app.excel.conftest import HANDWORKED


def _cell(fs: FactSheet, key: str, value: Any, org: Org, i: int) -> Any:
    """What a person types: names, titles, Excel dates; numbers as numbers or as text."""
    col = fs.column(key)
    assert col is not None
    if key == "subject" or col.kind in ("person", "unit"):
        who = org.units.get(value) or org.persons[value]
        return who.name
    if col.kind == "date":
        return date.fromisoformat(value)
    if col.kind == "enum":
        assert col.ftype is not None
        return next(v.title for v in col.ftype.values if v.id == value)
    if col.kind == "indicator":
        assert col.choices is not None
        return next(label for label in col.choices.labels if label.split()[0] == value)
    if col.kind == "number":
        return value if i % 2 else str(value)
    return value


def fill(template: bytes, vocab: Vocabulary, facts: list[dict[str, Any]], org: Org) -> bytes:
    """The template filled in with openpyxl, row by row below the header, columns by id."""
    wb = openpyxl.load_workbook(io.BytesIO(template))
    sheets = {fs.decl.id: fs for fs in vocab.sheets()}
    cited = {f["supersedes"] for f in facts if "supersedes" in f}
    for i, f in enumerate(facts):
        fs = sheets[f["type"]]
        ws = wb[fs.name]
        cols = {ws.cell(2, j).value: j for j in range(1, ws.max_column + 1)}
        row = ws.max_row + 1
        values = {k: v for k, v in f.items() if k not in ("type", "data")}
        if f["id"] not in cited and i % 3:
            del values["id"]  # left empty: made from the sheet and row
        values.update(f.get("data") or {})
        for key, value in values.items():
            ws.cell(row, cols[key], _cell(fs, key, value, org, i))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _content(facts: list[Fact]) -> list[tuple[Any, ...]]:
    def norm(v: Any) -> Any:
        return v.normalize() if isinstance(v, Decimal) else v

    return sorted(
        (
            f.type,
            f.subject,
            str(f.date),
            str(f.period),
            sorted((k, norm(v)) for k, v in f.data.items()),
            f.evidence,
        )
        for f in facts
    )


@pytest.mark.parametrize("period", ["2025Q1", "2025"])
def test_filled_template_scores_as_the_json_import(
    rules_2025: CompiledRuleset,
    org: Org,
    vocab: Vocabulary,
    handworked_facts: list[dict[str, Any]],
    period: str,
) -> None:
    template = facts_template(vocab, rules_2025.name, rules_2025.digest)
    filled = fill(template, vocab, handworked_facts, org)
    parsed = parse_sheets(read_sheets(filled, "filled.xlsx"), vocab, "filled.xlsx")
    checked = validate_facts(parsed.records, rules_2025.schema, org, "filled.xlsx")
    assert parsed.all_problems(checked.problems) == []
    assert len(checked.facts) == len(handworked_facts)
    inputs = load_inputs(rules_2025, HANDWORKED / "org.json", HANDWORKED / "facts.jsonl")
    assert _content(checked.facts) == _content(inputs.facts)
    p = Period.parse(period)
    from_json = results_json(evaluate(rules_2025, inputs.org, inputs.facts, p))
    from_xlsx = results_json(evaluate(rules_2025, org, checked.facts, p))
    assert from_xlsx == from_json
    assert from_json["results"], "the example scores somebody"


def test_ids_made_from_sheet_and_row_are_stable(
    rules_2025: CompiledRuleset, org: Org, vocab: Vocabulary, handworked_facts: list[dict[str, Any]]
) -> None:
    template = facts_template(vocab, rules_2025.name, rules_2025.digest)
    filled = fill(template, vocab, handworked_facts, org)
    first = parse_sheets(read_sheets(filled, "a.xlsx"), vocab, "a.xlsx")
    again = parse_sheets(read_sheets(filled, "renamed.xlsx"), vocab, "renamed.xlsx")
    assert [r["id"] for _, r in first.records] == [r["id"] for _, r in again.records]
    made = [r["id"] for _, r in first.records if not r["id"].startswith("f")]
    # The second filled row of the inspection sheet: type, year, row 4.
    assert "inspection_issue-2025-r4" in made
    assert len(set(made)) == len(made)


def test_template_sheets_headers_and_lists(rules_2025: CompiledRuleset, vocab: Vocabulary) -> None:
    wb = openpyxl.load_workbook(io.BytesIO(facts_template(vocab, rules_2025.name)))
    assert wb.sheetnames[0] == "填写说明"
    ws = wb["督察发现问题"]
    titles = ["编号", "单位", "日期", "级别", "责任人", "证据", "更正的编号"]
    assert [c.value for c in ws[1]] == titles
    assert [c.value for c in ws[2]] == [
        "id",
        "subject",
        "date",
        "level",
        "responsible",
        "evidence",
        "supersedes",
    ]
    assert ws.freeze_panes == "A3"
    checks = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    level = checks["D3:D1048576"]
    assert level.type == "list"
    lists = wb["选项"]
    assert lists.sheet_state == "hidden"
    ref = level.formula1.split("!")[1].replace("$", "")
    cells = [c.value for row in lists[ref] for c in row]
    assert cells == ["省级", "市级"]
    subject = checks["B3:B1048576"]
    ref = subject.formula1.split("!")[1].replace("$", "")
    assert [c.value for row in lists[ref] for c in row][:3] == [
        "衡东县税务局",
        "衡山县税务局",
        "衡阳市税务局",
    ]
    day = checks["C3:C1048576"]
    assert day.type == "date"
    assert ws.column_dimensions["C"].width is not None
    assert "对象名单" in wb.sheetnames
