"""`jixiao worker` (run jobs from the broker) and `jixiao job submit|show` (docs/scale.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from app import exactjson
from app.cli.db import who
from app.errors import AppError


def cmd_worker(args: argparse.Namespace) -> int:
    """`jixiao worker [--threads N]`: runs jobs until stopped (SIGTERM, Ctrl-C)."""
    from app.jobs.worker import serve

    return serve(args.threads)


def _services() -> tuple[Any, Any]:
    from app.services.registry import Registry
    from app.settings import Settings
    from app.store.db import make_engine

    settings = Settings.from_env()
    engine = make_engine(settings.database_url)
    registry = Registry(engine, settings.rules_dir, who())
    registry.reload()
    return engine, registry


def cmd_submit(args: argparse.Namespace) -> int:
    """`jixiao job submit KIND --period P [--province ID] [--ruleset R] [--path FILE]`:
    sends a job to the workers, or runs it here without a broker; prints the job."""
    from app.jobs.queue import dispatcher, run_here
    from app.services import jobs
    from app.services.scoring import provinces

    engine, registry = _services()
    params: dict[str, Any] = {}
    if args.path:
        params["path"] = str(Path(args.path).resolve())
    if args.drill_failures:
        params[jobs.DRILL] = args.drill_failures
    wanted = args.province or [None]
    if args.all_provinces:
        from datetime import date

        from sqlalchemy.orm import Session

        from app.services.org import org_at

        with Session(engine) as session:
            org, _ = org_at(session, date.max)
        wanted = provinces(org)
    send = dispatcher()
    try:
        made = [
            jobs.submit(
                engine,
                registry,
                args.kind,
                who(),
                ruleset=args.ruleset,
                period=args.period,
                province=p,
                params=params,
            )
            for p in wanted
        ]
    except AppError as e:
        print(f"jixiao job: {e}", file=sys.stderr)
        return 1
    for job in made:
        if send is not None:
            send(job.id)
        else:
            run_here(engine, registry, job.id)
        print(exactjson.dumps(jobs.as_json(jobs.get(engine, job.id))))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """`jixiao job show ID`: the job as JSON."""
    from app.services import jobs
    from app.store.db import make_engine

    try:
        job = jobs.get(make_engine(), args.id)
    except AppError as e:
        print(f"jixiao job: {e}", file=sys.stderr)
        return 1
    print(exactjson.dumps(jobs.as_json(job)))
    return 0


def register(sub: Any) -> None:
    """Adds `worker` and `job submit|show`."""
    p = sub.add_parser("worker", help="run jobs from the broker (JIXIAO_BROKER_URL)")
    p.add_argument("--threads", type=int, default=1, help="jobs run at once (default 1)")
    p.set_defaults(func=cmd_worker)
    p = sub.add_parser("job", help="hand long work to the workers, follow it")
    acts = p.add_subparsers(dest="action", required=True)
    q = acts.add_parser("submit", help="submit a job (one per province named)")
    q.add_argument("kind", choices=["score", "rescore", "import"])
    q.add_argument("--period", required=True, help="YYYY or YYYYQn")
    q.add_argument("--province", action="append", help="a root unit's id (repeatable)")
    q.add_argument("--all-provinces", action="store_true", help="one job per province")
    q.add_argument("--ruleset", help="a year or a digest (default: the period's year)")
    q.add_argument("--path", help="import: the facts file")
    q.add_argument("--drill-failures", type=int, default=0, help=argparse.SUPPRESS)
    q.set_defaults(func=cmd_submit)
    q = acts.add_parser("show", help="a job's state, progress and result")
    q.add_argument("id", type=int)
    q.set_defaults(func=cmd_show)
