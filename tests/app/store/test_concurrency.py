"""Several processes posting facts at once to PostgreSQL lose none and share no sequence number."""

from __future__ import annotations

import multiprocessing as mp

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from app.services.facts import record_facts
from app.store.db import make_engine
from app.store.models import Fact
from tests.app.util import load_example, org_now, rules

WORKERS = 6
BATCHES = 10
PER_BATCH = 20


def _post(url: str, worker: int) -> int:
    engine = make_engine(url)
    compiled = rules(2025)
    org, _ = org_now(engine)
    added = 0
    for b in range(BATCHES):
        facts = [
            {
                "id": f"w{worker}-{b}-{i}",
                "type": "overdue_document",
                "subject": "hengshan",
                "date": f"2025-0{1 + i % 9}-1{i % 10}",
            }
            for i in range(PER_BATCH)
        ]
        added += record_facts(engine, facts, compiled.schema, org, f"w{worker}", "post").added
    engine.dispose()
    return added


@pytest.mark.postgres
def test_concurrent_posts_lose_nothing(engine: Engine, db_url: str) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the concurrency test is for PostgreSQL")
    load_example(engine, "handworked", rules(2025))
    with Session(engine) as s:
        before = s.execute(select(func.count(Fact.seq))).scalar_one()
    with mp.get_context("spawn").Pool(WORKERS) as pool:
        added = pool.starmap(_post, [(db_url, w) for w in range(WORKERS)])
    assert added == [BATCHES * PER_BATCH] * WORKERS
    with Session(engine) as s:
        count, distinct = s.execute(
            select(func.count(Fact.seq), func.count(func.distinct(Fact.seq)))
        ).one()
        posted = s.execute(select(func.count()).where(Fact.recorded_by.like("w%"))).scalar_one()
    assert count == distinct == before + WORKERS * BATCHES * PER_BATCH
    assert posted == WORKERS * BATCHES * PER_BATCH
