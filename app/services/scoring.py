"""Scoring from the database: the facts a period needs, filtered in SQL, then the engine.

The database gives the engine what a facts file would: the live facts of the period's year
(a year) or quarter (a quarter), of the types the ruleset declares, in recording order, and
the organisation in force on the period's last day (and, for a year, on each quarter's).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date
from itertools import islice
from operator import attrgetter, lt
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app import exactjson
from app.services.org import org_digest, orgs_at, period_end
from app.store import repository
from dsl.compile.ir import CompiledRuleset
from dsl.engine.evaluate import Evaluation, evaluate
from dsl.facts.inputs import gc_paused
from dsl.facts.periods import Period
from dsl.facts.records import Fact, Org

_LINE = attrgetter("line")


@dataclass
class PeriodInputs:
    """What an evaluation from the database used: organisation, facts and their provenance.

    `org` is the organisation at the period's end; for a year, `quarter_orgs` holds each
    quarter's (the quarters behind the annual mean are scored as they stood).
    """

    period: Period
    org: Org
    org_revision: int | None
    facts: list[Fact]
    seqs: list[int]
    quarter_orgs: dict[Period, Org] = field(default_factory=dict)
    # sha256 of `seq:content-digest` lines, fed in sequence order as the facts are read (a
    # year's million digests are not kept for it); None when read without them (`digests`)
    hashed: Any = field(default_factory=hashlib.sha256)
    # Every fact is live (those superseded were left out as read): `evaluate(facts_live=...)`
    # need not look for them again. Not for a receipt's facts, read live or not.
    live: bool = False

    def org_of(self, period: Period) -> Org:
        """The organisation to score `period` with (what `evaluate(org_at=...)` takes)."""
        return self.quarter_orgs.get(period, self.org)

    @property
    def org_digest(self) -> str:
        """sha256 of the organisation used."""
        return org_digest(self.org)

    @property
    def facts_digest(self) -> str:
        """sha256 over the facts used: each one's sequence number and content digest (what
        `facts_digest` gives for them)."""
        if self.hashed is None:
            raise ValueError(f"the facts of {self.period} were read without their digests")
        return str(self.hashed.hexdigest())


def facts_digest(pairs: Iterable[tuple[int, str]]) -> str:
    """sha256 of `seq:content-digest` lines in sequence order."""
    h = hashlib.sha256()
    for seq, digest in sorted(pairs):
        h.update(f"{seq}:{digest}\n".encode())
    return h.hexdigest()


def load_period(
    session: Session,
    compiled: CompiledRuleset,
    period: Period,
    *,
    org_cutoff: int | None = None,
    only: Collection[int] | None = None,
    types: Collection[str] | None = None,
    province: str | None = None,
    digests: bool = True,
) -> PeriodInputs:
    """The organisation and live facts a period needs; with `only`, exactly those facts
    (a receipt's), live or not by today's records; with `types`, only facts of those types;
    with `province`, that province's units, persons and facts alone (`province_org`).
    Without `digests`, the facts' content digests are neither read nor hashed (no
    `facts_digest`: what a receipt needs, not a score): ~15% of a quarter's reading."""
    # A quarter is ~250,000 facts: no cyclic collection needs to walk them as they are built.
    with gc_paused():
        quarters = period.quarters() if period.quarter is None else ()
        ends = [period_end(p) for p in (period, *quarters)]
        orgs, revision = orgs_at(session, ends, org_cutoff)
        if province is not None:
            orgs = [province_org(o, province) for o in orgs]
        by_quarter = dict(zip(quarters, orgs[1:], strict=True))
        inputs = PeriodInputs(period, orgs[0], revision, [], [], by_quarter)
        if not digests:
            inputs.hashed = None
        dead: tuple[set[str], set[int]] = (set(), set())
        if only is None:
            dead = repository.dead_facts(session, province)
        rows = repository.period_facts(
            session,
            period,
            types or compiled.schema.types,
            to_date=compiled.per_year,
            province=province,
            digests=digests,
        )
        _read_facts(rows, inputs, dead, only)
        if not digests:  # read as the server found them
            in_recording_order(inputs)
        inputs.live = only is None
    return inputs


