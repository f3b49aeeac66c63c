"""Subcommands on the database: `db`, `import`, `rulesets`, `facts`, `replay`.

The database is the one JIXIAO_DATABASE_URL names (default: `jixiao.db` in the working
directory).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.errors import AppError, Invalid
from app.services.org import import_org, org_at
from app.services.scoring import PeriodInputs, load_period
from app.store.db import downgrade, make_engine, upgrade
from dsl.compile.ir import CompiledRuleset
from dsl.engine.evaluate import Evaluation

if TYPE_CHECKING:
    from app.services.facts import ImportResult

# The services that write (imports, rulesets, receipts) are imported by the commands that use
# them: `score --db` and `explain --db` only read, and start faster without them.


def who() -> str:
    """Who is recording: JIXIAO_USER, else the login name."""
    try:
        return os.environ.get("JIXIAO_USER") or getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from e


def _fail(e: AppError) -> int:
    print(f"jixiao: {e}", file=sys.stderr)
    return 1


def cmd_db(args: argparse.Namespace) -> int:
    """`jixiao db upgrade|downgrade [REVISION]`."""
    if args.action == "upgrade":
        upgrade(revision=args.revision or "head")
    else:
        downgrade(revision=args.revision or "-1")
    return 0


def cmd_import_org(args: argparse.Namespace) -> int:
    """`jixiao import org ORG.json|ORG.xlsx [--ruleset RULES] [--from DATE]`."""
    from app.excel.reader import is_workbook_file

    path = Path(args.file)
    engine = make_engine()
    try:
        if is_workbook_file(path):
            got = _import_org_workbook(engine, path, args)
        else:
            raw = json.loads(path.read_text(encoding="utf-8"))
            got = import_org(engine, raw, str(args.file), who(), args.valid_from)
    except AppError as e:
        return _fail(e)
    if got.revision is None:
        print("organisation unchanged: nothing recorded", file=sys.stderr)
    else:
        print(
            f"organisation revision {got.revision}: {got.units} unit and {got.persons} person "
            f"version(s), {got.closed} closed",
            file=sys.stderr,
        )
    return 0


def _ruleset(engine: Engine, rules: str | None, year: int | None) -> CompiledRuleset:
    """The ruleset to validate against: --ruleset, else the year's latest registered
    ruleset, else `rules/<year>` here."""
    from app.services import rulesets

    if rules is not None:
        return rulesets.register_path(engine, Path(rules), who())
    with Session(engine) as session:
        digest = rulesets.latest_for_year(session, year) if year is not None else None
    if digest is not None:
        return rulesets.load(engine, digest)
    if year is not None and (Path("rules") / str(year)).is_dir():
        return rulesets.register_path(engine, Path("rules") / str(year), who())
    raise Invalid("no ruleset to validate against: give --ruleset RULES (or --year YEAR)")


def _first_year(file: Path) -> int | None:
    """The year of the first fact of a facts file (its date or period), if it has one."""
    from dsl.facts.records import iter_jsonl, parse_fact_line

    for _, line in iter_jsonl(file):
        try:
            raw = parse_fact_line(line)
        except ValueError:
            return None
        when = raw.get("date") or raw.get("period") if isinstance(raw, dict) else None
        return int(when[:4]) if isinstance(when, str) and when[:4].isdigit() else None
    return None


def _import_org_workbook(engine: Engine, path: Path, args: argparse.Namespace) -> Any:
    """The organisation from its template; kinds and attributes by --ruleset (else this
    year's, else the newest rules/ folder here)."""
    from app.excel.reader import read_sheets
    from app.services.workbooks import import_org_workbook

    year = date.today().year
    if args.ruleset is None and not (Path("rules") / str(year)).is_dir():
        years = sorted(p.name for p in Path("rules").glob("[0-9][0-9][0-9][0-9]") if p.is_dir())
        year = int(years[-1]) if years else year
    compiled = _ruleset(engine, args.ruleset, year)
    sheets = read_sheets(path.read_bytes(), path.name)
    decl = compiled.program.organisation
    return import_org_workbook(engine, sheets, path.name, decl, who(), args.valid_from)


class _Progress:
    """Progress on stderr, at most a few times a second."""

    def __init__(self) -> None:
        self.last = 0.0
        self.start = time.perf_counter()

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if now - self.last < 0.5 and done < total:
            return
        self.last = now
        pct = 100 * done / total if total else 100
        print(f"\r{stage}: {pct:5.1f}% ({now - self.start:.1f} s)", end="", file=sys.stderr)
        if done >= total:
            print(file=sys.stderr)


def cmd_import_facts(args: argparse.Namespace) -> int:
    """`jixiao import facts FACTS.jsonl [--ruleset RULES] [--skip-invalid]`."""
    from app.excel.reader import is_workbook_file
    from app.services import facts as fact_service

    engine = make_engine()
    path = Path(args.file)
    try:
        with Session(engine) as session:
            org, _ = org_at(session, date.max, closed=True)
        progress = _Progress() if not args.quiet else None
        if is_workbook_file(path):
            got = _import_workbook(engine, path, args, org, progress)
        else:
            year = args.year if args.year is not None else _first_year(path)
            schema = _ruleset(engine, args.ruleset, year).schema
            got = fact_service.import_facts(
                engine, path, schema, org, who(), args.skip_invalid, progress
            )
    except AppError as e:
        return _fail(e)
    for p in got.skipped:
        print(f"skipped: {p}", file=sys.stderr)
    print(
        f"{got.added} fact(s) recorded, {got.unchanged} already recorded, "
        f"{len(got.skipped)} problem(s) skipped",
        file=sys.stderr,
    )
    return 0


def _import_workbook(
    engine: Engine, path: Path, args: argparse.Namespace, org: Any, progress: Any
) -> ImportResult:
    """A workbook or CSV file's facts, checked by the ruleset of their year."""
    from app.excel.reader import read_sheets
    from app.services.workbooks import import_fact_workbook, ruleset_year

    sheets = read_sheets(path.read_bytes(), path.name)
    year = ruleset_year(sheets, args.year) if args.ruleset is None else None
    compiled = _ruleset(engine, args.ruleset, year)
    return import_fact_workbook(
        engine, sheets, path.name, compiled, org, who(), args.skip_invalid, progress
    )


def cmd_register(args: argparse.Namespace) -> int:
    """`jixiao rulesets register RULES`."""
    from app.services import rulesets

    compiled = rulesets.register_path(make_engine(), Path(args.rules), who())
    print(compiled.digest)
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    """`jixiao facts history SUBJECT`."""
    from app.services import facts as fact_service

    items: list[dict[str, Any]] = fact_service.history(make_engine(), args.subject)
    for item in items:
        print(json.dumps(item, ensure_ascii=False))
    return 0


def cmd_retract(args: argparse.Namespace) -> int:
    """`jixiao facts retract ID --reason WHY`."""
    from app.services import facts as fact_service

    try:
        rid = fact_service.retract(make_engine(), args.id, who(), args.reason)
    except AppError as e:
        return _fail(e)
    print(f"retraction {rid}: fact '{args.id}' withdrawn", file=sys.stderr)
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    """`jixiao replay RECEIPT`: recompute a kept evaluation and prove the same results."""
    from app.services import receipts

    try:
        got = receipts.replay(make_engine(), args.receipt)
    except AppError as e:
        return _fail(e)
    verdict = "same results" if got.same else "DIFFERENT results"
    print(
        f"receipt {got.receipt}: ruleset {got.ruleset[:12]}, {got.period}, {got.facts} facts: "
        f"{verdict} (kept {got.expected[:16]}, recomputed {got.got[:16]})"
    )
    return 0 if got.same else 1


def register(sub: Any) -> None:
    """Adds the database subcommands to the `jixiao` parser."""
    p = sub.add_parser("db", help="apply or revert database migrations")
    p.add_argument("action", choices=("upgrade", "downgrade"))
    p.add_argument("revision", nargs="?", help="target (default: head, or one step down)")
    p.set_defaults(func=cmd_db)

    p = sub.add_parser("import", help="import an organisation or facts into the database")
    what = p.add_subparsers(dest="what", required=True)
    q = what.add_parser("org", help="record the organisation (a revision when it changed)")
    q.add_argument("file", type=Path, help="organisation JSON, or its workbook template")
    q.add_argument("--from", dest="valid_from", type=_day, help="date the change takes effect")
    q.add_argument("--ruleset", help="for a workbook: the rules naming kinds and attributes")
    q.set_defaults(func=cmd_import_org)
    q = what.add_parser("facts", help="record facts from a JSONL, workbook or CSV file")
    q.add_argument("file", type=Path, help="facts JSONL, a workbook (xlsx, xls, ods) or CSV")
    q.add_argument("--ruleset", help="ruleset to validate against (registered on the way)")
    q.add_argument(
        "--year",
        type=int,
        help="without --ruleset: the year's latest registered ruleset, else rules/YEAR "
        "(default: the year of the file's first fact)",
    )
    q.add_argument("--skip-invalid", action="store_true", help="import the valid facts only")
    q.add_argument("--quiet", action="store_true", help="no progress")
    q.set_defaults(func=cmd_import_facts)

    p = sub.add_parser("rulesets", help="rulesets kept in the database")
    acts = p.add_subparsers(dest="action", required=True)
    q = acts.add_parser("register", help="register a ruleset by digest, with its files")
    q.add_argument("rules")
    q.set_defaults(func=cmd_register)

    p = sub.add_parser("facts", help="a subject's facts, or retracting one")
    acts = p.add_subparsers(dest="action", required=True)
    q = acts.add_parser("history", help="every fact on a subject, with corrections")
    q.add_argument("subject")
    q.set_defaults(func=cmd_history)
    q = acts.add_parser("retract", help="withdraw a fact, saying why")
    q.add_argument("id")
    q.add_argument("--reason", required=True)
    q.set_defaults(func=cmd_retract)

    p = sub.add_parser("replay", help="recompute a kept evaluation and compare its results")
    p.add_argument("receipt", type=int)
    p.set_defaults(func=cmd_replay)


def db_inputs(args: argparse.Namespace, compiled: CompiledRuleset) -> PeriodInputs:
    """`score --db` / `explain --db`: the period's organisation and live facts from the
    configured database."""
    with Session(make_engine()) as session, session.begin():
        return load_period(session, compiled, args.period)


def keep_receipt(args: argparse.Namespace, ev: Evaluation, inputs: PeriodInputs) -> None:
    """`score --db --keep|--publish`: registers the ruleset and stores a receipt."""
    from app.services import receipts, rulesets

    engine = make_engine()
    rulesets.register(engine, ev.compiled, who(), rulesets.git_commit(Path(args.rules)))
    rid = receipts.keep(engine, ev, inputs, who(), published=args.publish)
    print(f"receipt {rid} kept (jixiao replay {rid})", file=sys.stderr)
