"""An impact report as a workbook: each subject under both rulesets, what each change did to
it, and the list of changes (from `ImpactReport.as_json()`, docs/audit.md)."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

from xlsxwriter.worksheet import Worksheet

from app.excel.cells import period_title
from app.excel.export import HEADER_ROWS, unique_sheet_name, write_header, write_value
from app.excel.styles import Formats, column_width, new_workbook, print_setup
from app.excel.titles import Titles

_SIDES = (("old", "原"), ("new", "新"))


def impact_workbook(doc: Mapping[str, Any], titles: Titles) -> bytes:
    """The xlsx bytes of an impact report; `titles` are the new ruleset's."""
    buf = io.BytesIO()
    period = str(doc["period"])
    wb = new_workbook(buf, f"规则变更影响 · {period_title(period)}")
    fmt = Formats(wb, titles.places)
    used: set[str] = set()
    _subjects(wb.add_worksheet(unique_sheet_name("影响", used)), doc, titles, fmt)
    _changes(wb.add_worksheet(unique_sheet_name("变更", used)), doc, fmt)
    _steps(wb.add_worksheet(unique_sheet_name("逐项归因", used)), doc, fmt)
    _attribution(wb.add_worksheet(unique_sheet_name("归因明细", used)), doc, titles, fmt)
    wb.close()
    return buf.getvalue()


def _subjects(ws: Worksheet, doc: Mapping[str, Any], titles: Titles, fmt: Formats) -> None:
    head = [("计分卡", "scorecard"), ("编号", "subject"), ("名称", "name")]
    for side, word in _SIDES:
        head += [(f"{word}得分", f"{side}.final"), (f"{word}排名", f"{side}.rank")]
        head += [(f"{word}段/等次", f"{side}.band")]
    head += [("变化", "delta"), ("段/等次变动", "moved"), ("相互作用", "interaction")]
    write_header(ws, head, fmt)
    for i, s in enumerate(doc["subjects"], HEADER_ROWS):
        card = s["scorecard"]
        row: list[tuple[str, Any]] = [
            ("text", titles.scorecards.get(card, card)),
            ("text", s["subject"]),
            ("text", titles.name(s["subject"])),
        ]
        for side, _ in _SIDES:
            st = s.get(side) or {}
            band = st.get("tier") or st.get("grade")
            row += [("number", st.get("final")), ("int", st.get("rank"))]
            row += [("text", titles.band_title(card, band))]
        row += [("number", s.get("delta")), ("text", "是" if s.get("moved") else "")]
        row += [("number", s.get("interaction"))]
        for j, (kind, v) in enumerate(row):
            write_value(ws, i, j, kind, v, fmt)
    for j, (title, ident) in enumerate(head):
        ws.set_column(j, j, column_width(title, ident, least=18 if j < 3 else 10, most=24))
    ws.freeze_panes(HEADER_ROWS, 3)
    ws.autofilter(1, 0, 1 + len(doc["subjects"]), len(head) - 1)
    print_setup(ws, HEADER_ROWS)


def _changes(ws: Worksheet, doc: Mapping[str, Any], fmt: Formats) -> None:
    head = [
        ("序号", "n"),
        ("变更", "op"),
        ("对象", "what"),
        ("位置", "path"),
        ("属性", "attr"),
        ("原", "old"),
        ("新", "new"),
        ("原规则位置", "old_at"),
        ("新规则位置", "new_at"),
        ("说明", "note"),
    ]
    write_header(ws, head, fmt)
    for i, c in enumerate(doc.get("changes") or [], HEADER_ROWS):
        path = " / ".join(f"{p['kind']} {p['id']}" for p in c.get("path") or [])
        values = [c.get("op"), c.get("what"), path, c.get("attr"), c.get("old"), c.get("new")]
        values += [c.get("old_at"), c.get("new_at"), c.get("note")]
        ws.write_number(i, 0, i - HEADER_ROWS + 1, fmt.integer)
        for j, v in enumerate(values, 1):
            write_value(ws, i, j, "text", v, fmt)
    for j, w in enumerate((6, 10, 12, 36, 10, 24, 24, 24, 24, 40)):
        ws.set_column(j, j, w)
    ws.freeze_panes(HEADER_ROWS, 0)
    print_setup(ws, HEADER_ROWS)


def _steps(ws: Worksheet, doc: Mapping[str, Any], fmt: Formats) -> None:
    head = [("步骤", "id"), ("说明", "label"), ("变更序号", "changes"), ("涉及对象", "subjects")]
    head += [("合计", "total"), ("错误", "error")]
    write_header(ws, head, fmt)
    steps = doc.get("summary", {}).get("attribution", {}).get("steps", [])
    for i, s in enumerate(steps, HEADER_ROWS):
        changes = ", ".join(str(c) for c in s.get("changes") or [])
        row = [("text", s.get("id")), ("text", s.get("label")), ("text", changes)]
        row += [("int", s.get("subjects")), ("number", s.get("total")), ("text", s.get("error"))]
        for j, (kind, v) in enumerate(row):
            write_value(ws, i, j, kind, v, fmt)
    for j, w in enumerate((10, 48, 12, 10, 10, 40)):
        ws.set_column(j, j, w)
    print_setup(ws, HEADER_ROWS)


def _attribution(ws: Worksheet, doc: Mapping[str, Any], titles: Titles, fmt: Formats) -> None:
    """A row per subject and step that changes it alone: how much."""
    steps = doc.get("summary", {}).get("attribution", {}).get("steps", [])
    labels = {s["id"]: s.get("label") or "" for s in steps}
    head = [("计分卡", "scorecard"), ("编号", "subject"), ("名称", "name"), ("步骤", "step")]
    head += [("说明", "label"), ("变化", "amount")]
    write_header(ws, head, fmt)
    i = HEADER_ROWS
    for s in doc["subjects"]:
        card = s["scorecard"]
        for step, amount in (s.get("attribution") or {}).items():
            row = [("text", titles.scorecards.get(card, card)), ("text", s["subject"])]
            row += [("text", titles.name(s["subject"])), ("text", step)]
            row += [("text", labels.get(step, "")), ("number", amount)]
            for j, (kind, v) in enumerate(row):
                write_value(ws, i, j, kind, v, fmt)
            i += 1
    for j, w in enumerate((16, 16, 16, 30, 48, 10)):
        ws.set_column(j, j, w)
    ws.freeze_panes(HEADER_ROWS, 0)
    ws.autofilter(1, 0, max(1, i - 1), len(head) - 1)
    print_setup(ws, HEADER_ROWS)
