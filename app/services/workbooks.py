"""Facts and the organisation from workbooks and CSV files, through the checks JSON goes through.

The Excel layer (`app.excel`) turns the sheets into the records a JSON file or body would
hold; this module hands them to the same import and recording services, and puts every
problem back at its cell (`督察发现问题!C4`).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Engine

from app.errors import Invalid, NotFound
from app.excel.columns import vocabulary_of
from app.excel.facts_in import CellProblem, Parsed, first_year, parse_sheets
from app.excel.org import parse_org
from app.excel.reader import Sheet, read_sheets
from app.services import recording
from app.services.facts import ImportResult, Progress, import_records
from app.services.org import OrgImport, import_org
from app.services.registry import Registry
from app.services.tokens import Principal
from dsl.compile.ir import CompiledRuleset
from dsl.facts.records import FactProblem, Org
from dsl.syntax import nodes as n

SKIP_HINT = "(--skip-invalid imports the rest)"


def import_fact_workbook(
    engine: Engine,
    sheets: list[Sheet],
    source: str,
    compiled: CompiledRuleset,
    org: Org,
    by: str,
    skip_invalid: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Checks a workbook's facts whole, then records the new ones (all, or the valid ones)."""
    parsed = parse_sheets(sheets, vocabulary_of(compiled, org), source)
    chosen = parsed.clean() if skip_invalid else parsed.records
    problems: list[FactProblem] = [*parsed.problems, *_skipped_sheets(parsed, skip_invalid)]
    records = ((line, line, raw) for line, raw in chosen)
    try:
        got = import_records(
            engine, records, max(1, len(chosen)), source, compiled.schema, org, by,
            skip_invalid, progress, problems=problems,
        )  # fmt: skip
    except Invalid as e:
        located = parsed.locate(e.problems)
        message = f"{len(located)} problem(s) in {source}; nothing was imported {SKIP_HINT}"
        raise Invalid(message, located) from e
    got.skipped = list(parsed.locate(got.skipped))
    return got


def _skipped_sheets(parsed: Parsed, skip_invalid: bool) -> list[CellProblem]:
    """With --skip-invalid, a sheet whose header has a problem is skipped whole: say so."""
    if not skip_invalid:
        return []
    rows: dict[str, int] = {}
    for ref in parsed.refs:
        if ref.sheet in parsed.bad_sheets:
            rows[ref.sheet] = rows.get(ref.sheet, 0) + 1
    why = "row(s) of this sheet skipped: its header has a problem"
    return [CellProblem(parsed.source, 1, "-", "-", f"{k} {why}", s) for s, k in rows.items()]


def ruleset_year(sheets: list[Sheet], year: int | None) -> int | None:
    """The year to choose the ruleset by: given, else the workbook's first date or period."""
    return year if year is not None else first_year(sheets)


def post_fact_workbook(
    engine: Engine,
    registry: Registry,
    who: Principal,
    data: bytes,
    filename: str,
    by: str,
    year: int | None = None,
) -> dict[str, Any]:
    """`POST /v1/facts` with a workbook or CSV: recorded all or none, problems at their cells."""
    sheets = read_sheets(data, filename)
    year = ruleset_year(sheets, year)
    loaded = registry.for_year(year) if year is not None else None
    if loaded is None:
        raise NotFound(
            f"no ruleset in service for {year}" if year else "no date or period in the workbook"
        )
    org = recording.org_now(engine)
    parsed = parse_sheets(sheets, vocabulary_of(loaded.compiled, org), filename)
    raws = [raw for _, raw in parsed.records]

    def where(problems: Any) -> list[dict[str, Any]]:
        return parsed.details(problems, first=0)

    if parsed.problems:
        # Every problem at once: the validator's too (this raises when it finds any).
        recording.post(engine, registry, who, raws, by, where, dry_run=True)
        message = f"{len(parsed.problems)} problem(s) in {filename}; none recorded"
        err = Invalid(message, parsed.problems)
        err.details = where([])
        raise err
    return recording.post(engine, registry, who, raws, by, where)


def import_org_workbook(
    engine: Engine,
    sheets: list[Sheet],
    source: str,
    decl: n.OrganisationDecl | None,
    by: str,
    valid_from: date | None = None,
) -> OrgImport:
    """Records the organisation of its template (a revision when it changed)."""
    parsed = parse_org(sheets, decl, source)
    if parsed.problems:
        message = f"{len(parsed.problems)} problem(s) in {source}; nothing was recorded"
        raise Invalid(message, parsed.problems)
    try:
        return import_org(engine, parsed.raw, source, by, valid_from)
    except Invalid as e:
        if not e.problems:
            raise
        located = parsed.locate(e.problems)
        raise Invalid(
            f"{len(located)} problem(s) in {source}; nothing was recorded", located
        ) from e
