"""Times the analysis on a generated province in a database and prints each figure beside its
target: lost points of a quarter for every county bureau and department (cold: nothing in the
score cache; warm: asked again), the province's warnings as of a day inside an open quarter,
and every organisational feedback report of a quarter as PDF.

    python bench/generate.py --out bench/out/province      # 1,000,000 facts, once
    python bench/bench_analysis.py                          # imports it into a fresh database
    python bench/bench_analysis.py --url URL --no-import    # a database imported before
    python bench/bench_analysis.py --quick                  # a small province
    python bench/bench_analysis.py --url URL --no-import --fresh 3   # cold warnings, new processes

The database is PostgreSQL when JIXIAO_BENCH_DATABASE_URL or JIXIAO_TEST_DATABASE_URL names a
server (a database of its own is created there and dropped after), else a SQLite file.
Each figure shows wall time, with CPU time beside it (the machine may be shared). The cold
warnings of a service's cache are timed as the service answers them: what they store for other
processes is written after the answer (`stored.later`), timed on a line of its own.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from functools import partial
from pathlib import Path
from typing import TypeVar

from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_db import postgres_db  # noqa: E402

from app.services import analysis, stored  # noqa: E402
from app.services.cache import ScoreCache  # noqa: E402
from app.services.facts import import_facts  # noqa: E402
from app.services.org import import_org, org_at  # noqa: E402
from app.services.registry import Registry  # noqa: E402
from app.services.warm import warm  # noqa: E402
from app.store.db import make_engine, upgrade  # noqa: E402
from dsl.analysis.feedback import all_feedback  # noqa: E402
from dsl.analysis.render import write_all  # noqa: E402
from dsl.compile.compiler import compile_path  # noqa: E402
from dsl.facts.periods import Period  # noqa: E402

T = TypeVar("T")
Q1, Q2 = Period(2025, 1), Period(2025, 2)
AS_OF = date(2025, 6, 20)


def timed(fn: Callable[[], T]) -> tuple[float, float, T]:
    """(wall seconds, CPU seconds of this process, result) of one call."""
    w, c = time.perf_counter(), time.process_time()
    got = fn()
    return time.perf_counter() - w, time.process_time() - c, got


def show(label: str, wall: float, cpu: float, target: float | None = None) -> None:
    """One figure: wall time, CPU time, and the target with PASS or MISS."""
    unit, scale = ("ms", 1000) if wall < 1 else ("s", 1)
    verdict = ""
    if target is not None:
        shown = f"{target * 1000:g} ms" if target < 1 else f"{target:g} s"
        verdict = f"  < {shown} {'PASS' if wall < target else 'MISS'}"
    load = os.getloadavg()[0]
    print(
        f"  {label:<58} {wall * scale:8.2f} {unit} (cpu {cpu * scale:7.2f} {unit}; "
        f"load {load:4.1f}){verdict}"
    )


@contextmanager
def database(args: argparse.Namespace) -> Iterator[str]:
    """The database to measure: --url, else a fresh PostgreSQL database or SQLite file."""
    if args.url:
        yield args.url
        return
    base = os.environ.get("JIXIAO_BENCH_DATABASE_URL") or os.environ.get("JIXIAO_TEST_DATABASE_URL")
    if base:
        with postgres_db(base) as url:
            yield url
        return
    with tempfile.TemporaryDirectory() as tmp:
        yield f"sqlite:///{Path(tmp) / 'bench.db'}"


def load(url: str, folder: Path) -> None:
    """Migrates the database and imports the province's organisation and facts."""
    upgrade(url)
    engine = make_engine(url)
    raw = json.loads((folder / "org.json").read_text(encoding="utf-8"))
    import_org(engine, raw, str(folder / "org.json"), "bench")
    with Session(engine) as session:
        org, _ = org_at(session, date.max, closed=True)
    compiled = compile_path(ROOT / "rules" / "2025")
    wall, _, got = timed(
        lambda: import_facts(engine, folder / "facts.jsonl", compiled.schema, org, "bench")
    )
    print(f"  imported {got.added:,} facts in {wall:.1f} s")
    if engine.dialect.name == "postgresql":
        # What autovacuum does after a bulk import on a live server (the test server runs
        # without it): the rows' visibility settled, so the first reads do not write them.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM (ANALYZE) facts")
    engine.dispose()


def source(url: str, keep: bool = False) -> analysis.DbSource:
    """A service's view of the database: the rulesets of rules/ and an empty score cache (with
    `keep`, as the service's: evaluations stored in the database and read back)."""
    engine = make_engine(url)
    registry = Registry(engine, ROOT / "rules", "bench")
    registry.reload()
    return analysis.DbSource(ScoreCache(engine, keep=keep), registry)


