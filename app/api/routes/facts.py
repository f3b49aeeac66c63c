"""Facts: post a batch (all or none) or one under its id, read, list, correct, retract."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import Field, TypeAdapter
from starlette.concurrency import run_in_threadpool

from app.api import uploads
from app.api.deps import Auditor, ExactRoute, FactReader, Recorder, Svc, out, parse_period
from app.api.schemas import (
    ERRORS,
    FACT_EXAMPLE,
    PERIOD_FACT_EXAMPLE,
    CorrectionIn,
    FactBody,
    FactIn,
    RecordedOut,
    RetractIn,
)
from app.services import recording, workbooks
from app.services.tokens import Principal

router = APIRouter(prefix="/facts", tags=["facts"], route_class=ExactRoute, responses=ERRORS)

FACTS = TypeAdapter(Annotated[list[FactIn], Field(min_length=1, max_length=uploads.MAX_BATCH)])
FactId = Annotated[str, Path(min_length=1, max_length=200, description="the fact's id")]
VIEW_EXAMPLE = {
    **FACT_EXAMPLE,
    "seq": 17,
    "supersedes": None,
    "recorded_by": "南岳区征管系统",
    "recorded_at": "2025-02-15T08:00:00+00:00",
    "status": "live",
    "superseded_by": None,
    "retraction": None,
}


def _by(who: Principal, svc: Svc) -> str:
    return who.name if who.token_id is not None else svc.settings.user


def _recorded(svc: Svc, got: dict[str, object]) -> Response:
    got["watermark"] = svc.cache.watermark().as_json()
    return out(got, 201 if got["added"] else 200)


@router.post(
    "",
    summary="Record a batch of facts (all or none): JSON, or a workbook or CSV file",
    response_model=RecordedOut,
    status_code=201,
    responses={200: {"description": "every fact was already recorded as it is"}},
    openapi_extra={"requestBody": uploads.facts_body(FactIn, [FACT_EXAMPLE, PERIOD_FACT_EXAMPLE])},
)
async def post_facts(
    request: Request,
    svc: Svc,
    who: Recorder,
    year: Annotated[
        int | None,
        Query(ge=1900, le=9999, description="a workbook's ruleset year (default: its dates')"),
    ] = None,
) -> Response:
    """Checks every fact (against the ruleset of its year, the organisation and the records)
    and records them in one transaction. A fact whose id is recorded with the same content is
    left as it is (posting twice is harmless); with other content it is refused (422, field
    `id`). Any problem refuses the whole batch, each one named by index and field.

    The body is a JSON array of facts, or a filled-in template (docs/excel.md): a workbook
    (`multipart/form-data` with a `file`, or the xlsx media type) or a CSV file (`text/csv`),
    checked the same way, each problem named by its cell (`督察发现问题!C7`)."""
    upload = await uploads.read_upload(request)
    by = _by(who, svc)
    if upload is not None:
        data, filename = upload
        got = await run_in_threadpool(
            workbooks.post_fact_workbook, svc.engine, svc.registry, who, data, filename, by, year
        )
        return _recorded(svc, got)
    facts = await uploads.json_body(request, FACTS)
    raws = [f.raw() for f in facts]
    got = await run_in_threadpool(recording.post, svc.engine, svc.registry, who, raws, by)
    return _recorded(svc, got)


@router.put("/{fact_id}", summary="Record one fact under its id", response_model=RecordedOut)
def put_fact(svc: Svc, who: Recorder, fact_id: FactId, fact: FactBody) -> Response:
    """The same as posting a batch of one; the id is the path's."""
    raw = {"id": fact_id, **fact.model_dump(exclude_none=True)}
    got = recording.post(svc.engine, svc.registry, who, [raw], _by(who, svc))
    return _recorded(svc, got)


@router.get(
    "/{fact_id}",
    summary="One fact, with its status",
    responses={200: {"content": {"application/json": {"example": VIEW_EXAMPLE}}}},
)
def get_fact(svc: Svc, who: FactReader, fact_id: FactId) -> Response:
    """A recorded fact: live, superseded (by which) or retracted (by whom, when, why)."""
    return out(recording.get(svc.engine, fact_id, who))


@router.get(
    "",
    summary="List facts by subject, type and period, in recording order",
    responses={
        200: {"content": {"application/json": {"example": {"facts": [VIEW_EXAMPLE], "next": 17}}}}
    },
)
def list_facts(
    svc: Svc,
    who: FactReader,
    subject: Annotated[str | None, Query(max_length=200)] = None,
    type: Annotated[str | None, Query(max_length=100)] = None,
    period: Annotated[str | None, Query(description="YYYY or YYYYQn")] = None,
    after: Annotated[
        int, Query(ge=0, le=recording.MAX_SEQ, description="continue after this seq (`next`)")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=recording.MAX_PAGE)] = 100,
) -> Response:
    """A page of facts; pass `next` back as `after` for the next page (null: the last)."""
    p = parse_period(period) if period is not None else None
    return out(recording.listing(svc.engine, subject, type, p, after, limit, who))


@router.post(
    "/{fact_id}/supersede",
    summary="Correct a fact with a new one",
    response_model=RecordedOut,
    status_code=201,
)
def supersede(svc: Svc, who: Recorder, fact_id: FactId, fact: CorrectionIn) -> Response:
    """Records a new fact (its own id) that supersedes this one; type, subject and date or
    period default to the corrected fact's. A fact is corrected once: a second correction is
    refused (422 naming `supersedes`)."""
    body = fact.model_dump(exclude_none=True)
    got = recording.correct(svc.engine, svc.registry, who, fact_id, body, _by(who, svc))
    return _recorded(svc, got)


@router.post(
    "/{fact_id}/retract",
    summary="Withdraw a fact, saying why",
    responses={200: {"content": {"application/json": {"example": VIEW_EXAMPLE}}}},
)
def retract(svc: Svc, who: Recorder, fact_id: FactId, body: RetractIn) -> Response:
    """Withdraws the fact (409 if it already is); it stops counting from the next score."""
    return out(recording.retract(svc.engine, who, fact_id, body.reason, _by(who, svc)))


@router.get("/history/{subject}", summary="Every fact on a subject, with what became of it")
def history(
    svc: Svc, who: Auditor, subject: Annotated[str, Path(min_length=1, max_length=200)]
) -> Response:
    """Auditors: each fact in recording order, live, superseded or retracted (who and why)."""
    from app.services import facts as fact_service

    return out({"subject": subject, "facts": fact_service.history(svc.engine, subject)})
