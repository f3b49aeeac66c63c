"""Writing many fact rows fast: COPY on PostgreSQL, a plain executemany on SQLite.

The rows are tuples in `ROW` order (`app.services.factcheck` builds them; `insert_facts` takes
the dictionaries `fact_row` builds); values are converted here exactly as the column types
would (JSON with exact decimals, UTC timestamps). Each row is
numbered and hashed onto the facts' chain (`app.store.chain`) while the chain is locked.
`value_slot` (one live value per period, `app.services.facts`) is stored but not hashed: it is
derived from the facts before it, and the database's unique index keeps it honest.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Engine, inspect

from app import exactjson
from app.store import chain, partitions
from app.store.models import Fact

# The columns a row hash covers (`app.store.chain`), then the chain's, the live-value slot and
# the partition (`province`).
COLUMNS = (*chain.FACT_HASHED, "prev_hash", "row_hash", "value_slot", "province")


# The PostgreSQL type each of COLUMNS is sent as, in COPY's binary format: what the driver
# formats and the server reads with the least work (a million rows: ~1.7 s less of the
# client's CPU than the text format, ~0.6 s less of the server's). `data` is its JSON text,
# which the binary input of `json` takes as it is.
PG_TYPES = (
    *("int8", "varchar", "varchar", "varchar", "date", "varchar", "int2", "int2", "text"),
    *("text", "varchar", "varchar", "varchar", "timestamptz", "varchar", "varchar", "int4"),
    "varchar",
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
    """Builds the secondary indexes of `facts` that are missing (none, as a rule).

    On SQLite with the page cache of a connection that wrote a large batch put back to the
    default first: sorting a million keys to build an index took twice the CPU time with the
    large cache (in memory) as with the default one (merged from sorted runs)."""
    with engine.begin() as conn:
        missing = [i for i in _secondary() if not _exists(conn, i)]
        if not missing:
            return
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            cache = conn.exec_driver_sql("PRAGMA cache_size").scalar()
            conn.exec_driver_sql(f"PRAGMA cache_size = {SORT_CACHE}")
        try:
            for index in missing:
                index.create(conn)
        finally:
            if sqlite:
                conn.exec_driver_sql(f"PRAGMA cache_size = {int(cache or SORT_CACHE)}")


SORT_CACHE = -2000  # SQLite's default page cache (2 MB), for building an index


def _exists(conn: Connection, index: Any) -> bool:
    return bool(inspect(conn).has_index(str(index.table.name), str(index.name)))


def _secondary() -> list[Any]:
    table: Any = Fact.__table__
    return sorted((i for i in table.indexes if not i.unique), key=lambda i: str(i.name))


# A fact row as the writer takes it: `app.services.factcheck` builds these tuples (a dict
# row, `fact_row`, holds the same values under these keys). `data` is the data dict (rows of
# one import share a few dozen), `date` a date or None, `recorded_at` an aware datetime.
ROW = (*chain.FACT_HASHED[1:], "value_slot", "province")
Row = tuple[Any, ...]
ID, TYPE, SUBJECT, DATE, PERIOD, YEAR, QUARTER, DATA, EVIDENCE, SUPERSEDES, DIGEST, BY, AT = range(
    13
)
SLOT, PROVINCE = 13, 14


def as_row(r: Mapping[str, Any]) -> Row:
    """The tuple of a dict row (`value_slot` and `province` may be left out)."""
    hashed = tuple(r[k] for k in ROW[:SLOT])
    return (*hashed, r.get("value_slot"), r.get("province", ""))


def as_dict(row: Row) -> dict[str, Any]:
    """The dict row of a tuple (`fact_row`'s shape)."""
    return dict(zip(ROW, row, strict=True))


def insert_facts(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> tuple[int, chain.Head]:
    """`insert_rows` for dict rows (`app.services.factcheck.fact_row`)."""
    return insert_rows(conn, [as_row(r) for r in rows])


# The hasher keeps what rows share (type and subject, dates, data, recorder) from one write
# to the next: the chunks of an import meet the same few thousand again (its caches are bounded).
_HASHER = chain.FactHasher()


@dataclass(frozen=True)
class Hashed:
    """Rows hashed ahead (`hash_ahead`) onto the chain as it would be after `after`."""

    after: chain.Head
    texts: dict[int, str]
    hashes: list[str]

    def head(self) -> chain.Head:
        """The chain's head after these rows."""
        last = self.after.last + len(self.hashes)
        return chain.Head(last, self.hashes[-1] if self.hashes else self.after.hash)


def hash_ahead(rows: Sequence[Row], after: chain.Head, hasher: chain.FactHasher) -> Hashed:
    """Hashes rows before their write takes the chain's lock, as if the chain's head were
    `after` then: `insert_rows` takes the hashes when it is, and hashes again when not."""
    texts = _data_texts(rows)
    return Hashed(after, texts, hasher.hashes(after.hash, after.last + 1, rows, texts))


def append_rows(
    conn: Connection, rows: Sequence[Row], after: chain.Head, table: str, ahead: Hashed | None
) -> chain.Head:
    """`insert_rows` for a writer that holds the facts chain's lock in its transaction, knows
    the chain's head (`after`: what it wrote last) and that the rows' partition (`table`) is
    there: the rows are numbered, hashed (unless `ahead`) and copied, without asking the
    database again; the writer records the chain's new head (returned) by `chain.move_head`
    before it commits. A million-fact import saves ~10 round trips a chunk, each a wait for
    the server and for the interpreter's lock. `insert_rows` ends here too."""
    first = after.last + 1
    if ahead is not None and ahead.after == after and len(ahead.hashes) == len(rows):
        texts, hashes = ahead.texts, ahead.hashes
    else:
        texts = _data_texts(rows)
        hashes = _HASHER.hashes(after.hash, first, rows, texts)
    _insert(conn, first, rows, texts, after.hash, hashes, table)
    return chain.Head(first + len(rows) - 1, hashes[-1] if hashes else after.hash)


def insert_rows(
    conn: Connection, rows: Sequence[Row], ahead: Hashed | None = None
) -> tuple[int, chain.Head]:
    """Inserts fact rows (`ROW` tuples) in the connection's transaction, numbered and hashed
    onto the chain; returns the first number given and the chain's new head.

    Each data dict is written as JSON once (rows share their data); the rows are hashed in
    one tight loop (`chain.FactHasher`), unless hashed `ahead` onto the head found under the
    lock, and handed to the driver as tuples."""
    head = chain.lock_head(conn, "facts")
    table = "facts"
    if conn.dialect.name == "postgresql":
        # the partitions of partitioned facts the rows need, made under the lock
        keys = {(str(r[PROVINCE]), int(r[YEAR])) for r in rows}
        partitions.ensure(conn, keys)
        if len(keys) == 1 and partitions.is_partitioned(conn):
            # straight into their partition: PostgreSQL checks each row against the
            # partition's bounds instead of finding its partition (~1 s of the server's CPU
            # in a million rows)
            table = partitions.names(*next(iter(keys)))[1]
    first = head.last + 1
    new = append_rows(conn, rows, head, table, ahead)
    chain.move_head(conn, "facts", new)
    return first, new


def _data_texts(rows: Sequence[Row]) -> dict[int, str]:
    """Each data dict's JSON, by identity (the rows keep the dicts alive meanwhile)."""
    texts: dict[int, str] = {}
    dumps = exactjson.dumps
    for r in rows:
        d = r[DATA]
        if id(d) not in texts:
            texts[id(d)] = dumps(d)
    return texts


def _insert(
    conn: Connection,
    first: int,
    rows: Sequence[Row],
    texts: dict[int, str],
    prev: str,
    hashes: list[str],
    table: str = "facts",
) -> None:
    """Writes the numbered rows, the first after the row hashed `prev` (on PostgreSQL into
    `table`: `facts` or the partition they all go to)."""
    dbapi = conn.connection.driver_connection
    assert dbapi is not None
    prevs = [prev, *hashes[:-1]]
    numbered = zip(range(first, first + len(rows)), rows, prevs, hashes, strict=True)
    if conn.dialect.name == "postgresql":
        cols = ", ".join(COLUMNS)
        sql = f"COPY {table} ({cols}) FROM STDIN (FORMAT BINARY)"
        with dbapi.cursor() as cur, cur.copy(sql) as copy:
            copy.set_types(PG_TYPES)
            write = copy.write_row
            for n, v, p, h in numbered:
                write((n, *v[:7], texts[id(v[7])], *v[8:13], p, h, v[13], v[14]))
        return
    marks = ", ".join("?" * len(COLUMNS))
    sql = f"INSERT INTO facts ({', '.join(COLUMNS)}) VALUES ({marks})"
    days: dict[Any, str | None] = {None: None}
    cur = dbapi.cursor()
    try:
        if len(rows) > 1000:
            # The indexes of a large batch are updated in place: their pages must stay in the
            # cache (SQLite's default keeps 2 MB), or each row reads and writes them again.
            cur.execute(f"PRAGMA cache_size = -{BULK_CACHE_KB}")
        out: list[tuple[Any, ...]] = []
        append = out.append
        for n, v, p, h in numbered:  # dates and times as the columns keep them (text)
            day = v[3]
            iso = days.get(day, _NONE)
            if iso is _NONE:
                iso = days[day] = day.isoformat()
            append((n, v[0], v[1], v[2], iso, v[4], v[5], v[6], texts[id(v[7])], v[8], v[9],
                    v[10], v[11], _sqlite_time(v[12]), p, h, v[13], v[14]))  # fmt: skip
        cur.executemany(sql, out)
    finally:
        cur.close()


_NONE: Any = object()


@lru_cache(maxsize=64)
def _sqlite_time(at: datetime) -> str:
    """A timestamp as SQLite's column keeps it (UTC, no zone); the rows of a write share it."""
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")


BULK_CACHE_KB = 256 * 1024  # SQLite's page cache on a connection that wrote a large batch
