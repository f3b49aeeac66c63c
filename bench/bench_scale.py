"""A nation by partition: N provinces imported and scored as jobs on 2 workers (docs/scale.md).

    python bench/bench_scale.py --provinces 8 --facts 1000000 \\
        --db postgresql+psycopg://postgres@127.0.0.1:5432/jx_jobs --broker redis://127.0.0.1:6379/0

Generates each province (bench/generate.py, ids prefixed `pK_`; kept in bench/out/scale/ and
reused), makes a fresh schema in the database, records the nation's organisation, then runs
one import job per province and one scoring job per province and period on `--workers`
`jixiao worker` processes. Prints per job (= per partition) its wall and CPU time (the
worker's process CPU, from the job's result), and per phase the total wall time, the
workers' and PostgreSQL's CPU (from /proc), the machine's load, the rows and bytes per fact.
With `--verify K`, the results kept by the first K provinces' scoring jobs are compared with
`jixiao score --format json` on that province's own files (by value, and byte for byte once
written the way a job keeps them: sorted keys, no spaces).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from decimal import Decimal  # noqa: E402

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from app.jobs.queue import BROKER_ENV, QUEUE_ENV, dispatcher  # noqa: E402
from app.services import jobs  # noqa: E402
from app.services.org import import_org  # noqa: E402
from app.services.registry import Registry  # noqa: E402
from app.settings import DATABASE_ENV, RULES_ENV  # noqa: E402
from app.store.db import make_engine, upgrade  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu_of(pids: list[int]) -> float:
    """user+sys seconds of these processes (and their waited-for children)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
    return total / TICK


def peak_rss_mib(pids: list[int]) -> list[float]:
    """Each process's peak resident memory so far (VmHWM), in MiB."""
    out = []
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                out.append(round(int(line.split()[1]) / 1024, 1))
    return out


def postgres_pids() -> list[int]:
    """The PostgreSQL server's processes (its backends do the COPY and the queries)."""
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if (d / "comm").read_text().strip().startswith("postgres"):
                    out.append(int(d.name))
            except OSError:
                pass
    return out


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot."""
    parts = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = parts[3] + parts[4]
    return (sum(parts) - idle) / TICK, sum(parts) / TICK


def province_files(out: Path, n: int, facts: int) -> list[tuple[str, Path]]:
    """Generates (or reuses) the provinces' files."""
    made = []
    for k in range(1, n + 1):
        folder = out / f"{facts}" / f"p{k}"
        if not (folder / "facts.jsonl").exists():
            subprocess.run(
                [
                    sys.executable,
                    str(REPO / "bench/generate.py"),
                    "--facts",
                    str(facts),
                    "--seed",
                    str(k),
                    "--prefix",
                    f"p{k}_",
                    "--out",
                    str(folder),
                ],
                check=True,
            )
        made.append((f"p{k}_hengyang", folder))
    return made


def fresh_schema(base: str) -> str:
    """A new schema in the database, on the search_path of the URL returned."""
    schema = f"scale_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, poolclass=NullPool)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


def run_phase(
    engine: Any, registry: Registry, workers: list[int], specs: list[dict[str, Any]]
) -> dict[str, Any]:
    """Submits the jobs, waits for them all; the phase's figures."""
    send = dispatcher()
    assert send is not None
    pg = postgres_pids()
    cpu0, pg0, (busy0, all0) = cpu_of(workers), cpu_of(pg), machine_busy()
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    ids = []
    for spec in specs:
        job = jobs.submit(engine, registry, by="bench", **spec)
        send(job.id)
        ids.append(job.id)
    while True:
        states = [jobs.get(engine, i).state for i in ids]
        if all(s in ("done", "failed") for s in states):
            break
        time.sleep(1)
    wall = time.perf_counter() - t0
    busy1, all1 = machine_busy()
    per_job = []
    for i in ids:
        j = jobs.get(engine, i)
        per_job.append(
            {
                "job": i,
                "province": j.province,
                "state": j.state,
                "attempts": j.attempts,
                "error": j.error,
                **(j.result or {}),
            }
        )
    return {
        "wall_s": round(wall, 1),
        "workers_cpu_s": round(cpu_of(workers) - cpu0, 1),
        "postgres_cpu_s": round(cpu_of(pg) - pg0, 1),
        "machine_busy_share": round((busy1 - busy0) / max(all1 - all0, 1e-9), 2),
        "load_1min": [round(load0, 1), round(os.getloadavg()[0], 1)],
        "workers_peak_rss_mib": peak_rss_mib(workers),
        "jobs": per_job,
    }


