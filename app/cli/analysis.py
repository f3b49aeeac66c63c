"""Subcommands for the people who run the cycle: `analysis lost-points|warnings|risk|trend`,
`report feedback` and `what-if` (docs/analysis.md).

Each reads the facts of a file (`--org ORG --facts FACTS`, scored by `--rules`, default
`rules/<year>`, with the year folders beside it scoring other years) or of the database (`--db`,
through the same score cache and services as the API), and prints what the API answers.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from app.cli.db import _day
from app.cli.engine import _period
from dsl.analysis.source import FileSource, sibling_years
from dsl.analysis.view import Source
from dsl.compile.compiler import compile_path
from dsl.facts.periods import Period
from dsl.syntax.errors import DslError


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rules", type=Path, help="ruleset folder (default rules/<year of --period>)")
    p.add_argument("--org", type=Path, help="organisation JSON")
    p.add_argument("--facts", type=Path, help="facts JSONL")
    p.add_argument("--db", action="store_true", help="read the configured database instead")
    p.add_argument("--period", required=True, type=_period, help="YYYY or YYYYQn")
    p.add_argument("--skip-invalid", action="store_true", help="leave invalid facts out")


def source(args: argparse.Namespace, persons: bool = False) -> Any:
    """The scores of any period: from the files, or the database's (a `DbSource`)."""
    rules = args.rules or Path("rules") / str(args.period.year)
    if args.db:
        from app.cli.db import who
        from app.services.analysis import DbSource
        from app.services.cache import ScoreCache
        from app.services.registry import Registry
        from app.store.db import make_engine

        engine = make_engine()
        folder = rules.parent if rules.name.isdigit() else rules
        registry = Registry(engine, folder, who())
        registry.reload()
        return DbSource(ScoreCache(engine, keep=True), registry)
    if args.org is None or args.facts is None:
        raise DslError("give --org and --facts, or --db")
    main = compile_path(rules)
    return FileSource(main, sibling_years(rules, main), args.org, args.facts,
                      args.skip_invalid, trace_persons=persons)  # fmt: skip


