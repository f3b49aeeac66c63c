"""Scoring from the database: the facts a period needs, filtered in SQL, then the engine.

The database gives the engine what a facts file would: the live facts of the period's year
(a year) or quarter (a quarter), of the types the ruleset declares, in recording order, and
the organisation in force on the period's last day.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app import exactjson, repository
from app.services.org import org_at, org_digest, period_end
from dsl.compiled import CompiledRuleset
from dsl.engine import Evaluation, evaluate
from dsl.facts import Fact, Org
from dsl.periods import Period

_UNSEEN: Any = object()


@dataclass
class PeriodInputs:
    """What an evaluation from the database used: organisation, facts and their provenance."""

    period: Period
    org: Org
    org_revision: int | None
    facts: list[Fact]
    seqs: list[int]
    digests: list[str]

    @property
    def org_digest(self) -> str:
        """sha256 of the organisation used."""
        return org_digest(self.org)

    @property
    def facts_digest(self) -> str:
        """sha256 over the facts used: each one's sequence number and content digest."""
        return facts_digest(zip(self.seqs, self.digests, strict=True))


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
) -> PeriodInputs:
    """The organisation and live facts a period needs; with `only`, exactly those facts
    (a receipt's), live or not by today's records."""
    org, revision = org_at(session, period_end(period), org_cutoff)
    periods: dict[str | None, Period | None] = {None: None}
    days: dict[Any, date | None] = {None: None}
    datas: dict[str, dict[str, Any]] = {}  # facts share equal data (the engine only reads it)
    facts: list[Fact] = []
    seqs: list[int] = []
    digests: list[str] = []
    rows: Iterable[Any] = repository.period_facts(
        session, period, compiled.schema.types, live=only is None
    )
    for seq, cid, ftype, subject, day, per, text, evidence, sup, digest in rows:
        if only is not None and seq not in only:
            continue
        p = periods.get(per)
        if p is None and per is not None:
            p = periods[per] = Period.parse(per)
        d = days.get(day, _UNSEEN)
        if d is _UNSEEN:
            d = days[day] = day if isinstance(day, date) else date.fromisoformat(day)
        data = datas.get(text)
        if data is None:
            data = datas[text] = exactjson.loads(text)
        facts.append(Fact(cid, ftype, subject, d, p, data, evidence, sup, seq))
        seqs.append(seq)
        digests.append(digest)
    return PeriodInputs(period, org, revision, facts, seqs, digests)


def score(
    engine: Engine, compiled: CompiledRuleset, period: Period, traced: Collection[str] = ()
) -> tuple[Evaluation, PeriodInputs]:
    """Scores a period from the database's facts."""
    with Session(engine) as session, session.begin():
        inputs = load_period(session, compiled, period)
    return evaluate(compiled, inputs.org, inputs.facts, period, traced), inputs
