"""`jixiao check` and `jixiao fmt`: the rule files themselves."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dsl.syntax.errors import Diagnostic
from dsl.syntax.program import Loaded, load


def _print_diagnostics(diags: Sequence[Diagnostic], sources: dict[str, str]) -> None:
    for d in sorted(diags):
        print(d.render(sources), file=sys.stderr)


def check_paths(paths: Sequence[str]) -> tuple[list[Diagnostic], dict[str, str]]:
    """Loads and checks each ruleset path; returns every diagnostic and the sources read."""
    from dsl.check.checker import check

    diags: list[Diagnostic] = []
    sources: dict[str, str] = {}
    for p in paths:
        loaded: Loaded = load(Path(p))
        sources.update(loaded.sources)
        diags.extend(check(loaded))
    return diags, sources


def cmd_check(args: argparse.Namespace) -> int:
    """`jixiao check PATH...`: every diagnostic, sorted; exit 1 on any error."""
    missing = [p for p in args.paths if not Path(p).exists()]
    if missing:
        for p in missing:
            print(f"jixiao check: no such file or folder: {p}", file=sys.stderr)
        return 2
    diags, sources = check_paths(args.paths)
    _print_diagnostics(diags, sources)
    errors = sum(d.is_error for d in diags)
    warnings = len(diags) - errors
    print(f"{errors} error(s), {warnings} warning(s)", file=sys.stderr)
    return 1 if errors else 0


def cmd_fmt(args: argparse.Namespace) -> int:
    """`jixiao fmt [--check] PATH...`: rewrite rule files canonically."""
    from dsl.fmt.formatter import run_fmt

    return int(run_fmt(args.paths, check_only=args.check))


def register(sub: Any) -> None:
    """Adds `check` and `fmt` to the `jixiao` parser."""
    p = sub.add_parser("check", help="check rulesets and report every diagnostic")
    p.add_argument("paths", nargs="+", help="ruleset folders or rule files")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("fmt", help="format rule files canonically")
    p.add_argument("--check", action="store_true", help="only list files that would change")
    p.add_argument("paths", nargs="+", help="rule files or folders")
    p.set_defaults(func=cmd_fmt)
