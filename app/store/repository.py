"""Queries on facts that the services share: liveness, lookups by id, a period's facts."""

from __future__ import annotations

import itertools
import json
from collections.abc import Collection, Generator, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

from sqlalchemy import (
    JSON,
    ClauseElement,
    ColumnElement,
    SmallInteger,
    String,
    Text,
    and_,
    any_,
    bindparam,
    cast,
    exists,
    false,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    text,
    type_coerce,
)
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased
from sqlalchemy.sql.compiler import SQLCompiler

from app.store.models import Fact, Retraction
from dsl.facts.periods import Period


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


def _among(
    session: Session, column: InstrumentedAttribute[Any], values: Collection[str]
) -> Iterator[ColumnElement[bool]]:
    """`column` is one of `values`, as one condition per query to run.

    The whole set goes as one parameter, not IN lists of thousands of placeholders to bind,
    send, parse and plan: a JSON array, written by the json module in C. On PostgreSQL it is
    made an array there (`= ANY(ARRAY(SELECT json_array_elements_text(:ids)))`, an index scan
    as with an array parameter, whose values the driver escaped one by one in Python: 13 ms
    of CPU per 20,000 ids against under 1 ms); on SQLite `IN (SELECT value FROM
    json_each(:ids))`, which the planner reads as an IN list.
    """
    ordered = sorted(values)
    if not ordered:
        return
    listed = bindparam(None, json.dumps(ordered), type_=Text)
    if session.get_bind().dialect.name == "postgresql":
        array = select(func.json_array_elements_text(cast(listed, JSON))).scalar_subquery()
        yield column == any_(func.array(array))
        return
    yield column.in_(select(literal_column("value")).select_from(func.json_each(listed)))


def one_of(
    session: Session, column: InstrumentedAttribute[Any], values: Collection[str]
) -> ColumnElement[bool]:
    """`column` is one of `values` (false for none), as one condition."""
    conditions = list(_among(session, column, values))
    return or_(*conditions) if conditions else false()


def recorded(session: Session, ids: Collection[str]) -> dict[str, tuple[int, str]]:
    """seq and content digest of the facts with these client ids that are recorded."""
    out: dict[str, tuple[int, str]] = {}
    for among in _among(session, Fact.client_id, ids):
        q = select(Fact.client_id, Fact.seq, Fact.content_digest).where(among)
        out.update((c, (s, d)) for c, s, d in session.execute(q))
    return out


def targets(session: Session, ids: Collection[str]) -> dict[str, tuple[str, str, str | None]]:
    """type, subject and period (None for a dated fact) of the recorded facts with these ids."""
    out: dict[str, tuple[str, str, str | None]] = {}
    for among in _among(session, Fact.client_id, ids):
        q = select(Fact.client_id, Fact.type, Fact.subject, Fact.period).where(among)
        out.update((c, (t, s, p)) for c, t, s, p in session.execute(q))
    return out


def value_slots(
    session: Session, types: Collection[str], subjects: Collection[str], periods: Collection[str]
) -> dict[tuple[str, str, str], int]:
    """The highest `value_slot` taken among these types, subjects and periods, by key."""
    out: dict[tuple[str, str, str], int] = {}
    if not types:
        return out
    for name in sorted(periods):
        p = Period.parse(name)
        quarter = Fact.quarter.is_(None) if p.quarter is None else Fact.quarter == p.quarter
        for among in _among(session, Fact.subject, subjects):
            q = (
                select(Fact.type, Fact.subject, func.max(Fact.value_slot))
                .where(
                    Fact.year == p.year,
                    quarter,
                    Fact.type.in_(sorted(types)),
                    among,
                    Fact.period == name,
                    Fact.value_slot.is_not(None),
                )
                .group_by(Fact.type, Fact.subject)
            )
            out.update(((t, s, name), m) for t, s, m in session.execute(q) if m is not None)
    return out


def correctors(session: Session, ids: Collection[str]) -> dict[str, str]:
    """For each of these client ids already superseded, the id of the fact superseding it."""
    out: dict[str, str] = {}
    for among in _among(session, Fact.supersedes_id, ids):
        q = select(Fact.supersedes_id, Fact.client_id).where(among)
        out.update((str(t), c) for t, c in session.execute(q))
    return out


