"""Sheets of facts → the raw fact records the JSON path validates, and problems at their cells.

Each sheet holds one fact type, named by the type's id or title; or a sheet (a CSV file) with a
`type` (类型) column holds several. Its header is the first row (within the first ten) naming
the subject column; a second such row just below it (the template's ids beneath the titles)
is a header too. Every other non-empty row is a fact. A row without an id gets one made from
the fact type (or the sheet), the year and the row, so the same workbook imports twice as once.

Cells are read here (titles to ids, dates, numbers, names to ids); everything else is left
to the one fact validator, whose problems `Parsed.locate` puts back at their cells.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from xlsxwriter.utility import xl_col_to_name

from app.excel.cells import CellError, day, is_empty, period, read_cell, text_of
from app.excel.columns import ALIASES, FactSheet, Vocabulary, header_names
from app.excel.header import find_header
from app.excel.reader import Sheet
from dsl.facts.records import FactProblem

# Sheets of the template that hold no facts.
AUX_SHEETS = frozenset({"填写说明", "选项", "对象名单"})
_LINE = re.compile(r"\bline (\d+)")


@dataclass(frozen=True)
class CellProblem(FactProblem):
    """A problem at a cell (`检查问题!C7`) or a row (`检查问题!7`); `line` is the row."""

    sheet: str = ""
    col: int | None = None

    @property
    def cell(self) -> str:
        """`sheet!C7`, or `sheet!7` for a whole row."""
        col = "" if self.col is None else xl_col_to_name(self.col)
        return f"{self.sheet}!{col}{self.line}"

    def __str__(self) -> str:
        return f"{self.cell}: {self.field}: {self.message}"


@dataclass(frozen=True)
class RowRef:
    """Where a record came from: its sheet, its row (1-based) and its columns by key."""

    sheet: str
    row: int
    cells: dict[str, int]


@dataclass
class Parsed:
    """The records of a workbook (line = position in `refs`, from 1) and its problems."""

    source: str
    records: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    refs: list[RowRef] = field(default_factory=list)
    problems: list[CellProblem] = field(default_factory=list)
    sheets: dict[str, int] = field(default_factory=dict)  # sheet name → its place
    bad_sheets: set[str] = field(default_factory=set)  # sheets whose header has a problem
    # (record, key) already reported here; the validator's word on them is not repeated.
    reported: set[tuple[int, str]] = field(default_factory=set)

    def bad(
        self,
        at: tuple[str, int, int | None],
        key: str,
        message: str,
        record: int = 0,
        ident: str = "-",
    ) -> None:
        """Adds a problem found while reading, at (sheet, row, column or None)."""
        sheet, row, col = at
        self.problems.append(CellProblem(self.source, row, ident, key, message, sheet, col))
        if record:
            self.reported.add((record, key))

    def clean(self) -> list[tuple[int, dict[str, Any]]]:
        """The records nothing was found wrong with while reading (to import the valid rest)."""
        bad = {line for line, _ in self.reported}
        sheet_of = {i: ref.sheet for i, ref in enumerate(self.refs, 1)}
        return [
            (line, raw)
            for line, raw in self.records
            if line not in bad and sheet_of[line] not in self.bad_sheets
        ]

    def locate(self, problems: Iterable[FactProblem], first: int = 1) -> list[CellProblem]:
        """The validator's problems at their cells, without those already reported, in sheet,
        row and column order. `first` is the line number of the first record (0 or 1)."""
        out: list[CellProblem] = []
        for p in problems:
            if isinstance(p, CellProblem):
                out.append(p)
                continue
            line = p.line - first + 1
            key = p.field[5:] if p.field.startswith("data.") else p.field
            if (line, key) in self.reported:
                continue
            if not 0 < line <= len(self.refs):
                out.append(CellProblem(p.source, 0, p.ident, key, p.message, p.source))
                continue
            ref = self.refs[line - 1]
            message = _LINE.sub(lambda m: self._row_of(int(m[1]) - first + 1), p.message)
            col = ref.cells.get(key)
            out.append(CellProblem(self.source, ref.row, p.ident, key, message, ref.sheet, col))
        return sorted(out, key=lambda p: (self.sheets.get(p.sheet, -1), p.line, p.col or -1))

    def _row_of(self, line: int) -> str:
        if 0 < line <= len(self.refs):
            ref = self.refs[line - 1]
            return f"row {ref.row} of {ref.sheet}"
        return f"line {line}"

    def all_problems(self, validated: Iterable[FactProblem] = ()) -> list[CellProblem]:
        """Reading's and the validator's problems, in sheet, row and column order."""
        return self.locate([*self.problems, *validated])

    def details(self, problems: Iterable[FactProblem], first: int = 0) -> list[dict[str, Any]]:
        """Problems in the API's error shape, each at its cell (`督察发现问题!C4`)."""
        located = self.locate([*self.problems, *problems], first)
        return [{"field": p.cell, "message": p.message, "id": p.ident} for p in located]


