"""Organisation and fact records: their types, and reading them from JSON and JSONL."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import msgspec
import orjson

from dsl.facts.limits import MAX_ID, MAX_KIND, MAX_NAME, printable, text_problem
from dsl.facts.periods import Period
from dsl.syntax.errors import DslError


class InputError(DslError):
    """Organisation or facts that cannot be used; `problems` lists every one found."""

    def __init__(self, what: str, problems: list[FactProblem]) -> None:
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems[:50])
        more = f"\n  ... and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(f"{len(problems)} invalid {what}:\n{lines}{more}")


@dataclass(frozen=True)
class FactProblem:
    """Why one input record (a fact, a unit, a person) was rejected."""

    source: str
    line: int
    ident: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.ident}: {self.field}: {self.message}"


# ---- organisation --------------------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    """An organisational unit."""

    id: str
    name: str
    kind: str
    parent: str | None
    # typed attributes (`unit attrs` of the ruleset): a bureau's class, its staff count
    attrs: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Person:
    """A person, in a unit, with typed attributes."""

    id: str
    name: str
    unit: str
    attrs: dict[str, Any]


@dataclass
class Org:
    """Units and persons, with lookups up the unit tree."""

    units: dict[str, Unit]
    persons: dict[str, Person]
    _chain: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False)
    _children: dict[str, list[str]] = field(default_factory=dict, repr=False)
    _ancestors: dict[tuple[str, tuple[str, ...]], str | None] = field(
        default_factory=dict, repr=False, compare=False
    )

    def chain(self, subject: str) -> tuple[str, ...]:
        """The units containing a subject, nearest first (a unit includes itself)."""
        got = self._chain.get(subject)
        if got is not None:
            return got
        start = self.persons[subject].unit if subject in self.persons else subject
        out: list[str] = []
        seen: set[str] = set()
        cur: str | None = start
        while cur is not None and cur in self.units and cur not in seen:
            seen.add(cur)
            out.append(cur)
            cur = self.units[cur].parent
        self._chain[subject] = tuple(out)
        return self._chain[subject]

    def ancestor(self, subject: str, *kinds: str) -> str | None:
        """The nearest unit of any of `kinds` containing the subject (itself if of such a kind)."""
        key = (subject, kinds)
        try:
            return self._ancestors[key]  # kept, as the chains are: asked once per subject per rule
        except KeyError:
            pass
        got = None
        for u in self.chain(subject):
            if self.units[u].kind in kinds:
                got = u
                break
        self._ancestors[key] = got
        return got

    def below(self, unit: str, kinds: tuple[str, ...]) -> list[str]:
        """The units of any of `kinds` below a unit (not itself), in order of their ids; none
        below a person."""
        if unit not in self.units:
            return []
        children = self._children
        if not children:
            for u in sorted(self.units):
                parent = self.units[u].parent
                if parent is not None:
                    children.setdefault(parent, []).append(u)
            children[""] = []  # built (an organisation of one unit has no children)
        out: list[str] = []
        todo = list(children.get(unit, ()))
        seen = {unit}
        while todo:
            u = todo.pop()
            if u in seen:
                continue  # a cycle in the parents: each unit once
            seen.add(u)
            if self.units[u].kind in kinds:
                out.append(u)
            todo.extend(children.get(u, ()))
        return sorted(out)

    def is_person(self, subject: str) -> bool:
        """True for a person id."""
        return subject in self.persons


def read_org(path: Path) -> Org:
    """Reads an organisation JSON file (`units` and `persons`)."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except json.JSONDecodeError as e:
        raise InputError("organisation", [FactProblem(str(path), e.lineno, "-", "-", e.msg)]) from e
    return org_from_json(raw, str(path))


def org_from_json(raw: Any, source: str = "org") -> Org:
    """Builds an `Org` from its JSON form, reporting every problem at once."""
    problems: list[FactProblem] = []

    def bad(ident: str, fld: str, msg: str) -> None:
        problems.append(FactProblem(source, 0, ident, fld, msg))

    if not isinstance(raw, dict):
        raise InputError("organisation", [FactProblem(source, 0, "-", "-", "expected an object")])

    def texts(ident: str, record: dict[str, Any], limits: dict[str, int]) -> bool:
        """Checks the record's text fields (`dsl.facts.limits`); False if the id is bad."""
        for key, limit in limits.items():
            value = record.get(key)
            if isinstance(value, str) and (why := text_problem(value, limit)):
                bad(ident if key != "id" else printable(ident), key, why)
                if key == "id":
                    return False
        return True

    units: dict[str, Unit] = {}
    for i, u in enumerate(raw.get("units") or []):
        ident = u.get("id") if isinstance(u, dict) else None
        if not isinstance(ident, str) or not ident:
            bad(f"units[{i}]", "id", "missing or not a string")
            continue
        if not texts(ident, u, UNIT_TEXTS):
            continue
        if ident in units:
            bad(ident, "id", "duplicate unit id")
        kind = u.get("kind")
        if not isinstance(kind, str):
            bad(ident, "kind", "missing or not a string")
        parent = u.get("parent")
        uattrs = u.get("attrs") or {}
        if not isinstance(uattrs, dict):
            bad(ident, "attrs", "not an object")
            uattrs = {}
        units[ident] = Unit(ident, str(u.get("name") or ident), str(kind), parent, _numbers(uattrs))
    for u in units.values():
        if u.parent is not None and u.parent not in units:
            bad(u.id, "parent", f"unknown unit '{u.parent}'")
    persons: dict[str, Person] = {}
    for i, p in enumerate(raw.get("persons") or []):
        ident = p.get("id") if isinstance(p, dict) else None
        if not isinstance(ident, str) or not ident:
            bad(f"persons[{i}]", "id", "missing or not a string")
            continue
        if not texts(ident, p, PERSON_TEXTS):
            continue
        if ident in persons or ident in units:
            bad(ident, "id", "duplicate id")
        unit = p.get("unit")
        if unit not in units:
            bad(ident, "unit", f"unknown unit '{unit}'")
        attrs = p.get("attrs") or {}
        if not isinstance(attrs, dict):
            bad(ident, "attrs", "not an object")
            attrs = {}
        persons[ident] = Person(ident, str(p.get("name") or ident), str(unit), _numbers(attrs))
    if problems:
        raise InputError("organisation records", problems)
    return Org(units, persons)


