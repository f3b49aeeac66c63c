"""Workbooks of what the API reads: results, a ranking, an explanation, an impact report, a
lost-point analysis, and a ruleset's templates. The same workbooks as `jixiao export` and
`jixiao template` write."""

from __future__ import annotations

from datetime import date
from typing import Any

import orjson
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.excel import names
from app.excel.columns import vocabulary_of
from app.excel.export import results_workbook
from app.excel.export_impact import impact_workbook
from app.excel.export_lost import lost_workbook
from app.excel.org import org_template
from app.excel.template import facts_template
from app.excel.titles import Titles, titles_of
from app.services import analysis
from app.services.analysis import DbSource
from app.services.cache import Scored
from app.services.org import org_at
from app.services.recording import org_now
from dsl.compile.ir import CompiledRuleset
from dsl.facts.periods import Period

Named = tuple[bytes, tuple[str, str]]  # the workbook, (file name, ASCII fallback)


def _titles(engine: Engine, compiled: CompiledRuleset) -> Titles:
    """Titles of the ruleset, names of every unit and person recorded."""
    return titles_of(compiled, org_now(engine))


def results(engine: Engine, s: Scored) -> Named:
    """Every scorecard's results of the period."""
    period = str(s.period)
    data = results_workbook(s.document, _titles(engine, s.loaded.compiled))
    return data, names.results_name(period)


def ranking(engine: Engine, s: Scored, card: str) -> Named:
    """One scorecard's results, by rank."""
    compiled = s.loaded.compiled
    sc = compiled.scorecards[card]
    data = results_workbook(s.document, _titles(engine, compiled), only=card)
    title = (
        compiled.program.sequences[sc.sequence.id].title
        if sc.sequence.id in compiled.program.sequences
        else None
    )
    return data, names.ranking_name(str(s.period), sc.sequence.id, title or sc.title or card)


def persons(engine: Engine, s: Scored, unit: str, subjects: list[str]) -> Named:
    """The results of a unit's persons (`subjects`) in the entry's period."""
    titles = _titles(engine, s.loaded.compiled)
    wanted = set(subjects)
    doc = {**s.document, "results": [r for r in s.document["results"] if r["subject"] in wanted]}
    data = results_workbook(doc, titles)
    return data, names.persons_name(str(s.period), unit, titles.name(unit))


def explanation(engine: Engine, s: Scored, subject: str) -> Named:
    """A subject's results and how they were reached."""
    titles = _titles(engine, s.loaded.compiled)
    ex = s.explanation(subject)
    doc = {**s.document, "results": [r for r in s.document["results"] if r["subject"] == subject]}
    data = results_workbook(doc, titles, [ex])
    return data, names.explain_name(str(s.period), subject, titles.name(subject))


def impact(engine: Engine, doc: dict[str, Any], new: CompiledRuleset) -> Named:
    """An impact report (`ImpactReport.as_json()`), titles from the new ruleset."""
    return impact_workbook(doc, _titles(engine, new)), names.impact_name(str(doc["period"]))


def lost_points(engine: Engine, s: Scored, doc: dict[str, Any]) -> Named:
    """A scorecard's lost-point analysis (`analysis.lost_points_data` of the entry `s`)."""
    card = str(doc["scorecard"])
    data = lost_workbook(doc, _titles(engine, s.loaded.compiled))
    return data, names.lost_name(str(s.period), card, str(doc["title"]))


def lost_points_of(
    engine: Engine, src: DbSource, period: Period, card: str, ruleset: str | None = None
) -> Named:
    """A scorecard's lost-point workbook, written once per evaluation and kept beside it: it
    lists every cause of every indicator (tens of thousands of rows on a province). The names
    are the organisation's now: an approved period's results stay, so its workbook is kept per
    organisation revision too."""
    body = analysis.lost_points(src, period, card, ruleset)
    _, s = analysis.lost_source(src, period, card, ruleset)
    key = ("lost.xlsx", card, src.cache.watermark().org_revision if s.approved else None)
    got: Named | None = s.memo.get(key)
    if got is not None:
        return got
    got = lost_points(engine, s, orjson.loads(body))
    if src.consistent():
        s.memo[key] = got
    return got


def template(engine: Engine, compiled: CompiledRuleset, organisation: bool = False) -> Named:
    """The fact template (subjects from the organisation in force), or the organisation's."""
    with Session(engine) as session:
        org, _ = org_at(session, date.max)
    year = compiled.year or 0
    if organisation:
        data = org_template(compiled.program.organisation, org, compiled.name)
    else:
        data = facts_template(vocabulary_of(compiled, org), compiled.name, compiled.digest)
    return data, names.template_name(year, organisation)
