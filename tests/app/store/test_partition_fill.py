"""An import whose rows go to a partition missing when it begins (PostgreSQL) fills that
partition as a table of its own, then attaches it (`app.store.partitions.fill_ddl`,
`attach_ddl`): the rows, numbers, hashes, chain head and audit entries, and the partition with
its indexes, constraints and triggers, are what the usual way (the partition made first, every
row copied into its indexes) records; a refused import leaves no table; a partition that is
there takes the usual way.

Each test imports into two fresh schemas: `fill` as it comes, `usual` with the partitions made
beforehand (an empty partition that is there takes the usual way), and compares them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, Text, cast, select, text
from sqlalchemy.orm import Session

from app.errors import Invalid
from app.services import facts as service
from app.services import trail
from app.services.facts import ImportResult, import_facts
from app.services.org import import_org
from app.store import bulk, chain, partitions
from app.store.db import make_engine, upgrade
from app.store.models import AuditEntry, ChainHead, Fact
from tests.app.conftest import pg_schema_url
from tests.app.util import USER, count_whole_writes, org_now, rules
from tests.conftest import PG_ENV, PG_SKIP_REASON, generator

pytestmark = pytest.mark.postgres

AT = datetime(2026, 3, 4, 5, 6, 7, 891011, tzinfo=UTC)
CHUNK = 400


class _Frozen(datetime):
    """`datetime` whose now is AT: both imports record the same times."""

    @classmethod
    def now(cls, tz: Any = None) -> Any:
        return AT


@pytest.fixture
def pair(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Engine, Engine]]:
    """Two empty, migrated PostgreSQL schemas (`fill`, `usual`), the import's clock frozen."""
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(PG_SKIP_REASON)
    monkeypatch.setattr(service, "datetime", _Frozen)
    schemas = [pg_schema_url(base), pg_schema_url(base)]
    engines = []
    try:
        for gen in schemas:
            url = next(gen)
            upgrade(url)
            engines.append(make_engine(url))
        yield engines[0], engines[1]
    finally:
        for engine in engines:
            engine.dispose()
        for gen in schemas:
            next(gen, None)


