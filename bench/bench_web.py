"""Times the web pages on the synthetic province in PostgreSQL, served by `jixiao serve`.

    python bench/generate.py --out bench/out/province      # 1,000,000 facts, once
    JIXIAO_TEST_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \\
        python bench/bench_web.py                          # --quick: a small province
    ... bench_web.py --schema province                     # imported once, kept for next time
    ... bench_web.py --schema province --only home,rankings -n 20   # only the pages named so

Loopback only, every request bounded by a timeout. Signs in with a reader's token as a
browser does (the sign-in form, then the session cookie), fills the caches once (the
quarters, the year and the traces the pages read), then times warm requests of the rankings
page of the 100 county bureaus, of subject pages (a county bureau, a department, a person), of
the home page with its latest warnings, the analysis pages (lost points, warnings and risk
grades, feedback reports) and the persons of a unit, each figure beside its 200 ms target;
then the downloads (workbooks, a PDF) against 2 s. Each figure: p50 and p95 of the wall time,
the server's CPU time per request (its processes' user + system time over the timed
requests) and the load average, since the machine may be shared.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from urllib.parse import quote

import httpx
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from bench_api import (  # noqa: E402
    TIMEOUT,
    load,
    pct,
    pg_schema,
    report,
    server,
    times,
)

from app.services import tokens  # noqa: E402  (bench_api puts the project on the path)

PERIOD = "2025Q1"
PAGES = {
    "rankings page, 100 county bureaus": f"/rankings/county_bureaus?period={PERIOD}",
    "subject page, a county bureau": f"/subjects/nanyue?period={PERIOD}",
    "subject page, a department": f"/subjects/hy-policy?period={PERIOD}",
    "subject page, a person": f"/subjects/nanyue-levy-1?period={PERIOD}",
    "home page (latest warnings)": "/",
    "lost points, 100 county bureaus": f"/analysis/lost-points?period={PERIOD}&scorecard=county",
    "lost points, departments": f"/analysis/lost-points?period={PERIOD}&scorecard=dept",
    "warnings and risk grades": f"/analysis/warnings?period={PERIOD}&as_of=2025-03-20",
    "feedback reports list": f"/reports?period={PERIOD}",
    "feedback report page, a county bureau": f"/reports/nanyue?period={PERIOD}",
    "persons of a county bureau": f"/units/nanyue/persons?period={PERIOD}",
}
# Files: timed, with their own target (the lost-points workbook is kept per evaluation; the
# others are made afresh on every request).
DOWNLOADS = {
    "ranking workbook, 100 county bureaus": f"/rankings/county_bureaus.xlsx?period={PERIOD}",
    "lost-points workbook, 100 county bureaus": (
        f"/analysis/lost-points.xlsx?period={PERIOD}&scorecard=county"
    ),
    "feedback report PDF, a county bureau": f"/reports/nanyue.pdf?period={PERIOD}",
}
DOWNLOAD_TARGET_MS = 2000
FILL_TIMEOUT = 900.0  # a cold fill scores whole periods: on a busy machine, minutes


@contextmanager
def kept_schema(base: str, schema: str, folder: Path) -> Iterator[str]:
    """The schema `schema` (created if need be), kept afterwards."""
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    admin.dispose()
    sep = "&" if "?" in base else "?"
    yield f"{base}{sep}options={quote(f'-csearch_path={schema}')}"


def reader_of(url: str) -> str | None:
    """A new reader's token when the schema already holds facts (None: import them first)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if not conn.execute(text("SELECT to_regclass('facts')")).scalar():
                return None
            if not conn.execute(text("SELECT 1 FROM facts LIMIT 1")).first():
                return None
        return tokens.create(engine, "reader", "bench reader", "bench")[1]
    finally:
        engine.dispose()


