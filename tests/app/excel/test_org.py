"""The organisation template: filled with the organisation, read back to the same one."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import openpyxl
import pytest

from app.excel.org import org_template, parse_org
from app.excel.reader import read_sheets
from dsl.compile.ir import CompiledRuleset
from dsl.facts.records import InputError, Org, org_from_json

MakeXlsx = Callable[[dict[str, list[list[Any]]]], bytes]


def test_the_organisation_round_trips(rules_2025: CompiledRuleset, org: Org) -> None:
    decl = rules_2025.program.organisation
    data = org_template(decl, org, rules_2025.name)
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["填写说明", "选项", "单位", "人员"]
    units = list(wb["单位"].iter_rows(values_only=True))
    assert units[:3] == [
        ("编号", "名称", "类别", "上级单位"),
        ("id", "name", "kind", "parent"),
        ("hengdong", "衡东县税务局", "县区局", "衡阳市税务局"),
    ]
    persons = list(wb["人员"].iter_rows(values_only=True))
    assert persons[1] == ("id", "name", "unit", "post", "workload")
    assert persons[2] == ("nanyue-levy-1", "李明", "南岳区税务局征收管理股", "tax_officer", 100)
    parsed = parse_org(read_sheets(data, "org.xlsx"), decl, "org.xlsx")
    assert parsed.problems == []
    again = org_from_json(parsed.raw)
    assert again.units == org.units
    assert again.persons == org.persons


def test_organisation_problems_at_their_cells(
    make_xlsx: MakeXlsx, rules_2025: CompiledRuleset
) -> None:
    data = make_xlsx(
        {
            "单位": [
                ["编号", "名称", "类别", "上级单位"],
                ["hy", "衡阳市税务局", "市局", None],
                ["ny", "南岳区税务局", "县区局", "衡阳市税务局"],
                ["bad", "某局", "县区局", "nowhere"],
            ],
            "人员": [
                ["编号", "姓名", "所在单位", "workload"],
                ["p1", "李明", "南岳区税务局", "八十"],
                ["p2", "王芳", "ny", 80],
                ["p3", "张三", "衡山县税务局", 80],
            ],
        }
    )
    decl = rules_2025.program.organisation
    parsed = parse_org(read_sheets(data, "org.xlsx"), decl, "org.xlsx")
    assert parsed.raw["units"][1] == {
        "id": "ny",
        "name": "南岳区税务局",
        "kind": "county_bureau",
        "parent": "hy",
    }
    assert parsed.raw["persons"][1] == {
        "id": "p2", "name": "王芳", "unit": "ny", "attrs": {"workload": 80}
    }  # fmt: skip
    with pytest.raises(InputError) as e:
        org_from_json(parsed.raw, "org.xlsx")
    assert [str(p) for p in parsed.locate(e.value.problems)] == [
        "人员!D2: workload: expected a number, got '八十'",
        "单位!D4: parent: unknown unit 'nowhere'",
        "人员!C4: unit: unknown unit '衡山县税务局'",
    ]
