"""The lost-point analysis of a scorecard (失分分析) as a workbook: each subject's losses by
indicator, each indicator across subjects, the facts that cost the points, each lead
department's line of work, and the items by kind and level (from the JSON of
`GET /v1/analysis/lost-points`, docs/analysis.md)."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from typing import Any

from xlsxwriter.worksheet import Worksheet

from app.excel.cells import period_title
from app.excel.export import HEADER_ROWS, about_sheet, unique_sheet_name, write_header, write_value
from app.excel.styles import Formats, column_width, new_workbook, print_setup
from app.excel.titles import Titles

Row = list[tuple[str, Any]]  # (kind, value) per cell: "text", "number" or "int"
LOST_NOTE = "失分 = 分值 − 公布得分；折算失分 = 失分 × 所属类别权重"
ITEM_KINDS = {"deduct": "逐项扣分", "bonus": "加分", "penalty": "减分", "add": "逐项加分"}


def lost_workbook(doc: Mapping[str, Any], titles: Titles) -> bytes:
    """The xlsx bytes of a lost-point analysis; `titles` are its ruleset's."""
    buf = io.BytesIO()
    wb = new_workbook(buf, f"{doc['title']}失分分析 · {period_title(str(doc['period']))}")
    fmt = Formats(wb, titles.places)
    used: set[str] = set()
    card = str(doc["scorecard"])
    sheets: list[tuple[str, list[tuple[str, str]], list[Row], int]] = [
        ("失分汇总", *_subjects(doc, titles), 3),
        ("指标失分", *_indicators(doc), 2),
        ("失分明细", *_causes(doc), 3),
        ("牵头科室", *_departments(doc), 2),
        ("扣分与加减分项", *_items(doc), 0),
    ]
    for name, head, rows, frozen in sheets:
        _table(wb.add_worksheet(unique_sheet_name(name, used)), head, rows, fmt, frozen)
    ws = wb.add_worksheet(unique_sheet_name("说明", used))
    about_sheet(ws, doc, fmt)
    below = 6 if isinstance(doc.get("watermark"), Mapping) else 5  # the rows about_sheet wrote
    ws.write_string(below, 0, "计分卡", fmt.header)
    ws.write_string(below, 1, f"{titles.scorecards.get(card, card)}（{card}）", fmt.plain)
    ws.write_string(below + 1, 0, "失分", fmt.header)
    ws.write_string(below + 1, 1, LOST_NOTE, fmt.plain)
    wb.close()
    return buf.getvalue()


def _table(
    ws: Worksheet, head: Sequence[tuple[str, str]], rows: Sequence[Row], fmt: Formats, frozen: int
) -> None:
    write_header(ws, head, fmt)
    for i, row in enumerate(rows, HEADER_ROWS):
        for j, (kind, v) in enumerate(row):
            write_value(ws, i, j, kind, v, fmt)
    for j, (title, ident) in enumerate(head):
        ws.set_column(j, j, column_width(title, ident, least=10, most=40))
    ws.freeze_panes(HEADER_ROWS, frozen)
    ws.autofilter(1, 0, 1 + max(1, len(rows)), len(head) - 1)
    print_setup(ws, HEADER_ROWS)


def _subjects(doc: Mapping[str, Any], titles: Titles) -> tuple[list[tuple[str, str]], list[Row]]:
    """A row per subject by rank: its result, then each indicator's loss."""
    card = str(doc["scorecard"])
    inds = [(i["indicator"], i["title"]) for i in doc["indicators"]]
    head = [("名次", "rank"), ("编号", "subject"), ("名称", "name"), ("最终得分", "final")]
    head += [("段次/等次", "band"), ("基础得分", "base"), ("失分", "lost")]
    head += [(f"{k} {t}", f"{k}.lost") for k, t in inds]
    rows: list[Row] = []
    for s in doc["subjects"]:
        lost = {i["indicator"]: i["lost"] for i in s["indicators"]}
        row: Row = [("int", s.get("rank")), ("text", s["subject"]), ("text", s["name"])]
        row += [("number", s.get("final"))]
        row += [("text", titles.band_title(card, s.get("tier") or s.get("grade")))]
        row += [("number", s.get("base")), ("number", s.get("lost"))]
        row += [("number", lost.get(k)) for k, _ in inds]
        rows.append(row)
    return head, rows


def _then(entry: Mapping[str, Any], key: str) -> tuple[str, Any]:
    """An earlier period's total loss, or why there is none (as text)."""
    then = entry.get(key) or {}
    if then.get("available"):
        return ("number", then.get("total"))
    return ("text", then.get("reason") or "")


