"""Writing many fact rows fast: COPY on PostgreSQL, a plain executemany on SQLite.

The rows are the dictionaries `app.services.factcheck.fact_row` builds; values are converted
here exactly as the column types would (JSON with exact decimals, UTC timestamps). Each row is
numbered and hashed onto the facts' chain (`app.store.chain`) while the chain is locked.
`value_slot` (one live value per period, `app.services.facts`) is stored but not hashed: it is
derived from the facts before it, and the database's unique index keeps it honest.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Engine

from app import exactjson
from app.store import chain, partitions
from app.store.models import Fact

# The columns a row hash covers (`app.store.chain`), then the chain's, the live-value slot and
# the partition (`province`).
COLUMNS = (*chain.FACT_HASHED, "prev_hash", "row_hash", "value_slot", "province")


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


def insert_facts(conn: Connection, rows: Sequence[dict[str, Any]]) -> tuple[int, chain.Head]:
    """Inserts fact rows in the connection's transaction, numbered and hashed onto the chain;
    returns the first number given and the chain's new head.

    The rows become tuples once (each data dict written as JSON once: rows share their data),
    hashed in one tight loop (`chain.FactHasher`) and handed to the driver as they are."""
    head = chain.lock_head(conn, "facts")
    # PostgreSQL's partitioned facts: the partitions the rows need, made under the lock
    partitions.ensure(conn, {(str(r.get("province", "")), int(r["year"])) for r in rows})
    first = head.last + 1
    values = _values(rows)
    hashes = chain.FactHasher().hashes(head.hash, first, values)
    prevs = [head.hash, *hashes[:-1]]
    unhashed = [(r.get("value_slot"), r.get("province", "")) for r in rows]
    _insert(conn, first, values, prevs, hashes, unhashed)
    new = chain.Head(first + len(rows) - 1, hashes[-1] if hashes else head.hash)
    chain.move_head(conn, "facts", new)
    return first, new


def _values(rows: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Each row's hashed columns after `seq` (`chain.FactHasher`'s tuples), `data` as JSON."""
    texts: dict[int, str] = {}  # each data dict's JSON, by identity (rows share their data)
    out: list[tuple[Any, ...]] = []
    append, dumps = out.append, exactjson.dumps
    for r in rows:
        d = r["data"]
        data = texts.get(id(d))
        if data is None:
            data = texts[id(d)] = dumps(d)
        append((r["client_id"], r["type"], r["subject"], r["date"], r["period"], r["year"],
                r["quarter"], data, r["evidence"], r["supersedes_id"], r["content_digest"],
                r["recorded_by"], r["recorded_at"]))  # fmt: skip
    return out


def _insert(
    conn: Connection,
    first: int,
    values: list[tuple[Any, ...]],
    prevs: list[str],
    hashes: list[str],
    unhashed: list[tuple[int | None, str]],
) -> None:
    """Writes the numbered rows; `unhashed` is each row's value slot and province."""
    dbapi = conn.connection.driver_connection
    assert dbapi is not None
    numbered = zip(range(first, first + len(values)), values, prevs, hashes, unhashed, strict=True)
    if conn.dialect.name == "postgresql":
        cols = ", ".join(COLUMNS)
        with dbapi.cursor() as cur, cur.copy(f"COPY facts ({cols}) FROM STDIN") as copy:
            write = copy.write_row
            for n, v, prev, h, (slot, province) in numbered:
                write((n, *v, prev, h, slot, province))
        return
    marks = ", ".join("?" * len(COLUMNS))
    sql = f"INSERT INTO facts ({', '.join(COLUMNS)}) VALUES ({marks})"
    days: dict[Any, str] = {}
    cur = dbapi.cursor()
    try:
        if len(values) > 1000:
            # The indexes of a large batch are updated in place: their pages must stay in the
            # cache (SQLite's default keeps 2 MB), or each row reads and writes them again.
            cur.execute(f"PRAGMA cache_size = -{BULK_CACHE_KB}")
        out: list[tuple[Any, ...]] = []
        for n, v, prev, h, (slot, province) in numbered:  # v: `_values`' tuple; date, time as text
            day = v[3]
            iso = days.get(day)
            if iso is None and day is not None:
                iso = days[day] = day.isoformat()
            out.append((n, *v[:3], iso, *v[4:12], _sqlite_time(v[12]), prev, h, slot, province))
        cur.executemany(sql, out)
    finally:
        cur.close()


@lru_cache(maxsize=64)
def _sqlite_time(at: datetime) -> str:
    """A timestamp as SQLite's column keeps it (UTC, no zone); the rows of a write share it."""
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")


BULK_CACHE_KB = 256 * 1024  # SQLite's page cache on a connection that wrote a large batch
