"""The columns of a fact sheet: one definition that templates write and imports read.

A sheet holds the facts of one type: `id` (编号), `subject` (对象), `date` (日期) or `period`
(期间), the type's fields, then `evidence` (证据) and `supersedes` (更正的编号). Each column has
a Chinese title (a field's declared title, else its id) written above its id; an import finds
a column by either, in any order.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from app.excel.choices import (
    Choices,
    enum_choices,
    indicator_choices,
    period_choices,
    subject_choices,
)
from dsl.compile.ir import CompiledRuleset
from dsl.facts.records import Org
from dsl.facts.validate import FactSchema
from dsl.syntax import nodes as n

# Other headers an import accepts for the columns every fact has.
ALIASES: dict[str, str] = {
    "编号": "id",
    "类型": "type",
    "事实类型": "type",
    "对象": "subject",
    "单位": "subject",
    "人员": "subject",
    "考核对象": "subject",
    "日期": "date",
    "期间": "period",
    "所属期": "period",
    "考核期": "period",
    "证据": "evidence",
    "依据": "evidence",
    "更正的编号": "supersedes",
    "更正": "supersedes",
}
_SUBJECT_TITLE: dict[tuple[str, ...], str] = {("unit",): "单位", ("person",): "人员"}
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


@dataclass(frozen=True)
class Column:
    """One column of a fact sheet: the key it fills, its header, and what a cell takes."""

    name: str  # id, type, subject, date, period, evidence, supersedes, or a field of `data`
    title: str
    kind: str  # text, subject, date, period, number, integer, enum, person, unit, indicator
    required: bool
    data: bool
    ftype: n.FieldType | None = None
    choices: Choices | None = None
    hint: str = ""


@dataclass(frozen=True)
class FactSheet:
    """The sheet of one fact type: its name in a workbook and its columns, in order."""

    decl: n.FactDecl
    name: str
    columns: tuple[Column, ...]

    @cached_property
    def by_name(self) -> dict[str, Column]:
        """The columns by the key they fill."""
        return {c.name: c for c in self.columns}

    def column(self, name: str) -> Column | None:
        """The column filling `name`, if the sheet has one."""
        return self.by_name.get(name)


def field_title(fd: n.FieldDecl) -> str:
    """A field's declared title, else its id."""
    return fd.title or fd.name


def sheet_name(decl: n.FactDecl) -> str:
    """The sheet of a fact type: its title where it has one (Excel allows 31 characters)."""
    text = _BAD_SHEET_CHARS.sub("_", decl.title or decl.id).strip("'")
    return text[:31] or decl.id[:31]


@dataclass(frozen=True)
class Vocabulary:
    """What the columns of a ruleset's fact sheets offer: its year, indicators, organisation."""

    schema: FactSchema
    year: int | None = None
    period_kinds: tuple[str, ...] = ("quarter", "year")
    indicators: Mapping[str, str | None] | None = None
    org: Org | None = None
    _subjects: dict[tuple[str, ...], Choices] = field(default_factory=dict, repr=False)

    def sheets(self) -> list[FactSheet]:
        """A sheet per fact type, in declaration order, with unique names."""
        out: list[FactSheet] = []
        taken: set[str] = set()
        for decl in self.schema.types.values():
            name = sheet_name(decl)
            if name.casefold() in taken:
                name = f"{name[: 30 - len(decl.id)]}_{decl.id}"[:31]
            taken.add(name.casefold())
            out.append(FactSheet(decl, name, tuple(self.columns(decl))))
        return out

    def subjects(self, kinds: tuple[str, ...]) -> Choices | None:
        """The organisation's units and/or persons as choices (made once per kinds)."""
        if self.org is None:
            return None
        if kinds not in self._subjects:
            self._subjects[kinds] = subject_choices(self.org, kinds)
        return self._subjects[kinds]

    def columns(self, decl: n.FactDecl) -> list[Column]:
        """The columns of one fact type's sheet, in template order."""
        subject = _SUBJECT_TITLE.get(tuple(decl.subjects), "对象")
        who = self.subjects(tuple(decl.subjects))
        cols = [
            Column("id", "编号", "text", False, False, hint="可空：空时按表名和行号生成"),
            Column("subject", subject, "subject", True, False, choices=who, hint=_who(decl)),
        ]
        if decl.kind == "dated":
            cols.append(Column("date", "日期", "date", True, False, hint="日期，如 2025-02-14"))
        else:
            periods = period_choices(self.year, self.period_kinds) if self.year else None
            hint = f"期间，如 {self.year or 2025}Q1（季度）或 {self.year or 2025}（年度）"
            cols.append(Column("period", "期间", "period", True, False, choices=periods, hint=hint))
        cols += [self.field_column(fd) for fd in decl.fields]
        cols += [
            Column("evidence", "证据", "text", False, False, hint="文号或依据，可空"),
            Column("supersedes", "更正的编号", "text", False, False, hint="更正哪条事实的编号"),
        ]
        return cols

    def field_column(self, fd: n.FieldDecl) -> Column:
        """The column of a data field."""
        titles = self.indicators or dict.fromkeys(sorted(self.schema.indicators))
        return field_column(fd, self.org, titles, self.subjects)


