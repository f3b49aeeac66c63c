"""The analysis of a period's scores for the people who run the cycle: lost points, early
warnings, risk grades, trends, feedback reports and what-if (docs/analysis.md).

Every answer is read from the same evaluations as the score endpoints, and names the ruleset
and the watermark it read.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from urllib.parse import quote

import orjson
from fastapi import APIRouter, Path, Query, Response

from app.api.deps import (
    DAY_PATTERN,
    PERIOD_PATTERN,
    ExactRoute,
    PeriodQ,
    Reader,
    Svc,
    out,
    parse_period,
)
from app.api.download import xlsx_response
from app.api.routes.scores import XLSX_DOC, FormatQ
from app.api.schemas import ERRORS
from app.api.schemas_analysis import (
    FeedbackOut,
    IndicatorTrendOut,
    LostPointsOut,
    RiskOut,
    SubjectTrendOut,
    WarningsOut,
    WhatIfIn,
    WhatIfOut,
)
from app.errors import Invalid, NotFound
from app.services import analysis, exports
from app.services.recording import problem_details
from dsl.analysis.render import file_name, render_html, render_pdf

router = APIRouter(tags=["analysis"], route_class=ExactRoute, responses=ERRORS)

RulesetQ = Annotated[
    str | None,
    Query(description="a year (2025) or a ruleset digest; default: the period's year"),
]


def source(svc: Svc) -> analysis.DbSource:
    """The scores of any period, through the service's cache."""
    return analysis.DbSource(svc.cache, svc.registry)


@router.get(
    "/analysis/lost-points",
    operation_id="analysis_lost_points",
    summary="Lost points of a scorecard's subjects (失分分析)",
    response_model=LostPointsOut,
    responses={200: {"content": XLSX_DOC}},
)
def lost_points(
    svc: Svc,
    who: Reader,
    period: PeriodQ,
    scorecard: Annotated[str, Query(description="a scorecard id", examples=["county"])],
    ruleset: RulesetQ = None,
    format: FormatQ = "json",
) -> Response:
    """Per subject and indicator: points, score, lost (points − score as published) and the
    facts that cost them; per indicator across subjects; per lead department; items by kind
    and level; each against the previous quarter and the same quarter a year earlier.
    `format=xlsx`: the same as a workbook (docs/excel.md)."""
    p = parse_period(period)
    src = source(svc)
    if format == "xlsx":
        return xlsx_response(*exports.lost_points_of(svc.engine, src, p, scorecard, ruleset))
    body = analysis.lost_points(src, p, scorecard, ruleset)
    return Response(body, media_type="application/json")


@router.get(
    "/warnings",
    operation_id="analysis_warnings",
    summary="Early warnings of a period still open (预警)",
    response_model=WarningsOut,
)
def warnings(
    svc: Svc,
    who: Reader,
    period: PeriodQ,
    as_of: Annotated[
        str | None,
        Query(
            description="YYYY-MM-DD inside the period; default: today",
            examples=["2025-03-20"],
            pattern=DAY_PATTERN,
            json_schema_extra={"format": "date"},
        ),
    ] = None,
    ruleset: RulesetQ = None,
) -> Response:
    """Missing period values with the days left, indicators at or near their floor, bonus caps
    reached, subjects in the last tier or one place from a tier boundary, persons whose annual
    grade is at risk; each with kind, severity, subject, indicator and a sentence to act on."""
    p = parse_period(period)
    day = analysis.parse_day(as_of, "query.as_of") if as_of else date.today()
    body = analysis.warnings(source(svc), p, day, ruleset)
    return Response(body, media_type="application/json")


@router.get(
    "/analysis/risk",
    operation_id="analysis_risk",
    summary="Risk grades per subject and indicator (风险分级)",
    response_model=RiskOut,
)
def risk(
    svc: Svc,
    who: Reader,
    period: PeriodQ,
    as_of: Annotated[
        str | None,
        Query(
            description="YYYY-MM-DD inside the period; default: the period as scored",
            pattern=DAY_PATTERN,
            json_schema_extra={"format": "date"},
        ),
    ] = None,
    scorecard: Annotated[str | None, Query(description="only this scorecard")] = None,
    subject: Annotated[str | None, Query(description="only this unit or person")] = None,
    ruleset: RulesetQ = None,
) -> Response:
    """High, medium or low per indicator, with the reasons: the risk the ruleset declares, the
    scoring method, the points lost so far, the time left and losses in earlier periods."""
    p = parse_period(period)
    day = analysis.parse_day(as_of, "query.as_of") if as_of else None
    body = analysis.risk(source(svc), p, day, scorecard, subject, ruleset)
    return Response(body, media_type="application/json")