def lost_points(src: analysis.DbSource, period: Period) -> int:
    """Lost points of every county bureau and department; the bytes answered."""
    return len(lost_bodies(src, period))


def lost_bodies(src: analysis.DbSource, period: Period) -> bytes:
    """The lost points of every county bureau and department, as answered."""
    return b"".join(analysis.lost_points(src, period, card) for card in ("county", "dept"))


def same(a: bytes, b: bytes) -> str:
    """Whether two answers are the same but for the watermark (the same database: the same)."""
    return "same answer" if a == b else "DIFFERENT ANSWER"


def figures(url: str, out: Path, jobs: int, pdf: bool = True) -> None:
    """Every figure, each on a cache of its own where it says cold."""
    print(f"  {os.cpu_count()} CPUs; load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    # The reference: the quarter scored whole first (every scorecard, persons included), as
    # the lost points were made before they read an evaluation of the units' scorecards only.
    ref = source(url)
    wall, cpu, whole = timed(lambda: (ref.require(Q1), lost_bodies(ref, Q1))[1])
    show(f"lost points {Q1}, county + dept, cold, the quarter scored whole", wall, cpu)
    src = source(url)
    wall, cpu, body = timed(lambda: lost_bodies(src, Q1))
    size = len(body)
    show(f"lost points {Q1}, county + dept, cold ({size / 1e6:.1f} MB JSON)", wall, cpu, 2)
    print(f"  ({same(whole, body)} as the whole quarter's; {src.cache.fills} evaluation made)")
    best = min((timed(lambda: lost_points(src, Q1)) for _ in range(5)), key=lambda t: t[0])
    show(f"lost points {Q1}, county + dept, warm (best of 5)", best[0], best[1], 0.05)
    wall, cpu, _ = timed(lambda: lost_points(src, Q2))
    show(f"lost points {Q2} ({Q1} as its previous quarter cached)", wall, cpu)
    # The reference: the quarter scored whole first, then again from the facts dated by the
    # day (how warnings were made before a day had an entry of its own).
    ref = source(url)
    wall, cpu, old = timed(lambda: (ref.require(Q2), analysis.warnings(ref, Q2, AS_OF))[1])
    show(f"warnings {Q2} as of {AS_OF}, cold, the quarter scored whole first", wall, cpu)
    cold = source(url)
    wall, cpu, body = timed(lambda: analysis.warnings(cold, Q2, AS_OF))
    count = len(json.loads(body)["warnings"])
    show(f"warnings {Q2} as of {AS_OF}, cold ({count:,} warnings)", wall, cpu, 2)
    print(f"  ({same(old, body)} as with the quarter scored whole first)")
    # As the service runs: evaluations stored in the database, read back by a process that
    # starts cold. Nothing stored (the first process after a change: it stores Q1 whole and
    # Q2 as of the day); Q1 alone stored (by a page that read it, or approved); warmed ahead
    # (`jixiao serve` runs `jixiao analysis warm` at start and after each burst of facts).
    engine = make_engine(url)
    for label in ("nothing stored", f"{Q1} stored", "warmed ahead for the day"):
        stored.clear(engine)
        if label == f"{Q1} stored":
            source(url, keep=True).require(Q1)
        if label == "warmed ahead for the day":
            wall, cpu, _ = timed(partial(warm, source(url, keep=True), AS_OF))
            show(f"  (warming itself, as `jixiao analysis warm --as-of {AS_OF}`)", wall, cpu)
        kept = source(url, keep=True)
        wall, cpu, (body, pending) = timed(partial(answered, kept))
        show(f"warnings {Q2} as of {AS_OF}, cold, {label}", wall, cpu, 2)
        print(f"  ({same(old, body)}; {kept.cache.fills} made, {kept.cache.restored} read back)")
        wall, cpu, written = timed(pending.run)
        show(f"  (then {written} stored for other processes, after the answer)", wall, cpu)
    again_best = min(
        (timed(lambda: analysis.warnings(cold, Q2, AS_OF)) for _ in range(5)), key=lambda t: t[0]
    )
    show(f"warnings {Q2} as of {AS_OF}, asked again (best of 5)", again_best[0], again_best[1], 2)
    again = source(url)
    for p in (Q1, Q2):
        again.require(p)
    wall, cpu, _ = timed(lambda: analysis.warnings(again, Q2, AS_OF))
    show(f"warnings {Q2} as of {AS_OF}, its quarters in the cache", wall, cpu, 2)
    other = date(2025, 5, 31)
    wall, cpu, _ = timed(lambda: analysis.warnings(again, Q2, other))
    show(f"warnings {Q2} as of {other}, another day, its quarters in the cache", wall, cpu, 2)
    # As of the quarter's last day nothing was recorded later (as of today on a live system):
    # the period's evaluation in the cache serves, nothing is scored again.
    last = Q2.last_day()
    wall, cpu, _ = timed(lambda: analysis.warnings(again, Q2, last))
    show(f"warnings {Q2} as of {last}, its quarters in the cache", wall, cpu, 2)
    if not pdf:
        return
    reports = source(url)
    wall, cpu, made = timed(lambda: all_feedback(analysis.feedback_shared(reports, Q1, None)))
    show(f"feedback reports {Q1}: {len(made)} made as data", wall, cpu)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall, cpu, paths = timed(lambda: write_all(made, out, "pdf", jobs))
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu += (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    show(f"feedback reports {Q1}: {len(paths)} PDFs on {jobs} processes", wall, cpu, 60)
    size = sum(p.stat().st_size for p in paths)
    print(f"  ({size / 1e6:.1f} MB of PDF; CPU of the rendering processes included)")


def server_cpu(database: str) -> float:
    """CPU seconds of the PostgreSQL backends serving `database` (their /proc entries: a local
    server), so far."""
    total = 0
    for proc in Path("/proc").iterdir():
        try:
            cmd = (proc / "cmdline").read_bytes()
            if not cmd.startswith(b"postgres: ") or f" {database} ".encode() not in cmd:
                continue
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, ValueError):
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def answered(src: analysis.DbSource) -> tuple[bytes, stored.Later]:
    """The warnings as the service answers them: the evaluations made are stored for other
    processes after the answer is sent (`stored.later`), by the writes returned."""
    with stored.later() as pending:
        body = analysis.warnings(src, Q2, AS_OF)
    return body, pending


def fresh_warnings(url: str, keep: bool) -> None:
    """One cold warnings request in this (new) process; prints wall, CPU, and the server's CPU
    for the process's connections."""
    name = url.rsplit("/", 1)[-1].split("?")[0]
    src = source(url, keep)
    s0 = server_cpu(name)
    wall, cpu, (body, pending) = timed(partial(answered, src))
    server = server_cpu(name) - s0
    digest = hashlib.sha256(body).hexdigest()[:12]
    how = f"{src.cache.fills} made, {src.cache.restored} read back"
    show(f"warnings {Q2} as of {AS_OF}, new process ({how}; sha256 {digest})", wall, cpu, 2)
    s0 = server_cpu(name)
    after, after_cpu, written = timed(pending.run)
    print(
        f"  (server {server:.2f} s CPU; then {written} stored after the answer in "
        f"{after:.2f} s, cpu {after_cpu:.2f} s, server {server_cpu(name) - s0:.2f} s)"
    )


def fresh(url: str, runs: int) -> None:
    """Cold warnings in new processes, `runs` times each way, interleaved: without storing, with
    nothing stored (the first process after any change), with Q1 and the day stored by the
    process before, with Q1 alone stored."""
    me = [sys.executable, __file__, "--url", url, "--no-import"]
    print(f"  {os.cpu_count()} CPUs; load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    engine = make_engine(url)
    for _ in range(runs):
        subprocess.run([*me, "--one-warnings", "none"], check=True)
        stored.clear(engine)
        for _ in range(2):  # the first stores Q1 and the day, the second reads them back
            subprocess.run([*me, "--one-warnings", "keep"], check=True)
        stored.clear(engine)
        source(url, keep=True).require(Q1)  # Q1 alone stored
        subprocess.run([*me, "--one-warnings", "keep"], check=True)


def main(argv: list[str] | None = None) -> None:
    """Runs the benchmark."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="bench/out/quick (10 counties)")
    ap.add_argument("--url", help="an existing database")
    ap.add_argument("--no-import", action="store_true", help="--url already holds the province")
    ap.add_argument("--jobs", type=int, default=2, help="processes rendering PDFs")
    ap.add_argument("--no-pdf", action="store_true", help="leave out the feedback reports")
    ap.add_argument(
        "--fresh", type=int, metavar="N", help="only cold warnings in new processes, N rounds"
    )
    ap.add_argument("--one-warnings", choices=("keep", "none"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    folder = ROOT / ("bench/out/quick" if args.quick else "bench/out/province")
    if not (folder / "facts.jsonl").is_file():
        sys.exit(f"no {folder}/facts.jsonl: run bench/generate.py first (see --help)")
    if args.one_warnings:
        fresh_warnings(args.url, args.one_warnings == "keep")
        return
    with database(args) as url, tempfile.TemporaryDirectory() as tmp:
        print(f"database {url.split('@')[-1]}; province {folder.name}")
        if not args.no_import:
            load(url, folder)
        if args.fresh:
            fresh(url, args.fresh)
            return
        figures(url, Path(tmp) / "reports", args.jobs, not args.no_pdf)


if __name__ == "__main__":
    main()
