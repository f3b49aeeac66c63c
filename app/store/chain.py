"""Hash chains over the append-only tables: facts (by `seq`) and audit entries (by `id`).

Each row keeps the hash of the row before it (`prev_hash`) and its own (`row_hash`): sha256 of
the row's every column and `prev_hash`, so a row changed in place no longer hashes as it did,
and a row deleted or slipped in between breaks the link of the row after it. `chain_heads`
holds each chain's last row and hash: a writer locks that row before reading the last hash
(writers of one chain take turns, so the chain never forks), and a deleted last row shows as
a head naming a row that is gone.

The text hashed is fixed by `HASH_VERSION`: rows hashed once are verified against it for ever
(the migration that added the chains hashed the rows recorded before it with these functions).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, text

HASH_VERSION = "jx1"
GENESIS = "0" * 64
CHAINS = ("facts", "audit_entries")
_KEY = {"facts": "seq", "audit_entries": "id"}

# The columns each row hash covers, in order (`data` and `change` as their stored JSON text).
FACT_HASHED = (
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
)
ENTRY_HASHED = ("id", "at", "actor", "role", "request_id", "kind", "target", "change")

# Tables whose rows the database refuses to update or delete (see `append_only_ddl`).
APPEND_ONLY = ("facts", "retractions", "audit_entries")


@lru_cache(maxsize=4096)
def _timestamp(value: Any) -> Any:
    """A stored timestamp as fixed text, whichever way the driver returned it (SQLite: text
    without a zone, meaning UTC). Cached: the rows of a write share theirs."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        at = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value


_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_STAMPS = frozenset(("recorded_at", "at"))


def row_hash(prev: str, values: dict[str, Any], columns: tuple[str, ...]) -> str:
    """sha256 of the row's columns (in `columns` order) and the previous row's hash: the JSON
    array of a version tag, `prev`, then each column, dates as ISO text and timestamps as
    UTC with microseconds."""
    parts: list[Any] = [HASH_VERSION, prev]
    for c in columns:
        v = values[c]
        if c in _STAMPS:
            v = _timestamp(v)
        elif isinstance(v, date):
            v = v.isoformat()
        parts.append(v)
    return hashlib.sha256(_ENCODE(parts).encode()).hexdigest()


def fact_hash(prev: str, v: dict[str, Any]) -> str:
    """The row hash of a fact (`v` holds FACT_HASHED, `data` as its JSON text): `row_hash`
    over FACT_HASHED, spelt out (a million-fact import hashes a million rows)."""
    day = v["date"]
    parts = [
        HASH_VERSION,
        prev,
        v["seq"],
        v["client_id"],
        v["type"],
        v["subject"],
        day.isoformat() if isinstance(day, date) else day,
        v["period"],
        v["year"],
        v["quarter"],
        v["data"],
        v["evidence"],
        v["supersedes_id"],
        v["content_digest"],
        v["recorded_by"],
        _timestamp(v["recorded_at"]),
    ]
    return hashlib.sha256(_ENCODE(parts).encode()).hexdigest()


_ESCAPE = json.encoder.encode_basestring  # a str as JSON text, as `_ENCODE` writes it


class FactHasher:
    """`fact_hash` for many rows in a row, in a tight loop: the hashed text is put together
    from pieces written once (what rows share: their type, subject, date, period, year and
    quarter, their data, who recorded them and when) and the few written per row. The text
    is byte for byte the one `fact_hash` encodes (the tests compare the two on random rows)."""

    __slots__ = ("_data", "_subjects", "_tails", "_whens")

    def __init__(self) -> None:
        self._subjects: dict[tuple[str, str], str] = {}  # (type, subject) → their JSON
        self._whens: dict[tuple[Any, ...], str] = {}  # (date, period, year, quarter) → JSON
        self._data: dict[str, str] = {}  # data's JSON text → that text as a JSON string
        self._tails: dict[tuple[str, Any], str] = {}  # (recorded_by, recorded_at) → JSON

    def hashes(
        self,
        prev: str,
        first: int,
        rows: Sequence[tuple[Any, ...]],
        texts: Mapping[int, str] | None = None,
    ) -> list[str]:
        """The row hash of each row, numbered from `first` after the row hashed `prev`.

        A row is (client_id, type, subject, date (a date or None), period, year, quarter,
        data, evidence, supersedes_id, content_digest, recorded_by, recorded_at), then
        anything (`app.store.bulk.ROW` adds the value slot and province). `data` is its JSON
        text, or with `texts` the dict whose JSON text `texts` holds by the dict's id."""
        subjects, whens, datas, tails = self._subjects, self._whens, self._data, self._tails
        sha256, esc = hashlib.sha256, _ESCAPE
        out: list[str] = []
        append = out.append
        n = first
        for cid, typ, subj, day, period, year, quarter, data, ev, sup, digest, by, at, *_ in rows:
            if texts is not None:
                data = texts[id(data)]
            who = subjects.get((typ, subj))
            if who is None:
                who = subjects[(typ, subj)] = _ENCODE([typ, subj])[1:-1]
            when = whens.get((day, period, year, quarter))
            if when is None:
                iso = day.isoformat() if isinstance(day, date) else day
                when = whens[(day, period, year, quarter)] = _ENCODE([iso, period, year, quarter])[
                    1:-1
                ]
            text = datas.get(data)
            if text is None:
                text = datas[data] = str(esc(data))
            tail = tails.get((by, at))
            if tail is None:
                tail = tails[(by, at)] = _ENCODE([by, _timestamp(at)])[1:-1]
            prev = sha256(
                f'["{HASH_VERSION}","{prev}",{n},{esc(cid)},{who},{when},{text},'
                f"{'null' if ev is None else esc(ev)},{'null' if sup is None else esc(sup)},"
                f"{esc(digest)},{tail}]".encode()
            ).hexdigest()
            append(prev)
            n += 1
        if len(subjects) + len(whens) + len(datas) + len(tails) > 300_000:  # bounded
            subjects.clear()
            whens.clear()
            datas.clear()
            tails.clear()
        return out