def _indicators(doc: Mapping[str, Any]) -> tuple[list[tuple[str, str]], list[Row]]:
    """Each indicator across the subjects."""
    names = {s["subject"]: s["name"] for s in doc["subjects"]}
    head = [("指标", "indicator"), ("名称", "title"), ("分值", "points")]
    head += [("牵头科室", "lead_name"), ("对象数", "subjects"), ("失分对象数", "lost_count")]
    head += [("缺报数", "missing_count"), ("失分合计", "total"), ("平均失分", "mean")]
    head += [("最多失分", "worst.lost"), ("失分最多的对象", "worst.subjects")]
    head += [("上期失分合计", "previous.total"), ("上年同期失分合计", "year_ago.total")]
    rows: list[Row] = []
    for i in doc["indicators"]:
        worst = i.get("worst") or {}
        who = "、".join(names.get(s, s) for s in worst.get("subjects") or [])
        row: Row = [("text", i["indicator"]), ("text", i["title"]), ("number", i["points"])]
        row += [("text", i.get("lead_name")), ("int", i["subjects"]), ("int", i["lost_count"])]
        row += [("int", i["missing_count"]), ("number", i["total"]), ("number", i.get("mean"))]
        row += [("number", worst.get("lost")), ("text", who)]
        row += [_then(i, "previous"), _then(i, "year_ago")]
        rows.append(row)
    return head, rows


def _causes(doc: Mapping[str, Any]) -> tuple[list[tuple[str, str]], list[Row]]:
    """Every indicator a subject lost points on, fact by fact (a missing value on its own)."""
    head = [("编号", "subject"), ("名称", "name"), ("指标", "indicator"), ("指标名称", "title")]
    head += [("分值", "points"), ("得分", "score"), ("失分", "lost"), ("折算失分", "weighted")]
    head += [("事实编号", "fact"), ("事实类型", "type"), ("级别", "level"), ("日期/期间", "when")]
    head += [("扣分", "amount"), ("证据文号", "evidence"), ("说明", "detail")]
    rows: list[Row] = []
    for s in doc["subjects"]:
        for i in s["indicators"]:
            if i["lost"] in ("0", "0.00") and not i["missing"]:
                continue
            first: Row = [("text", s["subject"]), ("text", s["name"]), ("text", i["indicator"])]
            first += [("text", i["title"]), ("number", i["points"]), ("number", i["score"])]
            first += [("number", i["lost"]), ("number", i["weighted"])]
            causes = i.get("causes") or []
            if not causes:
                note = "未报送，按 0 分计" if i["missing"] else (i.get("note") or "")
                rows.append([*first, *[("text", None)] * 6, ("text", note)])
            for c in causes:
                row: Row = [*first, ("text", c.get("fact")), ("text", c.get("title"))]
                row += [("text", c.get("level")), ("text", c.get("when"))]
                row += [("number", c.get("amount")), ("text", c.get("evidence"))]
                row += [("text", c.get("detail"))]
                rows.append(row)
    return head, rows


def _departments(doc: Mapping[str, Any]) -> tuple[list[tuple[str, str]], list[Row]]:
    """Each lead department: what its indicators lost, and the joint liability it received."""
    head = [("牵头科室", "department"), ("名称", "name"), ("指标", "indicator")]
    head += [("指标名称", "title"), ("失分合计", "lost"), ("失分单位数", "units")]
    head += [("承担连带责任", "joint.received"), ("封顶前", "joint.before_cap")]
    rows: list[Row] = []
    for d in doc["departments"]:
        joint = d.get("joint") or {}
        for i in d["indicators"]:
            row: Row = [("text", d["department"]), ("text", d["name"]), ("text", i["indicator"])]
            row += [("text", i["title"]), ("number", i["lost"]), ("int", i["units"])]
            row += [("number", None), ("number", None)]
            rows.append(row)
        total: Row = [("text", d["department"]), ("text", d["name"]), ("text", "合计")]
        total += [("text", ""), ("number", d["lost"]), ("int", d["units"])]
        total += [("number", joint.get("received")), ("number", joint.get("before_cap"))]
        rows.append(total)
    return head, rows


def _items(doc: Mapping[str, Any]) -> tuple[list[tuple[str, str]], list[Row]]:
    """Per-fact deductions and bonus or penalty items by kind and level."""
    head = [("类别", "kind"), ("规则", "ref"), ("名称", "title"), ("级别", "level")]
    head += [("项数", "count"), ("合计", "total")]
    rows: list[Row] = []
    for g in doc["items"]:
        row: Row = [("text", ITEM_KINDS.get(g["kind"], g["kind"])), ("text", g["ref"])]
        row += [("text", g.get("title")), ("text", g.get("level"))]
        row += [("int", g["count"]), ("number", g["total"])]
        rows.append(row)
    return head, rows
