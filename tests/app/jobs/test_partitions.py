"""Facts by province: migration 0007 keeps the data both ways, PostgreSQL partitions by
province and year, and a province's period reads its own partition alone."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import Engine, inspect, text

from app.services import facts as fact_service
from app.services import trail
from app.services.registry import Registry
from app.services.scoring import score
from app.store import partitions, repository
from app.store.db import downgrade, make_engine, upgrade
from dsl.engine.report import results_json
from dsl.facts.periods import Period
from tests.app.jobs.conftest import RULES, Province, load_nation


def _rows(engine: Engine, province: bool = True) -> list[tuple[Any, ...]]:
    cols = "seq, client_id, row_hash" + (", province" if province else "")
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(f"SELECT {cols} FROM facts ORDER BY seq"))]


def _relkind(engine: Engine) -> str | None:
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as conn:
        kind = conn.execute(text("SELECT relkind FROM pg_class WHERE oid = 'facts'::regclass"))
        return str(kind.scalar())


def test_migration_keeps_the_facts_down_and_up(db_url: str, provinces: list[Province]) -> None:
    engine = make_engine(db_url)
    registry = Registry(engine, RULES, "test")
    registry.reload()
    load_nation(engine, registry, provinces)
    victim = _rows(engine)[5][1]
    fact_service.retract(engine, victim, "test", "recorded twice")
    compiled = registry.resolve("2025").compiled
    root = provinces[0].root
    ev_before, _ = score(engine, compiled, Period.parse("2025Q1"), province=root)
    before = _rows(engine)
    # every fact is under the root of its subject's tree: the generated ids say which
    assert {p for *_, p in before} == {p.root for p in provinces}
    assert all(cid.split("_")[0] == p.split("_")[0] for _, cid, _, p in before)
    assert _relkind(engine) in (None, "p")
    engine.dispose()

    downgrade(db_url, "0006")
    engine = make_engine(db_url)
    assert "province" not in {c["name"] for c in inspect(engine).get_columns("facts")}
    assert _rows(engine, province=False) == [r[:3] for r in before]
    assert _relkind(engine) in (None, "r")
    engine.dispose()

    upgrade(db_url)
    engine = make_engine(db_url)
    assert _rows(engine) == before
    assert _relkind(engine) in (None, "p")
    assert trail.verify(engine).ok
    registry = Registry(engine, RULES, "test")
    registry.reload()
    ev_after, _ = score(engine, compiled, Period.parse("2025Q1"), province=root)
    assert results_json(ev_after) == results_json(ev_before)
    with pytest.raises(Exception, match="already retracted"):
        fact_service.retract(engine, victim, "test", "again")
    engine.dispose()


@pytest.mark.postgres
def test_a_province_quarter_reads_its_partition_alone(
    pg_url: str, provinces: list[Province]
) -> None:
    from tests.app.conftest import pg_schema_url

    schema = pg_schema_url(pg_url)
    url = next(schema)
    try:
        upgrade(url)
        engine = make_engine(url)
        registry = Registry(engine, RULES, "test")
        registry.reload()
        load_nation(engine, registry, provinces)
        compiled = registry.resolve("2025").compiled
        with engine.connect() as conn:
            have = partitions.existing(conn)
            for p in provinces:
                assert set(partitions.names(p.root, 2025)) <= have
            for p in provinces:
                q = repository.period_query(
                    Period.parse("2025Q1"), compiled.schema.types, province=p.root
                )
                sql = q.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True})
                plan = "\n".join(r[0] for r in conn.execute(text(f"EXPLAIN {sql}")))
                scanned = set(re.findall(r"facts_p_[0-9a-f]{12}(?:_y\d{4})?", plan))
                assert scanned == {partitions.names(p.root, 2025)[1]}, plan
        engine.dispose()
    finally:
        next(schema, None)
