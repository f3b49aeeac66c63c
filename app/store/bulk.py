"""Writing many fact rows fast: COPY on PostgreSQL, a plain executemany on SQLite.

The rows are the dictionaries `app.services.factcheck.fact_row` builds; values are converted
here exactly as the column types would (JSON with exact decimals, UTC timestamps).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC
from typing import Any

from sqlalchemy import Connection, Engine

from app import exactjson
from app.store.models import Fact

COLUMNS = (
    "client_id",
    "type",
    "subject",
    "date",
    "period",
    "year",
    "quarter",
    "data",
    "evidence",
    "supersedes_id",
    "content_digest",
    "recorded_by",
    "recorded_at",
    "value_slot",
)


# From this many rows on, SQLite writes faster without the secondary indexes of `facts`, built
# again once at the end (1M rows: ~3x less time inserting; building both takes ~3 s).
BULK_ROWS = 100_000


@contextmanager
def bulk_indexes(engine: Engine, rows: int) -> Iterator[None]:
    """Writing `rows` new facts on SQLite without the secondary indexes of `facts` (those that
    enforce nothing: lookups by period and by subject), each built again at the end, also when
    the writing fails. The chunks are still written one transaction each. Should the process
    be killed meanwhile, the facts written are there and readers find them (by a scan), and
    the next large write, or `restore_indexes`, builds the indexes again.
    """
    if engine.dialect.name != "sqlite" or rows < BULK_ROWS:
        yield
        return
    with engine.begin() as conn:
        for index in _secondary():
            index.drop(conn, checkfirst=True)
    try:
        yield
    finally:
        restore_indexes(engine)


def restore_indexes(engine: Engine) -> None:
    """Builds the secondary indexes of `facts` that are missing (none, as a rule)."""
    with engine.begin() as conn:
        for index in _secondary():
            index.create(conn, checkfirst=True)


def _secondary() -> list[Any]:
    table: Any = Fact.__table__
    return sorted((i for i in table.indexes if not i.unique), key=lambda i: str(i.name))


def insert_facts(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    """Inserts fact rows in the connection's transaction."""
    dbapi = conn.connection.driver_connection
    assert dbapi is not None
    texts: dict[int, str] = {}  # each data dict's JSON, by identity (rows share their data)

    def data_json(data: dict[str, Any]) -> str:
        text = texts.get(id(data))
        if text is None:
            text = texts[id(data)] = exactjson.dumps(data)
        return text

    if conn.dialect.name == "postgresql":
        cols = ", ".join(COLUMNS)
        with dbapi.cursor() as cur, cur.copy(f"COPY facts ({cols}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row(
                    [
                        *(r[c] for c in COLUMNS[:7]),
                        data_json(r["data"]),
                        *(r[c] for c in COLUMNS[8:-1]),
                        r.get("value_slot"),
                    ]
                )
        return
    marks = ", ".join("?" * len(COLUMNS))
    sql = f"INSERT INTO facts ({', '.join(COLUMNS)}) VALUES ({marks})"
    cur = dbapi.cursor()
    try:
        if len(rows) > 1000:
            # The indexes of a large batch are updated in place: their pages must stay in the
            # cache (SQLite's default keeps 2 MB), or each row reads and writes them again.
            cur.execute(f"PRAGMA cache_size = -{BULK_CACHE_KB}")
        cur.executemany(sql, map(_SqliteRows(data_json), rows))
    finally:
        cur.close()


BULK_CACHE_KB = 256 * 1024  # SQLite's page cache on a connection that wrote a large batch


class _SqliteRows:
    """Rows as SQLite takes them; dates and timestamps (shared by the rows of an import)
    converted once each."""

    def __init__(self, data_json: Callable[[dict[str, Any]], str]) -> None:
        self.data_json = data_json
        self.days: dict[Any, str | None] = {None: None}
        self.ats: dict[Any, str] = {}

    def __call__(self, r: dict[str, Any]) -> tuple[Any, ...]:
        day = self.days.get(r["date"])
        if day is None and r["date"] is not None:
            day = self.days[r["date"]] = r["date"].isoformat()
        at = self.ats.get(r["recorded_at"])
        if at is None:
            utc = r["recorded_at"].astimezone(UTC).replace(tzinfo=None)
            at = self.ats[r["recorded_at"]] = utc.isoformat(sep=" ")
        return (
            r["client_id"],
            r["type"],
            r["subject"],
            day,
            r["period"],
            r["year"],
            r["quarter"],
            self.data_json(r["data"]),
            r["evidence"],
            r["supersedes_id"],
            r["content_digest"],
            r["recorded_by"],
            at,
            r.get("value_slot"),
        )
