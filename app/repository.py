"""Queries on facts that the services share: liveness, lookups by id, a period's facts."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any

from sqlalchemy import ColumnElement, Row, String, Text, and_, cast, exists, select, type_coerce
from sqlalchemy.orm import Session, aliased

from app.models import Fact, Retraction
from dsl.periods import Period

LOOKUP_CHUNK = 5000  # ids per IN list (SQLite allows 32766 bound parameters)


def live_clause() -> ColumnElement[bool]:
    """True for a fact that is neither superseded nor retracted."""
    newer = aliased(Fact)
    return and_(
        ~exists().where(newer.supersedes_id == Fact.client_id),
        ~exists().where(Retraction.fact_seq == Fact.seq),
    )


def period_clause(period: Period) -> ColumnElement[bool]:
    """The facts a period's evaluation reads: the year's for a year, the quarter's for one.

    A year's evaluation scores its quarters too (a person's year is the mean of them), so it
    reads every fact of the year: dated, quarterly and yearly.
    """
    if period.quarter is None:
        return Fact.year == period.year
    return and_(Fact.year == period.year, Fact.quarter == period.quarter)


def _chunks(items: Collection[str]) -> Iterator[list[str]]:
    ordered = sorted(items)
    for i in range(0, len(ordered), LOOKUP_CHUNK):
        yield ordered[i : i + LOOKUP_CHUNK]


def recorded(session: Session, ids: Collection[str]) -> dict[str, tuple[int, str]]:
    """seq and content digest of the facts with these client ids that are recorded."""
    out: dict[str, tuple[int, str]] = {}
    for part in _chunks(ids):
        q = select(Fact.client_id, Fact.seq, Fact.content_digest).where(Fact.client_id.in_(part))
        out.update((c, (s, d)) for c, s, d in session.execute(q))
    return out


def correctors(session: Session, ids: Collection[str]) -> dict[str, str]:
    """For each of these client ids already superseded, the id of the fact superseding it."""
    out: dict[str, str] = {}
    for part in _chunks(ids):
        q = select(Fact.supersedes_id, Fact.client_id).where(Fact.supersedes_id.in_(part))
        out.update((str(t), c) for t, c in session.execute(q))
    return out


def live_period_values(
    session: Session, types: Collection[str], subjects: Collection[str], periods: Collection[str]
) -> dict[tuple[str, str, str], str]:
    """Live period values among these types, subjects and periods, by key, with their id."""
    out: dict[tuple[str, str, str], str] = {}
    if not types:
        return out
    for part in _chunks(subjects):
        q = select(Fact.type, Fact.subject, Fact.period, Fact.client_id).where(
            Fact.type.in_(sorted(types)),
            Fact.subject.in_(part),
            Fact.period.in_(sorted(periods)),
            live_clause(),
        )
        out.update(((t, s, str(p)), c) for t, s, p, c in session.execute(q))
    return out


# `date` and `data` come back as the driver gives them (SQLite: text; PostgreSQL: a date, and
# the JSON as text): the caller parses them once per distinct value, not once per row.
FACT_COLUMNS = (
    Fact.seq,
    Fact.client_id,
    Fact.type,
    Fact.subject,
    type_coerce(Fact.date, String),
    Fact.period,
    cast(Fact.data, Text),
    Fact.evidence,
    Fact.supersedes_id,
    Fact.content_digest,
)


def period_facts(
    session: Session, period: Period, types: Collection[str], live: bool = True
) -> Iterator[Row[Any]]:
    """The facts of these types that a period's evaluation reads, live ones only by default,
    in recording order."""
    q = select(*FACT_COLUMNS).where(period_clause(period), Fact.type.in_(sorted(types)))
    if live:
        q = q.where(live_clause())
    # Core execution: rows as tuples, without the ORM's per-row work.
    return iter(session.connection().execute(q.order_by(Fact.seq)))
