"""Times the HTTP API on the synthetic province in PostgreSQL, served by uvicorn with 2 workers.

    python bench/generate.py --out bench/out/province      # 1,000,000 facts, once
    JIXIAO_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        python bench/bench_api.py                          # --quick: a small province

Loopback only, every request bounded by a timeout. The province is imported into a schema of
its own (dropped after unless --keep), the service is started as a subprocess, and the script
prints each figure beside its target: a warm-cache score read of one subject (p50/p95), a
subject's explanation (p95, warm), posting a batch of 10,000 facts, and the next full-ranking
read after one new fact of the period.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from urllib.parse import quote

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.services import tokens  # noqa: E402
from app.services.facts import import_facts  # noqa: E402
from app.services.org import import_org, org_at  # noqa: E402
from app.store.db import make_engine, upgrade  # noqa: E402
from dsl.compile.compiler import compile_path  # noqa: E402

TIMEOUT = 120.0
PERIOD = "2025Q1"


@contextmanager
def pg_schema(base: str, keep: bool) -> Iterator[str]:
    """A fresh schema on the PostgreSQL database at `base`."""
    schema = f"bench_api_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        if not keep:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def load(url: str, folder: Path) -> tuple[str, str]:
    """Imports the province; returns a reader's and a recorder's token."""
    upgrade(url)
    engine = make_engine(url)
    compiled = compile_path(ROOT / "rules" / "2025")
    raw = json.loads((folder / "org.json").read_text(encoding="utf-8"))
    import_org(engine, raw, "bench", "bench")
    with Session(engine) as session:
        org, _ = org_at(session, date.max, closed=True)
    t0 = time.perf_counter()
    got = import_facts(engine, folder / "facts.jsonl", compiled.schema, org, "bench")
    print(f"imported {got.added} facts in {time.perf_counter() - t0:.1f} s", flush=True)
    reader = tokens.create(engine, "reader", "bench reader", "bench")[1]
    recorder = tokens.create(engine, "recorder", "bench recorder", "bench")[1]
    engine.dispose()
    return reader, recorder


@contextmanager
def server(url: str, port: int, workers: int) -> Iterator[str]:
    """`jixiao serve` on 127.0.0.1 (uvicorn) with the database at `url`."""
    env = {**os.environ, "JIXIAO_DATABASE_URL": url, "JIXIAO_RULES": str(ROOT / "rules")}
    env.pop("JIXIAO_DEMO", None)
    cmd = [sys.executable, "-m", "app.cli", "serve", "--rules", str(ROOT / "rules")]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    cmd += ["--log-level", "warning", "--no-access-log"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        else:
            raise SystemExit("the server did not come up")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def times(fn: Callable[[], httpx.Response], n: int) -> list[float]:
    """Wall times (ms) of n calls; each must answer 2xx."""
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        r = fn()
        out.append((time.perf_counter() - t0) * 1000)
        r.raise_for_status()
    return out


def pct(xs: list[float], q: float) -> float:
    """The q-quantile (0..1) of xs."""
    return statistics.quantiles(xs, n=100, method="inclusive")[round(q * 100) - 1]


def warm_all(base: str, headers: dict[str, str], path: str, workers: int) -> None:
    """Fresh connections until every worker has filled its cache (answers are fast)."""
    fast = 0
    for _ in range(40 * workers):
        t0 = time.perf_counter()
        httpx.get(base + path, headers=headers, timeout=TIMEOUT).raise_for_status()
        fast = fast + 1 if time.perf_counter() - t0 < 0.2 else 0
        if fast >= 6 * workers:
            return


def report(name: str, value: float, unit: str, target: float) -> None:
    """One figure beside its target."""
    verdict = "ok" if value < target else "OVER"
    print(f"{name:<52} {value:9.1f} {unit:<3} (target < {target:g} {unit}) {verdict}", flush=True)


def measure(base: str, reader: str, recorder: str, workers: int) -> None:
    """The four figures."""
    rh = {"Authorization": f"Bearer {reader}"}
    wh = {"Authorization": f"Bearer {recorder}"}
    subjects = ["nanyue", "hengshan", "hy-policy", "nanyue-levy-1"]
    one = f"/v1/scores/nanyue?period={PERIOD}"
    t0 = time.perf_counter()
    httpx.get(base + one, headers=rh, timeout=TIMEOUT).raise_for_status()
    print(f"first read (cold cache, one worker): {time.perf_counter() - t0:.2f} s")
    warm_all(base, rh, one, workers)
    with httpx.Client(base_url=base, headers=rh, timeout=TIMEOUT) as c:
        ms = times(lambda: c.get(f"/v1/scores/{subjects[0]}?period={PERIOD}"), 300)
        print(f"warm one-subject read: p50 {pct(ms, 0.5):.1f} ms")
        report("warm-cache score read, one subject, p95", pct(ms, 0.95), "ms", 20)
    warm_all(base, rh, f"/v1/explanations/nanyue?period={PERIOD}", workers)
    with httpx.Client(base_url=base, headers=rh, timeout=TIMEOUT) as c:
        ms = []
        for s in subjects:

            def explain(s: str = s) -> httpx.Response:
                return c.get(f"/v1/explanations/{s}?period={PERIOD}")

            ms += times(explain, 50)
        report("explanation of a subject, p95 (warm)", pct(ms, 0.95), "ms", 100)
    batch = [
        {
            "id": f"bench-{uuid.uuid4().hex[:8]}-{i}",
            "type": "work_item",
            "subject": "nanyue-levy-1",
            "date": "2025-05-06",
            "data": {"points": 1, "quality": "normal"},
        }
        for i in range(10_000)
    ]
    with httpx.Client(base_url=base, headers=wh, timeout=TIMEOUT) as c:
        t0 = time.perf_counter()
        r = c.post("/v1/facts", json=batch)
        r.raise_for_status()
        report("posting a batch of 10,000 facts", (time.perf_counter() - t0), "s", 3)
    ranking = f"/v1/rankings/county_bureaus?period={PERIOD}"
    warm_all(base, rh, ranking, workers)
    fact = {
        "id": f"bench-one-{uuid.uuid4().hex[:8]}",
        "type": "overdue_document",
        "subject": "nanyue",
        "date": "2025-02-03",
    }
    httpx.post(f"{base}/v1/facts", json=[fact], headers=wh, timeout=TIMEOUT).raise_for_status()
    with httpx.Client(base_url=base, headers=rh, timeout=TIMEOUT) as c:
        t0 = time.perf_counter()
        r = c.get(ranking)
        r.raise_for_status()
        report("full-ranking read after one new fact", time.perf_counter() - t0, "s", 4)
        t0 = time.perf_counter()
        c.get(f"/v1/scores?period={PERIOD}").raise_for_status()
        print(f"then every subject's results (same worker, warm): {time.perf_counter() - t0:.3f} s")


def main(argv: list[str] | None = None) -> None:
    """Command line."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--quick", action="store_true", help="bench/out/quick instead")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--port", type=int, default=8799)
    ap.add_argument("--keep", action="store_true", help="keep the schema afterwards")
    a = ap.parse_args(argv)
    base = os.environ.get("JIXIAO_TEST_DATABASE_URL")
    if not base:
        raise SystemExit("set JIXIAO_TEST_DATABASE_URL to a PostgreSQL database")
    folder = ROOT / "bench" / "out" / ("quick" if a.quick else "province")
    lines = sum(1 for _ in (folder / "facts.jsonl").open("rb"))
    print(f"jixiao API bench: {folder.name} ({lines} facts), PostgreSQL, {a.workers} workers, ")
    print(f"{os.cpu_count()} CPU(s), period {PERIOD}")
    with pg_schema(base, a.keep) as url:
        reader, recorder = load(url, folder)
        with server(url, a.port, a.workers) as srv:
            measure(srv, reader, recorder, a.workers)


if __name__ == "__main__":
    main()
