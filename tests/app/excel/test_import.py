"""Hand-made workbooks and CSV files: facts read as the JSON path reads them, every problem at
its cell, all at once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from app.excel.columns import Vocabulary
from app.excel.facts_in import Parsed, parse_sheets
from app.excel.reader import read_sheets
from dsl.compile.ir import CompiledRuleset
from dsl.facts.records import Org, Person
from dsl.facts.validate import validate_facts

MakeXlsx = Callable[[dict[str, list[list[Any]]]], bytes]


def problems(data: bytes, name: str, vocab: Vocabulary, org: Org) -> tuple[Parsed, list[str]]:
    parsed = parse_sheets(read_sheets(data, name), vocab, name)
    checked = validate_facts(parsed.records, vocab.schema, org, name)
    return parsed, [str(p) for p in parsed.all_problems(checked.problems)]


def test_every_problem_at_its_cell(make_xlsx: MakeXlsx, vocab: Vocabulary, org: Org) -> None:
    data = make_xlsx(
        {
            "督察发现问题": [
                ["单位", "日期", "level", "responsible"],
                ["南岳区税务局", date(2025, 2, 14), "省级", "李明"],
                [],
                ["nanyue", "2025/3/1", "县级", None],
                ["nowhere", "2025-13-01", "municipal", "nobody"],
            ],
            "revenue_completion": [
                ["subject", "period", "value"],
                ["衡山县税务局", "2025Q1", "101.5"],
                ["衡山县税务局", "2025年第一季度", 99],
            ],
            "表彰": [["对象", "日期", "level", "备注"], ["nanyue", date(2025, 3, 1), "省级", "x"]],
            "作风建设评定": [["单位", "期间"], ["nanyue", "2025Q1"]],
            "Sheet3": [["a"]],
            "Sheet4": [],
        }
    )
    parsed, got = problems(data, "ledger.xlsx", vocab, org)
    assert got == [
        "督察发现问题!C4: level: '县级' is not one of 省级, 市级",
        "督察发现问题!A5: subject: unknown subject 'nowhere'",
        "督察发现问题!B5: date: expected a date such as 2025-02-14, got '2025-13-01'",
        "督察发现问题!D5: responsible: unknown person 'nobody'",
        "revenue_completion!B3: period: a second live revenue_completion for hengshan in "
        "2025Q1 (the other is revenue_completion-2025-r2 on row 2 of revenue_completion); "
        "supersede it instead",
        "表彰!D1: -: unknown column '备注'; the columns are 编号 (id), 对象 (subject), "
        "日期 (date), 级别 (level), 事项 (matter), 证据 (evidence), 更正的编号 (supersedes)",
        "作风建设评定!1: grade: no column for 评定等次 (grade), which every row needs",
        "Sheet3!A1: -: no fact type is named 'Sheet3' and no type (类型) column says one: name "
        "the sheet after a fact type (ability_rating, attitude_rating, commendation, "
        "competition_award, criticism_notice, discipline_violation, info_adopted, "
        "inspection_issue, leader_instruction, major_violation, overdue_document, peer_rating, "
        "rating, revenue_completion, risk_step, satisfaction, style_grade, task_completion, "
        "work_item), or remove the sheet",
    ]
    first = parsed.records[0][1]
    assert first == {
        "type": "inspection_issue",
        "subject": "nanyue",
        "date": "2025-02-14",
        "data": {"level": "provincial", "responsible": "nanyue-levy-1"},
        "id": "inspection_issue-2025-r2",
    }
    assert parsed.records[3][1]["data"] == {"value": Decimal("101.5")}


def test_a_valid_workbook_has_no_problems(make_xlsx: MakeXlsx, vocab: Vocabulary, org: Org) -> None:
    data = make_xlsx(
        {
            "inspection_issue": [
                ["id", "subject", "date", "level", "responsible", "evidence"],
                [
                    "k1",
                    "南岳区税务局",
                    "2025-02-14",
                    "provincial",
                    "nanyue-levy-1",
                    "湘税督〔2025〕12号",
                ],
                ["k2", "衡山县税务局", 45702, "市级", "王芳", None],
            ]
        }
    )
    parsed, got = problems(data, "a.xlsx", vocab, org)
    assert got == []
    assert [r["data"] for _, r in parsed.records] == [
        {"level": "provincial", "responsible": "nanyue-levy-1"},
        {"level": "municipal", "responsible": "nanyue-levy-2"},
    ]
    assert parsed.records[1][1]["date"] == "2025-02-14"


def test_a_shared_name_asks_for_the_id(
    make_xlsx: MakeXlsx, rules_2025: CompiledRuleset, org: Org
) -> None:
    twin = Person("hengshan-1", "王芳", "hengshan", {})
    both = replace(org, persons={**org.persons, twin.id: twin})
    vocab = Vocabulary(rules_2025.schema, 2025, org=both)
    data = make_xlsx(
        {
            "工作事项": [
                ["人员", "日期", "points", "quality"],
                ["王芳", "2025-02-01", 5, "优秀"],
                ["王芳（hengshan-1）", "2025-02-01", 5, "优秀"],
            ]
        }
    )
    parsed, got = problems(data, "a.xlsx", vocab, both)
    assert got == [
        "工作事项!A2: subject: '王芳' is the name of 2: hengshan-1, nanyue-levy-2; give the id"
    ]
    assert parsed.records[1][1]["subject"] == "hengshan-1"


LEDGER_CSV = (
    "单位,日期,level,responsible\n"
    "南岳区税务局,2025/2/14,省级,李明\n"
    ",,,\n"
    "衡山县税务局,2025-03-01,市级,\n"
)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_in_each_encoding(
    encoding: str, make_xlsx: MakeXlsx, vocab: Vocabulary, org: Org
) -> None:
    data = LEDGER_CSV.encode(encoding)
    parsed, got = problems(data, "督察发现问题.csv", vocab, org)
    assert got == []
    rows = [[c or None for c in line.split(",")] for line in LEDGER_CSV.splitlines()]
    as_xlsx = parse_sheets(read_sheets(make_xlsx({"督察发现问题": rows}), "x.xlsx"), vocab, "x")
    assert parsed.records == as_xlsx.records
    assert [r["id"] for _, r in parsed.records] == [
        "inspection_issue-2025-r2",
        "inspection_issue-2025-r4",
    ]


def test_csv_with_a_type_column(vocab: Vocabulary, org: Org) -> None:
    text = (
        "类型,对象,日期,期间,level,value\n"
        "督察发现问题,nanyue,2025-02-14,,省级,\n"
        "revenue_completion,nanyue,,2025Q1,,98.5\n"
        "满意度,nanyue,,2025Q1,,90\n"
        "revenue_completion,nanyue,,2025Q2,省级,97\n"
    )
    parsed, got = problems(text.encode("gb18030"), "台账.csv", vocab, org)
    assert got == [
        "台账!A4: type: '满意度' is not one of " + ", ".join(vocab.schema.types),
        "台账!E5: level: revenue_completion has no field 'level'",
    ]
    assert parsed.records[0][1]["id"] == "台账-2025-r2"
    assert parsed.records[1][1]["data"] == {"value": Decimal("98.5")}
