"""The look shared by the workbooks Jixiao writes: headers, numbers, dates, tier colours."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

# Fixed document dates keep the bytes of a workbook the same for the same input.
CREATED = datetime(2025, 1, 1)
FONT = "等线"  # Excel's default CJK font on Windows; others substitute their own
HEADER_FILL = "#DDEBF7"
REQUIRED_FILL = "#9BC2E6"
# Bands from the best ranked: green, then yellow, blue, orange, grey; the worst ranked red.
BAND_FILLS = ("#C6EFCE", "#FFEB9C", "#DDEBF7", "#FCE4D6", "#D9D9D9", "#FFC7CE")
BAND_MARKS = ("#2E7D32", "#B8860B", "#1F4E79", "#C55A11", "#595959", "#C62828")


def new_workbook(target: Any, title: str) -> xlsxwriter.Workbook:
    """A workbook writing to a path or a binary stream, with its title and fixed dates."""
    wb = xlsxwriter.Workbook(target, {"in_memory": True, "strings_to_numbers": False})
    wb.set_properties({"title": title, "author": "Jixiao", "created": CREATED})
    wb.formats[0].set_font_name(FONT)
    return wb


class Formats:
    """The formats of one workbook, made once."""

    def __init__(self, wb: xlsxwriter.Workbook, places: int = 2) -> None:
        base = {"font_name": FONT, "valign": "vcenter"}
        head = {**base, "bold": True, "border": 1, "text_wrap": True, "align": "center"}
        self.header = wb.add_format({**head, "bg_color": HEADER_FILL})
        self.required = wb.add_format({**head, "bg_color": REQUIRED_FILL})
        self.ident = wb.add_format(
            {**base, "font_color": "#595959", "font_size": 9, "align": "center", "border": 1}
        )
        self.text = wb.add_format({**base, "num_format": "@"})
        self.plain = wb.add_format(base)
        self.wrap = wb.add_format({**base, "text_wrap": True, "valign": "top"})
        self.date = wb.add_format({**base, "num_format": "yyyy-mm-dd"})
        self.title = wb.add_format({**base, "bold": True, "font_size": 14})
        self.note = wb.add_format({**base, "font_color": "#595959"})
        self.number = wb.add_format({**base, "num_format": number_format(places)})
        self.integer = wb.add_format({**base, "num_format": "0"})
        self.bands: dict[str, Format] = {}
        self._wb, self._places = wb, places

    def band(self, name: str, order: int, bold: bool = False) -> Format:
        """The fill of a tier or grade (the n-th declared), for a number or a text cell."""
        key = f"{name}:{bold}"
        if key not in self.bands:
            fill = BAND_FILLS[order % len(BAND_FILLS)]
            fmt = {"font_name": FONT, "bg_color": fill, "num_format": number_format(self._places)}
            self.bands[key] = self._wb.add_format({**fmt, "bold": bold})
        return self.bands[key]


def number_format(places: int) -> str:
    """`0.00` for two places: shows the published value exactly, never 86.929999."""
    return "0" if places <= 0 else "0." + "0" * places


def width(text: str) -> int:
    """Display width of a text: CJK characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def column_width(*texts: str, least: int = 8, most: int = 60) -> int:
    """A column width that fits its texts."""
    return max(least, min(most, max((width(t) for t in texts), default=0) + 2))


def print_setup(ws: Worksheet, header_rows: int = 0) -> None:
    """A4 landscape, one page wide, the header repeated on every page."""
    ws.set_paper(9)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    if header_rows:
        ws.repeat_rows(0, header_rows - 1)


def band_colours(rows: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Each band's colour (a place in `BAND_FILLS`): the band of the best ranked green, the
    band of the worst red, those between yellow and on; a band alone is blue (neither)."""
    best: dict[str, int] = {}
    for i, r in enumerate(rows):
        band = r.get("tier") or r.get("grade")
        if band is not None:
            best.setdefault(band, int(r.get("rank") or i + 1))
    order = sorted(best, key=lambda b: best[b])
    out = {b: 0 if k == 0 else 1 + (k - 1) % (len(BAND_FILLS) - 2) for k, b in enumerate(order)}
    if len(order) > 1:
        out[order[-1]] = len(BAND_FILLS) - 1
    elif order:
        out[order[0]] = 2
    return out
