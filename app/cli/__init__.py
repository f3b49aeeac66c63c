"""The `jixiao` command line: `main`, and one module per group of commands.

`rules` (check, fmt), `engine` (score, explain, test), `db` (db, import, replay),
`audit` (diff, impact), `serve` (serve, token).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from app.cli import audit, db, engine, rules, serve
from app.errors import AppError
from dsl.syntax.errors import DslError


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="jixiao", description="Rules-driven performance evaluation"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for group in (rules, engine, db, audit, serve):
        group.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `jixiao` console command."""
    args = build_parser().parse_args(argv)
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
        from app.store.db import dispose_all

        dispose_all()