def entry_hash(prev: str, values: dict[str, Any]) -> str:
    """The row hash of an audit entry (`values` holds ENTRY_HASHED, `change` as JSON text)."""
    return row_hash(prev, values, ENTRY_HASHED)


@dataclass(frozen=True)
class Head:
    """A chain's last row (0: none yet) and its hash."""

    last: int
    hash: str


def lock_head(conn: Connection, chain: str) -> Head:
    """Takes the chain's write turn (held to the end of the transaction) and returns the last
    row of the table, as it is, and its hash.

    The lock is an UPDATE of the chain's `chain_heads` row: a row lock on PostgreSQL, the
    database's write lock on SQLite (taken before anything is read, so no stale snapshot)."""
    got = conn.execute(
        text("UPDATE chain_heads SET last_id = last_id WHERE chain = :c"), {"c": chain}
    )
    if got.rowcount == 0:
        conn.execute(
            text("INSERT INTO chain_heads (chain, last_id, hash) VALUES (:c, 0, :h)"),
            {"c": chain, "h": GENESIS},
        )
    return head_now(conn, chain)


def head_now(conn: Connection, chain: str) -> Head:
    """The last row of the table and its hash, read without taking the chain's write turn
    (what a writer will likely find: see `app.store.bulk.hash_ahead`)."""
    key = _KEY[chain]
    row = conn.execute(
        text(f"SELECT {key}, row_hash FROM {chain} ORDER BY {key} DESC LIMIT 1")
    ).first()
    return Head(int(row[0]), str(row[1])) if row is not None else Head(0, GENESIS)


def move_head(conn: Connection, chain: str, head: Head) -> None:
    """Records the chain's new last row and hash (in the writer's transaction)."""
    conn.execute(
        text("UPDATE chain_heads SET last_id = :n, hash = :h WHERE chain = :c"),
        {"n": head.last, "h": head.hash, "c": chain},
    )
    if conn.dialect.name == "postgresql":
        # rows carry explicit numbers: keep the identity's sequence past them
        conn.execute(
            text(f"SELECT setval(pg_get_serial_sequence('{chain}', '{_KEY[chain]}'), :n)"),
            {"n": head.last},
        )


# ---- the database refuses UPDATE and DELETE ---------------------------------------------


PG_FUNCTION = """
CREATE OR REPLACE FUNCTION jixiao_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'jixiao: % rows are append-only (% refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END
$$
"""


def append_only_ddl(dialect: str, table: str) -> list[str]:
    """The statements creating the triggers that refuse UPDATE and DELETE on `table` (and
    TRUNCATE on PostgreSQL)."""
    if dialect == "postgresql":
        return [
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION jixiao_append_only()",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION jixiao_append_only()",
        ]
    return [
        f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} BEGIN "
        f"SELECT RAISE(ABORT, 'jixiao: {table} rows are append-only ({op} refused)'); END"
        for op in ("UPDATE", "DELETE")
    ]


def drop_append_only_ddl(dialect: str, table: str) -> list[str]:
    """The statements dropping `table`'s append-only triggers."""
    if dialect == "postgresql":
        return [
            f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
            f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}",
        ]
    return [f"DROP TRIGGER IF EXISTS {table}_no_{op} " for op in ("update", "delete")]
