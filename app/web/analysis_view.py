"""What the analysis pages show, read from the analysis services (`app.services.analysis`):
lost points, warnings, risk grades, the feedback reports' list, and which period to show.

Nothing is computed here: the services' JSON is arranged for the templates (names, links,
chart data). Numbers stay the published strings; charts get them as numbers too."""

from __future__ import annotations

from datetime import date
from typing import Any

import orjson

from app.errors import NotFound
from app.services import analysis
from app.services.cache import Scored
from app.services.context import Services
from app.services.registry import LoadedRuleset
from app.web import labels
from app.web.parts import kept_view
from dsl.facts.periods import Period

SEVERITIES = ("high", "medium", "low")
WARNINGS_SHOWN = 300  # warnings a page lists, the most severe first; the API lists every one
CAUSES_SHOWN = 8  # causes of one indicator a page lists (as the feedback report does)
# Subjects whose causes a page lists, in rank order (3,000 persons would be tens of thousands
# of rows): the tables above them count every subject, and the workbook lists every cause.
CAUSE_SUBJECTS_SHOWN = 200


def source(svc: Services) -> analysis.DbSource:
    """The scores of any period, through the service's cache (as the API reads them)."""
    return analysis.DbSource(svc.cache, svc.registry)


def unit_cards(loaded: LoadedRuleset) -> list[tuple[str, str]]:
    """(id, title) of the scorecards a ruleset has, units' first."""
    cards = loaded.compiled.scorecards.values()
    ordered = sorted(cards, key=lambda c: c.sequence.subject == "person")
    return [(c.id, c.title or c.id) for c in ordered]


def latest_quarter(svc: Services) -> Period | None:
    """The newest quarter begun by today of a ruleset in service with any fact recorded."""
    return analysis.latest_quarter(source(svc), date.today())


day_in = analysis.day_in


def lost_view(
    src: analysis.DbSource, period: Period, card: str, ruleset: str | None
) -> dict[str, Any]:
    """The lost-point analysis of a scorecard, with chart data per indicator (arranged once
    per evaluation; the page only reads it)."""
    body = analysis.lost_points(src, period, card, ruleset)
    _, s = analysis.lost_source(src, period, card, ruleset)
    got: dict[str, Any] = kept_view(
        s, ("lost", card), lambda: _lost_view(body), keep=src.consistent()
    )
    return got


def _lost_view(body: bytes) -> dict[str, Any]:
    doc = orjson.loads(body)
    chart = [(i["indicator"], i["title"], i["total"]) for i in doc["indicators"]]
    names = {s["subject"]: s["name"] for s in doc["subjects"]}
    for i in doc["indicators"]:
        worst = i.get("worst") or {}
        i["worst_names"] = [names.get(s, s) for s in worst.get("subjects") or []]
    for s in doc["subjects"]:
        s["band"] = s.get("tier") or s.get("grade")
        s["lost_by"] = {i["indicator"]: i for i in s["indicators"]}
        s["losing"] = [i for i in s["indicators"] if _lost(i)]
        for i in s["losing"]:  # the page lists a few causes; the workbook has every one
            i["more"] = max(0, len(i["causes"]) - CAUSES_SHOWN)
            i["causes"] = i["causes"][:CAUSES_SHOWN]
    losing = [s for s in doc["subjects"] if s["losing"]]
    return {
        "doc": doc,
        "chart_data": chart,
        "causes": losing[:CAUSE_SUBJECTS_SHOWN],
        "causes_more": max(0, len(losing) - CAUSE_SUBJECTS_SHOWN),
    }


def _lost(i: dict[str, Any]) -> bool:
    return bool(i["missing"]) or i["lost"] not in ("0", "0.00", "0.0")