@router.get(
    "/analysis/trends/{subject}",
    operation_id="analysis_subject_trend",
    summary="A subject's final, rank and tier over the last eight quarters",
    response_model=SubjectTrendOut,
)
def subject_trend(
    svc: Svc,
    who: Reader,
    subject: Annotated[str, Path(min_length=1, max_length=200, description="unit or person id")],
    period: Annotated[
        str,
        Query(description="the last quarter (YYYYQn)", examples=["2025Q4"], pattern=PERIOD_PATTERN),
    ],
) -> Response:
    """Each quarter scored by the ruleset of its year; a quarter without one, without facts,
    or that did not score the subject says so."""
    p = parse_period(period)
    return out(analysis.subject_trend(source(svc), p, subject))


@router.get(
    "/analysis/indicator-trends/{indicator}",
    operation_id="analysis_indicator_trend",
    summary="An indicator's mean over the last eight quarters",
    response_model=IndicatorTrendOut,
)
def indicator_trend(
    svc: Svc,
    who: Reader,
    indicator: Annotated[str, Path(min_length=1, max_length=200, description="indicator id")],
    period: Annotated[
        str,
        Query(description="the last quarter (YYYYQn)", examples=["2025Q4"], pattern=PERIOD_PATTERN),
    ],
) -> Response:
    """The mean published score (and mean loss) across the subjects of its scorecard; a
    quarter whose ruleset has no such indicator says so."""
    p = parse_period(period)
    return out(analysis.indicator_trend(source(svc), p, indicator))


REPORT_MEDIA = {
    "json": "application/json",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
}


@router.get(
    "/reports/{subject}",
    operation_id="analysis_feedback_report",
    summary="A unit's feedback report (绩效反馈报告) as JSON, a printable page or PDF",
    response_model=FeedbackOut,
    responses={
        200: {
            "content": {
                "text/html": {"schema": {"type": "string"}},
                "application/pdf": {"schema": {"type": "string", "format": "binary"}},
            }
        }
    },
)
def feedback_report(
    svc: Svc,
    who: Reader,
    subject: Annotated[str, Path(min_length=1, max_length=200, description="a unit id")],
    period: PeriodQ,
    format: Annotated[
        Literal["json", "html", "pdf"], Query(description="json, html or pdf")
    ] = "json",
    as_of: Annotated[
        str | None,
        Query(
            description="YYYY-MM-DD: with a day inside the next period, its warnings too",
            pattern=DAY_PATTERN,
            json_schema_extra={"format": "date"},
        ),
    ] = None,
    ruleset: RulesetQ = None,
) -> Response:
    """Final, rank, tier and the change since the previous quarter; lost points by indicator
    with their causes; items and joint liability received; the peers' mean and best; warnings
    and risk grades for the next period. `html` is an A4 page ready to print; `pdf` the same
    page with its Chinese font embedded."""
    p = parse_period(period)
    day = analysis.parse_day(as_of, "query.as_of") if as_of else None
    report = analysis.feedback_report(source(svc), subject, p, day, ruleset)
    name = file_name(report, format)
    headers = {"Content-Disposition": disposition(name)}
    if format == "json":
        return Response(orjson.dumps(report), media_type=REPORT_MEDIA["json"])
    if format == "html":
        return Response(render_html(report), media_type=REPORT_MEDIA["html"], headers=headers)
    return Response(render_pdf(report), media_type=REPORT_MEDIA["pdf"], headers=headers)


def disposition(name: str) -> str:
    """`inline` with an ASCII fallback name and the UTF-8 name (RFC 6266 / 5987)."""
    ascii_name = name.encode("ascii", "ignore").decode() or "report"
    return f"inline; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


@router.post(
    "/what-if",
    operation_id="analysis_what_if",
    summary="Score a period with hypothetical facts, nothing recorded (模拟测算)",
    response_model=WhatIfOut,
)
def what_if(svc: Svc, who: Reader, body: WhatIfIn) -> Response:
    """The recorded facts of the period with `add`ed facts (a period value replaces the one
    recorded), `correct`ed ones (the parts given change) and `retract`ed ones, scored and
    compared with the recorded scores: every subject whose final, rank, tier or grade moves,
    and those the changes name, as `POST /v1/impact` shows them."""
    from app.services.whatif import what_if_db

    p = parse_period(body.period, "body.period")
    changes = body.model_dump(include={"add", "retract"}) | {
        "correct": [c.model_dump(exclude_none=True) for c in body.correct]
    }
    try:
        return out(what_if_db(source(svc), p, changes, body.ruleset))
    except Invalid as e:
        if e.problems and all(x.message.startswith("no live fact") for x in e.problems):
            missing = NotFound(str(e).split("\n", 1)[0].rstrip(":"))
            missing.details = e.details or problem_details(e.problems)
            raise missing from e
        raise
