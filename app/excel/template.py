"""The fact template of a ruleset: a sheet per fact type, ready for a bureau to fill in.

Each fact sheet has the columns of `app.excel.columns` with the Chinese title above the id,
drop-down lists (enum titles, periods, and the organisation's units or persons when one is
given), date cells, checked number ranges, and a note on every column saying what it takes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date
from typing import Any

from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

from app.excel.columns import Column, FactSheet, Vocabulary, range_text
from app.excel.styles import Formats, column_width, new_workbook, print_setup
from dsl.facts.records import Org

LAST_ROW = 1_048_575  # Excel's last row (0-based): the checks cover every row below the header
FIRST_DATA_ROW = 2  # 0-based: titles in row 1, ids in row 2, facts from row 3
LISTS = "选项"
INSTRUCTIONS = "填写说明"
SUBJECTS = "对象名单"
_STOP_KINDS = ("enum", "period")  # a value outside the list is refused; names warn only
_COMPARE = {(True, "low"): ">=", (False, "low"): ">", (True, "high"): "<=", (False, "high"): "<"}


def facts_template(vocab: Vocabulary, title: str, digest: str = "") -> bytes:
    """The xlsx bytes of the fact template of a ruleset (`title`, `digest`)."""
    buf = io.BytesIO()
    wb = new_workbook(buf, f"{title} · 事实填报模板")
    fmt = Formats(wb)
    sheets = vocab.sheets()
    intro = wb.add_worksheet(INSTRUCTIONS)
    lists = Lists(wb.add_worksheet(LISTS))
    for fs in sheets:
        _fact_sheet(wb.add_worksheet(fs.name), fs, vocab, fmt, lists)
    if vocab.org is not None:
        subject_sheet(wb.add_worksheet(SUBJECTS), vocab.org, fmt)
    _instructions(intro, title, digest, sheets, fmt)
    lists.sheet.hide()
    intro.activate()
    wb.close()
    return buf.getvalue()


class Lists:
    """The hidden sheet holding the drop-down lists, one per column of it."""

    def __init__(self, sheet: Worksheet) -> None:
        self.sheet = sheet
        self.made: dict[tuple[str, ...], str] = {}

    def source(self, labels: Sequence[str]) -> str:
        """A formula naming the cells that hold `labels` (written once per distinct list)."""
        key = tuple(labels)
        if key not in self.made:
            col = len(self.made)
            self.sheet.write_column(0, col, labels)
            letter = xl_col_to_name(col)
            self.made[key] = f"='{LISTS}'!${letter}$1:${letter}${max(1, len(labels))}"
        return self.made[key]


def _fact_sheet(
    ws: Worksheet, fs: FactSheet, vocab: Vocabulary, fmt: Formats, lists: Lists
) -> None:
    ws.freeze_panes(FIRST_DATA_ROW, 0)
    print_setup(ws, FIRST_DATA_ROW)
    ws.set_row(0, 30)
    for j, col in enumerate(fs.columns):
        cell_fmt = {"date": fmt.date, "number": fmt.plain, "integer": fmt.integer}
        ws.set_column(j, j, _width(col), cell_fmt.get(col.kind, fmt.text))
        ws.write_string(0, j, col.title, fmt.required if col.required else fmt.header)
        ws.write_string(1, j, col.name, fmt.ident)
        check = check_of(col, vocab.year, lists)
        if check is not None:
            ws.data_validation(FIRST_DATA_ROW, j, LAST_ROW, j, check)
    ws.autofilter(1, 0, 1, len(fs.columns) - 1)


def _width(col: Column) -> int:
    labels = col.choices.labels if col.choices is not None else ()
    longest = max(labels, key=len, default="")
    least = 12 if col.kind in ("date", "period", "subject", "person", "unit") else 8
    return column_width(col.title, col.name, longest, least=least, most=40)


def check_of(col: Column, year: int | None, lists: Lists) -> dict[str, Any] | None:
    """The data validation of a column: a list, a number range, a date in the year, or a note."""
    check: dict[str, Any] = {
        "input_title": col.title[:32],
        "input_message": col.hint[:255],
        "error_title": col.title[:32],
    }
    if col.choices is not None and col.choices.labels:
        stop = col.kind in _STOP_KINDS
        check.update(validate="list", source=lists.source(col.choices.labels))
        check["error_type"] = "stop" if stop else "warning"
        check["error_message"] = "请从列表中选择" if stop else "不在列表中：请核对编号或名称"
        return check
    if col.kind in ("number", "integer") and col.ftype is not None:
        return _number_check(check, col)
    if col.kind == "date" and year is not None:
        y = year
        check.update(
            validate="date",
            criteria="between",
            minimum=date(y, 1, 1),
            maximum=date(y, 12, 31),
            error_type="warning",
            error_message=f"日期不在 {y} 年内，或不是日期",
        )
        return check
    check.update(validate="any")
    return check


def _number_check(check: dict[str, Any], col: Column) -> dict[str, Any]:
    assert col.ftype is not None
    r = col.ftype.range
    word = "整数" if col.kind == "integer" else "数值"
    check.update(validate="integer" if col.kind == "integer" else "decimal")
    check.update(
        error_type="stop", error_message=f"应为{word}" + (f"，{range_text(r)}" if r else "")
    )
    if r is None:
        check.update(criteria="between", minimum=-1e307, maximum=1e307)
    elif r.low is not None and r.high is not None:
        check.update(criteria="between", minimum=float(r.low), maximum=float(r.high))
    elif r.low is not None:
        check.update(criteria=_COMPARE[(r.low_inclusive, "low")], value=float(r.low))
    elif r.high is not None:
        check.update(criteria=_COMPARE[(r.high_inclusive, "high")], value=float(r.high))
    return check


def subject_sheet(ws: Worksheet, org: Org, fmt: Formats) -> None:
    """The organisation's units and persons with their ids, to look up while filling in."""
    head = ["编号", "名称", "类别", "所属单位"]
    ws.write_row(0, 0, head, fmt.header)
    ws.write_row(1, 0, ["id", "name", "kind", "unit"], fmt.ident)
    rows: list[list[str]] = []
    for u in sorted(org.units.values(), key=lambda u: u.id):
        parent = org.units[u.parent].name if u.parent in org.units else ""
        rows.append([u.id, u.name, "单位", parent])
    for p in sorted(org.persons.values(), key=lambda p: p.id):
        unit = org.units[p.unit].name if p.unit in org.units else p.unit
        rows.append([p.id, p.name, "人员", unit])
    for i, row in enumerate(rows, FIRST_DATA_ROW):
        ws.write_row(i, 0, row, fmt.text)
    for j, h in enumerate(head):
        ws.set_column(j, j, column_width(h, *(r[j] for r in rows[:2000]), most=40))
    ws.freeze_panes(FIRST_DATA_ROW, 0)
    print_setup(ws, FIRST_DATA_ROW)
    ws.autofilter(1, 0, 1 + len(rows), len(head) - 1)


