"""`jixiao serve` (the HTTP API under uvicorn) and `jixiao token create|list|revoke`."""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys
from pathlib import Path
from typing import Any

from app.cli.db import who
from app.errors import AppError
from app.settings import DATABASE_ENV, DEMO_ENV, RULES_ENV, database_url
from app.store.db import make_engine, upgrade

DEMO_DB = "jixiao-demo.db"
WEBHOOK_INTERVAL_ENV = "JIXIAO_WEBHOOK_INTERVAL"  # seconds between delivery rounds (default 5)
WARM_QUIET_ENV = "JIXIAO_WARM_QUIET"  # seconds without a change before warming (default 30)
BANNER = """
================================================================================
  DEMO MODE: no tokens are checked; every request acts as an admin.
  Database: {db} (generated demo data; delete the file to start afresh)
  Listening on {host}:{port} (loopback only). Every answer has the header
  X-Jixiao-Mode: demo; tokens cannot be created.
  Web pages (signed in as the demo admin):  http://{host}:{port}/
  API documentation:                        http://{host}:{port}/docs
  Try:  curl -s 'http://{host}:{port}/v1/rankings/county_bureaus?period=2025Q1'
================================================================================
"""


def _prepare_demo(rules: Path) -> str:
    """The demo database: created and filled on first use, reused afterwards."""
    from app.services import demo
    from app.services.registry import Registry

    path = Path(DEMO_DB).resolve()
    url = f"sqlite:///{path}"
    fresh = not path.exists()
    upgrade(url)
    if fresh:
        engine = make_engine(url)
        try:
            registry = Registry(engine, rules, "demo")
            registry.reload()
            print("jixiao serve: generating the demo organisation and facts…", file=sys.stderr)
            counts = demo.load(engine, registry)
            shown = ", ".join(f"{n} facts of {y}" for y, n in sorted(counts.items()))
            print(f"jixiao serve: recorded {shown}", file=sys.stderr)
        finally:
            engine.dispose()
    return url


def is_loopback(host: str) -> bool:
    """True when `host` names only this machine (`localhost` or a loopback address)."""
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def cmd_serve(args: argparse.Namespace) -> int:
    """`jixiao serve [--host --port --workers --demo --rules DIR --no-warm]`."""
    import uvicorn

    from app.uvicorn_config import NoDelayConfig

    rules = Path(args.rules)
    if not rules.is_dir():
        print(f"jixiao serve: no rules folder {rules}", file=sys.stderr)
        return 2
    if args.demo and not is_loopback(args.host):
        print(
            f"jixiao serve: --demo accepts every request as an admin; it listens on a loopback "
            f"address only (127.0.0.1, ::1, localhost), not on {args.host}",
            file=sys.stderr,
        )
        return 2
    if args.demo:
        url = _prepare_demo(rules)
        os.environ[DEMO_ENV] = "1"
        print(BANNER.format(db=DEMO_DB, host=args.host, port=args.port), file=sys.stderr)
    else:
        url = database_url()
        upgrade(url)
        os.environ.pop(DEMO_ENV, None)
        print(
            f"jixiao serve: web pages at http://{args.host}:{args.port}/ (sign in with a token "
            f"from `jixiao token create`), API documentation at /docs",
            file=sys.stderr,
        )
    os.environ[DATABASE_ENV] = url
    os.environ[RULES_ENV] = str(rules.resolve())
    config = NoDelayConfig(
        "app.main:app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
        access_log=args.access_log,
    )
    # The webhook delivery worker: one thread beside the server (whatever its workers).
    from app.services.webhooks import Worker

    worker = Worker(make_engine(url), float(os.environ.get(WEBHOOK_INTERVAL_ENV) or 5))
    worker.start()
    # The warnings people open first, scored and stored in a process of their own at start
    # and after each burst of facts (app/services/warm.py).
    warmer = None
    if args.warm:
        from app.services.warm import QUIET, Warmer

        quiet = float(os.environ.get(WARM_QUIET_ENV) or QUIET)
        command = [sys.executable, "-m", "app.cli", "analysis", "warm"]

        def say(text: str) -> None:
            print(f"jixiao serve: {text}", file=sys.stderr)

        warmer = Warmer(make_engine(url), command, quiet=quiet, env=dict(os.environ), say=say)
        warmer.start()
    try:
        if config.workers > 1:
            from uvicorn.supervisors import Multiprocess

            config.supervisor = os.getpid()  # the workers end when this process dies
            Multiprocess(config, sockets=[config.bind_socket()]).run()
        else:
            uvicorn.Server(config).run()
    finally:
        worker.stop()
        if warmer is not None:
            warmer.stop()
    return 0


def cmd_token_create(args: argparse.Namespace) -> int:
    """`jixiao token create --role ROLE [--types ...] [--units ...] [--name NAME]`."""
    from app.services import tokens

    engine = make_engine()
    try:
        tid, secret = tokens.create(
            engine, args.role, args.name or f"{args.role} token", who(), args.types, args.units
        )
    except AppError as e:
        print(f"jixiao: {e}", file=sys.stderr)
        return 1
    print(f"token {tid} ({args.role}); shown once, keep it safe:", file=sys.stderr)
    print(secret)
    return 0


def cmd_token_list(args: argparse.Namespace) -> int:
    """`jixiao token list`."""
    from app.services import tokens

    for t in tokens.listing(make_engine()):
        scope = f" types={','.join(t['fact_types'])}" if t["fact_types"] else ""
        scope += f" units={','.join(t['units'])}" if t["units"] else ""
        state = f" revoked {t['revoked_at']}" if t["revoked_at"] else ""
        print(f"{t['id']}\t{t['role']}\t{t['name']}{scope}{state}")
    return 0


def cmd_token_revoke(args: argparse.Namespace) -> int:
    """`jixiao token revoke ID`."""
    from app.services import tokens

    try:
        tokens.revoke(make_engine(), args.id, who())
    except AppError as e:
        print(f"jixiao: {e}", file=sys.stderr)
        return 1
    print(f"token {args.id} revoked", file=sys.stderr)
    return 0


def tokens_roles() -> tuple[str, ...]:
    """The roles a token may have."""
    from app.services.tokens import ROLES

    return ROLES


def _list(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


def register(sub: Any) -> None:
    """Adds `serve` and `token` to the `jixiao` parser."""
    p = sub.add_parser("serve", help="run the HTTP API (uvicorn)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--rules", default="rules", help="folder of year folders (default: rules)")
    p.add_argument("--demo", action="store_true", help=f"no tokens; generated data in ./{DEMO_DB}")
    p.add_argument("--log-level", default="info")
    p.add_argument("--no-access-log", dest="access_log", action="store_false")
    p.add_argument(
        "--no-warm",
        dest="warm",
        action="store_false",
        help="do not score the newest quarter's warnings ahead (at start and after changes)",
    )
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("token", help="API tokens: create, list, revoke")
    acts = p.add_subparsers(dest="action", required=True)
    q = acts.add_parser("create", help="create a token and print it once")
    q.add_argument("--role", required=True, choices=tokens_roles())
    q.add_argument("--types", type=_list, help="recorder: fact types it may write (a,b,c)")
    q.add_argument("--units", type=_list, help="recorder: units whose subjects it may write")
    q.add_argument("--name", help="who uses it (kept as the recorder of its facts)")
    q.set_defaults(func=cmd_token_create)
    q = acts.add_parser("list", help="list tokens (never their secrets)")
    q.set_defaults(func=cmd_token_list)
    q = acts.add_parser("revoke", help="revoke a token")
    q.add_argument("id", type=int)
    q.set_defaults(func=cmd_token_revoke)
