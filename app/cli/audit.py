"""Subcommands for auditors: `diff` (what changed between two rulesets) and `impact` (what it did).

Both print what `dsl.audit.diff` / `dsl.audit.impact` build; an API route can call the same
functions and return the same JSON (`RulesetDiff.as_json()`, `ImpactReport.as_json()`).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from dsl.audit.rulesource import load_rules
from dsl.facts.periods import Period
from dsl.syntax.errors import DslError


def _period(text: str) -> Period:
    try:
        return Period.parse(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from e


def _dump(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1)


def cmd_diff(args: argparse.Namespace) -> int:
    """`jixiao diff OLD NEW`: the changes of meaning between two rulesets."""
    from dsl.audit.diff import diff_rulesets
    from dsl.audit.diff_render import diff_markdown, diff_text

    d = diff_rulesets(load_rules(args.old), load_rules(args.new))
    if args.format == "json":
        print(_dump(d.as_json()))
    elif args.format == "markdown":
        print(diff_markdown(d), end="")
    else:
        print(diff_text(d), end="")
    return 0


def cmd_impact(args: argparse.Namespace) -> int:
    """`jixiao impact OLD NEW --period P (--org ORG --facts FACTS | --db)`."""
    from dsl.audit.impact import run_impact
    from dsl.audit.impact_facts import file_facts
    from dsl.audit.impact_render import impact_markdown, impact_text
    from dsl.facts.records import read_org, read_raw_facts

    old, new = load_rules(args.old), load_rules(args.new)
    if args.db:
        from app.services.impact import db_facts
        from app.store.db import make_engine

        period_inputs, facts = db_facts(make_engine(), old, new, args.period)
        org, org_at = period_inputs.org, period_inputs.org_of
    elif args.org is not None and args.facts is not None:
        org, org_at = read_org(args.org), None
        records, unreadable = read_raw_facts(args.facts)
        facts = file_facts(records, org, str(args.facts), args.skip_invalid, unreadable)
    else:
        raise DslError("give --org and --facts, or --db")
    report = run_impact(
        old, new, org, facts, args.period, attribute=not args.no_attribution, org_at=org_at
    )
    if args.format == "json":
        print(_dump(report.as_json()))
    elif args.format == "markdown":
        print(impact_markdown(report), end="")
    else:
        print(impact_text(report), end="")
    return 0


def register(sub: Any) -> None:
    """Adds `diff` and `impact` to the `jixiao` parser."""
    p = sub.add_parser("diff", help="compare two rulesets by meaning")
    p.add_argument("old", help="ruleset folder or REV:path (e.g. HEAD~3:rules/2025)")
    p.add_argument("new", help="ruleset folder or REV:path")
    p.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    p.set_defaults(func=cmd_diff)

    p = sub.add_parser("impact", help="score the same facts under two rulesets")
    p.add_argument("old", help="ruleset folder or REV:path")
    p.add_argument("new", help="ruleset folder or REV:path")
    p.add_argument("--period", required=True, type=_period, help="YYYY or YYYYQn")
    p.add_argument("--org", type=Path, help="organisation JSON")
    p.add_argument("--facts", type=Path, help="facts JSONL")
    p.add_argument("--db", action="store_true", help="read both from the configured database")
    p.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    p.add_argument(
        "--skip-invalid", action="store_true", help="score without invalid facts, listing them"
    )
    p.add_argument(
        "--no-attribution", action="store_true", help="skip scoring each change on its own"
    )
    p.set_defaults(func=cmd_impact)
