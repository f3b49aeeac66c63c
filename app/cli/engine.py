"""Subcommands that score facts: `score`, `explain` and `test`."""

from __future__ import annotations

import argparse
import gc
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dsl.compile.compiler import compile_path
from dsl.engine.evaluate import evaluate, periods_indexed
from dsl.engine.report import (
    explain_json,
    explain_text,
    json_text,
    results_json,
    results_table,
)
from dsl.facts.inputs import load_inputs
from dsl.facts.periods import Period
from dsl.facts.records import Org
from dsl.syntax.errors import DslError


def _period(text: str) -> Period:
    try:
        return Period.parse(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from e


def inputs_args(p: argparse.ArgumentParser) -> None:
    """The arguments naming a ruleset, its inputs (files or the database) and a period."""
    p.add_argument("rules", help="ruleset folder or file")
    p.add_argument("--org", type=Path, help="organisation JSON")
    p.add_argument("--facts", type=Path, help="facts JSONL")
    p.add_argument("--db", action="store_true", help="read both from the configured database")
    p.add_argument("--period", required=True, type=_period, help="YYYY or YYYYQn")
    p.add_argument("--format", choices=("json", "table"), default=None)
    p.add_argument(
        "--skip-invalid", action="store_true", help="score without invalid facts, listing them"
    )


def load_args(args: argparse.Namespace, defer: bool = False) -> tuple[Any, Any]:
    """The compiled ruleset and its validated inputs, as the arguments name them; with `defer`,
    a large file's checks across facts may still be under way (`Inputs.confirm`), and only the
    facts the period's evaluation reads are kept (`load_inputs`)."""
    compiled = compile_path(Path(args.rules))
    if args.db:
        from app.cli.db import db_inputs

        return compiled, db_inputs(args, compiled)
    if args.org is None or args.facts is None:
        raise DslError("give --org and --facts, or --db")
    periods = periods_indexed(compiled, args.period) if defer else None
    inputs = load_inputs(
        compiled, args.org, args.facts, args.skip_invalid, defer=defer, periods=periods
    )
    # The facts live until the command ends: keep the cyclic collector from walking them.
    gc.freeze()
    for p in inputs.skipped:
        print(f"skipped: {p}", file=sys.stderr)
    return compiled, inputs


def org_at_of(args: argparse.Namespace, inputs: Any) -> Callable[[Period], Org] | None:
    """From the database, each quarter behind a year is scored with its own organisation."""
    return inputs.org_of if args.db else None


def cmd_score(args: argparse.Namespace) -> int:
    """`jixiao score RULES --org --facts --period`: every subject's results."""
    from app import cli

    if cli.ONE_SHOT:
        # No cyclic collection in a process that ends with this command (`os._exit` once its
        # output is written): the facts live until then and the evaluation frees its own
        # cycles. Enabled again after evaluating, the collector's next pass walked every
        # result made meanwhile (~0.17 s of CPU after a year of a million facts) to free nothing.
        gc.disable()
    compiled, inputs = load_args(args, defer=not args.db)
    # The facts are scored while the reading's second process checks them across the file;
    # nothing is said before its word (a problem found stops the command as before, also
    # where the evaluation of facts that did not pass failed).
    try:
        ev = evaluate(
            compiled,
            inputs.org,
            inputs.facts,
            args.period,
            org_at=org_at_of(args, inputs),
            indexed=None if args.db else inputs.indexed,
        )
    except Exception:
        if not args.db:
            inputs.confirm()
        raise
    if not args.db:
        inputs.confirm()
    cli.keep(compiled, inputs, ev)
    if (args.format or "json") == "json":
        print(json_text(results_json(ev)))
    else:
        print(results_table(ev))
    if args.keep or args.publish:
        if not args.db:
            raise DslError("--keep and --publish need --db")
        from app.cli.db import keep_receipt

        keep_receipt(args, ev, inputs)
    # A rule that failed on a subject's facts: that subject's entry says so, the others stand.
    for r in ev.failed():
        assert r.error is not None
        print(f"jixiao score: {r.error['message']}", file=sys.stderr)
    return 1 if ev.failed() else 0


def cmd_explain(args: argparse.Namespace) -> int:
    """`jixiao explain ... --subject ID`: the trace of one subject."""
    compiled, inputs = load_args(args)
    if args.subject not in inputs.org.units and args.subject not in inputs.org.persons:
        print(f"jixiao explain: unknown subject '{args.subject}'", file=sys.stderr)
        return 1
    ev = evaluate(
        compiled,
        inputs.org,
        inputs.facts,
        args.period,
        traced={args.subject},
        focus=True,
        org_at=org_at_of(args, inputs),
    )
    if not ev.for_subject(args.subject):
        print(
            f"jixiao explain: no scorecard scores '{args.subject}' in {args.period}",
            file=sys.stderr,
        )
        return 1
    if args.format == "json":
        print(json.dumps(explain_json(ev, args.subject), ensure_ascii=False, indent=1))
    else:
        print(explain_text(ev, args.subject), end="")
    return 0


def cmd_test(args: argparse.Namespace) -> int:
    """`jixiao test RULES`: run the tests kept beside the rules."""
    from dsl.engine.testing import run_tests

    if not args.ruleset_of:
        if len(args.rules) != 1:
            print("jixiao test: give one ruleset (or --ruleset-of FILE...)", file=sys.stderr)
            return 2
        return run_tests(Path(args.rules[0]), verbose=args.verbose)
    from dsl.syntax.roots import ruleset_roots

    worst = 0
    for root in ruleset_roots(Path(p) for p in args.rules):
        worst = max(worst, run_tests(root, verbose=args.verbose))
    return worst


def register(sub: Any) -> None:
    """Adds the engine's subcommands to the `jixiao` parser."""
    p = sub.add_parser("score", help="score every subject for a period")
    inputs_args(p)
    p.add_argument("--keep", action="store_true", help="with --db: store a receipt")
    p.add_argument("--publish", action="store_true", help="with --db: a receipt, published")
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("explain", help="show how one subject's results were computed")
    inputs_args(p)
    p.add_argument("--subject", required=True, help="unit or person id")
    p.set_defaults(func=cmd_explain)

    p = sub.add_parser("test", help="run the tests kept beside the rules")
    p.add_argument(
        "--ruleset-of",
        action="store_true",
        help="run the tests of the ruleset each path belongs to (for pre-commit)",
    )
    p.add_argument("rules", nargs="+", help="ruleset folder or file")
    p.add_argument("-v", "--verbose", action="store_true", help="list passing tests too")
    p.set_defaults(func=cmd_test)