def _print(data: Any, out: Path | None = None) -> None:
    text = json.dumps(data, ensure_ascii=False, indent=1)
    if out is None:
        print(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")
        print(f"wrote {out}", file=sys.stderr)


def _scores(src: Source, period: Period) -> Any:
    ps = src.scores(period)
    if ps is None:
        raise DslError(f"no ruleset scores {period}")
    return ps


def cmd_lost(args: argparse.Namespace) -> int:
    """`jixiao analysis lost-points --period P --scorecard S`."""
    from dsl.analysis.lost_report import lost_points

    src = source(args, persons=True)
    report = lost_points(src, _scores(src, args.period), args.scorecard).as_json()
    if args.format == "table":
        print(lost_table(report))
    else:
        _print(report)
    return 0


def lost_table(report: dict[str, Any]) -> str:
    """The lost points for people: one line per subject, its largest losses."""
    lines = [f"{report['title']} · {report['period']} · 失分分析"]
    for s in report["subjects"]:
        worst = sorted((i for i in s["indicators"] if i["lost"] != "0.00"),
                       key=lambda i: -float(i["weighted"]))[:3]  # fmt: skip
        shown = "，".join(f"{i['indicator']} {i['title']} 失 {i['lost']}" for i in worst)
        lines.append(
            f"{s['rank'] or '-':>3} {s['name']}  得分 {s['final']}  失分 {s['lost']}  {shown}"
        )
    return "\n".join(lines)


def cmd_warnings(args: argparse.Namespace) -> int:
    """`jixiao analysis warnings --period P --as-of D`."""
    from dsl.analysis.warnings import warnings_report

    report = warnings_report(source(args), args.period, args.as_of or date.today())
    if args.format == "table":
        print(f"{report['period']} · 截至 {report['as_of']} · 还剩 {report['days_left']} 天")
        for w in report["warnings"]:
            print(f"[{w['severity']}] {w['kind']}: {w['message']}")
    else:
        _print(report)
    return 0


def cmd_risk(args: argparse.Namespace) -> int:
    """`jixiao analysis risk --period P [--as-of D] [--scorecard S] [--subject X]`."""
    from dsl.analysis.risk import risk_report

    src = source(args)
    _print(risk_report(src, args.period, args.as_of, args.scorecard, args.subject))
    return 0


def cmd_trend(args: argparse.Namespace) -> int:
    """`jixiao analysis trend --period P (--subject S | --indicator K)`."""
    from dsl.analysis.trends import indicator_trend, subject_trend

    src = source(args)
    if args.subject:
        _print(subject_trend(src, args.period, args.subject))
    else:
        _print(indicator_trend(src, args.period, args.indicator))
    return 0


def cmd_what_if(args: argparse.Namespace) -> int:
    """`jixiao what-if --period P --changes CHANGES.json`: nothing is recorded."""
    from app.services.whatif import what_if, what_if_db
    from dsl.analysis.whatif import Changes

    body = json.loads(args.changes.read_text(encoding="utf-8"))
    src = source(args)
    if args.db:
        _print(what_if_db(src, args.period, body))
        return 0
    base = _scores(src, args.period)
    _print(what_if(base, src.inputs(base.compiled).facts, Changes.of(body)))
    return 0


def cmd_warm(args: argparse.Namespace) -> int:
    """`jixiao analysis warm [--as-of DAY] [--rules DIR]`: the configured database's newest
    quarter with facts scored as its warnings read it as of the day, and stored for every
    process of the service (`app.services.warm`); one JSON line per period made ready."""
    import os

    from app.cli.db import who
    from app.services.analysis import DbSource
    from app.services.cache import ScoreCache
    from app.services.registry import Registry
    from app.services.warm import WARM_PARENT_ENV, warm
    from app.settings import RULES_ENV
    from app.store.db import make_engine

    parent = os.environ.get(WARM_PARENT_ENV, "")
    if parent.isdigit():  # run by a server's warmer: it ends with the server, however it ends
        from dsl.facts.split import end_with_parent

        end_with_parent(int(parent))
    folder = args.rules or Path(os.environ.get(RULES_ENV) or "rules")
    if not folder.is_dir():
        raise DslError(f"no rules folder {folder}")
    engine = make_engine()
    try:
        registry = Registry(engine, folder, who())
        registry.reload(record=False)  # scoring only: the server registers what it serves
        for got in warm(
            DbSource(ScoreCache(engine, keep=True), registry), args.as_of or date.today()
        ):
            print(json.dumps(got.as_json(), ensure_ascii=False))
    finally:
        engine.dispose()
    return 0


def register(sub: Any) -> None:
    """Adds `analysis`, `what-if` (and `report`, from `app.cli.reports`) to the parser."""
    group = sub.add_parser("analysis", help="lost points, warnings, risk grades, trends")
    inner = group.add_subparsers(dest="analysis", required=True)
    p = inner.add_parser("lost-points", help="lost points of a scorecard (失分分析)")
    _common(p)
    p.add_argument("--scorecard", required=True, help="a scorecard id (county, dept, ...)")
    p.add_argument("--format", choices=("json", "table"), default="json")
    p.set_defaults(func=cmd_lost)
    p = inner.add_parser("warnings", help="early warnings of an open period (预警)")
    _common(p)
    p.add_argument("--as-of", type=_day, help="a day inside the period (default today)")
    p.add_argument("--format", choices=("json", "table"), default="json")
    p.set_defaults(func=cmd_warnings)
    p = inner.add_parser("risk", help="risk grades per subject and indicator (风险分级)")
    _common(p)
    p.add_argument("--as-of", type=_day, help="a day inside the period")
    p.add_argument("--scorecard", help="only this scorecard")
    p.add_argument("--subject", help="only this unit or person")
    p.set_defaults(func=cmd_risk)
    p = inner.add_parser("trend", help="the last eight quarters of a subject or an indicator")
    _common(p)
    one = p.add_mutually_exclusive_group(required=True)
    one.add_argument("--subject", help="a unit or person")
    one.add_argument("--indicator", help="an indicator id")
    p.set_defaults(func=cmd_trend)
    p = inner.add_parser(
        "warm",
        help="score and store what the newest quarter's warnings read, as `jixiao serve` does",
    )
    p.add_argument("--as-of", type=_day, help="the day (default today)")
    p.add_argument("--rules", type=Path, help="the rules folder (default $JIXIAO_RULES, or rules)")
    p.set_defaults(func=cmd_warm)
    p = sub.add_parser("what-if", help="score hypothetical changes to the facts (模拟测算)")
    _common(p)
    p.add_argument("--changes", required=True, type=Path,
                   help='JSON: {"add": [...], "correct": [...], "retract": [...]}')  # fmt: skip
    p.set_defaults(func=cmd_what_if)
