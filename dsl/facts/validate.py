"""Validating facts against a ruleset's fact types and the organisation."""

from __future__ import annotations

from collections.abc import Container, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from dsl.facts.records import Fact, FactProblem, Org, live, number_of, parse_date, parse_period
from dsl.facts.validate_fast import FastCheck
from dsl.syntax import nodes as n
from dsl.syntax.errors import did_you_mean

_KNOWN_KEYS = {"id", "type", "subject", "date", "period", "data", "evidence", "supersedes"}


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


def validate_facts(
    records: Iterable[tuple[int, Any]],
    schema: FactSchema,
    org: Org,
    source: str = "facts",
    known: Container[str] = frozenset(),
) -> Validated:
    """Checks every record; a fact with any problem is left out and each problem is listed.

    A record may also be a `Fact` that `dsl.facts.validate_fast` has already checked.

    `known` holds the ids of facts recorded elsewhere (a database) that `supersedes` may name.
    """
    facts: list[Fact] = []
    problems: list[FactProblem] = []
    seen: dict[str, int] = {}
    rejected: dict[str, int] = {}
    fast = FastCheck(schema.types, schema.indicators, org)
    for line, raw in records:
        # Most records pass every check: the fast path builds their Fact (or a reader did);
        # the full checks run, and word the problems, only where it declines.
        fact = raw if type(raw) is Fact else fast.fact(raw, line)
        if fact is not None and fact.id not in seen:
            seen[fact.id] = line
            facts.append(fact)
            continue
        errs: list[FactProblem] = []
        if fact is None:
            fact, errs = _one(raw, line, schema, org, source)
        if fact is not None and fact.id in seen:
            errs.append(
                FactProblem(
                    source, line, fact.id, "id", f"duplicate id (first on line {seen[fact.id]})"
                )
            )
        if errs:
            problems.extend(errs)
            ident = fact.id if fact is not None else raw.get("id")
            if isinstance(ident, str) and ident not in seen:
                rejected[ident] = line
            continue
        assert fact is not None
        seen[fact.id] = line
        facts.append(fact)
    problems.extend(_check_links(facts, schema, source, known, rejected))
    bad = {p.ident for p in problems}
    return Validated([f for f in facts if f.id not in bad], problems)


def _one(
    raw: Any, line: int, schema: FactSchema, org: Org, source: str
) -> tuple[Fact | None, list[FactProblem]]:
    errs: list[FactProblem] = []
    ident = raw.get("id")
    label = ident if isinstance(ident, str) and ident else "-"

    def bad(fld: str, msg: str) -> None:
        errs.append(FactProblem(source, line, label, fld, msg))

    if label == "-":
        bad("id", "missing or not a string")
    for key in raw:
        if key not in _KNOWN_KEYS:
            bad(key, f"unknown key{did_you_mean(key, _KNOWN_KEYS)}")
    ftype = raw.get("type")
    decl = schema.types.get(ftype) if isinstance(ftype, str) else None
    if decl is None:
        bad("type", f"unknown fact type {ftype!r}{did_you_mean(str(ftype), schema.types)}")
    subject = raw.get("subject")
    if not isinstance(subject, str) or (subject not in org.units and subject not in org.persons):
        bad("subject", f"unknown subject {subject!r}")
    elif decl is not None:
        kind = "person" if subject in org.persons else "unit"
        if kind not in decl.subjects:
            bad(
                "subject",
                f"'{subject}' is a {kind}; {decl.id} facts are on {' or '.join(decl.subjects)}",
            )
    has_date, has_period = "date" in raw, "period" in raw
    when_date = when_period = None
    if has_date == has_period:
        bad("date", "give exactly one of 'date' and 'period'")
    elif has_date:
        when_date = parse_date(raw["date"])
        if when_date is None:
            bad("date", f"not a YYYY-MM-DD date: {raw['date']!r}")
        elif decl is not None and decl.kind != "dated":
            bad("date", f"{decl.id} is a period value: give 'period', not 'date'")
    else:
        when_period = parse_period(raw["period"])
        if when_period is None:
            bad("period", f"not a period (YYYY or YYYYQn): {raw['period']!r}")
        elif decl is not None and decl.kind == "dated":
            bad("period", f"{decl.id} is dated: give 'date', not 'period'")
    for key in ("evidence", "supersedes"):
        if raw.get(key) is not None and not isinstance(raw[key], str):
            bad(key, "not a string")
    data = raw.get("data", {})
    if not isinstance(data, dict):
        bad("data", "not an object")
        data = {}
    clean = _data(decl, data, org, schema, bad) if decl is not None else {}
    if errs:
        return None, errs
    fact = Fact(
        id=label,
        type=str(ftype),
        subject=str(subject),
        date=when_date,
        period=when_period,
        data=clean,
        evidence=raw.get("evidence"),
        supersedes=raw.get("supersedes"),
        line=line,
    )
    return fact, errs


