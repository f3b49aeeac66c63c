"""Times the database on a generated province and prints each figure beside its target.

    python bench/generate.py --out bench/out/province      # 1,000,000 facts, once
    python bench/bench_db.py                                # SQLite, and PostgreSQL if set
    python bench/bench_db.py --quick                        # a small province
    python bench/bench_db.py --import-only                  # the import's figures alone

PostgreSQL runs when JIXIAO_BENCH_DATABASE_URL or JIXIAO_TEST_DATABASE_URL names a server: the
benchmark creates a database of its own there and drops it after (the test suite's database is
left alone). Figures: importing the facts file (checked whole, then written in chunks),
importing it again (nothing changes), scoring one quarter from the database (loading included)
against scoring the same facts already in memory, whether both give the same results, and the
same for the year (once each).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from functools import partial
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.services.facts import import_facts  # noqa: E402
from app.services.org import import_org, org_at  # noqa: E402
from app.services.scoring import score  # noqa: E402
from app.store.db import make_engine, upgrade  # noqa: E402
from dsl.compile.compiler import compile_path  # noqa: E402
from dsl.compile.ir import CompiledRuleset  # noqa: E402
from dsl.engine.evaluate import Evaluation, evaluate  # noqa: E402
from dsl.engine.report import results_json  # noqa: E402
from dsl.facts.inputs import load_inputs  # noqa: E402
from dsl.facts.periods import Period  # noqa: E402

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
    """A fresh database on the PostgreSQL server of `base` (whose own database is untouched)."""
    name = f"jixiao_bench_{uuid.uuid4().hex[:10]}"
    server = make_url(base)
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def _load() -> str:
    """The machine's load average over 1, 5 and 15 minutes (figures under load need it)."""
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def client_cpu() -> float:
    """CPU seconds (user + system) of this process and of its children waited for: the import
    reads a large file in two processes (`dsl.facts.split`), the second a forked child."""
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + kids.ru_utime + kids.ru_stime