UNIT_TEXTS = {"id": MAX_ID, "name": MAX_NAME, "kind": MAX_KIND, "parent": MAX_ID}
PERSON_TEXTS = {"id": MAX_ID, "name": MAX_NAME, "unit": MAX_ID}


def _numbers(attrs: dict[str, Any]) -> dict[str, Any]:
    return {
        k: _to_decimal(v) if isinstance(v, int | float) and not isinstance(v, bool) else v
        for k, v in attrs.items()
    }


def _to_decimal(v: int | float | Decimal) -> Decimal:
    if isinstance(v, Decimal):
        return v
    if isinstance(v, int):
        return Decimal(v)
    return Decimal(repr(v))


# ---- facts ---------------------------------------------------------------------------------


class Fact(msgspec.Struct, gc=False):
    """A recorded fact: what happened to a subject, on a date or for a period.

    A struct in C rather than a dataclass: a million of them build in a third of the time and
    take less memory, and the cyclic collector never walks them (they cannot form cycles)."""

    id: str
    type: str
    subject: str
    date: date | None
    period: Period | None
    data: dict[str, Any]
    evidence: str | None = None
    supersedes: str | None = None
    line: int = 0


_PERIOD_RE = re.compile(r"^\d{4}(Q[1-4])?$")
_FLOAT_DIGITS = 15  # beyond this a float may not round-trip the JSON text; re-read exactly


def iter_jsonl(path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number, line) of each non-blank line of a JSONL file."""
    with path.open("rb") as fh:
        for i, line in enumerate(fh, 1):
            if line.strip():
                yield i, line


def parse_fact_line(line: bytes) -> Any:
    """One JSON line; floats that might not round-trip are re-read as exact decimals."""
    obj = orjson.loads(line)
    data = obj.get("data") if isinstance(obj, dict) else None
    if isinstance(data, dict) and any(
        isinstance(v, float) and len(repr(v)) > _FLOAT_DIGITS for v in data.values()
    ):
        obj = json.loads(line, parse_float=Decimal)
    return obj


def read_record(path: Path, i: int, line: bytes, problems: list[FactProblem]) -> Any | None:
    """One line as a JSON object, or None with the reason added to `problems`."""
    try:
        obj = parse_fact_line(line)
    except (orjson.JSONDecodeError, json.JSONDecodeError) as e:
        problems.append(FactProblem(str(path), i, "-", "-", f"not valid JSON: {e}"))
        return None
    if not isinstance(obj, dict):
        problems.append(FactProblem(str(path), i, "-", "-", "not a JSON object"))
        return None
    return obj


def read_raw_facts(path: Path) -> tuple[list[tuple[int, Any]], list[FactProblem]]:
    """Every line of a facts file as JSON, with the lines that are not JSON objects."""
    out: list[tuple[int, Any]] = []
    problems: list[FactProblem] = []
    for i, line in iter_jsonl(path):
        obj = read_record(path, i, line, problems)
        if obj is not None:
            out.append((i, obj))
    return out, problems


def parse_date(text: Any) -> date | None:
    """A YYYY-MM-DD date, or None."""
    if not isinstance(text, str) or len(text) != 10:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def parse_period(text: Any) -> Period | None:
    """`2025` or `2025Q1`, or None."""
    if not isinstance(text, str) or not _PERIOD_RE.match(text):
        return None
    return Period.parse(text)


def number_of(v: Any) -> Decimal | None:
    """A JSON number as an exact decimal (None for anything else, booleans included)."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int | float | Decimal):
        try:
            d = _to_decimal(v)
        except InvalidOperation:
            return None
        return d if d.is_finite() else None
    return None


def live(facts: Iterable[Fact]) -> list[Fact]:
    """The facts that no other fact supersedes."""
    facts = list(facts)
    dead = {f.supersedes for f in facts if f.supersedes is not None}
    if not dead:  # nothing corrected: no pass over every fact's id
        return facts
    return [f for f in facts if f.id not in dead]