def live_period_values(
    session: Session, types: Collection[str], subjects: Collection[str], periods: Collection[str]
) -> dict[tuple[str, str, str], str]:
    """Live period values among these types, subjects and periods, by key, with their id.

    One query per period, so that its year and quarter (which a period value's row carries)
    lead the search in `ix_facts_year_quarter_type_subject`.
    """
    out: dict[tuple[str, str, str], str] = {}
    if not types:
        return out
    for name in sorted(periods):
        p = Period.parse(name)
        quarter = Fact.quarter.is_(None) if p.quarter is None else Fact.quarter == p.quarter
        for among in _among(session, Fact.subject, subjects):
            q = select(Fact.type, Fact.subject, Fact.client_id).where(
                Fact.year == p.year,
                quarter,
                Fact.type.in_(sorted(types)),
                among,
                Fact.period == name,
                live_clause(),
            )
            out.update(((t, s, name), c) for t, s, c in session.execute(q))
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
    Fact.year,
    Fact.quarter,
)
# The same without the content digests (NULL in their place): what scoring reads (64 bytes a
# fact the server need not send, nor the reader hash).
FACT_COLUMNS_NO_DIGEST = tuple(
    null().label("content_digest") if c is Fact.content_digest else c for c in FACT_COLUMNS
)


def refresh_statistics(session: Session) -> None:
    """Brings the query planner's statistics of `facts` up to date (after a bulk import).

    Without them SQLite reads a quarter through the index, one random row at a time, where a
    scan of the table in recording order is faster while the quarter is a large part of it.
    """
    session.execute(text("ANALYZE facts"))


def planned_whole(session: Session) -> None:
    """Plans the rest of the session's transaction for reading every row of a stream, not the
    first ones fast (PostgreSQL; nothing elsewhere).

    A server-side cursor is planned by default for its first tenth of rows
    (`cursor_tuple_fraction`): a few types of a whole year were then read by walking the year's
    partition in sequence order, every row filtered (0.48 s on the million-fact province), where
    the index on (year, quarter, type, subject) finds them in 30 ms. A quarter's every type is
    read as before (in sequence order, no sort: it is most of the partition's pages anyway)."""
    if session.connection().dialect.name == "postgresql":
        session.execute(text("SET LOCAL cursor_tuple_fraction = 1"))


def period_facts(
    session: Session,
    period: Period,
    types: Collection[str],
    to_date: bool = False,
    province: str | None = None,
    digests: bool = True,
) -> Iterator[tuple[Any, ...]]:
    """Every fact of these types that a period's evaluation reads, live or not, in recording
    order, as the driver's tuples of FACT_COLUMNS (`dead_facts` says which are not live).

    Liveness is left to the caller: as two anti-joins it more than tripled PostgreSQL's time
    (a hash of every fact's `supersedes_id`, then a sort that spilt to disk), while the facts
    that stopped counting are few enough to hold in two sets. With `to_date`, a quarter's
    evaluation also reads the quarters of its year before it (for caps per year). With
    `province`, only that province's facts (on PostgreSQL: its year's partition alone).

    Without `digests`, the content digest of each row is NULL (`FACT_COLUMNS_NO_DIGEST`), and
    on PostgreSQL the rows come in the order the server finds them, not in recording order:
    the caller puts them in order (`in_recording_order`). Sorted by the server, a quarter was
    read through the primary key's index, every row of its year visited (~20% more of the
    server's time than the quarter's rows found by the period's index).
    """
    ordered = digests or session.connection().dialect.name != "postgresql"
    if not ordered:
        planned_whole(session)  # every row is read: found by the index, not a walk of the year
    # With `to_date`, a cap per year: the quarters before this one are scored too.
    query = period_query(period, types, to_date, province, digests, ordered)
    return driver_stream(session, query)


def period_query(
    period: Period,
    types: Collection[str],
    to_date: bool = False,
    province: str | None = None,
    digests: bool = True,
    ordered: bool = True,
) -> ClauseElement:
    """The query of `period_facts` (sorted in recording order unless not `ordered`)."""
    clause = period_clause(period)
    if to_date and period.quarter is not None:
        clause = and_(Fact.year == period.year, Fact.quarter <= period.quarter)
    if province is not None:
        clause = and_(clause, Fact.province == province)
    columns = FACT_COLUMNS if digests else FACT_COLUMNS_NO_DIGEST
    q = select(*columns).where(clause, Fact.type.in_(sorted(types)))
    return q.order_by(Fact.seq) if ordered else q


def _inline_period_clause(period: Period) -> ColumnElement[bool]:
    """`period_clause` with the year and quarter written into the statement. As parameters,
    PostgreSQL may plan a prepared statement once for any period (psycopg prepares a statement
    run five times): a scan of the whole table that stops at the first row found, which reads
    every fact of a large database to find that a period has none."""
    year = literal(period.year, SmallInteger, literal_execute=True)
    if period.quarter is None:
        return Fact.year == year
    quarter = literal(period.quarter, SmallInteger, literal_execute=True)
    return and_(Fact.year == year, Fact.quarter == quarter)


