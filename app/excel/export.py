"""Results as a workbook people read: a sheet per scorecard, explanations, a chart by tier.

Built from the published JSON (`results_json`, `explain_json`): every number is the published
value, stored as a number with the ruleset's decimals (`0.00`) so that Excel shows exactly
what was published. Each scorecard's sheet has a row per subject with its name, final, rank,
tier or grade and a column per part and indicator, under a frozen two-row header (titles,
then ids) with filters; the final and band cells are coloured by band.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from app.excel.cells import period_title
from app.excel.chart import chart_sheet
from app.excel.styles import Formats, band_colours, column_width, new_workbook, print_setup
from app.excel.titles import BAND_WORDS, Titles
from dsl.compile.runtime import round_to

HEADER_ROWS = 2
_MONEY_KEYS = ("base", "bonus", "penalty", "joint")
_MONEY_TITLES = {"base": "基础分", "bonus": "加分", "penalty": "减分", "joint": "连带扣分"}


@dataclass(frozen=True)
class Col:
    """A column of a results sheet: its title, id, and how a row's cell is read."""

    title: str
    ident: str
    kind: str  # "text", "number", "int", "band"
    get: Any  # (result row) → value

    def value(self, row: Mapping[str, Any]) -> Any:
        """The cell value of a result row."""
        return self.get(row)


def results_workbook(
    doc: Mapping[str, Any],
    titles: Titles,
    explain: Sequence[Mapping[str, Any]] = (),
    only: str | None = None,
) -> bytes:
    """The xlsx bytes of a period's results (`only`: one scorecard, as a ranking)."""
    buf = io.BytesIO()
    period = str(doc["period"])
    wb = new_workbook(buf, f"{doc['ruleset']['name']} · {period_title(period)} · 考评结果")
    fmt = Formats(wb, titles.places)
    by_card: dict[str, list[Mapping[str, Any]]] = {}
    for r in doc["results"]:
        if only is None or r["scorecard"] == only:
            by_card.setdefault(r["scorecard"], []).append(r)
    used: set[str] = set()
    for card, rows in by_card.items():
        ranked = sorted(rows, key=lambda r: (r.get("rank") is None, r.get("rank") or 0))
        name = unique_sheet_name(titles.scorecards.get(card, card), used)
        scorecard_sheet(wb.add_worksheet(name), card, ranked, titles, fmt)
    for ex in explain:
        explanation_sheet(wb, ex, titles, fmt, used)
    if by_card:
        chart_sheet(wb, by_card, titles, fmt, unique_sheet_name("图表", used))
    about_sheet(wb.add_worksheet(unique_sheet_name("说明", used)), doc, fmt)
    wb.close()
    return buf.getvalue()


def unique_sheet_name(name: str, used: set[str]) -> str:
    """A sheet name of at most 31 characters not used yet in the workbook."""
    base = "".join("_" if ch in "[]:*?/\\" else ch for ch in name)[:31] or "sheet"
    got, i = base, 1
    while got.casefold() in used:
        i += 1
        got = f"{base[: 31 - len(str(i)) - 1]}_{i}"
    used.add(got.casefold())
    return got


def columns(card: str, rows: Sequence[Mapping[str, Any]], titles: Titles) -> list[Col]:
    """The columns of a scorecard's sheet, for what its results hold."""
    cols = [
        Col("排名", "rank", "int", lambda r: r.get("rank")),
        Col("编号", "subject", "text", lambda r: r["subject"]),
        Col("名称", "name", "text", lambda r: titles.name(r["subject"])),
    ]
    if any(r["subject"] in titles.units for r in rows):
        cols.append(Col("所属单位", "unit", "text", lambda r: titles.units.get(r["subject"], "")))
    if any(r.get("final") is not None for r in rows) or not rows:
        cols.append(Col("最终得分", "final", "number", lambda r: r.get("final")))
    for key in ("tier", "grade"):
        if any(r.get(key) for r in rows):
            cols.append(Col(BAND_WORDS[key], key, "band", _band(card, key, titles)))
    first = rows[0] if rows else {}
    if "quarters" in first:
        for q in range(max(len(r.get("quarters") or []) for r in rows)):
            cols.append(Col(f"第{q + 1}季度", f"Q{q + 1}", "number", _quarter(q)))
    cols += [
        Col(_MONEY_TITLES[k], k, "number", _key(k))
        for k in _MONEY_KEYS
        if any(r.get(k) is not None for r in rows)
    ]
    for group in ("categories", "components"):
        for part in first.get(group) or {}:
            title = titles.parts.get(f"{card}.{part}", part)
            cols.append(Col(title, part, "number", _sub(group, part)))
    for ind in first.get("indicators") or {}:
        title = f"{ind} {titles.indicators.get(ind, '')}".strip()
        cols.append(Col(title, ind, "number", _sub("indicators", ind)))
    if "missing" in first:
        cols.append(Col("缺项", "missing", "text", lambda r: "、".join(r.get("missing") or [])))
    return cols + _other_columns(rows)


