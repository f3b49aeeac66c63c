"""The `jixiao` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from app.errors import AppError
from dsl.errors import Diagnostic, DslError
from dsl.program import Loaded, load


def _print_diagnostics(diags: Sequence[Diagnostic], sources: dict[str, str]) -> None:
    for d in sorted(diags):
        print(d.render(sources), file=sys.stderr)


def check_paths(paths: Sequence[str]) -> tuple[list[Diagnostic], dict[str, str]]:
    """Loads and checks each ruleset path; returns every diagnostic and the sources read."""
    from dsl.checker import check

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
        from dsl.roots import ruleset_roots

        paths = [str(p) for p in ruleset_roots(Path(p) for p in args.paths)]
    diags, sources = check_paths(paths)
    _print_diagnostics(diags, sources)
    errors = sum(d.is_error for d in diags)
    warnings = len(diags) - errors
    print(f"{errors} error(s), {warnings} warning(s)", file=sys.stderr)
    return 1 if errors else 0


def cmd_fmt(args: argparse.Namespace) -> int:
    """`jixiao fmt [--check] PATH...`: rewrite rule files canonically."""
    from dsl.fmt import run_fmt

    return int(run_fmt(args.paths, check_only=args.check))


def cmd_verify(args: argparse.Namespace) -> int:
    """`jixiao verify RULES...`: each scorecard's proved properties; exit 1 on a broken promise."""
    from dsl.verify.render import render
    from dsl.verify.run import verify

    errors = warnings = 0
    for p in args.paths:
        if not Path(p).exists():
            print(f"jixiao verify: no such file or folder: {p}", file=sys.stderr)
            return 2
        loaded = load(Path(p))
        from dsl.checker import check

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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="jixiao", description="Rules-driven performance evaluation"
    )
    sub = parser.add_subparsers(dest="command", required=True)

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

    from app import cli_engine

    cli_engine.register(sub)
    from app import cli_db

    cli_db.register(sub)
    from app import cli_audit

    cli_audit.register(sub)
    from app import cli_serve

    cli_serve.register(sub)
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
        from app.db import dispose_all

        dispose_all()


if __name__ == "__main__":
    sys.exit(main())
