"""The checks of one fact type and of each declared field (or person attribute), and their tables.

A `FieldCheck` is built once per ruleset and organisation. Its table (the allowed names, or a
number's bounds with the values already accepted) serves both of the validator's paths: the
common case looks a value up in it (`row`, read by `dsl.facts.validate`'s loop), and `check`
decides and words everything else from the same table. Equal accepted values are shared (they
are immutable, and a million facts then take far less memory).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from dsl.facts.limits import MAX_TEXT, number_problem, text_problem
from dsl.facts.records import _FLOAT_DIGITS, FactProblem, Org, number_of, parse_date
from dsl.syntax import nodes as n
from dsl.syntax.errors import did_you_mean

# Field kinds, as small ints so the validator's loop compares cheaply; numbers come first.
NUMBER, INTEGER, ENUM, TEXT, DATE, PERSON, UNIT, INDICATOR, OTHER = range(9)
_KINDS = {
    "number": NUMBER,
    "integer": INTEGER,
    "text": TEXT,
    "date": DATE,
    "person": PERSON,
    "unit": UNIT,
    "indicator": INDICATOR,
}
_NAMED = {ENUM: "", PERSON: "person", UNIT: "unit", INDICATOR: "indicator"}

# (name, kind, optional, table), what the validator's loop reads of a field.
Row = tuple[str, int, bool, Any]


class Numbers:
    """A number field's bounds, and the values already accepted (as their exact decimals).

    Ints and floats are kept apart (1 == 1.0, but they read as Decimal('1') and Decimal('1.0')),
    and float zeros are never kept (0.0 == -0.0, but they read as different decimals).
    """

    __slots__ = ("floats", "high", "high_in", "integer", "ints", "low", "low_in")

    def __init__(self, t: n.FieldType) -> None:
        r = t.range
        self.low, self.low_in = (r.low, r.low_inclusive) if r else (None, True)
        self.high, self.high_in = (r.high, r.high_inclusive) if r else (None, True)
        self.integer = t.name == "integer"
        self.ints: dict[int, Decimal] = {}
        self.floats: dict[float, Decimal] = {}

    def accept(self, v: Any) -> Decimal | None:
        """The exact decimal of a plain int or short float that fits, or None (not a verdict)."""
        t = type(v)
        if t is int:
            d = Decimal(v)
        elif t is float:
            text = repr(v)
            # A longer float may not round-trip its JSON text: `check` decides it.
            if len(text) > _FLOAT_DIGITS:
                return None
            d = Decimal(text)
            if not d.is_finite():
                return None
        else:
            return None
        if self.problem(d, v):
            return None
        if t is int:
            self.ints[v] = d
        elif v != 0:
            self.floats[v] = d
        return d

    def problem(self, d: Decimal, v: Any) -> str:
        """Why the number `d` (read from `v`) does not fit the field, or an empty string."""
        bound = number_problem(d)
        if bound:
            return bound
        if self.integer and d != d.to_integral_value():
            return f"expected a whole number, got {v!r}"
        low, high = self.low, self.high
        if low is not None and (d < low or (d == low and not self.low_in)):
            return f"{d} is below the allowed range ({'≥' if self.low_in else '>'} {low})"
        if high is not None and (d > high or (d == high and not self.high_in)):
            return f"{d} is above the allowed range ({'≤' if self.high_in else '<'} {high})"
        return ""


class FieldCheck:
    """One declared field: its kind, whether it may be absent, and its table."""

    __slots__ = ("kind", "name", "optional", "row", "table")

    def __init__(self, f: n.FieldDecl, org: Org, indicators: frozenset[str]) -> None:
        t = f.type
        self.name = f.name
        self.optional = t.optional
        self.kind = ENUM if t.is_enum else _KINDS.get(t.name or "", OTHER)
        self.table: Any = None
        if self.kind == ENUM:
            self.table = {e.id: e.id for e in t.values}  # each name mapped to itself: shared
        elif self.kind in (NUMBER, INTEGER):
            self.table = Numbers(t)
        elif self.kind == PERSON:
            self.table = {p: p for p in org.persons}
        elif self.kind == UNIT:
            self.table = {u: u for u in org.units}
        elif self.kind == INDICATOR:
            self.table = {i: i for i in indicators}
        self.row: Row = (self.name, self.kind, self.optional, self.table)

    def check(self, v: Any) -> tuple[bool, Any, str]:
        """(ok, clean value, message) for a present value, every case decided and worded."""
        kind, table = self.kind, self.table
        if kind in (NUMBER, INTEGER):
            d = number_of(v)
            if d is None:
                return False, None, f"expected a number, got {v!r}"
            msg = table.problem(d, v)
            return (False, None, msg) if msg else (True, d, "")
        if kind in _NAMED:
            if isinstance(v, str) and v in table:
                return True, v, ""
            return False, None, self._unknown(v)
        if kind == TEXT:
            if not isinstance(v, str):
                return False, None, f"expected text, got {v!r}"
            msg = text_problem(v, MAX_TEXT)
            return (False, None, msg) if msg else (True, v, "")
        if kind == DATE:
            day = parse_date(v)
            return (True, day, "") if day else (False, None, f"expected a date, got {v!r}")
        return True, v, ""

    def _unknown(self, v: Any) -> str:
        if self.kind == ENUM:
            allowed = list(self.table)
            return f"{v!r} is not one of {', '.join(allowed)}{did_you_mean(str(v), allowed)}"
        if self.kind == INDICATOR:
            return f"unknown indicator {v!r}{did_you_mean(str(v), self.table)}"
        return f"unknown {_NAMED[self.kind]} {v!r}"


class TypeSpec:
    """One fact type, flattened: who it may be on, its fields, and its checks."""

    __slots__ = ("dated", "decl", "fields", "ident", "names", "rows", "subjects")

    def __init__(self, ident: str, decl: n.FactDecl, org: Org, indicators: frozenset[str]) -> None:
        self.ident = ident
        self.decl = decl
        self.dated = decl.kind == "dated"  # else a period value
        kinds = set(decl.subjects)
        # Persons after units: an id that is both counts as a person.
        who = {u: u for u in org.units if "unit" in kinds}
        for p in org.persons:
            if "person" in kinds:
                who[p] = p
            else:
                who.pop(p, None)
        self.subjects: dict[Any, str] = who
        self.names = frozenset(f.name for f in decl.fields)
        self.fields = tuple(FieldCheck(f, org, indicators) for f in decl.fields)
        self.rows = tuple(f.row for f in self.fields)


def check_org(org: Org, decl: n.OrganisationDecl | None, source: str = "org") -> list[FactProblem]:
    """Units of undeclared kinds, and person attributes that do not fit their declaration."""
    if decl is None:
        return []
    problems: list[FactProblem] = []
    kinds = {k.id for k in decl.kinds}
    if kinds:
        for u in org.units.values():
            if u.kind not in kinds:
                msg = f"unknown unit kind {u.kind!r}{did_you_mean(u.kind, kinds)}"
                problems.append(FactProblem(source, 0, u.id, "kind", msg))
    attrs = [FieldCheck(fd, org, frozenset()) for fd in decl.attrs]
    unit_attrs = [FieldCheck(fd, org, frozenset()) for fd in decl.unit_attrs]
    who: list[tuple[str, dict[str, Any], list[FieldCheck]]] = [
        (u.id, u.attrs, unit_attrs) for u in org.units.values()
    ]
    who += [(p.id, p.attrs, attrs) for p in org.persons.values()]
    for ident, values, checks in who:
        for fc in checks:
            where = f"attrs.{fc.name}"
            v = values.get(fc.name)
            if v is None:
                if not fc.optional:
                    problems.append(
                        FactProblem(source, 0, ident, where, "required attribute is missing")
                    )
                continue
            ok, _, msg = fc.check(v)
            if not ok:
                problems.append(FactProblem(source, 0, ident, where, msg))
    return problems
