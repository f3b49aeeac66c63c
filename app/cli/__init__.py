"""The `jixiao` command line: `main`, and one module per group of commands.

`rules` (check, fmt, verify, lsp), `engine` (score, explain, test), `db` (db, import, replay),
`audit` (diff, impact), `serve` (serve, token), `excel` (template, export), `analysis`
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


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `jixiao` console command."""
    words = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(words[0] if words else None).parse_args(words)
    try:
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


def run() -> None:
    """The console script: `main`, then the process ends without freeing what the command
    built (a million facts take a noticeable time to free, and nothing needs it)."""
    code = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError:  # a reader that went away (`| head`): nothing more to say
            code = code or 1
    os._exit(code)
