"""Times the evaluation cycle's steps and what approval costs a score read, in process on
SQLite (or PostgreSQL with --pg URL), on the random-2025 example (~1,000 facts):

    python bench/bench_cycle.py [--reads 300] [--pg postgresql+psycopg://postgres@127.0.0.1:5432/test]

Prints: publish, an appeal, a ruling with one correction (its effect computed), approval; and
the p50/p95 of a warm one-subject score read before and after approval (an approved read also
looks up the period's cycle, and is answered from the approved receipt replayed once).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.main import create_app  # noqa: E402
from app.services import tokens  # noqa: E402
from app.settings import Settings  # noqa: E402
from app.store.db import upgrade  # noqa: E402

EXAMPLE = ROOT / "tests" / "examples" / "random-2025"


def _timed(fn: Callable[[], httpx.Response]) -> tuple[float, httpx.Response]:
    t = time.perf_counter()
    r = fn()
    return time.perf_counter() - t, r


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--reads", type=int, default=300)
    ap.add_argument("--pg", help="a PostgreSQL URL (a schema of its own is made and dropped)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        schema = None
        if args.pg:
            schema = f"bench_cycle_{uuid.uuid4().hex[:8]}"
            admin = create_engine(args.pg)
            with admin.begin() as c:
                c.execute(text(f'CREATE SCHEMA "{schema}"'))
            url = f"{args.pg}?options=-csearch_path%3D{schema}"
        else:
            url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        try:
            upgrade(url)
            run(url, args.reads)
        finally:
            if schema is not None:
                with admin.begin() as c:
                    c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                admin.dispose()
    return 0


def run(url: str, reads: int) -> None:
    app = create_app(Settings(database_url=url, rules_dir=ROOT / "rules"))
    _, secret = tokens.create(app.state.services.engine, "admin", "bench", "bench")
    headers = {"Authorization": f"Bearer {secret}"}

    async def go() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://b", headers=headers
        ) as c:

            async def call(method: str, path: str, **kw: Any) -> tuple[float, httpx.Response]:
                t = time.perf_counter()
                r = await c.request(method, path, **kw)
                assert r.status_code < 300, r.text
                return time.perf_counter() - t, r

            org = json.loads((EXAMPLE / "org.json").read_text(encoding="utf-8"))
            facts = [
                json.loads(x)
                for x in (EXAMPLE / "facts.jsonl").read_text("utf-8").splitlines()
                if x.strip()
            ]
            await call("PUT", "/v1/org", json=org)
            await call("POST", "/v1/facts", json=facts)
            q = {"ruleset": "2025"}
            scores = await call("GET", "/v1/scores", params={"period": "2025Q1"})
            subject = next(
                r["subject"] for r in scores[1].json()["results"] if r["scorecard"] == "county"
            )
            _, ex = await call("GET", f"/v1/explanations/{subject}", params={"period": "2025Q1"})
            cited = [i for t in ex.json()["results"][0]["trace"] for i in t.get("facts", [])]
            first = {"id": cited[0]}

            async def reads_p(label: str) -> None:
                times = []
                for _ in range(reads):
                    t, _r = await call("GET", f"/v1/scores/{subject}", params={"period": "2025Q1"})
                    times.append(t * 1000)
                times.sort()
                p95 = times[int(len(times) * 0.95) - 1]
                p50 = statistics.median(times)
                print(
                    f"score read {label:<9} p50 {p50:6.2f} ms  p95 {p95:6.2f} ms  ({reads} reads)"
                )

            sizes = f"{len(facts)} facts, {len(org['units'])} units, {len(org['persons'])} persons"
            print(f"{sizes}; {url.split(':')[0]}")
            await reads_p("live")
            t, _ = await call("POST", "/v1/cycles/2025Q1/publish", params=q)
            print(f"publish            {t * 1000:8.1f} ms")
            body = {
                "ruleset": "2025",
                "period": "2025Q1",
                "subject": subject,
                "facts": [first["id"]],
                "reason": "bench",
            }
            t, r = await call("POST", "/v1/appeals", json=body)
            print(f"file an appeal     {t * 1000:8.1f} ms")
            ruling = {
                "decision": "upheld",
                "reason": "bench",
                "corrections": [{"retract": first["id"]}],
            }
            t, r = await call("POST", f"/v1/appeals/{r.json()['id']}/ruling", json=ruling)
            moved = len(r.json()["ruling"]["effect"])
            print(f"ruling (1 retraction, effect on {moved} subjects) {t * 1000:8.1f} ms")
            t, _ = await call("POST", "/v1/cycles/2025Q1/approve", params=q)
            print(f"approve            {t * 1000:8.1f} ms")
            t, _ = await call("GET", f"/v1/scores/{subject}", params={"period": "2025Q1"})
            print(f"first approved read (replays the receipt) {t * 1000:8.1f} ms")
            await reads_p("approved")

    asyncio.run(go())
    app.state.services.engine.dispose()


if __name__ == "__main__":
    raise SystemExit(main())