def load_facts(
    session: Session, compiled: CompiledRuleset, period: Period, types: Collection[str]
) -> list[Fact]:
    """The live facts of these types that `load_period` gives, in the same order, without the
    organisation (a reader of facts alone: the organisation costs more to read than a few
    types' facts)."""
    with gc_paused():
        inputs = PeriodInputs(period, Org({}, {}), None, [], [], hashed=None)
        dead = repository.dead_facts(session)
        repository.planned_whole(session)  # a few types: found by the index, not a scan
        rows = repository.period_facts(
            session, period, types, to_date=compiled.per_year, digests=False
        )
        _read_facts(rows, inputs, dead, None)
        in_recording_order(inputs)
    return inputs.facts


def in_recording_order(inputs: PeriodInputs) -> None:
    """Puts the facts read in recording order (by sequence number), as the engine reads them,
    unless they came in it (`repository.period_facts` without digests: as the server finds
    them, which for facts appended one import after another is that order, as a rule)."""
    seqs = inputs.seqs
    if all(map(lt, seqs, islice(seqs, 1, None))):
        return
    inputs.facts.sort(key=_LINE)
    seqs.sort()


def province_org(org: Org, province: str) -> Org:
    """The part of an organisation under one root unit (a province): its units and the
    persons in them."""
    units = {u: unit for u, unit in org.units.items() if org.chain(u)[-1:] == (province,)}
    persons = {p: person for p, person in org.persons.items() if person.unit in units}
    return Org(units, persons)


def provinces(org: Org) -> list[str]:
    """The root units of an organisation (its provinces), in id order."""
    return sorted(u for u, unit in org.units.items() if unit.parent is None)


def _read_facts(
    rows: Iterable[tuple[Any, ...]],
    into: PeriodInputs,
    dead: tuple[set[str], set[int]],
    only: Collection[int] | None,
) -> None:
    """Turns rows of `repository.FACT_COLUMNS` into facts, leaving out the dead ones (or
    those not in `only`). Equal dates, periods and data are shared, and each is parsed once:
    `data` is read by the engine only, never changed."""
    corrected, retracted = dead
    periods: dict[str, Period] = {}
    days: dict[Any, date] = {}
    datas: dict[str, dict[str, Any]] = {}
    # The driver gives each row its own strings: a year's million facts would hold a million
    # copies of a few dozen types and a few thousand subjects (~130 MB); one of each is kept.
    names: dict[str, str] = {}
    facts, seqs = into.facts, into.seqs
    update = into.hashed.update if into.hashed is not None else None
    for seq, cid, ftype, subject, day, per, text, evidence, sup, digest, year, quarter in rows:
        if (cid in corrected or seq in retracted) or (only is not None and seq not in only):
            continue
        ftype = names.setdefault(ftype, ftype)
        subject = names.setdefault(subject, subject)
        p: Period | None = None
        d: date | None = None
        if day is not None:
            d = days.get(day)
            if d is None:
                d = days[day] = day if isinstance(day, date) else date.fromisoformat(day)
            if quarter != (d.month + 2) // 3 or year != d.year:
                # a late fact placed in the next open period counts from its first day
                d = date(year, 3 * quarter - 2, 1)
        else:
            p = periods.get(per)
            if p is None:
                p = periods[per] = Period.parse(per)
        data = datas.get(text)
        if data is None:
            data = datas[text] = exactjson.loads(text)
        facts.append(Fact(cid, ftype, subject, d, p, data, evidence, sup, seq))
        seqs.append(seq)
        if update is not None:
            update(f"{seq}:{digest}\n".encode())  # rows come in sequence order


def score(
    engine: Engine,
    compiled: CompiledRuleset,
    period: Period,
    traced: Collection[str] = (),
    province: str | None = None,
) -> tuple[Evaluation, PeriodInputs]:
    """Scores a period from the database's facts (with `province`: that province alone)."""
    with Session(engine) as session, session.begin():
        inputs = load_period(session, compiled, period, province=province)
    ev = evaluate(compiled, inputs.org, inputs.facts, period, traced, org_at=inputs.org_of)
    return ev, inputs