def field_column(
    fd: n.FieldDecl,
    org: Org | None = None,
    indicators: Mapping[str, str | None] | None = None,
    subjects: Callable[[tuple[str, ...]], Choices | None] | None = None,
) -> Column:
    """The column of a typed field (of a fact type, or a person attribute)."""
    t = fd.type
    kind = "enum" if t.is_enum else (t.name or "text")
    choices: Choices | None = None
    if t.is_enum:
        choices = enum_choices(t.values)
    elif kind in ("person", "unit") and org is not None:
        choices = subject_choices(org, (kind,)) if subjects is None else subjects((kind,))
    elif kind == "indicator" and indicators:
        choices = indicator_choices(indicators)
    hint = _hint(kind, t, choices) + ("" if t.optional else "（必填）")
    return Column(fd.name, field_title(fd), kind, not t.optional, True, t, choices, hint)


def _who(decl: n.FactDecl) -> str:
    what = {"unit": "单位", "person": "人员"}
    return "、".join(what[s] for s in decl.subjects) + "的编号或名称（必填）"


def _hint(kind: str, t: n.FieldType, choices: Choices | None) -> str:
    if kind == "enum" and choices is not None:
        return "从列表中选择：" + "、".join(choices.labels)
    if kind in ("number", "integer"):
        word = "整数" if kind == "integer" else "数值"
        return word + (f"，{range_text(t.range)}" if t.range else "")
    return {
        "date": "日期，如 2025-02-14",
        "person": "人员的编号或姓名",
        "unit": "单位的编号或名称",
        "indicator": "指标编号，如 K4",
    }.get(kind, "文字")


def range_text(r: n.Range | None) -> str:
    """A number range as people read it: `0 至 100`, `≥ 0`, `> 0`."""
    if r is None:
        return ""
    if r.low is not None and r.high is not None:
        return f"{r.low} 至 {r.high}"
    if r.low is not None:
        return f"{'≥' if r.low_inclusive else '>'} {r.low}"
    if r.high is not None:
        return f"{'≤' if r.high_inclusive else '<'} {r.high}"
    return ""


def header_names(sheet: FactSheet | None, sheets: Sequence[FactSheet]) -> dict[str, str]:
    """Header text → column name, for one type's sheet (or all types' fields)."""
    out = dict(ALIASES)
    for s in [sheet] if sheet is not None else sheets:
        for c in s.columns:
            if c.data:
                out.setdefault(c.title, c.name)
    for s in [sheet] if sheet is not None else sheets:
        for c in s.columns:
            out[c.name] = c.name
    out["type"] = "type"
    return out


def vocabulary_of(compiled: CompiledRuleset, org: Org | None) -> Vocabulary:
    """The fact sheets of a compiled ruleset: its year, periods and indicator titles."""
    header = compiled.program.header
    kinds = tuple(header.periods) if header is not None else ("quarter", "year")
    titles = {
        i.id: i.title
        for card in compiled.scorecards.values()
        for p in card.parts
        for i in p.indicators
    }
    for ident in compiled.schema.indicators:
        titles.setdefault(ident, None)
    return Vocabulary(compiled.schema, compiled.year, kinds, dict(sorted(titles.items())), org)
