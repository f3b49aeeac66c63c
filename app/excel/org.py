"""The organisation as a workbook: a template (filled with the current organisation when
there is one) and reading it back into the organisation's JSON form.

Two sheets: 单位 (units: id, name, kind, parent) and 人员 (persons: id, name, unit, and the
person attributes the ruleset declares). Kinds are shown by their titles; a parent or a
person's unit may be given by id or by a name only one unit of the workbook has.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from xlsxwriter.worksheet import Worksheet

from app.excel.cells import CellError, is_empty, read_cell, text_of
from app.excel.choices import Choices, enum_choices, named_choices
from app.excel.columns import Column, field_column
from app.excel.facts_in import CellProblem
from app.excel.header import find_header
from app.excel.reader import Sheet
from app.excel.styles import Formats, column_width, new_workbook, print_setup
from app.excel.template import FIRST_DATA_ROW, LAST_ROW, Lists, check_of
from dsl.facts.records import FactProblem, Org
from dsl.syntax import nodes as n

UNITS, PERSONS = "单位", "人员"
_SHEETS = {"单位": "units", "units": "units", "人员": "persons", "persons": "persons"}
_ALIASES = {
    "units": {"编号": "id", "名称": "name", "类别": "kind", "上级单位": "parent", "上级": "parent"},
    "persons": {"编号": "id", "姓名": "name", "名称": "name", "所在单位": "unit", "单位": "unit"},
}


def unit_columns(decl: n.OrganisationDecl | None, units: Choices | None) -> list[Column]:
    """The columns of the units sheet."""
    kinds = enum_choices(decl.kinds) if decl is not None and decl.kinds else None
    return [
        Column("id", "编号", "text", True, False, hint="单位编号，唯一（必填）"),
        Column("name", "名称", "text", True, False, hint="单位名称（必填）"),
        Column("kind", "类别", "enum" if kinds else "text", True, False, None, kinds, "（必填）"),
        Column("parent", "上级单位", "unit", False, False, None, units, "上级单位的编号或名称"),
    ]


def person_columns(decl: n.OrganisationDecl | None, units: Choices | None) -> list[Column]:
    """The columns of the persons sheet: then one per declared attribute."""
    cols = [
        Column("id", "编号", "text", True, False, hint="人员编号，唯一（必填）"),
        Column("name", "姓名", "text", True, False, hint="姓名（必填）"),
        Column(
            "unit", "所在单位", "unit", True, False, None, units, "所在单位的编号或名称（必填）"
        ),
    ]
    return cols + [field_column(fd) for fd in (decl.attrs if decl is not None else ())]


def org_template(decl: n.OrganisationDecl | None, org: Org | None, title: str) -> bytes:
    """The xlsx bytes of the organisation template, with the organisation's rows if given."""
    buf = io.BytesIO()
    wb = new_workbook(buf, f"{title} · 组织机构模板")
    fmt = Formats(wb)
    _guide(wb.add_worksheet("填写说明"), title, fmt)
    lists = Lists(wb.add_worksheet("选项"))
    named = [(u.id, u.name) for u in sorted(org.units.values(), key=lambda u: u.id)] if org else []
    units = named_choices(named) if org else None
    unit_rows: list[list[Any]] = []
    person_rows: list[list[Any]] = []
    if org is not None and units is not None:
        label = dict(zip(sorted(org.units), units.labels, strict=True))
        for u in sorted(org.units.values(), key=lambda u: u.id):
            parent = label.get(u.parent, u.parent) if u.parent else ""
            unit_rows.append([u.id, u.name, _title(decl, u.kind), parent])
        for p in sorted(org.persons.values(), key=lambda p: p.id):
            attrs = [p.attrs.get(fd.name) for fd in (decl.attrs if decl else ())]
            person_rows.append([p.id, p.name, label.get(p.unit, p.unit), *attrs])
    _sheet(wb.add_worksheet(UNITS), unit_columns(decl, units), unit_rows, fmt, lists)
    _sheet(wb.add_worksheet(PERSONS), person_columns(decl, units), person_rows, fmt, lists)
    lists.sheet.hide()
    wb.worksheets()[2].activate()
    wb.close()
    return buf.getvalue()


GUIDE = (
    "“单位”表每行一个单位，“人员”表每行一个人员。第 1 行是列名，第 2 行是字段编号，请勿修改。",
    "编号在全部单位和人员中唯一，导入后不要更改；类别从列表中选择。",
    "上级单位、所在单位可填编号，或只有一个单位使用的名称。",
    "导入的是完整的组织机构：表中没有的单位和人员视为撤销或调离（历史记录保留）。",
    "导入：jixiao import org 本文件.xlsx --from 生效日期（首次导入可省略 --from）。",
)


def _guide(ws: Worksheet, title: str, fmt: Formats) -> None:
    ws.set_column(0, 0, 100)
    ws.write_string(0, 0, f"{title} · 组织机构模板", fmt.title)
    for i, text in enumerate(GUIDE, 2):
        ws.write_string(i, 0, f"{i - 1}. {text}", fmt.wrap)
    print_setup(ws)


