"""Times the audit trail's hash chains: what chaining adds to writing facts, and verifying.

    python bench/bench_trail.py                 # 200,000 facts, SQLite (and PostgreSQL if set)
    python bench/bench_trail.py --facts 50000

Writes generated fact rows (the shape `app.services.factcheck.fact_row` builds) in chunks of
20,000 through `app.services.facts.write_rows` (numbered and hashed onto the chain, one audit
entry a chunk) into a fresh database, then runs `trail.verify` over it. Prints the time of
hashing the rows alone (what the chain adds to a write), of the writes, and of verify.
PostgreSQL runs when JIXIAO_BENCH_DATABASE_URL or JIXIAO_TEST_DATABASE_URL names a server
(in a schema of its own, dropped after).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.services import trail  # noqa: E402
from app.services.facts import write_rows  # noqa: E402
from app.store import chain  # noqa: E402
from app.store.db import make_engine, upgrade  # noqa: E402

CHUNK = 20_000


def rows(n: int) -> list[dict[str, Any]]:
    """n fact rows of a few kinds, as the checker hands them to the writer."""
    at = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    datas = [{"value": Decimal(f"{90 + i % 10}.5")} for i in range(10)] + [
        {"step": s} for s in ("identify", "analyze", "dispatch")
    ]
    out = []
    for i in range(n):
        day = date(2025, 1, 1) + timedelta(days=i % 365)
        out.append(
            {
                "client_id": f"b{i}",
                "type": "risk_step",
                "subject": f"unit-{i % 100}",
                "date": day,
                "period": None,
                "year": 2025,
                "quarter": (day.month + 2) // 3,
                "data": datas[i % len(datas)],
                "evidence": None,
                "supersedes_id": None,
                "content_digest": f"{i:064x}",
                "recorded_by": "bench",
                "recorded_at": at,
            }
        )
    return out


def hashing_alone(facts: list[dict[str, Any]]) -> float:
    """Seconds to hash the rows onto a chain, as the writer does (data to JSON included)."""
    from app import exactjson

    start = time.perf_counter()
    prev = chain.GENESIS
    texts: dict[int, str] = {}
    for n, r in enumerate(facts, 1):
        data = texts.get(id(r["data"]))
        if data is None:
            data = texts[id(r["data"])] = exactjson.dumps(r["data"])
        prev = chain.fact_hash(prev, {**r, "seq": n, "data": data})
    return time.perf_counter() - start


def run(name: str, url: str, facts: list[dict[str, Any]]) -> None:
    upgrade(url)
    engine = make_engine(url)
    start = time.perf_counter()
    for i in range(0, len(facts), CHUNK):
        write_rows(engine, facts[i : i + CHUNK], "facts.import", "bench")
    written = time.perf_counter() - start
    start = time.perf_counter()
    got = trail.verify(engine)
    verified = time.perf_counter() - start
    assert got.ok, got.problems
    print(f"{name}: write {len(facts):,} facts (chained, {got.rows['audit_entries']} entries): "
          f"{written:.2f} s; verify: {verified:.2f} s")  # fmt: skip
    engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--facts", type=int, default=200_000)
    a = ap.parse_args()
    facts = rows(a.facts)
    print(f"hash {a.facts:,} rows alone: {hashing_alone(facts):.2f} s")
    with tempfile.TemporaryDirectory() as tmp:
        run("SQLite", f"sqlite:///{tmp}/bench.db", facts)
    base = os.environ.get("JIXIAO_BENCH_DATABASE_URL") or os.environ.get("JIXIAO_TEST_DATABASE_URL")
    if base:
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        admin = create_engine(base, poolclass=NullPool)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            sep = "&" if "?" in base else "?"
            run("PostgreSQL", f"{base}{sep}options=-csearch_path%3D{schema}", facts)
        finally:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


if __name__ == "__main__":
    main()
