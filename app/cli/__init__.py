"""The `jixiao` command line: `main`, and one module per group of commands.

`rules` (check, fmt, verify, lsp), `engine` (score, explain, test), `db` (db, import, replay),
`audit` (diff, impact), `trail` (audit verify, audit log: the command `audit` is this group's,
not the `audit` group's), `serve` (serve, token), `excel` (template, export), `analysis`
(analysis lost-points, warnings, risk, trend; what-if), `reports` (report feedback),
`cycle` (cycle, appeal, webhooks).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from app.errors import AppError
from dsl.syntax.errors import DslError

# Each command's group: a command imports its own group alone, so that `score --facts` never
# loads SQLAlchemy, Alembic or FastAPI (half a second of a short run). A command missing here
# still works (every group is loaded); tests/app/cli/test_groups.py keeps the table complete.
GROUPS = {
    "check": "rules",
    "fmt": "rules",
    "verify": "rules",
    "lsp": "rules",
    "score": "engine",
    "explain": "engine",
    "test": "engine",
    "db": "db",
    "import": "db",
    "rulesets": "db",
    "facts": "db",
    "replay": "db",
    "diff": "audit",
    "impact": "audit",
    "audit": "trail",
    "serve": "serve",
    "token": "serve",
    "template": "excel",
    "export": "excel",
    "analysis": "analysis",
    "what-if": "analysis",
    "report": "reports",
    "cycle": "cycle",
    "appeal": "cycle",
    "webhooks": "cycle",
    "worker": "jobs",
    "job": "jobs",
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser of every subcommand, or of `command`'s group alone."""
    parser = argparse.ArgumentParser(
        prog="jixiao", description="Rules-driven performance evaluation"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    wanted = GROUPS.get(command or "")
    for group in dict.fromkeys(GROUPS.values()):
        if wanted is None or group == wanted:
            importlib.import_module(f"app.cli.{group}").register(sub)
    return parser


# The database drivers a URL may name, and what to install for each.
DRIVERS = {
    "psycopg": "pip install 'jixiao[postgres]' (URLs postgresql+psycopg://...)",
    "psycopg2": "pip install 'jixiao[postgres]' and write the URL postgresql+psycopg://...",
    "pg8000": "pip install 'jixiao[postgres]' and write the URL postgresql+psycopg://...",
    "asyncpg": "pip install 'jixiao[postgres]' and write the URL postgresql+psycopg://...",
}
NO_TABLES = "no tables"


def _database_problem(e: BaseException) -> str | None:
    """What to say of an error of the database itself (`NO_TABLES`, a missing driver), or
    None. SQLAlchemy is looked at only when the command loaded it."""
    if isinstance(e, ModuleNotFoundError) and e.name in DRIVERS:
        return f"the database URL needs the driver {e.name}, not installed: {DRIVERS[e.name]}"
    exc = sys.modules.get("sqlalchemy.exc")
    if exc is None:
        return None
    if isinstance(e, exc.NoSuchModuleError):
        return f"the database URL names a database jixiao does not know: {e}"
    if isinstance(e, exc.OperationalError | exc.ProgrammingError):
        text = str(e.orig).lower()
        if "no such table" in text or ("relation" in text and "does not exist" in text):
            return NO_TABLES
    return None


def _has_no_tables() -> bool:
    """True when the configured database has no table at all (a new one)."""
    from sqlalchemy import inspect

    from app.store.db import make_engine

    engine = make_engine()
    try:
        return not inspect(engine).get_table_names()
    finally:
        engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `jixiao` console command. A command run on a new database (no tables
    at all) creates them first (`jixiao db upgrade`) and runs again; on a database with other
    or older tables it says to run `jixiao db upgrade`."""
    words = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(words[0] if words else None).parse_args(words)
    try:
        try:
            return int(args.func(args))
        except Exception as e:
            problem = _database_problem(e)
            if problem is None:
                raise
            if problem != NO_TABLES:
                print(f"jixiao: {problem}", file=sys.stderr)
                return 1
            from sqlalchemy.engine import make_url

            from app.settings import database_url
            from app.store.db import upgrade

            shown = make_url(database_url()).render_as_string(hide_password=True)

            if not _has_no_tables():
                print(
                    f"jixiao: the database {shown} lacks Jixiao's tables or has older "
                    "ones: run `jixiao db upgrade`",
                    file=sys.stderr,
                )
                return 1
            print(
                f"jixiao: {shown} is a new database: creating its tables (jixiao db upgrade)",
                file=sys.stderr,
            )
            upgrade()
            return int(args.func(args))
    except (DslError, AppError) as e:
        print(f"jixiao: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"jixiao: {e.strerror or e}: {getattr(e, 'filename', '') or ''}", file=sys.stderr)
        return 1
    finally:
        # Connections a command opened are closed when it ends, also when run in-process.
        store = sys.modules.get("app.store.db")
        if store is not None:
            store.dispose_all()


# True in the console script, whose process ends with its one command (`run`); False where
# `main` runs in a process that goes on (tests, an embedding program).
ONE_SHOT = False
_KEPT: list[object] = []


def keep(*objects: object) -> None:
    """In the console script, what a command built is kept until the process ends (`run`), so
    that it is never freed: a year of a million facts took ~0.14 s to free on the command's
    return, for nothing. Elsewhere nothing is kept."""
    if ONE_SHOT:
        _KEPT.extend(objects)


def run() -> None:
    """The console script: `main`, then the process ends without freeing what the command
    built (a million facts take a noticeable time to free, and nothing needs it)."""
    global ONE_SHOT
    ONE_SHOT = True
    code = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError:  # a reader that went away (`| head`): nothing more to say
            code = code or 1
    os._exit(code)