def parse_sheets(sheets: Sequence[Sheet], vocab: Vocabulary, source: str) -> Parsed:
    """Every fact of every sheet as a raw record, with what could not be read."""
    out = Parsed(source)
    fact_sheets = vocab.sheets()
    by_name: dict[str, FactSheet] = {}
    for fs in fact_sheets:
        for name in (fs.decl.id, fs.decl.title, fs.name):
            if name:
                by_name.setdefault(name.casefold(), fs)
    by_type = {fs.decl.id: fs for fs in fact_sheets}
    for place, sheet in enumerate(sheets):
        out.sheets[sheet.name] = place
        if sheet.name in AUX_SHEETS:
            continue
        _SheetReader(out, sheet, by_name.get(sheet.name.strip().casefold()), by_type).read()
    return out


class _SheetReader:
    """Reads one sheet into `Parsed`."""

    def __init__(
        self, out: Parsed, sheet: Sheet, fs: FactSheet | None, by_type: dict[str, FactSheet]
    ) -> None:
        self.out, self.sheet, self.fs, self.by_type = out, sheet, fs, by_type
        self.names = header_names(fs, list(by_type.values()))
        self.type_names: dict[str, FactSheet] = {}
        for t in by_type.values():
            for name in (t.decl.id, t.decl.title):
                if name:
                    self.type_names.setdefault(name, t)

    def read(self) -> None:
        """Finds the header, checks it, and reads every row below it."""
        rows = self.sheet.rows
        found = find_header(rows, self.names, "subject")
        if found is None:
            if any(not is_empty(v) for row in rows for v in row):
                self._no_header() if self.fs is not None else self._unknown_sheet()
            return
        last, columns = found.last, found.columns
        if self.fs is None and "type" not in columns.values():
            self._unknown_sheet()
            return
        for at_row, col, key, message in found.problems:
            extra = f"; {self._known()}" if key == "-" else ""
            self.out.bad((self.sheet.name, at_row, col), key, message + extra)
            self.out.bad_sheets.add(self.sheet.name)
        missing = self._missing_columns(columns, last + 1)
        cells = {k: j for j, k in columns.items()}  # shared by the rows' references
        for i in range(last + 1, len(rows)):
            row = rows[i]
            if all(v == "" or is_empty(v) for v in row):
                continue
            self._row(i + 1, row, cells, missing)

    def _known(self) -> str:
        if self.fs is None:
            return "the columns are id, type, subject, date or period, the fields, evidence"
        shown = [f"{c.title} ({c.name})" if c.title != c.name else c.name for c in self.fs.columns]
        return "the columns are " + ", ".join(shown)

    def _missing_columns(self, columns: dict[int, str], header_row: int) -> set[str]:
        """Keys every row needs that no column holds (reported once, at the header)."""
        fs = self.fs
        need = {"subject"} if fs is None else {c.name for c in fs.columns if c.required}
        missing = need - set(columns.values())
        for key in sorted(missing):
            col = self.fs.column(key) if self.fs is not None else None
            title = f"{col.title} ({key})" if col is not None and col.title != key else key
            at = (self.sheet.name, header_row, None)
            self.out.bad(at, key, f"no column for {title}, which every row needs")
        return missing

    def _no_header(self) -> None:
        what = self._subject_title()
        at = (self.sheet.name, 1, 0)
        self.out.bad(at, "-", f"no header row naming the {what} column in the first rows")

    def _subject_title(self) -> str:
        assert self.fs is not None
        col = self.fs.column("subject")
        return f"subject ({col.title})" if col is not None else "subject"

    def _unknown_sheet(self) -> None:
        types = ", ".join(sorted(self.by_type))
        at = (self.sheet.name, 1, 0)
        msg = (
            f"no fact type is named {self.sheet.name!r} and no type (类型) column says one: "
            f"name the sheet after a fact type ({types}), or remove the sheet"
        )
        self.out.bad(at, "-", msg)

    def _row(self, number: int, row: list[Any], cells: dict[str, int], missing: set[str]) -> None:
        """One row as a raw record (or a problem when its type cannot be told)."""
        line = len(self.out.refs) + 1
        ref = RowRef(self.sheet.name, number, cells)
        fs = self._row_type(row, ref)
        if fs is None:
            return
        raw: dict[str, Any] = {"type": fs.decl.id}
        data: dict[str, Any] = {}
        width = len(row)
        by_name = fs.by_name
        for key, j in cells.items():
            v = row[j] if j < width else ""
            if v == "" or key == "type" or (type(v) is str and not v.strip()) or v is None:
                continue
            col = by_name.get(key)
            if col is None:
                msg = f"{fs.decl.id} has no field '{key}'"
                self.out.bad(_at(ref, key), key, msg, line)
                continue
            try:
                value = read_cell(col, v)
            except CellError as e:
                self.out.bad(_at(ref, key), key, str(e), line)
                value = text_of(v)
            (data if col.data else raw)[key] = value
        raw["data"] = data
        if "id" not in raw:
            raw["id"] = self._made_id(fs, raw, number)
        for key in missing:
            self.out.reported.add((line, key))
        self.out.refs.append(ref)
        self.out.records.append((line, raw))

    def _row_type(self, row: list[Any], ref: RowRef) -> FactSheet | None:
        j = ref.cells.get("type")
        cell = row[j] if j is not None and j < len(row) else ""
        if is_empty(cell):
            if self.fs is None:
                self.out.bad(_at(ref, "type"), "type", "no fact type given")
            return self.fs
        text = text_of(cell)
        got = self.type_names.get(text)
        if got is None or (self.fs is not None and got is not self.fs):
            want = self.fs.decl.id if self.fs is not None else "one of " + ", ".join(self.by_type)
            self.out.bad(_at(ref, "type"), "type", f"{text!r} is not {want}")
            return None
        return got

    def _made_id(self, fs: FactSheet, raw: dict[str, Any], row: int) -> str:
        """`inspection_issue-2025-r7`: the type (or the sheet), the year, the row."""
        key = fs.decl.id if self.fs is not None else self.sheet.name
        when = raw.get("date") or raw.get("period")
        year = when[:4] if isinstance(when, str) and when[:4].isdigit() else None
        return f"{key}-{year}-r{row}" if year else f"{key}-r{row}"


def _at(ref: RowRef, key: str) -> tuple[str, int, int | None]:
    return ref.sheet, ref.row, ref.cells.get(key)


_WHEN = {"date": "date", "日期": "date", "period": "period", "期间": "period", "subject": "subject"}


def first_year(sheets: Sequence[Sheet]) -> int | None:
    """The year of the first date or period in a workbook (to choose the ruleset by)."""
    names = {**ALIASES, **_WHEN}
    for sheet in sheets:
        header = find_header(sheet.rows, names, "subject")
        if header is None:
            continue
        cols = [(j, k) for j, k in header.columns.items() if k in ("date", "period")]
        for row in sheet.rows[header.last + 1 :]:
            for j, key in cols:
                v = row[j] if j < len(row) else ""
                if is_empty(v):
                    continue
                try:
                    return int((day(v) if key == "date" else period(v))[:4])
                except CellError:
                    continue
    return None