def main() -> None:
    """Command line."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--provinces", type=int, default=8)
    ap.add_argument("--facts", type=int, default=1_000_000, help="facts per province")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--periods", default="2025Q1,2025", help="scored periods, comma-separated")
    ap.add_argument("--db", default="postgresql+psycopg://postgres@127.0.0.1:5432/jx_jobs")
    ap.add_argument("--broker", default="redis://127.0.0.1:6379/0")
    ap.add_argument("--out", type=Path, default=REPO / "bench/out/scale")
    ap.add_argument(
        "--verify",
        type=int,
        default=0,
        metavar="K",
        help="compare the first K provinces' kept results with `jixiao score` on their files",
    )
    a = ap.parse_args()

    files = province_files(a.out, a.provinces, a.facts)
    url = fresh_schema(a.db)
    upgrade(url)
    engine = make_engine(url)
    registry = Registry(engine, REPO / "rules", "bench")
    registry.reload()
    units: list[Any] = []
    persons: list[Any] = []
    for _, folder in files:
        raw = json.loads((folder / "org.json").read_text(encoding="utf-8"))
        units += raw["units"]
        persons += raw["persons"]
    import_org(engine, {"units": units, "persons": persons}, "nation", "bench")

    queue = f"jx-bench-{uuid.uuid4().hex[:8]}"
    os.environ[BROKER_ENV], os.environ[QUEUE_ENV] = a.broker, queue
    env = {**os.environ, DATABASE_ENV: url, RULES_ENV: str(REPO / "rules")}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "app.cli", "worker"],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(a.workers)
    ]
    try:
        for p in procs:
            assert p.stdout is not None
            p.stdout.readline()
        pids = [p.pid for p in procs]
        report: dict[str, Any] = {
            "provinces": a.provinces,
            "facts_per_province": a.facts,
            "workers": a.workers,
            "cpus": os.cpu_count(),
        }
        imports = [
            {"kind": "import", "period": "2025", "params": {"path": str(f / "facts.jsonl")}}
            for _, f in files
        ]
        report["import"] = run_phase(engine, registry, pids, imports)
        _print_phase("import", report["import"])
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT count(*) FROM facts")).scalar() or 0
            size = (
                conn.execute(
                    text(
                        "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                        "JOIN pg_namespace n ON n.oid = c.relnamespace "
                        "WHERE n.nspname = current_schema() AND c.relname LIKE 'facts_p_%' "
                        "AND c.relkind = 'r'"
                    )
                ).scalar()
                or 0
            )
        report["facts"] = {
            "rows": rows,
            "bytes": size,
            "bytes_per_fact": round(size / max(rows, 1)),
        }
        print(f"facts: {rows} rows, {size / 2**30:.2f} GiB, {size / max(rows, 1):.0f} B/fact")
        for period in a.periods.split(","):
            specs = [{"kind": "score", "period": period, "province": root} for root, _ in files]
            report[f"score {period}"] = run_phase(engine, registry, pids, specs)
            _print_phase(f"score {period}", report[f"score {period}"])
            report[f"verify {period}"] = [
                verify(engine, job, files, period)
                for job in report[f"score {period}"]["jobs"][: a.verify]
            ]
        out = a.out / f"result-{a.provinces}x{a.facts}.json"
        # a job's result reads its numbers back exactly (Decimal); the report's are figures
        text_ = json.dumps(report, indent=1, ensure_ascii=False, default=_figure)
        out.write_text(text_, encoding="utf-8")
        print(f"written: {out}")
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(60)
        engine.dispose()


def verify(
    engine: Any, job: dict[str, Any], files: list[tuple[str, Path]], period: str
) -> dict[str, Any]:
    """A scoring job's kept results against `jixiao score` on its province's own files."""
    folder = dict(files)[job["province"]]
    run = subprocess.run(
        [
            str(Path(sys.executable).parent / "jixiao"),
            "score",
            str(REPO / "rules" / period[:4]),
            "--org",
            str(folder / "org.json"),
            "--facts",
            str(folder / "facts.jsonl"),
            "--period",
            period,
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    kept = jobs.results(engine, job["job"])
    mine = json.loads(run.stdout, parse_float=Decimal)
    written = json.dumps(mine, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    got = {
        "job": job["job"],
        "province": job["province"],
        "period": period,
        "results": len(mine["results"]),
        "equal_by_value": json.loads(kept, parse_float=Decimal) == mine,
        "equal_bytes": written == kept,
        "sha256": hashlib.sha256(kept.encode()).hexdigest(),
    }
    print(
        f"  verify job {got['job']} {got['province']} {period}: {got['results']} results, "
        f"equal by value {got['equal_by_value']}, byte for byte {got['equal_bytes']}, "
        f"sha256 {got['sha256'][:16]}"
    )
    return got


def _figure(value: object) -> float:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"not a figure: {value!r}")


def _print_phase(name: str, ph: dict[str, Any]) -> None:
    print(
        f"== {name}: wall {ph['wall_s']} s, workers' CPU {ph['workers_cpu_s']} s, "
        f"PostgreSQL CPU {ph['postgres_cpu_s']} s, machine busy {ph['machine_busy_share']:.0%},"
        f" load {ph['load_1min'][0]} → {ph['load_1min'][1]},"
        f" workers' peak RSS so far {ph['workers_peak_rss_mib']} MiB"
    )
    for j in ph["jobs"]:
        sec = j.get("seconds", {})
        print(
            f"  job {j['job']:>3} {j['province'] or '-':<14} {j['state']:<7} "
            f"wall {sec.get('wall', '?'):>8} s  cpu {sec.get('cpu', '?'):>8} s  "
            f"facts {j.get('facts', j.get('added', '?'))}"
        )


if __name__ == "__main__":
    main()