def _title(decl: n.OrganisationDecl | None, kind: str) -> str:
    for k in decl.kinds if decl is not None else ():
        if k.id == kind:
            return k.title or k.id
    return kind


def _sheet(
    ws: Worksheet, cols: list[Column], rows: list[list[Any]], fmt: Formats, lists: Lists
) -> None:
    ws.freeze_panes(FIRST_DATA_ROW, 0)
    print_setup(ws, FIRST_DATA_ROW)
    ws.set_row(0, 30)
    for j, col in enumerate(cols):
        sample = [text_of(r[j]) for r in rows[:500] if r[j] is not None]
        ws.set_column(j, j, column_width(col.title, col.name, *sample, least=10, most=40))
        ws.write_string(0, j, col.title, fmt.required if col.required else fmt.header)
        ws.write_string(1, j, col.name, fmt.ident)
        check = check_of(col, None, lists)
        if check is not None:
            ws.data_validation(FIRST_DATA_ROW, j, LAST_ROW, j, check)
    for i, row in enumerate(rows, FIRST_DATA_ROW):
        for j, v in enumerate(row):
            if v is None or v == "":
                continue
            if isinstance(v, str):
                ws.write_string(i, j, v, fmt.text)
            else:
                ws.write_number(i, j, float(v), fmt.plain)
    ws.autofilter(1, 0, 1 + len(rows), len(cols) - 1)


@dataclass
class ParsedOrg:
    """The organisation's JSON form read from a workbook, and where each record came from."""

    source: str
    raw: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {"units": [], "persons": []}
    )
    rows: dict[tuple[str, str], tuple[str, int, dict[str, int]]] = field(default_factory=dict)
    problems: list[CellProblem] = field(default_factory=list)

    def locate(self, problems: Iterable[FactProblem]) -> list[CellProblem]:
        """The organisation's problems (by record id and field) at their cells."""
        out = list(self.problems)
        for p in problems:
            part = "persons" if p.ident.startswith("persons[") else "units"
            key = (part, p.ident) if (part, p.ident) in self.rows else ("persons", p.ident)
            got = self.rows.get(key)
            fld = p.field[6:] if p.field.startswith("attrs.") else p.field
            if got is None:
                out.append(CellProblem(self.source, 0, p.ident, p.field, p.message, self.source))
                continue
            sheet, row, cols = got
            out.append(CellProblem(self.source, row, p.ident, fld, p.message, sheet, cols.get(fld)))
        return out


def parse_org(sheets: Sequence[Sheet], decl: n.OrganisationDecl | None, source: str) -> ParsedOrg:
    """The units and persons sheets of a workbook as the organisation's JSON form."""
    out = ParsedOrg(source)
    found = {_SHEETS.get(s.name.strip().casefold()): s for s in sheets}
    unit_sheet, person_sheet = found.get("units"), found.get("persons")
    if unit_sheet is None:
        out.problems.append(CellProblem(source, 0, "-", "-", "no sheet named 单位 (units)", source))
        return out
    _read(out, unit_sheet, "units", unit_columns(decl, None))
    pairs = [(str(u.get("id")), str(u.get("name") or u.get("id"))) for u in out.raw["units"]]
    units = named_choices(pairs)
    for u in out.raw["units"]:
        if isinstance(u.get("parent"), str):
            u["parent"] = units.resolve(u["parent"]) or u["parent"]
    if person_sheet is not None:
        _read(out, person_sheet, "persons", person_columns(decl, units))
    return out


def _read(out: ParsedOrg, sheet: Sheet, part: str, cols: list[Column]) -> None:
    by_name = {c.name: c for c in cols}
    names = {**_ALIASES[part], **{c.title: c.name for c in cols}, **{c: c for c in by_name}}
    header = find_header(sheet.rows, names, "id")
    if header is None:
        msg = "no header row naming the id (编号) column in the first rows"
        out.problems.append(CellProblem(out.source, 1, "-", "-", msg, sheet.name, 0))
        return
    for at_row, at_col, key, message in header.problems:
        out.problems.append(CellProblem(out.source, at_row, "-", key, message, sheet.name, at_col))
    keys = {k: j for j, k in header.columns.items()}
    for i in range(header.last + 1, len(sheet.rows)):
        cells = sheet.rows[i]
        if all(is_empty(v) for v in cells):
            continue
        record: dict[str, Any] = {}
        attrs: dict[str, Any] = {}
        for j, key in header.columns.items():
            v = cells[j] if j < len(cells) else ""
            if is_empty(v):
                continue
            col = by_name[key]
            try:
                value = read_cell(col, v)
            except CellError as e:
                out.problems.append(CellProblem(out.source, i + 1, "-", key, str(e), sheet.name, j))
                continue
            (attrs if col.data else record)[key] = value
        if part == "persons":
            record["attrs"] = attrs
        ident = record.get("id")
        label = ident if isinstance(ident, str) else f"{part}[{len(out.raw[part])}]"
        out.rows[(part, label)] = (sheet.name, i + 1, keys)
        out.raw[part].append(record)
