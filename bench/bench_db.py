"""Times the database on a generated province and prints each figure beside its target.

    python bench/generate.py --out bench/out/province      # 1,000,000 facts, once
    python bench/bench_db.py                                # SQLite, and PostgreSQL if set
    python bench/bench_db.py --quick                        # a small province

PostgreSQL runs when JIXIAO_TEST_DATABASE_URL is set (in a schema of its own, dropped after).
Figures: importing the facts file (checked whole, then written in chunks), importing it again
(nothing changes), scoring one quarter from the database (loading included) against scoring
the same facts already in memory, and whether both give the same results.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.db import make_engine, upgrade  # noqa: E402
from app.services.facts import import_facts  # noqa: E402
from app.services.org import import_org, org_at  # noqa: E402
from app.services.scoring import load_period  # noqa: E402
from dsl.compiled import CompiledRuleset  # noqa: E402
from dsl.compiler import compile_path  # noqa: E402
from dsl.engine import evaluate  # noqa: E402
from dsl.inputs import load_inputs  # noqa: E402
from dsl.periods import Period  # noqa: E402
from dsl.report import results_json  # noqa: E402

T = TypeVar("T")
SIZES = {"province": "bench/out/province", "quick": "bench/out/quick"}


def timed(fn: Callable[[], T], repeat: int = 1) -> tuple[float, T]:
    """The best wall time of `repeat` runs, and the last result."""
    best = float("inf")
    out: T
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


@contextmanager
def sqlite_db() -> Iterator[str]:
    """A fresh SQLite file."""
    with tempfile.TemporaryDirectory() as tmp:
        yield f"sqlite:///{Path(tmp) / 'bench.db'}"


@contextmanager
def postgres_db(base: str) -> Iterator[str]:
    """A fresh schema on the PostgreSQL database at `base`."""
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        sep = "&" if "?" in base else "?"
        yield f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def score_db(engine: Engine, compiled: CompiledRuleset, period: Period) -> object:
    """Loads the period from the database and scores it."""
    with Session(engine) as session, session.begin():
        inputs = load_period(session, compiled, period)
    return results_json(evaluate(compiled, inputs.org, inputs.facts, period))


def run(name: str, url: str, folder: Path, period: Period, memory_s: float, want: object) -> None:
    """Prints one database's figures."""
    compiled = compile_path(ROOT / "rules" / "2025")
    upgrade(url)
    engine = make_engine(url)
    raw = json.loads((folder / "org.json").read_text(encoding="utf-8"))
    import_org(engine, raw, str(folder / "org.json"), "bench")
    with Session(engine) as session:
        org, _ = org_at(session, date.max, closed=True)
    facts = folder / "facts.jsonl"
    t_import, got = timed(lambda: import_facts(engine, facts, compiled.schema, org, "bench"))
    print(
        f"  {name}: import {got.added:,} facts{'':<22} {t_import:8.2f} s   < 60 s "
        f"{'PASS' if t_import < 60 else 'MISS'}"
    )
    t_again, again = timed(lambda: import_facts(engine, facts, compiled.schema, org, "bench"))
    print(
        f"  {name}: import again ({again.added} added, {again.unchanged:,} unchanged) "
        f"{t_again:8.2f} s"
    )
    t_db, results = timed(lambda: score_db(engine, compiled, period), repeat=3)
    ratio = t_db / memory_s
    print(
        f"  {name}: score {period} from the database{'':<12} {t_db:8.2f} s   "
        f"{ratio:.2f}x memory (< 2x {'PASS' if ratio < 2 else 'MISS'})"
    )
    print(f"  {name}: same results as from memory: {results == want}")
    engine.dispose()


def from_memory(folder: Path, period: Period) -> tuple[float, object]:
    """The time to score the period with the file's facts already in memory, and the results."""
    compiled = compile_path(ROOT / "rules" / "2025")
    inputs = load_inputs(compiled, folder / "org.json", folder / "facts.jsonl")
    print(f"province {folder}: {len(inputs.facts):,} facts, {len(inputs.org.persons)} persons")
    t_mem, ev = timed(lambda: evaluate(compiled, inputs.org, inputs.facts, period), repeat=3)
    print(f"  memory: score {period} with the facts in memory{'':<5} {t_mem:8.2f} s")
    return t_mem, results_json(ev)


def main(argv: list[str] | None = None) -> None:
    """Runs the benchmark on SQLite and, when configured, PostgreSQL."""
    ap = argparse.ArgumentParser(description="Database benchmark on a synthetic province.")
    ap.add_argument("--quick", action="store_true", help="the small province")
    ap.add_argument("--dir", type=Path, help="a province folder (org.json, facts.jsonl)")
    ap.add_argument("--period", default="2025Q1")
    ap.add_argument("--only", choices=("sqlite", "postgres"))
    a = ap.parse_args(argv)
    folder = a.dir or ROOT / SIZES["quick" if a.quick else "province"]
    if not (folder / "facts.jsonl").exists():
        sys.exit(f"no {folder}/facts.jsonl: run bench/generate.py --out {folder} first")
    period = Period.parse(a.period)
    t_mem, want = from_memory(folder, period)
    if a.only in (None, "sqlite"):
        with sqlite_db() as url:
            run("sqlite", url, folder, period, t_mem, want)
    pg = os.environ.get("JIXIAO_TEST_DATABASE_URL")
    if a.only in (None, "postgres") and pg:
        with postgres_db(pg) as url:
            run("postgres", url, folder, period, t_mem, want)
    elif a.only is None:
        print("  postgres: skipped (set JIXIAO_TEST_DATABASE_URL)")


if __name__ == "__main__":
    main()
