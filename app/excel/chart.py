"""The chart sheet of a results workbook: each scorecard's finals by rank, coloured by band,
beside a table of each band's head count, highest and lowest final."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from xlsxwriter.utility import xl_rowcol_to_cell
from xlsxwriter.workbook import Workbook

from app.excel.styles import BAND_MARKS, Formats, band_colours, print_setup
from app.excel.titles import Titles

CHART_ROWS = 22  # rows a chart takes on the sheet


def chart_sheet(
    wb: Workbook,
    by_card: Mapping[str, Sequence[Mapping[str, Any]]],
    titles: Titles,
    fmt: Formats,
    name: str,
) -> None:
    """One block per scorecard: the band table on the left, the scatter chart beside it."""
    ws = wb.add_worksheet(name)
    data_name = f"{name}数据"[:31]
    data = wb.add_worksheet(data_name)  # the points each series plots, hidden
    data.hide()
    print_setup(ws)
    ws.set_column(0, 0, 14)
    ws.set_column(1, 3, 10)
    data_col = 0
    top = 0
    for card, rows in by_card.items():
        groups = _by_band(rows)
        if not groups:  # nobody has a final (a pool's shares, say): nothing to plot
            continue
        colours = band_colours(rows)
        ws.write_string(top, 0, f"{titles.scorecards.get(card, card)}：最终得分与排名", fmt.title)
        ws.write_row(top + 1, 0, ["段/等次", "人数", "最高", "最低"], fmt.header)
        chart = wb.add_chart({"type": "scatter"})
        assert chart is not None
        for k, (ident, points) in enumerate(groups):
            band = titles.band_title(card, ident) if ident else "未分段"
            mark = BAND_MARKS[colours.get(ident, 4) if ident else 4]
            finals = [f for _, f in points]
            r = top + 2 + k
            ws.write_string(r, 0, band, fmt.plain)
            ws.write_number(r, 1, len(points), fmt.integer)
            ws.write_number(r, 2, float(max(finals)), fmt.number)
            ws.write_number(r, 3, float(min(finals)), fmt.number)
            data.write_row(0, data_col, [f"{band} 排名", f"{band} 得分"], fmt.ident)
            for i, (rank, final) in enumerate(points, 1):
                data.write_number(i, data_col, rank, fmt.integer)
                data.write_number(i, data_col + 1, float(final), fmt.number)
            last = len(points)
            chart.add_series(
                {
                    "name": band,
                    "categories": [data_name, 1, data_col, last, data_col],
                    "values": [data_name, 1, data_col + 1, last, data_col + 1],
                    "marker": {
                        "type": "circle",
                        "size": 5,
                        "fill": {"color": mark},
                        "border": {"color": mark},
                    },
                }
            )
            data_col += 2
        chart.set_title({"name": f"{titles.scorecards.get(card, card)} 最终得分（按排名）"})
        n = max((rank for _, p in groups for rank, _ in p), default=1)
        chart.set_x_axis(
            {"name": "排名", "min": 0, "num_format": "0", "major_unit": max(1, n // 10)}
        )
        chart.set_y_axis({"name": "最终得分", "num_format": fmt_code(titles.places)})
        chart.set_legend({"position": "bottom"})
        chart.set_size({"width": 720, "height": 400})
        ws.insert_chart(xl_rowcol_to_cell(top + 1, 5), chart)
        top += max(CHART_ROWS, len(groups) + 4)


def fmt_code(places: int) -> str:
    """The axis number format for the ruleset's decimals."""
    return "0" if places <= 0 else "0." + "0" * places


def _by_band(rows: Sequence[Mapping[str, Any]]) -> list[tuple[str, list[tuple[int, Decimal]]]]:
    """(band, [(rank, final)]) by the best rank in each band ("" for no band)."""
    groups: dict[str, list[tuple[int, Decimal]]] = {}
    for i, r in enumerate(rows, 1):
        if r.get("final") is None:
            continue
        band = r.get("tier") or r.get("grade") or ""
        groups.setdefault(band, []).append((int(r.get("rank") or i), Decimal(str(r["final"]))))
    return sorted(groups.items(), key=lambda kv: min(rank for rank, _ in kv[1]))