@pytest.fixture
def filled(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """The (province, year) of each partition filled as a table of its own."""
    made: list[tuple[str, int]] = []
    fill_ddl = partitions.fill_ddl

    def spy(province: str, year: int, have: Any) -> list[str]:
        made.append((province, year))
        return fill_ddl(province, year, have)

    monkeypatch.setattr(partitions, "fill_ddl", spy)
    return made


def _provinces(n: int, facts: int) -> tuple[dict[str, Any], list[list[dict[str, Any]]], list[str]]:
    """The organisation of `n` generated provinces (3 counties, 40 persons each), their 2025
    facts (corrections last) and their root units."""
    gen = generator()
    units: list[Any] = []
    persons: list[Any] = []
    rows: list[list[dict[str, Any]]] = []
    roots = []
    for i in range(n):
        org, facts_of = gen.prefixed(*gen.generate(3, 40, facts, 2025, 11 + i), f"p{i + 1}_")
        units += org["units"]
        persons += org["persons"]
        rows.append(facts_of)
        roots.append(next(u["id"] for u in org["units"] if u["parent"] is None))
    return {"units": units, "persons": persons}, rows, roots


def _of_year(rows: list[dict[str, Any]], year: int) -> list[dict[str, Any]]:
    """The same facts moved to another year, under other ids."""
    out = []
    for f in rows:
        g = {**f, "id": f"y{year}-{f['id']}"}
        for key in ("date", "period"):
            if key in g:
                g[key] = str(year) + g[key][4:]
        if "supersedes" in g:
            g["supersedes"] = f"y{year}-{g['supersedes']}"
        out.append(g)
    return out


def _file(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def _import(engine: Engine, path: Path, year: int = 2025) -> ImportResult:
    org, _ = org_now(engine)
    return import_facts(engine, path, rules(year).schema, org, USER, chunk=CHUNK)


def _make_first(engine: Engine, keys: list[tuple[str, int]]) -> None:
    """The partitions made beforehand, empty, as a writer makes them (`partitions.ensure`)."""
    with engine.begin() as conn:
        chain.lock_head(conn, "facts")
        partitions.ensure(conn, keys)


def _stored(engine: Engine) -> dict[str, Any]:
    """Every fact (by number), the chains' heads and the audit entries (but their times and
    hashes, which cover the times)."""
    t: Any = Fact.__table__
    cols = [cast(c, Text) if c.name == "data" else c for c in t.c]
    with Session(engine) as s:
        rows = [tuple(r) for r in s.execute(select(*cols).order_by(t.c.seq))]
        heads = sorted(tuple(r) for r in s.execute(select(ChainHead.chain, ChainHead.last_id)))
        facts_head = s.scalars(select(ChainHead.hash).where(ChainHead.chain == "facts")).one()
        a = AuditEntry
        q = select(a.actor, a.role, a.kind, a.target, a.change).order_by(a.id)
        entries = [tuple(r) for r in s.execute(q)]
    return {"rows": rows, "heads": heads, "facts head": facts_head, "entries": entries}


def _catalog(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """The partitions of `facts` in the schema: what they are, their bounds and parents,
    their columns, indexes (and the parent's index each is attached to), constraints and
    triggers, as PostgreSQL's catalogs say (schema names left out)."""
    queries = {
        "tables": """
            SELECT c.relname, c.relkind, pg_get_expr(c.relpartbound, c.oid), p.relname
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            LEFT JOIN pg_inherits i ON i.inhrelid = c.oid
            LEFT JOIN pg_class p ON p.oid = i.inhparent
            WHERE n.nspname = current_schema() AND c.relname LIKE 'facts%'
              AND c.relkind IN ('r', 'p')""",
        "columns": """
            SELECT c.relname, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod),
                   a.attnotnull, a.atthasdef, a.attidentity, a.attislocal, a.attinhcount,
                   pg_get_expr(d.adbin, d.adrelid)
            FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            WHERE n.nspname = current_schema() AND c.relname LIKE 'facts%'
              AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped""",
        "indexes": """
            SELECT x.tablename, x.indexname,
                   replace(x.indexdef, current_schema() || '.', ''), p.relname, ic.relkind
            FROM pg_indexes x JOIN pg_class ic
              ON ic.relname = x.indexname AND ic.relnamespace = to_regnamespace(x.schemaname)
            LEFT JOIN pg_inherits i ON i.inhrelid = ic.oid
            LEFT JOIN pg_class p ON p.oid = i.inhparent
            WHERE x.schemaname = current_schema() AND x.tablename LIKE 'facts%'""",
        "constraints": """
            SELECT c.relname, k.conname, k.contype, k.conislocal, k.coninhcount,
                   pg_get_constraintdef(k.oid), pk.conname
            FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            LEFT JOIN pg_constraint pk ON pk.oid = k.conparentid
            WHERE n.nspname = current_schema() AND c.relname LIKE 'facts%'""",
        "triggers": """
            SELECT c.relname, t.tgname, t.tgtype, t.tgenabled, pt.tgname
            FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            LEFT JOIN pg_trigger pt ON pt.oid = t.tgparentid
            WHERE n.nspname = current_schema() AND c.relname LIKE 'facts%'""",
    }
    with engine.connect() as conn:
        return {
            name: sorted(tuple(r) for r in conn.execute(text(sql))) for name, sql in queries.items()
        }


def _same(fill: Engine, usual: Engine, leaves: int) -> None:
    """Both schemas hold the same facts, chain, audit entries and partitions, every leaf
    partition with the six indexes of `facts`, each attached to the parent's."""
    assert _stored(fill) == _stored(usual)
    got = _catalog(fill)
    assert got == _catalog(usual)
    leaf = [r for r in got["tables"] if r[1] == "r" and r[0] != "facts"]
    assert len(leaf) == leaves and all(r[3] is not None for r in leaf)  # attached
    for name, *_ in leaf:
        indexes = [r for r in got["indexes"] if r[0] == name]
        assert len(indexes) == 6 and all(r[3] is not None for r in indexes), indexes
        assert not [r for r in got["constraints"] if r[0] == name and r[1].endswith("_bounds")]
    assert trail.verify(fill).ok


def test_a_new_province_filled_then_attached_is_what_the_usual_way_records(
    pair: tuple[Engine, Engine], filled: list[tuple[str, int]], tmp_path: Path
) -> None:
    fill, usual = pair
    org, [rows], [root] = _provinces(1, 3000)
    path = _file(tmp_path / "facts.jsonl", rows)
    for engine in pair:
        import_org(engine, org, "org.json", USER)
    _make_first(usual, [(root, 2025)])
    got = [_import(engine, path) for engine in pair]
    assert filled == [(root, 2025)]  # the fill schema's alone
    assert got[0].added == got[1].added == len(rows) > 5 * CHUNK
    _same(fill, usual, leaves=1)


def test_a_new_year_of_a_province_is_attached_to_its_province(
    pair: tuple[Engine, Engine], filled: list[tuple[str, int]], tmp_path: Path
) -> None:
    """The province's partition is there (its 2025): the year's table alone is filled."""
    fill, usual = pair
    org, [rows], [root] = _provinces(1, 2000)
    later = _of_year(rows, 2026)
    for engine in pair:
        import_org(engine, org, "org.json", USER)
    _make_first(usual, [(root, 2025), (root, 2026)])
    for engine in pair:
        _import(engine, _file(tmp_path / "2025.jsonl", rows))
        assert _import(engine, _file(tmp_path / "2026.jsonl", later), 2026).added == len(later)
    assert filled == [(root, 2025), (root, 2026)]
    _same(fill, usual, leaves=2)


def test_a_later_chunk_for_another_partition_attaches_the_filled_one_first(
    pair: tuple[Engine, Engine], filled: list[tuple[str, int]], tmp_path: Path
) -> None:
    """Chunks for the new partition, then chunks mixing its rows with another province's
    (whose partition is made the usual way once the check is over): the filled table is
    attached before any other row is written."""
    fill, usual = pair
    org, (first, second), roots = _provinces(2, 1500)
    mixed = [r for pair_ in zip(first[1000:], second, strict=False) for r in pair_]
    rows = first[:1000] + mixed + second[len(first) - 1000 :]
    path = _file(tmp_path / "facts.jsonl", rows)
    for engine in pair:
        import_org(engine, org, "org.json", USER)
    _make_first(usual, [(roots[0], 2025), (roots[1], 2025)])
    got = [_import(engine, path) for engine in pair]
    assert filled == [(roots[0], 2025)]
    assert got[0].added == got[1].added == len(first) + len(second)
    _same(fill, usual, leaves=2)


def test_a_second_import_into_the_year_takes_the_usual_way(
    pair: tuple[Engine, Engine], filled: list[tuple[str, int]], tmp_path: Path
) -> None:
    """The year's partition holds the first import's rows: the second is copied into it as
    before (its corrections supersede facts of the first), and a third changes nothing."""
    fill, usual = pair
    org, [rows], [root] = _provinces(1, 3000)
    assert rows[-1].get("supersedes")  # corrections come last
    first = _file(tmp_path / "first.jsonl", rows[:2000])
    second = _file(tmp_path / "second.jsonl", rows[2000:])
    for engine in pair:
        import_org(engine, org, "org.json", USER)
    _make_first(usual, [(root, 2025)])
    for engine in pair:
        assert _import(engine, first).added == 2000
        assert _import(engine, second).added == len(rows) - 2000
        again = _import(engine, second)
        assert (again.added, again.unchanged) == (0, len(rows) - 2000)
    assert filled == [(root, 2025)]  # the fill schema's first import alone
    _same(fill, usual, leaves=1)


def _tables(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        q = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1"
        return [str(r[0]) for r in conn.execute(text(q))]


def test_a_refused_import_leaves_no_partition_or_table_behind(
    pair: tuple[Engine, Engine],
    filled: list[tuple[str, int]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A fact in the last chunk refused (an id given twice) refuses the import after the
    chunks before it were copied into the new table: neither the table nor the province's
    partition stays."""
    fill, _ = pair
    written = count_whole_writes(monkeypatch)
    org, [rows], [root] = _provinces(1, 2000)
    bad = {**rows[1], "id": rows[0]["id"]}  # the first fact's id, another's content
    import_org(fill, org, "org.json", USER)
    tables = _tables(fill)
    before = _stored(fill)
    with pytest.raises(Invalid):
        _import(fill, _file(tmp_path / "facts.jsonl", [*rows, bad]))
    assert filled == [(root, 2025)] and sum(written) >= len(rows) - CHUNK
    assert _tables(fill) == tables
    with fill.connect() as conn:
        assert partitions.existing(conn) == set()
    assert _stored(fill) == before
    got = _import(fill, _file(tmp_path / "facts.jsonl", rows))  # then the same file, mended
    assert got.added == len(rows)
    assert filled == [(root, 2025)] * 2


def test_copy_sends_each_column_as_its_type(pair: tuple[Engine, Engine]) -> None:
    """COPY's binary format sends each column as `bulk.PG_TYPES` says: the column's own type
    (`data`, JSON, as text, which the binary input of `json` reads as it is)."""
    names = {
        "int8": "bigint",
        "int4": "integer",
        "int2": "smallint",
        "varchar": "character varying",
        "timestamptz": "timestamp with time zone",
    }
    with pair[0].connect() as conn:
        q = (
            "SELECT attname, format_type(atttypid, NULL) FROM pg_attribute "
            "WHERE attrelid = 'facts'::regclass AND attnum > 0 AND NOT attisdropped"
        )
        types = {str(n): str(t) for n, t in conn.execute(text(q))}
    assert len(bulk.COLUMNS) == len(bulk.PG_TYPES) == len(types)
    for column, sent in zip(bulk.COLUMNS, bulk.PG_TYPES, strict=True):
        expected = "json" if column == "data" else names.get(sent, sent)
        assert types[column] == expected, column
