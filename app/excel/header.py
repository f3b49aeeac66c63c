"""Finding a sheet's header: the row naming its anchor column (and a row of ids beneath)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from xlsxwriter.utility import xl_col_to_name

from app.excel.cells import is_empty, text_of

HEADER_SCAN = 10  # the header is looked for in the first rows only


@dataclass
class Header:
    """Where the header ends, each column's key, and header cells that name nothing."""

    last: int  # 0-based index of the last header row
    columns: dict[int, str] = field(default_factory=dict)
    # (row 1-based, column, key or "-", message)
    problems: list[tuple[int, int, str, str]] = field(default_factory=list)


def find_header(rows: list[list[Any]], names: Mapping[str, str], anchor: str) -> Header | None:
    """The header: the first row with a cell naming `anchor`, and the next if it does too
    (the template's ids beneath the titles). A column's key comes from its lowest header
    cell that names one; None when no row of the first ones names the anchor."""

    def names_anchor(row: list[Any]) -> bool:
        return any(names.get(text_of(v)) == anchor for v in row if not is_empty(v))

    for i, row in enumerate(rows[:HEADER_SCAN]):
        if names_anchor(row):
            last = i + 1 if i + 1 < len(rows) and names_anchor(rows[i + 1]) else i
            return _columns(rows[i : last + 1], i, names)
    return None


def _columns(header: list[list[Any]], first: int, names: Mapping[str, str]) -> Header:
    out = Header(first + len(header) - 1)
    where: dict[str, int] = {}
    for j in range(max(len(r) for r in header)):
        cells = [(first + k, r[j]) for k, r in enumerate(header) if j < len(r)]
        texts = [(i, text_of(v)) for i, v in cells if not is_empty(v)]
        keys = [names[t] for _, t in texts if t in names]
        if not texts:
            continue
        if not keys:
            i, text = texts[-1]
            out.problems.append((i + 1, j, "-", f"unknown column {text!r}"))
            continue
        key = keys[-1]
        if key in where:
            msg = f"a second column for {key} (the first is {xl_col_to_name(where[key])})"
            out.problems.append((out.last + 1, j, key, msg))
            continue
        where[key] = j
        out.columns[j] = key
    return out