class ServerCPU:
    """CPU seconds (user + system) the PostgreSQL processes serving this engine's database spend
    while it runs (`with`): its backends and their parallel workers (an index build's), from
    /proc, sampled every 0.1 s on a thread (a worker's last tenth of a second is missed).
    `spent` is None when the engine is not PostgreSQL or the server's processes are not
    visible on this machine."""

    def __init__(self, engine: Engine) -> None:
        self.spent: float | None = None
        self.database = engine.url.database or ""
        self.postmaster: int | None = None
        if engine.dialect.name != "postgresql":
            return
        with engine.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        try:
            self.postmaster = int(self._stat(int(pid))[1])
        except OSError:
            return
        self.ours: dict[int, bool] = {}  # each child seen: serving this database or not
        self.start: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _stat(pid: int) -> list[str]:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()

    def _sample(self, first: bool = False) -> None:
        pm = self.postmaster
        try:
            children = Path(f"/proc/{pm}/task/{pm}/children").read_text().split()
        except OSError:
            return
        for pid in map(int, children):  # in order of pid: a parallel worker after its leader
            if pid not in self.ours:
                try:
                    cmd = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
                except OSError:
                    continue
                if not cmd.startswith("postgres: "):
                    continue  # just forked: the process has not set its title yet
                leader = cmd.rsplit("parallel worker for PID ", 1)[-1].strip("\x00 ")
                self.ours[pid] = f" {self.database} " in cmd or (
                    leader.isdigit() and self.ours.get(int(leader), False)
                )
            if not self.ours[pid]:
                continue
            try:
                stat = self._stat(pid)
            except OSError:
                continue
            cpu = (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
            if first:
                self.start[pid] = cpu
            self.last[pid] = cpu

    def _run(self) -> None:
        while not self.done.wait(0.1):
            self._sample()

    def __enter__(self) -> ServerCPU:
        if self.postmaster is not None:
            self._sample(first=True)
            self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.postmaster is None:
            return
        self.done.set()
        self.thread.join()
        self._sample()
        self.spent = sum(t - self.start.get(pid, 0.0) for pid, t in self.last.items())


def score_db(engine: Engine, compiled: CompiledRuleset, period: Period) -> Evaluation:
    """Loads the period from the database and scores it (as `app.services.scoring.score`)."""
    return score(engine, compiled, period)[0]


def run(
    name: str,
    url: str,
    folder: Path,
    period: Period,
    memory: dict[Period, tuple[float, object]] | None,
) -> None:
    """Prints one database's figures; `memory` has each period's time and results in memory
    (None: the import's figures alone)."""
    year = Period(period.year)
    compiled = compile_path(ROOT / "rules" / "2025")
    upgrade(url)
    engine = make_engine(url)
    raw = json.loads((folder / "org.json").read_text(encoding="utf-8"))
    import_org(engine, raw, str(folder / "org.json"), "bench")
    with Session(engine) as session:
        org, _ = org_at(session, date.max, closed=True)
    facts = folder / "facts.jsonl"
    with ServerCPU(engine) as server:
        c0 = client_cpu()
        t_import, got = timed(lambda: import_facts(engine, facts, compiled.schema, org, "bench"))
        cpu = client_cpu() - c0
    label = f"import {got.added:,} facts"
    verdict = f"wall {'PASS' if t_import < 30 else 'MISS'}, CPU {'PASS' if cpu < 30 else 'MISS'}"
    spent = "" if server.spent is None else f"; the server's {server.spent:.2f} s"
    print(
        f"  {name}: {label:<46} {t_import:8.2f} s   CPU {cpu:.2f} s (this process and its "
        f"child{spent}; < 30 s: {verdict}), load average {_load()}"
    )
    c0 = client_cpu()
    t_again, again = timed(lambda: import_facts(engine, facts, compiled.schema, org, "bench"))
    cpu = client_cpu() - c0
    label = f"import again ({again.added} added, {again.unchanged:,} unchanged)"
    print(f"  {name}: {label:<46} {t_again:8.2f} s   CPU {cpu:.2f} s, load average {_load()}")
    if memory is None:
        engine.dispose()
        return
    for p, repeat in ((period, 3), (year, 1)):
        t_db, ev = timed(partial(score_db, engine, compiled, p), repeat=repeat)
        ratio = t_db / memory[p][0]
        verdict = f" (< 2x {'PASS' if ratio < 2 else 'MISS'})" if p == period else ""
        label = f"score {p} from the database"
        print(f"  {name}: {label:<46} {t_db:8.2f} s   {ratio:.2f}x memory{verdict}")
        print(f"  {name}: {p}: same results as from memory: {results_json(ev) == memory[p][1]}")
    engine.dispose()
    for p in (period, year):
        commands(name, url, folder, p)


def commands(name: str, url: str, folder: Path, period: Period) -> None:
    """`jixiao score --db` against `jixiao score --org --facts`, each a fresh process: wall and
    CPU time, peak memory, and whether they print the same bytes (median of 3, interleaved)."""
    jx = [str(ROOT / ".venv" / "bin" / "jixiao"), "score", str(ROOT / "rules" / "2025")]
    sides = {
        "db": [*jx, "--db", "--period", str(period)],
        "file": [*jx, "--org", str(folder / "org.json"), "--facts", str(folder / "facts.jsonl"),
                 "--period", str(period)],
    }  # fmt: skip
    env = {**os.environ, "JIXIAO_DATABASE_URL": url}
    runs: dict[str, list[tuple[float, float, float]]] = {"db": [], "file": []}
    outputs: dict[str, bytes] = {}
    for _ in range(3):
        for side, argv in sides.items():
            figures, outputs[side] = _command(argv, env)
            runs[side].append(figures)
    (dw, dc, dm), (fw, fc, fm) = (
        tuple(statistics.median(r[k] for r in runs[side]) for k in range(3))
        for side in ("db", "file")
    )
    target = " (≤ 1.3× " + ("PASS)" if dw / fw <= 1.3 else "MISS)") if period.quarter else ""
    print(
        f"  {name}: jixiao score {period} --db {dw:.2f} s (CPU {dc:.2f}, {dm:.0f} MB) against "
        f"--facts {fw:.2f} s (CPU {fc:.2f}, {fm:.0f} MB): {dw / fw:.2f}×{target}; "
        f"same bytes: {outputs['db'] == outputs['file']}"
    )


def _command(argv: list[str], env: dict[str, str]) -> tuple[tuple[float, float, float], bytes]:
    """((wall s, CPU s, peak MB), stdout) of one command. Its peak memory comes from
    /usr/bin/time, a small process: ru_maxrss of a child of this process would count this
    process's own memory at the fork (the facts it holds in memory)."""
    with tempfile.TemporaryFile() as out, tempfile.NamedTemporaryFile("r") as peak:
        timed_argv = ["/usr/bin/time", "-f", "%M", "-o", peak.name, *argv]
        t0 = time.perf_counter()
        proc = subprocess.Popen(timed_argv, env=env, stdout=out, stderr=subprocess.PIPE)
        assert proc.stderr is not None
        err = proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            raise SystemExit(f"{' '.join(argv[:4])} failed: {err.decode()[-1000:]}")
        out.seek(0)
        kb = int(peak.read().split()[-1])
        return (wall, usage.ru_utime + usage.ru_stime, kb / 1024), out.read()


def from_memory(folder: Path, periods: list[Period]) -> dict[Period, tuple[float, object]]:
    """For each period, the time to score it with the file's facts already in memory (best of
    3 for a quarter, once for a year), and its results."""
    compiled = compile_path(ROOT / "rules" / "2025")
    inputs = load_inputs(compiled, folder / "org.json", folder / "facts.jsonl")
    print(f"province {folder}: {len(inputs.facts):,} facts, {len(inputs.org.persons)} persons")
    out: dict[Period, tuple[float, object]] = {}
    for p in periods:
        repeat = 3 if p.quarter is not None else 1
        t_mem, ev = timed(partial(evaluate, compiled, inputs.org, inputs.facts, p), repeat=repeat)
        label = f"score {p} with the facts in memory"
        print(f"  memory: {label:<46} {t_mem:8.2f} s")
        out[p] = (t_mem, results_json(ev))
    return out


def main(argv: list[str] | None = None) -> None:
    """Runs the benchmark on SQLite and, when configured, PostgreSQL."""
    ap = argparse.ArgumentParser(description="Database benchmark on a synthetic province.")
    ap.add_argument("--quick", action="store_true", help="the small province")
    ap.add_argument("--dir", type=Path, help="a province folder (org.json, facts.jsonl)")
    ap.add_argument("--period", default="2025Q1")
    ap.add_argument("--only", choices=("sqlite", "postgres"))
    ap.add_argument("--import-only", action="store_true", help="import figures alone")
    a = ap.parse_args(argv)
    folder = a.dir or ROOT / SIZES["quick" if a.quick else "province"]
    if not (folder / "facts.jsonl").exists():
        sys.exit(f"no {folder}/facts.jsonl: run bench/generate.py --out {folder} first")
    period = Period.parse(a.period)
    memory = None if a.import_only else from_memory(folder, [period, Period(period.year)])
    if a.only in (None, "sqlite"):
        with sqlite_db() as url:
            run("sqlite", url, folder, period, memory)
    pg = os.environ.get("JIXIAO_BENCH_DATABASE_URL") or os.environ.get("JIXIAO_TEST_DATABASE_URL")
    if a.only in (None, "postgres") and pg:
        with postgres_db(pg) as url:
            run("postgres", url, folder, period, memory)
    elif a.only is None:
        print("  postgres: skipped (set JIXIAO_BENCH_DATABASE_URL or JIXIAO_TEST_DATABASE_URL)")


if __name__ == "__main__":
    main()
