"""Facts partitioned by province, then year, on PostgreSQL (declarative partitioning).

`facts` is `PARTITION BY LIST (province)`; each province's partition is `PARTITION BY RANGE
(year)`, one partition a year: `facts_p_<h>` and `facts_p_<h>_y<year>`, where `<h>` is the
first 12 hex digits of the province id's sha256 (ids are free text, partition names are not).
A province's quarter is read from its year's partition alone (partition pruning: the query
names `province` and `year`). SQLite keeps one table with the same columns.

Partitions are made when a (province, year) is first written (`ensure`, called by
`app.store.bulk.insert_facts` while it holds the facts chain's lock); an import whose rows go
to a partition not there yet fills it as a table of its own and attaches it at the end
(`fill_ddl`, `attach_ddl`, `app.services.facts._WholeWrite`). PostgreSQL asks each
unique index of a partitioned table to include the partition keys: `client_id` and
`supersedes_id` are unique per (province, year) there, and the writer checks them across
partitions under the chain's lock
(`app.services.facts.record_rows`); the foreign keys into `facts` (a retraction's fact, a
correction's fact) are checked by the services (docs/scale.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable

from sqlalchemy import Connection, text

PARENT = "facts"

# The constraints and indexes of the partitioned table (each includes the partition keys).
PG_KEYS = [
    "ALTER TABLE facts ADD CONSTRAINT pk_facts PRIMARY KEY (seq, province, year)",
    "ALTER TABLE facts ADD CONSTRAINT uq_facts_client_id UNIQUE (client_id, province, year)",
    "ALTER TABLE facts ADD CONSTRAINT uq_facts_supersedes_id "
    "UNIQUE (supersedes_id, province, year)",
    "CREATE UNIQUE INDEX uq_facts_live_value_slot ON facts "
    "(type, subject, period, value_slot, province, year) WHERE value_slot IS NOT NULL",
    "CREATE INDEX ix_facts_year_quarter_type_subject ON facts (year, quarter, type, subject)",
    "CREATE INDEX ix_facts_subject_seq ON facts (subject, seq)",
]


def suffix(province: str) -> str:
    """The part of a province's partition names that stands for the province."""
    return hashlib.sha256(province.encode()).hexdigest()[:12]


def names(province: str, year: int) -> tuple[str, str]:
    """The names of a province's partition and of its year's partition."""
    top = f"{PARENT}_p_{suffix(province)}"
    return top, f"{top}_y{year}"


def is_partitioned(conn: Connection) -> bool:
    """True when `facts` is a partitioned table (PostgreSQL after migration 0007)."""
    if conn.dialect.name != "postgresql":
        return False
    kind = conn.execute(
        text("SELECT relkind FROM pg_class WHERE oid = to_regclass(:t)"), {"t": PARENT}
    ).scalar()
    return kind == "p"


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def existing(conn: Connection) -> set[str]:
    """The names of the partitions of `facts` (both levels)."""
    rows = conn.execute(
        text(
            "WITH RECURSIVE tree(oid) AS ("
            " SELECT inhrelid FROM pg_inherits WHERE inhparent = to_regclass(:t)"
            " UNION ALL SELECT i.inhrelid FROM pg_inherits i JOIN tree ON i.inhparent = tree.oid)"
            " SELECT c.relname FROM tree JOIN pg_class c ON c.oid = tree.oid"
        ),
        {"t": PARENT},
    )
    return {str(r[0]) for r in rows}


def create_ddl(province: str, year: int, have: Collection[str]) -> list[str]:
    """The statements making the partitions of (province, year) that `have` lacks."""
    top, leaf = names(province, year)
    out = []
    if top not in have:
        out.append(
            f"CREATE TABLE {top} PARTITION OF {PARENT} FOR VALUES IN ({_literal(province)}) "
            "PARTITION BY RANGE (year)"
        )
    if leaf not in have:
        out.append(
            f"CREATE TABLE {leaf} PARTITION OF {top} FOR VALUES FROM ({year}) TO ({year + 1})"
        )
    return out


def ensure(conn: Connection, keys: Iterable[tuple[str, int]]) -> int:
    """Makes the partitions missing for these (province, year) pairs, in the connection's
    transaction; returns how many were made (none on SQLite or an unpartitioned table)."""
    wanted = sorted(set(keys))
    if not wanted or not is_partitioned(conn):
        return 0
    have = existing(conn)
    made = 0
    for province, year in wanted:
        for stmt in create_ddl(province, year, have):
            conn.execute(text(stmt))
            made += 1
        have.update(names(province, year))
    return made


def partition_of(conn: Connection, province: str, year: int) -> str | None:
    """The leaf partition holding a province's year (None when unpartitioned or not made)."""
    if not is_partitioned(conn):
        return None
    leaf = names(province, year)[1]
    return leaf if leaf in existing(conn) else None


# ---- a new partition filled as a table of its own, then attached ----------------------------


def fill_ddl(province: str, year: int, have: Collection[str]) -> list[str]:
    """The statements making the partitions of (province, year) that `have` lacks as tables of
    their own, not attached yet: no index but the columns, defaults and checks of `facts`, and
    on the year's table a check that its rows are the partition's, which lets `attach_ddl`
    skip the scan that would verify them. Rows copied into it maintain no index; attaching it
    builds every index of `facts` on it once, from the rows sorted (a million inserts into the
    B-trees of the random-order keys cost more than half the server's CPU of an import).

    Made in the importing transaction: they take no lock on `facts` that readers would wait
    for (`create_ddl`'s `PARTITION OF` takes an exclusive one), and a refused import leaves
    nothing."""
    top, leaf = names(province, year)
    like = f"(LIKE {PARENT} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
    out = []
    if top not in have:
        out.append(f"CREATE TABLE {top} {like} PARTITION BY RANGE (year)")
    out += [
        f"CREATE TABLE {leaf} {like}",
        f"ALTER TABLE {leaf} ADD CONSTRAINT {leaf}_bounds CHECK "
        f"(province = {_literal(province)} AND year >= {year} AND year < {year + 1})",
    ]
    return out


def attach_ddl(province: str, year: int, top_made: bool) -> list[str]:
    """The statements attaching what `fill_ddl` made (`top_made`: the province's partition
    too): the year's table to the province's, that one to `facts` when it is new. PostgreSQL
    builds each index of the parent on the attached table (named, and attached to the parent's
    index, as `PARTITION OF` does) and finds the partition's bounds implied by the check,
    which is dropped after: the partition is then what `create_ddl` makes, with its rows."""
    top, leaf = names(province, year)
    out = [f"ALTER TABLE {top} ATTACH PARTITION {leaf} FOR VALUES FROM ({year}) TO ({year + 1})"]
    if top_made:
        bound = _literal(province)
        out.append(f"ALTER TABLE {PARENT} ATTACH PARTITION {top} FOR VALUES IN ({bound})")
    out.append(f"ALTER TABLE {leaf} DROP CONSTRAINT {leaf}_bounds")
    return out
