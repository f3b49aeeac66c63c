"""`jixiao check`, `fmt`, `verify` and `lsp`: the rule files, and their authors' tools."""

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
    paths = args.paths
    if args.ruleset_of:
        from dsl.syntax.roots import ruleset_roots

        paths = [str(p) for p in ruleset_roots(Path(p) for p in args.paths)]
    diags, sources = check_paths(paths)
    _print_diagnostics(diags, sources)
    errors = sum(d.is_error for d in diags)
    warnings = len(diags) - errors
    print(f"{errors} error(s), {warnings} warning(s)", file=sys.stderr)
    return 1 if errors else 0


def cmd_fmt(args: argparse.Namespace) -> int:
    """`jixiao fmt [--check] PATH...`: rewrite rule files canonically."""
    from dsl.fmt.formatter import run_fmt

    return int(run_fmt(args.paths, check_only=args.check))


def cmd_verify(args: argparse.Namespace) -> int:
    """`jixiao verify RULES...`: each scorecard's proved properties; exit 1 on a broken promise."""
    from dsl.check.checker import check
    from dsl.verify.render import render
    from dsl.verify.run import verify

    errors = warnings = 0
    for p in args.paths:
        if not Path(p).exists():
            print(f"jixiao verify: no such file or folder: {p}", file=sys.stderr)
            return 2
        loaded = load(Path(p))
        problems = [d for d in check(loaded) if d.is_error]
        if problems:
            _print_diagnostics(problems, loaded.sources)
            print(f"jixiao verify: {p} has errors; `jixiao check` must pass first", file=sys.stderr)
            return 1
        report = verify(loaded)
        print(render(report, p))
        _print_diagnostics(report.findings, loaded.sources)
        errors += sum(d.is_error for d in report.findings)
        warnings += sum(not d.is_error for d in report.findings)
    print(f"{errors} error(s), {warnings} warning(s)", file=sys.stderr)
    return 1 if errors else 0


def cmd_lsp(args: argparse.Namespace) -> int:
    """`jixiao lsp`: the language server, over stdin and stdout."""
    from app.lsp.server import run

    return run()


def register(sub: Any) -> None:
    """Adds `check`, `fmt`, `verify` and `lsp` to the `jixiao` parser."""
    p = sub.add_parser("check", help="check rulesets and report every diagnostic")
    p.add_argument(
        "--ruleset-of",
        action="store_true",
        help="check the ruleset each path belongs to (for pre-commit, which names files)",
    )
    p.add_argument("paths", nargs="+", help="ruleset folders or rule files")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("fmt", help="format rule files canonically")
    p.add_argument("--check", action="store_true", help="only list files that would change")
    p.add_argument("paths", nargs="+", help="rule files or folders")
    p.set_defaults(func=cmd_fmt)

    p = sub.add_parser("verify", help="prove each scorecard's properties (ranges, monotonicity...)")
    p.add_argument("paths", nargs="+", help="ruleset folders")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("lsp", help="run the language server for editors (LSP over stdio)")
    p.set_defaults(func=cmd_lsp)
