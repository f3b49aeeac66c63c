"""The common case of fact validation, prepared once per ruleset and organisation.

`FastCheck.fact` accepts a record only when every check of `dsl.facts.validate` would pass, and then
builds the very `Fact` that `dsl.facts.validate` would build; for anything else (a problem, a float
that might not round-trip, a type it does not know) it returns None and the caller runs the
full checks, which word the problems. Equal values are shared (dates, periods, decimals, ids,
enum values): they are immutable, and a million facts then take far less memory.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from dsl.facts.periods import Period
from dsl.facts.records import (
    _FLOAT_DIGITS,
    Fact,
    FactProblem,
    Org,
    iter_jsonl,
    parse_date,
    parse_period,
    read_record,
)
from dsl.syntax import nodes as n

KNOWN_KEYS = frozenset(
    {"id", "type", "subject", "date", "period", "data", "evidence", "supersedes"}
)
_EMPTY: dict[str, Any] = {}

# Field kinds, as small ints so the loop compares cheaply.
_NUMBER, _INTEGER, _ENUM, _TEXT, _DATE, _PERSON, _UNIT, _INDICATOR, _OTHER = range(9)
_KINDS = {
    "number": _NUMBER,
    "integer": _INTEGER,
    "text": _TEXT,
    "date": _DATE,
    "person": _PERSON,
    "unit": _UNIT,
    "indicator": _INDICATOR,
}

# (name, kind, optional, table): for names the allowed ones (each mapped to itself, so equal
# strings are shared), for numbers the field's `_Numbers`.
_Field = tuple[str, int, bool, Any]


class _Numbers:
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
        """The exact decimal of an acceptable value, or None."""
        t = type(v)
        if t is int:
            d = Decimal(v)
        elif t is float:
            text = repr(v)
            # A longer float may not round-trip its JSON text: the full path re-reads it exactly.
            if len(text) > _FLOAT_DIGITS:
                return None
            d = Decimal(text)
            if not d.is_finite():
                return None
        else:
            return None
        if self.integer and d != d.to_integral_value():
            return None
        low, high = self.low, self.high
        if low is not None and (d < low or (d == low and not self.low_in)):
            return None
        if high is not None and (d > high or (d == high and not self.high_in)):
            return None
        if t is int:
            self.ints[v] = d
        elif v != 0:
            self.floats[v] = d
        return d


class _TypeSpec:
    """One fact type, flattened for the loop."""

    __slots__ = ("dated", "fields", "ident", "names", "subjects")

    def __init__(self, ident: str, decl: n.FactDecl, org: Org, indicators: frozenset[str]) -> None:
        self.ident = ident
        self.dated = decl.kind == "dated"
        kinds = set(decl.subjects)
        # Persons after units: an id that is both counts as a person, as in `dsl.facts.validate`.
        who = {u: u for u in org.units if "unit" in kinds}
        for p in org.persons:
            if "person" in kinds:
                who[p] = p
            else:
                who.pop(p, None)
        self.subjects: dict[Any, str] = who
        self.names = frozenset(f.name for f in decl.fields)
        self.fields: tuple[_Field, ...] = tuple(_field(f, org, indicators) for f in decl.fields)


def _field(f: n.FieldDecl, org: Org, indicators: frozenset[str]) -> _Field:
    t = f.type
    if t.is_enum:
        return (f.name, _ENUM, t.optional, {e.id: e.id for e in t.values})
    kind = _KINDS.get(t.name or "", _OTHER)
    table: Any = None
    if kind in (_NUMBER, _INTEGER):
        table = _Numbers(t)
    elif kind == _PERSON:
        table = {p: p for p in org.persons}
    elif kind == _UNIT:
        table = {u: u for u in org.units}
    elif kind == _INDICATOR:
        table = {i: i for i in indicators}
    return (f.name, kind, t.optional, table)


_NO = object()


class FastCheck:
    """Accepts well-formed facts quickly; returns None where the full checks must decide."""

    def __init__(self, types: dict[str, n.FactDecl], indicators: frozenset[str], org: Org):
        self.types: dict[Any, _TypeSpec] = {
            k: _TypeSpec(k, d, org, indicators) for k, d in types.items()
        }
        self.dates: dict[Any, date] = {}
        self.periods: dict[Any, Period] = {}

    def fact(self, raw: Any, line: int) -> Fact | None:
        """The fact of a valid record, as `dsl.facts.validate` builds it; None for anything else."""
        try:
            return self._fact(raw, line)
        except TypeError:  # an unhashable value looked up: a problem the full checks word
            return None

    def _fact(self, raw: Any, line: int) -> Fact | None:
        if type(raw) is not dict or not raw.keys() <= KNOWN_KEYS:
            return None
        ident = raw.get("id")
        spec = self.types.get(raw.get("type"))
        if type(ident) is not str or not ident or spec is None:
            return None
        subject = spec.subjects.get(raw.get("subject"))
        if subject is None:
            return None
        when_date: date | None = None
        when_period: Period | None = None
        text = raw.get("date", _NO)
        if text is not _NO:
            if "period" in raw or not spec.dated:
                return None
            when_date = self.dates.get(text) or self._date(text)
            if when_date is None:
                return None
        else:
            text = raw.get("period", _NO)
            if text is _NO or spec.dated:
                return None
            when_period = self.periods.get(text) or self._period(text)
            if when_period is None:
                return None
        evidence, supersedes = raw.get("evidence"), raw.get("supersedes")
        if (evidence is not None and type(evidence) is not str) or (
            supersedes is not None and type(supersedes) is not str
        ):
            return None
        data = raw.get("data", _EMPTY)
        if type(data) is not dict or not data.keys() <= spec.names:
            return None
        clean: dict[str, Any] = {}
        for name, kind, optional, table in spec.fields:
            v = data.get(name)
            if v is None:
                if not optional:
                    return None
                continue
            if kind <= _INTEGER:  # a number
                t = type(v)
                got = table.ints.get(v) if t is int else table.floats.get(v) if t is float else None
                if got is None:
                    got = table.accept(v)
            elif kind == _TEXT:
                got = v if type(v) is str else None
            elif kind == _DATE:
                got = self._date(v)
            elif kind == _OTHER:
                got = v
            else:  # enum, person, unit, indicator: one of a known set of names
                got = table.get(v) if type(v) is str else None
            if got is None:
                return None
            clean[name] = got
        return Fact(ident, spec.ident, subject, when_date, when_period, clean, evidence,
                    supersedes, line)  # fmt: skip

    def _date(self, text: Any) -> date | None:
        if type(text) is not str:
            return None
        d = self.dates.get(text)
        if d is None:
            d = parse_date(text)
            if d is not None:
                self.dates[text] = d
        return d

    def _period(self, text: Any) -> Period | None:
        if type(text) is not str:
            return None
        p = self.periods.get(text)
        if p is None:
            p = parse_period(text)
            if p is not None:
                self.periods[text] = p
        return p


def read_checked(
    path: Path, fast: FastCheck, problems: list[FactProblem]
) -> Iterator[tuple[int, Any]]:
    """(line, Fact) for each valid line, else (line, record) as `read_raw_facts` reads it.

    Lines that are not JSON objects go to `problems`, worded as `read_raw_facts` words them.
    """
    for i, line in iter_jsonl(path):
        try:
            fact = fast.fact(orjson.loads(line), i)
        except orjson.JSONDecodeError:
            fact = None
        if fact is not None:
            yield i, fact
            continue
        obj = read_record(path, i, line, problems)
        if obj is not None:
            yield i, obj


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside: reading a million facts builds no cycles, and each
    full collection would walk every fact read so far (it doubled the reading time)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