def sign_in(base: str, secret: str) -> httpx.Client:
    """A client holding a session cookie, signed in through the form."""
    c = httpx.Client(base_url=base, timeout=TIMEOUT)
    page = c.get("/login")
    page.raise_for_status()
    m = re.search(r'name="csrf" value="([^"]+)"', page.text)
    if m is None:
        raise SystemExit("no form token on the sign-in page")
    r = c.post("/login", data={"token": secret, "csrf": m.group(1), "next": "/"})
    if r.status_code != 303:
        raise SystemExit(f"sign-in answered {r.status_code}")
    return c


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(x) for x in (task / "children").read_text().split()]
        except OSError:
            continue
    return out


def server_cpu() -> float:
    """CPU seconds (user + system) used so far by the processes this script started (the
    server and its workers; not this script)."""
    total, todo = 0.0, _children(os.getpid())
    while todo:
        pid = todo.pop()
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        todo += _children(pid)
    return total


def timed(name: str, c: httpx.Client, path: str, n: int, target: float) -> None:
    """n warm requests: p50 and p95 wall, the server's CPU per request, the load."""
    cpu = server_cpu()
    ms = times(partial(c.get, path), n)
    per = (server_cpu() - cpu) * 1000 / n
    load = os.getloadavg()[0]
    print(
        f"{name}: p50 {pct(ms, 0.5):.1f} ms, p95 {pct(ms, 0.95):.1f} ms, "
        f"server CPU {per:.1f} ms/request, load {load:.1f}",
        flush=True,
    )
    report(f"{name}, p50 (warm)", pct(ms, 0.5), "ms", target)


def measure(base: str, reader: str, workers: int, n: int) -> None:
    """Cold fills, then warm p50/p95 of each page."""
    clients = [sign_in(base, reader) for _ in range(workers)]
    for name, path in {**PAGES, **DOWNLOADS}.items():
        t0 = time.perf_counter()
        for c in clients:  # each worker has its own cache: fill every one
            for _ in range(3 * workers):
                c.get(path, timeout=FILL_TIMEOUT).raise_for_status()
        print(f"fill ({name}): {time.perf_counter() - t0:.1f} s", flush=True)
    c = clients[0]
    for name, path in PAGES.items():
        timed(name, c, path, n, 200)
    for name, path in DOWNLOADS.items():
        timed(name, c, path, max(5, n // 10), DOWNLOAD_TARGET_MS)
    for c in clients:
        c.close()


def main(argv: list[str] | None = None) -> None:
    """Command line."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--quick", action="store_true", help="bench/out/quick instead")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--port", type=int, default=8498)
    ap.add_argument("-n", type=int, default=100, help="timed requests per page")
    ap.add_argument("--keep", action="store_true", help="keep the schema afterwards")
    ap.add_argument(
        "--schema",
        help="a schema of its own, kept: the province is imported the first time only "
        "(later runs sign in with a new reader's token)",
    )
    ap.add_argument(
        "--only", help="time only the pages and downloads whose name has one of these texts (a,b)"
    )
    a = ap.parse_args(argv)
    base = os.environ.get("JIXIAO_TEST_DATABASE_URL")
    if not base:
        raise SystemExit("set JIXIAO_TEST_DATABASE_URL to a PostgreSQL database")
    folder = ROOT / "bench" / "out" / ("quick" if a.quick else "province")
    lines = sum(1 for _ in (folder / "facts.jsonl").open("rb"))
    print(f"jixiao web bench: {folder.name} ({lines} facts), PostgreSQL, {a.workers} worker(s),")
    print(f"{os.cpu_count()} CPU(s), period {PERIOD}")
    if a.only:
        wanted = a.only.split(",")
        for table in (PAGES, DOWNLOADS):
            for name in [k for k in table if not any(w in k for w in wanted)]:
                del table[name]
    with kept_schema(base, a.schema, folder) if a.schema else pg_schema(base, a.keep) as url:
        reader = (a.schema and reader_of(url)) or load(url, folder)[0]
        with server(url, a.port, a.workers) as srv:
            t0, c0 = time.perf_counter(), time.process_time()
            measure(srv, reader, a.workers, a.n)
            print(
                f"bench client: {time.perf_counter() - t0:.1f} s wall, "
                f"{time.process_time() - c0:.1f} s CPU; load average {os.getloadavg()}"
            )


if __name__ == "__main__":
    main()