GUIDE = (
    "每个工作表对应一类事实，表名为事实类型的名称。第 1 行是列名，第 2 行是字段编号："
    "导入时按字段编号识别各列，请勿修改或删除这两行；列的先后可以调整。",
    "从第 3 行起，每行填写一条事实；空行会被跳过。",
    "深色表头的列必须填写。点选单元格可以看到该列的填写要求；带下拉箭头的列请从列表中选择。",
    "日期填写为日期（如 2025-02-14）；期间填写季度（如 2025Q1）或年度（如 2025）。",
    "单位和人员填写编号或名称；名称须与组织机构中的完全一致，同名的请填写编号"
    "（见“对象名单”工作表）。",
    "“编号”可以不填：不填时按事实类型、年份和行号生成（如 inspection_issue-2025-r7），"
    "同一工作簿再次导入时不会重复记录。因此已导入的行请勿删除，也不要在其上方插入或删除行；"
    "更正时请新增一行，并在“更正的编号”中填写被更正事实的编号。",
    "导入：jixiao import facts 本文件.xlsx，或通过接口 POST /v1/facts 上传。"
    "只要有一处错误，就不会记录任何事实；错误会指明单元格，如“督察发现问题!D7: level: …”。",
)


def _instructions(
    ws: Worksheet, title: str, digest: str, sheets: list[FactSheet], fmt: Formats
) -> None:
    print_setup(ws)
    ws.set_column(0, 0, 18)
    ws.set_column(1, 1, 22)
    ws.set_column(2, 2, 12)
    ws.set_column(3, 3, 80)
    ws.write_string(0, 0, f"{title} · 事实填报模板", fmt.title)
    ws.write_string(1, 0, f"规则集 {digest[:12]}" if digest else "", fmt.note)
    row = 3
    for i, text in enumerate(GUIDE, 1):
        ws.merge_range(row, 0, row, 3, f"{i}. {text}", fmt.wrap)
        ws.set_row(row, 15 * (1 + len(text) // 60))
        row += 1
    row += 1
    ws.write_row(row, 0, ["工作表", "事实类型", "记录方式", "各列及填写要求"], fmt.header)
    for fs in sheets:
        row += 1
        kind = {"dated": "按日期", "period": "按期间，每期一条"}.get(
            fs.decl.kind, "按期间，每期可多条"
        )
        cols = "\n".join(f"{c.title}（{c.name}）：{c.hint}" for c in fs.columns[1:-2])
        ws.write_row(row, 0, [fs.name, fs.decl.id, kind], fmt.wrap)
        ws.write_string(row, 3, cols, fmt.wrap)
        ws.set_row(row, 15 * (1 + cols.count("\n") + len(cols) // 80))
