"""Validating facts against a ruleset's fact types and the organisation: one validator.

`FactValidator` is prepared once per ruleset and organisation: each fact type flattened with its
subjects and field checks (`dsl.facts.fields.TypeSpec`). `fact()` is the common case: a record that
passes every check becomes its `Fact` at once; for anything else (a problem, a float that might
not round-trip, a value of an odd type) it returns None, and `check()` decides the record with
the detailed checks, which read the same tables and word each problem. The tests pin that the
two never disagree on a record the common case accepts. `read_typed()` is the common case for a
whole file at once: the same tables compiled into typed decoding (`dsl.facts.typed`).
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dsl.facts.fields import DATE, INTEGER, OTHER, TEXT, TypeSpec, suggest
from dsl.facts.limits import MAX_ID, MAX_TEXT, printable, text_ok, text_problem
from dsl.facts.links import link_problems
from dsl.facts.periods import Period
from dsl.facts.records import Fact, FactProblem, Org, parse_date, parse_period
from dsl.facts.typed import Keep, TypedReader
from dsl.syntax import nodes as n
from dsl.syntax.errors import did_you_mean

if TYPE_CHECKING:
    from dsl.facts.index import Indexer
    from dsl.facts.split import Certificate

KNOWN_KEYS = frozenset(
    {"id", "type", "subject", "date", "period", "data", "evidence", "supersedes"}
)
_EMPTY: dict[str, Any] = {}
_NO = object()


@dataclass(frozen=True)
class FactSchema:
    """What a ruleset says facts must look like."""

    types: dict[str, n.FactDecl]
    indicators: frozenset[str]


@dataclass
class Validated:
    """Valid facts (live and superseded), and the problems of the rejected ones."""

    facts: list[Fact]
    problems: list[FactProblem]


class FactValidator:
    """Checks fact records for one ruleset and organisation (see the module's docstring)."""

    def __init__(self, schema: FactSchema, org: Org) -> None:
        self.org = org
        self.types: dict[Any, TypeSpec] = {
            k: TypeSpec(k, d, org, schema.indicators) for k, d in schema.types.items()
        }
        self.single = frozenset(k for k, d in schema.types.items() if d.kind == "period")
        self.dates: dict[Any, date] = {}
        self.periods: dict[Any, Period] = {}

    def fact(self, raw: Any, line: int) -> Fact | None:
        """The fact of a record that passes every check; None where `check` must decide."""
        try:
            return self._fact(raw, line)
        except TypeError:  # an unhashable value looked up: a problem `check` words
            return None

    def check(self, raw: Any, line: int, source: str) -> tuple[Fact | None, list[FactProblem]]:
        """The record's fact, or None and every problem it has."""
        fact = self.fact(raw, line)
        return (fact, []) if fact is not None else self.detailed(raw, line, source)

    def read_typed(self, path: Path, split: bool = False) -> list[Fact] | None:
        """Every line of a facts file as its Fact, when every line passes the common case;
        None otherwise (then read line by line, each record decided and worded). With `split`,
        a large file is read by two processes where that pays (`dsl.facts.split`)."""
        reader = TypedReader(self)
        if split:
            from dsl.facts.split import read_facts

            return read_facts(reader, path)
        return reader.read(path)

    def read_certified(
        self, path: Path, keep: Keep | None = None, indexer: Indexer | None = None
    ) -> tuple[list[Fact] | None, Certificate | None]:
        """`read_typed(path, split=True)`, and where a second process read part of the file,
        its word to come on the checks across the facts (`dsl.facts.certify`): while it
        comes, the facts may be used; before anything is said of them, `clean()` or, where
        it is False, `validate_read` over every fact decides. With `keep`, where there is a
        word to come, only the facts `keep` keeps are built (every line is checked). With
        `indexer`, where there is a word to come, every fact built was added to it, in order
        (elsewhere it is to be dropped)."""
        from dsl.facts.split import read_certified

        return read_certified(TypedReader(self), path, keep=keep, indexer=indexer)

    def validate_read(
        self, facts: list[Fact], source: str, known: Container[str], in_order: bool = False
    ) -> Validated:
        """Facts a reader has checked one by one (`read_typed`): the checks across facts."""
        ids = {f.id for f in facts}
        if len(ids) < len(facts):  # a duplicate id: the loop below words it
            return self.validate(((f.line, f) for f in facts), source, known, in_order)
        problems = link_problems(facts, self.single, source, known, {}, ids, in_order)
        bad = {p.ident for p in problems}
        return Validated([f for f in facts if f.id not in bad] if bad else facts, problems)

    def validate(
        self,
        records: Iterable[tuple[int, Any]],
        source: str,
        known: Container[str],
        in_order: bool = False,
    ) -> Validated:
        """Every record checked (see `validate_facts`); `in_order`: the facts are to be
        recorded in this order (a correction must then come after what it corrects)."""
        facts: list[Fact] = []
        problems: list[FactProblem] = []
        seen: dict[str, int] = {}
        rejected: dict[str, int] = {}
        for line, raw in records:
            # Most records pass every check: `fact` builds their Fact (or a reader did);
            # the detailed checks run, and word the problems, only where it declines.
            fact = raw if type(raw) is Fact else self.fact(raw, line)
            if fact is not None and fact.id not in seen:
                seen[fact.id] = line
                facts.append(fact)
                continue
            errs: list[FactProblem] = []
            if fact is None:
                fact, errs = self.detailed(raw, line, source)
            if fact is not None and fact.id in seen:
                why = f"duplicate id (first on line {seen[fact.id]})"
                errs.append(FactProblem(source, line, fact.id, "id", why))
            if errs:
                problems.extend(errs)
                ident = fact.id if fact is not None else raw.get("id")
                if isinstance(ident, str) and ident not in seen:
                    rejected[ident] = line
                continue
            assert fact is not None
            seen[fact.id] = line
            facts.append(fact)
        problems.extend(link_problems(facts, self.single, source, known, rejected, None, in_order))
        bad = {p.ident for p in problems}
        return Validated([f for f in facts if f.id not in bad], problems)

    def _fact(self, raw: Any, line: int) -> Fact | None:
        if type(raw) is not dict or not raw.keys() <= KNOWN_KEYS:
            return None
        ident = raw.get("id")
        spec = self.types.get(raw.get("type"))
        if type(ident) is not str or not ident or spec is None or not text_ok(ident, MAX_ID):
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
            when_date = self.dates.get(text) or self.date_of(text)
            if when_date is None:
                return None
        else:
            text = raw.get("period", _NO)
            if text is _NO or spec.dated:
                return None
            when_period = self.periods.get(text) or self.period_of(text)
            if when_period is None:
                return None
        evidence, supersedes = raw.get("evidence"), raw.get("supersedes")
        if evidence is not None and (type(evidence) is not str or not text_ok(evidence, MAX_TEXT)):
            return None
        if supersedes is not None and (
            type(supersedes) is not str or not text_ok(supersedes, MAX_ID)
        ):
            return None
        data = raw.get("data", _EMPTY)
        if type(data) is not dict or not data.keys() <= spec.names:
            return None
        clean: dict[str, Any] = {}
        for name, kind, optional, table in spec.rows:
            v = data.get(name)
            if v is None:
                if not optional:
                    return None
                continue
            if kind <= INTEGER:  # a number
                t = type(v)
                got = table.ints.get(v) if t is int else table.floats.get(v) if t is float else None
                if got is None:
                    got = table.accept(v)
            elif kind == TEXT:
                got = v if type(v) is str and text_ok(v, MAX_TEXT) else None
            elif kind == DATE:
                got = self.date_of(v)
            elif kind == OTHER:
                got = v
            else:  # enum, person, unit, indicator: one of a known set of names
                got = table.get(v) if type(v) is str else None
            if got is None:
                return None
            clean[name] = got
        return Fact(ident, spec.ident, subject, when_date, when_period, clean, evidence,
                    supersedes, line)  # fmt: skip

    def date_of(self, text: Any) -> date | None:
        """A YYYY-MM-DD date, shared with every equal one read before (None if not a date)."""
        if type(text) is not str:
            return None
        d = self.dates.get(text)
        if d is None:
            d = parse_date(text)
            if d is not None:
                self.dates[text] = d
        return d

    def period_of(self, text: Any) -> Period | None:
        """A period (`2025`, `2025Q1`), shared (None if not a period)."""
        if type(text) is not str:
            return None
        p = self.periods.get(text)
        if p is None:
            p = parse_period(text)
            if p is not None:
                self.periods[text] = p
        return p

    def detailed(self, raw: Any, line: int, source: str) -> tuple[Fact | None, list[FactProblem]]:
        """The detailed checks alone (what `check` falls back to): the fact, or every problem."""
        errs: list[FactProblem] = []
        ident = raw.get("id")
        label = ident if isinstance(ident, str) and ident else "-"

        def bad(fld: str, msg: str) -> None:
            errs.append(FactProblem(source, line, label, fld, msg))

        if label == "-":
            bad("id", "missing or not a string")
        elif why := text_problem(label, MAX_ID):
            label = printable(label)
            bad("id", why)
        for key in raw:
            if key not in KNOWN_KEYS:
                bad(printable(key), f"unknown key{did_you_mean(printable(key), KNOWN_KEYS)}")
        ftype = raw.get("type")
        spec = self.types.get(ftype) if isinstance(ftype, str) else None
        if spec is None:
            bad("type", f"unknown fact type {ftype!r}{did_you_mean(str(ftype), self.types)}")
        self._subject(raw.get("subject"), spec, bad)
        when_date, when_period = self._when(raw, spec, bad)
        for key, limit in (("evidence", MAX_TEXT), ("supersedes", MAX_ID)):
            value = raw.get(key)
            if value is not None and not isinstance(value, str):
                bad(key, "not a string")
            elif value is not None and (why := text_problem(value, limit)):
                bad(key, why)
        data = raw.get("data", {})
        if not isinstance(data, dict):
            bad("data", "not an object")
            data = {}
        clean = _data(spec, data, bad) if spec is not None else {}
        if errs:
            return None, errs
        fact = Fact(label, str(ftype), str(raw.get("subject")), when_date, when_period, clean,
                    raw.get("evidence"), raw.get("supersedes"), line)  # fmt: skip
        return fact, errs

    def _subject(self, subject: Any, spec: TypeSpec | None, bad: _Bad) -> None:
        org = self.org
        if not isinstance(subject, str) or (
            subject not in org.units and subject not in org.persons
        ):
            bad("subject", f"unknown subject {subject!r}{self._near(subject, spec)}")
        elif spec is not None and subject not in spec.subjects:
            kind = "person" if subject in org.persons else "unit"
            on = " or ".join(spec.decl.subjects)
            bad("subject", f"'{subject}' is a {kind}; {spec.decl.id} facts are on {on}")

    def _near(self, subject: Any, spec: TypeSpec | None) -> str:
        """The ids a mistyped subject may mean (by id, or by a unit's or person's name)."""
        org = self.org
        ids = list(spec.subjects) if spec is not None else [*org.units, *org.persons]
        names = {u.id: u.name for u in org.units.values() if u.name}
        names |= {p.id: p.name for p in org.persons.values() if p.name}
        return suggest(subject, ids, {i: names[i] for i in ids if i in names})

    @staticmethod
    def _when(raw: Any, spec: TypeSpec | None, bad: _Bad) -> tuple[date | None, Period | None]:
        has_date, has_period = "date" in raw, "period" in raw
        if has_date == has_period:
            bad("date", "give exactly one of 'date' and 'period'")
            return None, None
        if has_date:
            when_date = parse_date(raw["date"])
            if when_date is None:
                bad("date", f"not a YYYY-MM-DD date: {raw['date']!r}")
            elif spec is not None and not spec.dated:
                bad("date", f"{spec.decl.id} is a period value: give 'period', not 'date'")
            return when_date, None
        when_period = parse_period(raw["period"])
        if when_period is None:
            bad("period", f"not a period (YYYY or YYYYQn): {raw['period']!r}")
        elif spec is not None and spec.dated:
            bad("period", f"{spec.decl.id} is dated: give 'date', not 'period'")
        return None, when_period


_Bad = Callable[[str, str], None]


def validate_facts(
    records: Iterable[tuple[int, Any]],
    schema: FactSchema,
    org: Org,
    source: str = "facts",
    known: Container[str] = frozenset(),
) -> Validated:
    """Checks every record; a fact with any problem is left out and each problem is listed.

    A record may also be a `Fact` that a reader has already checked (`dsl.facts.inputs`).
    `known` holds the ids of facts recorded elsewhere (a database) that `supersedes` may name.
    """
    return FactValidator(schema, org).validate(records, source, known)


def _data(spec: TypeSpec, data: dict[str, Any], bad: _Bad) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in data:
        if key not in spec.names:
            key = printable(key)
            bad(
                f"data.{key}", f"{spec.decl.id} has no field '{key}'{did_you_mean(key, spec.names)}"
            )
    for fc in spec.fields:
        v = data.get(fc.name)
        if v is None:
            if not fc.optional:
                bad(f"data.{fc.name}", "required field is missing")
            continue
        ok, val, msg = fc.check(v)
        if ok:
            out[fc.name] = val
        else:
            bad(f"data.{fc.name}", msg)
    return out
