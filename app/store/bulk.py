"""Writing many fact rows fast: COPY on PostgreSQL, a plain executemany on SQLite.

The rows are the dictionaries `app.services.factcheck.fact_row` builds; values are converted
here exactly as the column types would (JSON with exact decimals, UTC timestamps). Each row is
numbered and hashed onto the facts' chain (`app.store.chain`) while the chain is locked.
`value_slot` (one live value per period, `app.services.facts`) is stored but not hashed: it is
derived from the facts before it, and the database's unique index keeps it honest.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection

from app import exactjson
from app.store import chain

COLUMNS = (
    "seq",
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
    "prev_hash",
    "row_hash",
    "value_slot",
)


def insert_facts(conn: Connection, rows: Sequence[dict[str, Any]]) -> tuple[int, chain.Head]:
    """Inserts fact rows in the connection's transaction, numbered and hashed onto the chain;
    returns the first number given and the chain's new head."""
    head = chain.lock_head(conn, "facts")
    first = head.last + 1
    prev = head.hash
    chained: list[dict[str, Any]] = []
    texts: dict[int, str] = {}  # each data dict's JSON, by identity (rows share their data)
    for n, r in enumerate(rows, first):
        data = texts.get(id(r["data"]))
        if data is None:
            data = texts[id(r["data"])] = exactjson.dumps(r["data"])
        row = {**r, "seq": n, "data": data, "prev_hash": prev, "value_slot": r.get("value_slot")}
        prev = row["row_hash"] = chain.fact_hash(prev, row)
        chained.append(row)
    _insert(conn, chained)
    new = chain.Head(first + len(rows) - 1, prev)
    chain.move_head(conn, "facts", new)
    return first, new


def _insert(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    dbapi = conn.connection.driver_connection
    assert dbapi is not None
    if conn.dialect.name == "postgresql":
        cols = ", ".join(COLUMNS)
        with dbapi.cursor() as cur, cur.copy(f"COPY facts ({cols}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row([r[c] for c in COLUMNS])
        return
    marks = ", ".join("?" * len(COLUMNS))
    sql = f"INSERT INTO facts ({', '.join(COLUMNS)}) VALUES ({marks})"
    cur = dbapi.cursor()
    try:
        cur.executemany(sql, [_sqlite_row(r) for r in rows])
    finally:
        cur.close()


def _sqlite_row(r: dict[str, Any]) -> tuple[Any, ...]:
    day = r["date"]
    return (
        r["seq"],
        r["client_id"],
        r["type"],
        r["subject"],
        day.isoformat() if day is not None else None,
        r["period"],
        r["year"],
        r["quarter"],
        r["data"],
        r["evidence"],
        r["supersedes_id"],
        r["content_digest"],
        r["recorded_by"],
        _sqlite_time(r["recorded_at"]),
        r["prev_hash"],
        r["row_hash"],
        r["value_slot"],
    )


@lru_cache(maxsize=64)
def _sqlite_time(at: datetime) -> str:
    """A timestamp as SQLite's column keeps it (UTC, no zone); the rows of a write share it."""
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