_SHOWN = {"subject", "scorecard", "final", "rank", "tier", "grade", "quarters", "missing"}
_SHOWN |= {*_MONEY_KEYS, "categories", "components", "indicators", "trace"}
# Titles of the other values a result may carry (a 2026 bonus pool's, say); else the key.
OTHER_TITLES = {
    "bonus_amount": "奖金",
    "group": "分组",
    "head_count": "人数",
    "excellent_quota": "优秀名额",
    "per_head": "人均",
    "tier_coefficient": "段系数",
    "amount": "金额",
    "allocated": "已分配",
}
_DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")


def _other_columns(rows: Sequence[Mapping[str, Any]]) -> list[Col]:
    """A column for each other plain value the results carry, in the order first met."""
    keys: dict[str, str] = {}
    for r in rows:
        for k, v in r.items():
            if k in _SHOWN or isinstance(v, dict | list) or v is None:
                continue
            kind = "int" if isinstance(v, int) and not isinstance(v, bool) else "text"
            if isinstance(v, str) and _DECIMAL.match(v):
                kind = "number"
            keys.setdefault(k, kind)
    return [Col(OTHER_TITLES.get(k, k), k, kind, _key(k)) for k, kind in keys.items()]


def _band(card: str, key: str, titles: Titles) -> Any:
    return lambda r: titles.band_title(card, r.get(key))


def _quarter(q: int) -> Any:
    return lambda r: (
        (r.get("quarters") or [None] * (q + 1))[q] if q < len(r.get("quarters") or []) else None
    )


def _key(k: str) -> Any:
    return lambda r: r.get(k)


def _sub(group: str, k: str) -> Any:
    return lambda r: (r.get(group) or {}).get(k)


def scorecard_sheet(
    ws: Worksheet, card: str, rows: Sequence[Mapping[str, Any]], titles: Titles, fmt: Formats
) -> None:
    """One scorecard's results: a row per subject, by rank."""
    cols = columns(card, rows, titles)
    write_header(ws, [(c.title, c.ident) for c in cols], fmt)
    colours = band_colours(rows)
    for i, r in enumerate(rows, HEADER_ROWS):
        band = r.get("tier") or r.get("grade")
        band_fmt = fmt.band(band, colours[band]) if band else None
        for j, c in enumerate(cols):
            v = c.value(r)
            coloured = band_fmt if c.ident in ("final", "tier", "grade") else None
            write_value(ws, i, j, c.kind, v, fmt, coloured)
    for j, c in enumerate(cols):
        sample = [str(c.value(r) or "") for r in rows[:200]]
        # A number's header wraps (two lines fit): its width follows its values.
        texts = (c.ident, *sample) if c.kind == "number" else (c.title, c.ident, *sample)
        ws.set_column(j, j, column_width(*texts, least=9, most=30))
    ws.freeze_panes(HEADER_ROWS, 3)
    ws.autofilter(1, 0, 1 + len(rows), len(cols) - 1)
    print_setup(ws, HEADER_ROWS)


def write_header(ws: Worksheet, head: Sequence[tuple[str, str]], fmt: Formats) -> None:
    """Titles in row 1, ids beneath in row 2."""
    ws.set_row(0, 30)
    for j, (title, ident) in enumerate(head):
        ws.write_string(0, j, title, fmt.header)
        ws.write_string(1, j, ident, fmt.ident)