def _data(
    decl: n.FactDecl, data: dict[str, Any], org: Org, schema: FactSchema, bad: Any
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    fields = {f.name: f for f in decl.fields}
    for key in data:
        if key not in fields:
            bad(f"data.{key}", f"{decl.id} has no field '{key}'{did_you_mean(key, fields)}")
    for name, fd in fields.items():
        v = data.get(name)
        if v is None:
            if not fd.type.optional:
                bad(f"data.{name}", "required field is missing")
            continue
        ok, val, msg = check_value(fd.type, v, org, schema.indicators)
        if ok:
            out[name] = val
        else:
            bad(f"data.{name}", msg)
    return out


def check_value(
    t: n.FieldType, v: Any, org: Org | None, indicators: frozenset[str]
) -> tuple[bool, Any, str]:
    """(ok, clean value, message) for one value of a declared field type."""
    if t.is_enum:
        allowed = [e.id for e in t.values]
        if isinstance(v, str) and v in allowed:
            return True, v, ""
        return (
            False,
            None,
            f"{v!r} is not one of {', '.join(allowed)}{did_you_mean(str(v), allowed)}",
        )
    name = t.name
    if name in ("number", "integer"):
        d = number_of(v)
        if d is None:
            return False, None, f"expected a number, got {v!r}"
        if name == "integer" and d != d.to_integral_value():
            return False, None, f"expected a whole number, got {v!r}"
        msg = _range_problem(t.range, d)
        return (False, None, msg) if msg else (True, d, "")
    if name == "text":
        return (True, v, "") if isinstance(v, str) else (False, None, f"expected text, got {v!r}")
    if name == "date":
        return (
            (True, parse_date(v), "")
            if parse_date(v)
            else (False, None, f"expected a date, got {v!r}")
        )
    if name == "person":
        ok = isinstance(v, str) and (org is None or v in org.persons)
        return (True, v, "") if ok else (False, None, f"unknown person {v!r}")
    if name == "unit":
        ok = isinstance(v, str) and (org is None or v in org.units)
        return (True, v, "") if ok else (False, None, f"unknown unit {v!r}")
    if name == "indicator":
        ok = isinstance(v, str) and v in indicators
        return (
            (True, v, "")
            if ok
            else (False, None, f"unknown indicator {v!r}{did_you_mean(str(v), indicators)}")
        )
    return (True, v, "")


def _range_problem(r: n.Range | None, d: Decimal) -> str:
    if r is None:
        return ""
    if r.low is not None and (d < r.low or (d == r.low and not r.low_inclusive)):
        return f"{d} is below the allowed range ({'≥' if r.low_inclusive else '>'} {r.low})"
    if r.high is not None and (d > r.high or (d == r.high and not r.high_inclusive)):
        return f"{d} is above the allowed range ({'≤' if r.high_inclusive else '<'} {r.high})"
    return ""


def _check_links(
    facts: list[Fact],
    schema: FactSchema,
    source: str,
    known: Container[str],
    rejected: dict[str, int],
) -> list[FactProblem]:
    """`supersedes` names a fact; one live value per subject and period where one is expected."""
    problems: list[FactProblem] = []
    ids = {f.id for f in facts}
    for f in facts:
        # A correction of a fact that was itself rejected stands: it is what the recorder meant.
        target = f.supersedes
        if (
            target is not None
            and target not in ids
            and target not in known
            and target not in rejected
        ):
            why = f"names no fact: {target!r}"
            problems.append(FactProblem(source, f.line, f.id, "supersedes", why))
    seen: dict[tuple[str, str, Any], Fact] = {}
    for f in live(facts):
        decl = schema.types[f.type]
        if decl.kind != "period":
            continue
        key = (f.type, f.subject, f.period)
        if key in seen:
            other = seen[key]
            problems.append(
                FactProblem(
                    source,
                    f.line,
                    f.id,
                    "period",
                    f"a second live {f.type} for {f.subject} in {f.period} (the other is "
                    f"{other.id} on line {other.line}); supersede it instead",
                )
            )
        else:
            seen[key] = f
    return problems


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
    for p in org.persons.values():
        for fd in decl.attrs:
            v = p.attrs.get(fd.name)
            if v is None:
                if not fd.type.optional:
                    problems.append(
                        FactProblem(
                            source, 0, p.id, f"attrs.{fd.name}", "required attribute is missing"
                        )
                    )
                continue
            ok, _, msg = check_value(fd.type, v, org, frozenset())
            if not ok:
                problems.append(FactProblem(source, 0, p.id, f"attrs.{fd.name}", msg))
    return problems