def has_facts(session: Session, period: Period) -> bool:
    """True when any fact (live or not) belongs to the period."""
    q = select(exists().where(_inline_period_clause(period)))
    return bool(session.execute(q).scalar())


def periods_with_facts(session: Session, periods: Collection[Period]) -> set[Period]:
    """Which of `periods` any fact (live or not) belongs to, in one statement."""
    ordered = list(dict.fromkeys(periods))
    if not ordered:
        return set()
    checks = [exists().where(_inline_period_clause(p)) for p in ordered]
    row = session.execute(select(*checks)).one()
    return {p for p, got in zip(ordered, row, strict=True) if got}


def dead_facts(session: Session, province: str | None = None) -> tuple[set[str], set[int]]:
    """The client ids of the facts that something supersedes, and the seqs of retracted facts.

    Read before the facts themselves: a correction or retraction recorded in between is then
    either missed (the facts read are as they were before it) or read together with the fact
    it corrects, of which the engine keeps only the newer.
    """
    corrected = select(Fact.supersedes_id).where(Fact.supersedes_id.is_not(None))
    if province is not None:  # a province's corrections are of its own subjects' facts
        corrected = corrected.where(Fact.province == province)
    retracted = select(Retraction.fact_seq)
    return (
        {c for (c,) in driver_rows(session, corrected)},
        {s for (s,) in driver_rows(session, retracted)},
    )


STREAM_BATCH = 20_000  # rows fetched from the driver at a time


def driver_rows(session: Session, stmt: ClauseElement) -> list[tuple[Any, ...]]:
    """Runs a query on the driver's own cursor, in the session's transaction: rows are the
    driver's tuples, without SQLAlchemy's per-row processing (nor its result types)."""
    return [row for batch in _batches(session, stmt) for row in batch]


def driver_stream(
    session: Session, stmt: ClauseElement, size: int = STREAM_BATCH
) -> Generator[tuple[Any, ...]]:
    """`driver_rows` a batch at a time: a year's million rows are never all Python tuples at
    once (the caller reads them inside the session's transaction).

    On PostgreSQL the rows come through a server-side cursor (`DECLARE … CURSOR`, then
    `FETCH` a batch at a time): a client cursor receives the whole result before the first
    row is read, and libpq held a year's million rows (~370 MB per million facts) beside the
    facts being built from them. SQLite's cursor steps through the result as it is read.

    On PostgreSQL the next batch is fetched on a thread while the caller reads this one: the
    server finds the next rows (a quarter's are spread over its year's pages) while the facts
    are built from these, the driver waiting without the GIL. Nothing else may use the session
    while the rows are read (the caller only reads them)."""
    batches = _batches(session, stmt, size, server_side=True)
    if session.connection().dialect.name == "postgresql":
        batches = _ahead(batches)
    try:
        for batch in batches:
            yield from batch
    finally:
        batches.close()  # the cursor closed when the caller stops early


def _ahead(batches: Generator[Sequence[Any]]) -> Generator[Sequence[Any]]:
    """The batches, each fetched on a thread while the one before is read. Closed early, the
    fetch under way is waited for and the cursor closed on the caller's thread."""
    with ThreadPoolExecutor(1, thread_name_prefix="jixiao-fetch") as pool:
        pending = pool.submit(next, batches, None)
        try:
            while (batch := pending.result()) is not None:
                pending = pool.submit(next, batches, None)
                yield batch
        finally:
            wait([pending])
            batches.close()


def _batches(
    session: Session, stmt: ClauseElement, size: int = STREAM_BATCH, server_side: bool = False
) -> Generator[Sequence[Any]]:
    conn = session.connection()
    compiled = stmt.compile(dialect=conn.dialect)
    assert isinstance(compiled, SQLCompiler)
    state = compiled.construct_expanded_state()  # IN lists expanded for the driver
    params = {
        k: proc(v) if (proc := state.processors.get(k)) is not None else v
        for k, v in state.parameters.items()
    }
    args: Any = params if state.positiontup is None else [params[k] for k in state.positiontup]
    dbapi = conn.connection.dbapi_connection
    assert dbapi is not None
    if server_side and conn.dialect.name == "postgresql" and not dbapi.autocommit:
        # a cursor without hold lives in the session's transaction and closes with it (with
        # no transaction, as in `db.reading`, there is none to declare it in)
        cur = dbapi.cursor(name=f"jixiao_stream_{next(_cursor_ids)}")
    else:
        cur = dbapi.cursor()
    try:
        cur.execute(state.statement, args)
        while batch := cur.fetchmany(size):
            yield batch
    finally:
        cur.close()


_cursor_ids = itertools.count(1)
