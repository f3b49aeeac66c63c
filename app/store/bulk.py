"""Writing many fact rows fast: COPY on PostgreSQL, a plain executemany on SQLite.

The rows are the dictionaries `app.services.factcheck.fact_row` builds; values are converted
here exactly as the column types would (JSON with exact decimals, UTC timestamps).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC
from typing import Any

from sqlalchemy import Connection

from app import exactjson

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
        cur.executemany(sql, [_sqlite_row(r, data_json) for r in rows])
    finally:
        cur.close()


def _sqlite_row(r: dict[str, Any], data_json: Callable[[dict[str, Any]], str]) -> tuple[Any, ...]:
    day = r["date"]
    at = r["recorded_at"].astimezone(UTC).replace(tzinfo=None)
    return (
        r["client_id"],
        r["type"],
        r["subject"],
        day.isoformat() if day is not None else None,
        r["period"],
        r["year"],
        r["quarter"],
        data_json(r["data"]),
        r["evidence"],
        r["supersedes_id"],
        r["content_digest"],
        r["recorded_by"],
        at.isoformat(sep=" "),
        r.get("value_slot"),
    )