def write_value(
    ws: Worksheet, i: int, j: int, kind: str, v: Any, fmt: Formats, fill: Any = None
) -> None:
    """A cell: published decimals as numbers shown with the ruleset's decimals."""
    if v is None or v == "":
        if fill is not None:
            ws.write_blank(i, j, None, fill)
        return
    if kind == "number":
        ws.write_number(i, j, float(Decimal(str(v))), fill or fmt.number)
    elif kind == "int":
        ws.write_number(i, j, int(v), fmt.integer)
    else:
        ws.write_string(i, j, str(v), fill or fmt.plain)


def explanation_sheet(
    wb: Workbook, ex: Mapping[str, Any], titles: Titles, fmt: Formats, used: set[str]
) -> None:
    """A subject's explanation: each result's trace, line by line, with rules and facts."""
    subject = str(ex["subject"])
    ws = wb.add_worksheet(unique_sheet_name(f"说明-{titles.name(subject)}", used))
    ws.write_string(
        0, 0, f"{titles.name(subject)}（{subject}）· {period_title(str(ex['period']))}", fmt.title
    )
    head = [
        ("项目", "what"),
        ("值", "value"),
        ("精确值", "exact"),
        ("规则", "where"),
        ("事实", "facts"),
        ("备注", "note"),
    ]
    row = 2
    for r in ex["results"]:
        card = r["scorecard"]
        band = titles.band_title(card, r.get("tier") or r.get("grade"))
        line = f"{titles.scorecards.get(card, card)}：最终得分 {r.get('final')}"
        line += (f"，第 {r['rank']} 名" if r.get("rank") else "") + (f"，{band}" if band else "")
        ws.write_string(row, 0, line, fmt.plain)
        row += 1
        for j, (title, ident) in enumerate(head):
            ws.write_string(row, j, title, fmt.header)
            ws.write_string(row + 1, j, ident, fmt.ident)
        row += 2
        for t in r.get("trace") or []:
            exact = t.get("value")
            ws.write_string(row, 0, str(t.get("what", "")), fmt.plain)
            is_int = isinstance(exact, int) or (isinstance(exact, str) and exact.isdigit())
            value = _decimal(exact)
            shown = round_to(value, titles.places, titles.mode) if value is not None else None
            write_value(ws, row, 1, "int" if is_int else "number", shown, fmt)
            write_value(ws, row, 2, "text", exact, fmt)
            ws.write_string(row, 3, str(t.get("where") or ""), fmt.plain)
            ws.write_string(row, 4, ", ".join(t.get("facts") or []), fmt.plain)
            ws.write_string(row, 5, str(t.get("note") or ""), fmt.plain)
            row += 1
        row += 1
    for j, w in enumerate((48, 12, 14, 28, 28, 40)):
        ws.set_column(j, j, w)
    print_setup(ws)


def _decimal(v: Any) -> Decimal | Fraction | None:
    """An exact trace value (`86.925`, `51/2`) as a number, or None for text."""
    if v is None:
        return None
    text = str(v)
    try:
        return Fraction(text) if "/" in text else Decimal(text)
    except (ArithmeticError, ValueError):
        return None


def about_sheet(ws: Worksheet, doc: Mapping[str, Any], fmt: Formats) -> None:
    """Where the numbers come from: the ruleset, its digest, the period, the facts read."""
    rs = doc["ruleset"]
    rows = [
        ("规则集", str(rs.get("name") or "")),
        ("年度", str(rs.get("year") or "")),
        ("规则集摘要", str(rs.get("digest") or "")),
        ("期间", f"{doc['period']}（{period_title(str(doc['period']))}）"),
    ]
    mark = doc.get("watermark")
    if isinstance(mark, Mapping):
        rows.append(("事实水位", str(mark.get("token", ""))))
    rows.append(("数值", "按规则集公布的小数位数保存为数值，显示即公布值"))
    for i, (k, v) in enumerate(rows):
        ws.write_string(i, 0, k, fmt.header)
        ws.write_string(i, 1, v, fmt.plain)
    ws.set_column(0, 0, 14)
    ws.set_column(1, 1, 70)
