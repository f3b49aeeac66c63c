"""Subcommands for workbooks: `template` (a ruleset's fill-in template) and `export` (results,
rankings, explanations, lost points and impact reports as formatted workbooks). Imports of
workbooks and CSV files go through `jixiao import facts|org` (app/cli_db.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from dsl.compile.ir import CompiledRuleset
from dsl.facts.records import Org
from dsl.syntax.errors import DslError


def _write(path: Path, data: bytes) -> int:
    path.write_bytes(data)
    print(f"wrote {path} ({len(data):,} bytes)", file=sys.stderr)
    return 0


def _org(args: argparse.Namespace, compiled: CompiledRuleset) -> Org | None:
    """The organisation to list in a template: --org, --db, or none."""
    if args.org is not None:
        from dsl.facts.records import read_org

        return read_org(args.org)
    if args.db:
        from datetime import date

        from sqlalchemy.orm import Session

        from app.services.org import org_at
        from app.store.db import make_engine

        with Session(make_engine()) as session:
            org, _ = org_at(session, date.max)
        return org
    return None


def cmd_template(args: argparse.Namespace) -> int:
    """`jixiao template RULES --xlsx FILE [--org ORG | --db] [--organisation]`."""
    from app.excel.columns import vocabulary_of
    from app.excel.org import org_template
    from app.excel.template import facts_template
    from dsl.compile.compiler import compile_path

    compiled = compile_path(Path(args.rules))
    org = _org(args, compiled)
    if args.organisation:
        return _write(args.xlsx, org_template(compiled.program.organisation, org, compiled.name))
    data = facts_template(vocabulary_of(compiled, org), compiled.name, compiled.digest)
    return _write(args.xlsx, data)


def _evaluated(args: argparse.Namespace, traced: set[str]) -> tuple[Any, Any, Any]:
    """(compiled, inputs, evaluation) of the period the arguments name."""
    from app.cli.engine import load_args, org_at_of
    from dsl.engine.evaluate import evaluate

    compiled, inputs = load_args(args)
    ev = evaluate(
        compiled,
        inputs.org,
        inputs.facts,
        args.period,
        traced=traced,
        focus=bool(traced) and args.what == "explain",
        org_at=org_at_of(args, inputs),
    )
    return compiled, inputs, ev


def cmd_export(args: argparse.Namespace) -> int:
    """`jixiao export results|ranking|explain|lost-points|impact ... --xlsx FILE`."""
    from app.excel.export import results_workbook
    from app.excel.titles import titles_of
    from dsl.engine.report import explain_json, results_json

    if args.what == "impact":
        return _export_impact(args)
    if args.what == "lost-points":
        return _export_lost(args)
    subjects = (
        [args.subject] if args.what == "explain" else list(getattr(args, "explain", None) or [])
    )
    compiled, inputs, ev = _evaluated(args, set(subjects))
    doc = results_json(ev)
    scored = {r["subject"] for r in doc["results"]}
    unknown = [s for s in subjects if s not in scored]
    if unknown:
        raise DslError(f"no scorecard scores {', '.join(unknown)} in {args.period}")
    only = _card(compiled, args.sequence) if args.what == "ranking" else None
    if args.what == "explain":
        doc["results"] = [r for r in doc["results"] if r["subject"] == args.subject]
    explained = [explain_json(ev, s) for s in subjects]
    titles = titles_of(compiled, inputs.org)
    return _write(args.xlsx, results_workbook(doc, titles, explained, only))


def _card(compiled: CompiledRuleset, sequence: str) -> str:
    """The scorecard ranking a sequence (or named by its own id)."""
    cards = compiled.scorecards
    if sequence in cards:
        return sequence
    for card in cards.values():
        if card.sequence.id == sequence:
            return card.id
    raise DslError(f"no sequence or scorecard '{sequence}' in this ruleset")


def _export_impact(args: argparse.Namespace) -> int:
    from app.cli.audit import impact_report
    from app.excel.export_impact import impact_workbook
    from app.excel.titles import titles_of
    from dsl.audit.rulesource import load_rules
    from dsl.compile.compiler import compile_program

    report, org = impact_report(args)
    new = load_rules(args.new)
    compiled = compile_program(new.program, new.sources)
    return _write(args.xlsx, impact_workbook(report.as_json(), titles_of(compiled, org)))


def _export_lost(args: argparse.Namespace) -> int:
    """`jixiao export lost-points RULES --period P --scorecard S --xlsx FILE`: the analysis of
    `jixiao analysis lost-points` (earlier periods from the year folders beside RULES)."""
    from app.cli.analysis import source
    from app.excel.export_lost import lost_workbook
    from app.excel.titles import titles_of
    from dsl.analysis.lost_report import lost_points

    args.rules = Path(args.rules)
    src = source(args, persons=True)
    ps = src.scores(args.period)
    if ps is None:
        raise DslError(f"no ruleset scores {args.period}")
    doc = lost_points(src, ps, args.scorecard).as_json()
    return _write(args.xlsx, lost_workbook(doc, titles_of(ps.compiled, ps.org)))


def register(sub: Any) -> None:
    """Adds `template` and `export` to the `jixiao` parser."""
    from app.cli.audit import impact_args
    from app.cli.engine import inputs_args

    p = sub.add_parser("template", help="write a ruleset's fill-in workbook for facts")
    p.add_argument("rules", help="ruleset folder")
    p.add_argument("--xlsx", type=Path, required=True, help="the workbook to write")
    p.add_argument("--org", type=Path, help="organisation JSON: subjects in drop-down lists")
    p.add_argument("--db", action="store_true", help="the organisation from the database")
    p.add_argument(
        "--organisation", action="store_true", help="the organisation's template instead"
    )
    p.set_defaults(func=cmd_template)

    p = sub.add_parser("export", help="write results, a ranking, an explanation as a workbook")
    what = p.add_subparsers(dest="what", required=True)
    q = what.add_parser("results", help="every scorecard's results")
    inputs_args(q)
    q.add_argument("--explain", nargs="+", metavar="SUBJECT", help="add their explanations")
    q = what.add_parser("ranking", help="one sequence's ranking")
    inputs_args(q)
    q.add_argument("--sequence", required=True, help="a sequence (or scorecard) id")
    q = what.add_parser("explain", help="one subject's results and how they were reached")
    inputs_args(q)
    q.add_argument("--subject", required=True, help="unit or person id")
    q = what.add_parser("lost-points", help="a scorecard's lost points (失分分析)")
    inputs_args(q)
    q.add_argument("--scorecard", required=True, help="a scorecard id (county, dept, person)")
    q = what.add_parser("impact", help="the same facts under two rulesets")
    impact_args(q)
    for q in what.choices.values():
        q.add_argument("--xlsx", type=Path, required=True, help="the workbook to write")
        q.set_defaults(func=cmd_export)
