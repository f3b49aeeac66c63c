"""Scores of a period under a ruleset: all results, one subject, a ranking, an explanation.

Every answer names the ruleset digest and the facts watermark it was computed from, in the
body and in the headers `X-Jixiao-Ruleset` and `X-Jixiao-Watermark`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response

from app.api.deps import Reader, Svc, out, provenance, scored
from app.api.download import xlsx_response
from app.api.schemas import ERRORS
from app.errors import NotFound
from app.services import exports
from app.services.cache import Scored
from app.services.registry import scorecard_for

router = APIRouter(tags=["scores"], responses=ERRORS)

RulesetQ = Annotated[
    str | None,
    Query(description="a year (2025) or a ruleset digest; default: the period's year"),
]
PeriodQ = Annotated[str, Query(description="YYYY or YYYYQn", examples=["2025Q1"])]
SubjectP = Annotated[str, Path(min_length=1, max_length=200, description="unit or person id")]
FormatQ = Annotated[
    Literal["json", "xlsx"],
    Query(description="`xlsx`: the formatted workbook (docs/excel.md) instead of JSON"),
]
XLSX_DOC = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
        "schema": {"type": "string", "format": "binary"}
    }
}

RESULT_EXAMPLE: dict[str, Any] = {
    "subject": "nanyue",
    "scorecard": "county",
    "final": "86.93",
    "base": "83.43",
    "bonus": "4.00",
    "penalty": "0.50",
    "joint": None,
    "categories": {"key": "82.00", "general": "86.78"},
    "indicators": {"K1": "25.50", "K2": "19.00", "K3": "12.00", "K4": "25.50"},
    "missing": [],
    "rank": 1,
    "tier": "first",
    "grade": None,
}
HEAD: dict[str, Any] = {
    "ruleset": {"name": "衡阳市税务局 2025 年度绩效考评", "year": 2025, "digest": "3f2a…"},
    "period": "2025Q1",
}
WATERMARK = {"token": "1204.2.1", "facts": 1204, "retractions": 2, "org_revision": 1}


def _example(extra: dict[str, Any]) -> dict[int | str, dict[str, Any]]:
    json_doc = {"application/json": {"example": {**HEAD, **extra}}}
    return {200: {"content": {**json_doc, **XLSX_DOC}}}


def _head(s: Scored) -> dict[str, Any]:
    return {
        "ruleset": s.document["ruleset"],
        "period": s.document["period"],
        "watermark": s.document["watermark"],
    }


@router.get(
    "/scores",
    summary="Every subject's results (the JSON of `jixiao score`)",
    responses=_example({"results": [RESULT_EXAMPLE], "watermark": WATERMARK}),
)
def all_scores(
    svc: Svc, who: Reader, period: PeriodQ, ruleset: RulesetQ = None, format: FormatQ = "json"
) -> Response:
    """`jixiao score --format json` of the recorded facts, plus the watermark it read."""
    s = scored(svc, ruleset, period)
    if format == "xlsx":
        return xlsx_response(*exports.results(svc.engine, s), provenance(s))
    return Response(s.body, media_type="application/json", headers=provenance(s))


@router.get(
    "/scores/{subject}",
    summary="One subject's results",
    responses=_example({"subject": "nanyue", "results": [RESULT_EXAMPLE], "watermark": WATERMARK}),
)
def subject_scores(
    svc: Svc, who: Reader, subject: SubjectP, period: PeriodQ, ruleset: RulesetQ = None
) -> Response:
    """The subject's result on each scorecard that scores it (404: none does)."""
    s = scored(svc, ruleset, period)
    results = s.by_subject.get(subject)
    if results is None:
        raise NotFound(f"no scorecard scores '{subject}' in {s.period}")
    return out({**_head(s), "subject": subject, "results": results}, headers=provenance(s))


@router.get(
    "/rankings/{sequence}",
    summary="A sequence's ranking with tiers (or grades)",
    responses=_example(
        {
            "scorecard": "county",
            "sequence": "county_bureaus",
            "n": 12,
            "bands": {"first": ["nanyue"], "second": [], "third": []},
            "ranking": [
                {"rank": 1, "subject": "nanyue", "final": "86.93", "tier": "first", "grade": None}
            ],
            "watermark": WATERMARK,
        }
    ),
)
def ranking(
    svc: Svc,
    who: Reader,
    sequence: Annotated[str, Path(description="a sequence id, or the id of a scorecard")],
    period: PeriodQ,
    ruleset: RulesetQ = None,
    format: FormatQ = "json",
) -> Response:
    """The results of the scorecard that ranks the sequence, by rank, with each tier's list."""
    s = scored(svc, ruleset, period)
    card = scorecard_for(s.loaded.compiled, sequence)
    if card is None:
        raise NotFound(f"no sequence or scorecard '{sequence}' in this ruleset")
    rows = [r for r in s.document["results"] if r["scorecard"] == card.id]
    if not rows:
        raise NotFound(f"scorecard '{card.id}' scores nobody in {s.period}")
    if format == "xlsx":
        return xlsx_response(*exports.ranking(svc.engine, s, card.id), provenance(s))
    bands: dict[str, list[str]] = {}
    for r in rows:
        band = r.get("tier") or r.get("grade")
        if band is not None:
            bands.setdefault(band, []).append(r["subject"])
    table = [
        {k: r.get(k) for k in ("rank", "subject", "final", "tier", "grade", "missing")}
        # a subject a rule failed on: unranked, the error saying why
        | ({"error": r["error"]} if "error" in r else {})
        for r in rows
    ]
    body = {
        **_head(s),
        "scorecard": card.id,
        "sequence": card.sequence.id,
        "n": len(rows),
        "bands": bands,
        "ranking": table,
    }
    return out(body, headers=provenance(s))


@router.get(
    "/explanations/{subject}",
    summary="How a subject's score was reached: each line, its rule and its facts",
    responses=_example(
        {
            "subject": "nanyue",
            "results": [
                {
                    **RESULT_EXAMPLE,
                    "trace": [
                        {
                            "what": "K4 减税降费落实",
                            "value": "51/2",
                            "where": "rules/2025/county.jx:31",
                            "facts": ["f12"],
                        }
                    ],
                }
            ],
            "watermark": WATERMARK,
        }
    ),
)
def explanation(
    svc: Svc,
    who: Reader,
    subject: SubjectP,
    period: PeriodQ,
    ruleset: RulesetQ = None,
    format: FormatQ = "json",
) -> Response:
    """`jixiao explain --format json` for the subject, from the recorded facts."""
    s = scored(svc, ruleset, period)
    if subject not in s.by_subject:
        raise NotFound(f"no scorecard scores '{subject}' in {s.period}")
    if format == "xlsx":
        return xlsx_response(*exports.explanation(svc.engine, s, subject), provenance(s))
    body = {**s.explanation(subject), "watermark": s.document["watermark"]}
    return out(body, headers=provenance(s))