def warnings_view(
    src: analysis.DbSource, period: Period, day: date, ruleset: str | None
) -> dict[str, Any]:
    """The warnings of a period open on `day`, grouped by severity, with links (arranged once
    per evaluation and day)."""
    body = analysis.warnings(src, period, day, ruleset)
    s = src.held_as_of(period, day, ruleset)  # the day's entry: the period is not scored whole
    got: dict[str, Any] = kept_view(
        s, ("warnings", day), lambda: _warnings_view(body), keep=src.consistent()
    )
    return got


def _warnings_view(body: bytes) -> dict[str, Any]:
    doc = orjson.loads(body)
    doc["more"] = max(0, len(doc["warnings"]) - WARNINGS_SHOWN)
    doc["warnings"] = doc["warnings"][:WARNINGS_SHOWN]
    for w in doc["warnings"]:
        w["kind_title"] = labels.warning_kind(w["kind"])
        w["severity_title"] = labels.severity(w["severity"])
    return {"doc": doc, "severities": [(s, labels.severity(s)) for s in SEVERITIES]}


def risk_view(
    src: analysis.DbSource, period: Period, day: date | None, card: str, ruleset: str | None
) -> dict[str, Any]:
    """Risk grades of a scorecard's subjects per indicator, and the counts per indicator
    (arranged once per evaluation, day and scorecard)."""
    body = analysis.risk(src, period, day, card, None, ruleset)
    s = src.require(period, ruleset) if day is None else src.held_as_of(period, day, ruleset)
    got: dict[str, Any] = kept_view(
        s, ("risk", day, card), lambda: _risk_view(body), keep=src.consistent()
    )
    return got


def _risk_view(body: bytes) -> dict[str, Any]:
    doc = orjson.loads(body)
    indicators: dict[str, dict[str, Any]] = {}
    for s in doc["subjects"]:
        s["by"] = {i["indicator"]: i for i in s["indicators"]}
        for i in s["indicators"]:
            i["grade_title"] = labels.severity(i["grade"])
            got = indicators.setdefault(
                i["indicator"],
                {"code": i["indicator"], "title": i["title"], "high": 0, "medium": 0, "low": 0},
            )
            got[i["grade"]] += 1
    return {"doc": doc, "indicators": list(indicators.values())}


def subject_trend(svc: Services, period: Period, subject: str) -> list[dict[str, Any]]:
    """A subject's final, rank and band over the eight quarters ending with `period`, each
    scored by its own year's rules (`GET /v1/analysis/trends/{subject}`); a quarter without a
    score says why."""
    try:
        got = analysis.subject_trend(source(svc), period, subject)
    except NotFound:  # no quarter scored it: the page shows no chart
        return []
    return [
        {
            "period": q["period"],
            "label": labels.period(q["period"]),
            "final": q.get("final"),
            "rank": q.get("rank"),
            "n": q.get("n"),
            "band": q.get("tier") or q.get("grade"),
            "available": q["available"],
            "reason": q.get("reason"),
            "annual": False,
        }
        for q in got["quarters"]
    ]


def report_units(s: Scored) -> list[dict[str, Any]]:
    """The units with a feedback report in the evaluation's period: each unit scorecard's
    results by rank."""
    period = s.period
    c = s.loaded.compiled
    out = []
    for card in c.scorecards.values():
        if card.sequence.subject == "person" or card.id not in {
            r["scorecard"] for r in s.document["results"]
        }:
            continue
        rows = [r for r in s.document["results"] if r["scorecard"] == card.id]
        rows.sort(key=lambda r: (r["rank"] is None, r["rank"] or 0, r["subject"]))
        names = {u.id: u.name for u in s.org.units.values()} if s.org else {}
        out.append(
            {
                "id": card.id,
                "title": card.title or card.id,
                "rows": [
                    {
                        "subject": r["subject"],
                        "name": names.get(r["subject"], r["subject"]),
                        "final": r["final"],
                        "rank": r["rank"],
                        "band": r.get("tier") or r.get("grade"),
                    }
                    for r in rows
                ],
            }
        )
    if not out:
        raise NotFound(f"{labels.period(str(period))}没有单位的考评结果")
    return out
