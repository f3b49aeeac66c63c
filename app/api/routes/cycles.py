"""The evaluation cycle over HTTP: publish (公示), appeals (申诉) and rulings (裁定), approve
(审定), reopen; and the webhook subscriptions other systems receive its events by
(docs/cycle.md)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from app.api.deps import Admin, Anyone, ExactRoute, Svc, out, parse_period, ruleset_for
from app.api.schemas import ERRORS
from app.services import cycles, webhooks
from app.services.tokens import Principal

router = APIRouter(tags=["cycle"], route_class=ExactRoute, responses=ERRORS)

PeriodP = Annotated[str, Path(description="YYYYQn or YYYY", examples=["2025Q1"])]
RulesetQ = Annotated[
    str | None, Query(description="a year (2025) or a ruleset digest; default: the period's year")
]
IdP = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _actor(svc: Svc, who: Principal, request: Request) -> cycles.Actor:
    by = who.name if who.token_id is not None else svc.settings.user
    rid = request.headers.get("x-request-id")
    return cycles.Actor(who, by, rid[:100] if rid else None)


class ReasonIn(BaseModel):
    """Why (a reopening)."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=4000)


class AppealIn(BaseModel):
    """An appeal against a line of a published result."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "ruleset": "2025",
                "period": "2025Q1",
                "subject": "nanyue",
                "indicator": "K4",
                "facts": ["f16"],
                "reason": "该问题经省局复查认定为市级问题",
                "evidence": "湘税督〔2025〕18号",
            }
        },
    )
    ruleset: str | None = Field(default=None, max_length=64)
    period: str = Field(min_length=4, max_length=6)
    subject: str = Field(min_length=1, max_length=200)
    indicator: str | None = Field(default=None, min_length=1, max_length=100)
    facts: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=200
    )
    reason: str = Field(min_length=1, max_length=4000)
    evidence: str | None = Field(default=None, max_length=400)


class RulingIn(BaseModel):
    """The committee's ruling: upheld (with the facts it changes) or rejected."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "decision": "upheld",
                "reason": "复核属实，改按市级问题扣分",
                "corrections": [{"supersedes": "f16", "data": {"level": "municipal"}}],
            }
        },
    )
    decision: Literal["upheld", "rejected"]
    reason: str = Field(min_length=1, max_length=4000)
    corrections: list[dict[str, Any]] = Field(default_factory=list, max_length=200)


class SubscriptionIn(BaseModel):
    """A receiver of events."""

    model_config = ConfigDict(extra="forbid")
    url: str = Field(
        min_length=8,
        max_length=2000,
        pattern=r"^https?://[^/?#\s]+\S*$",
        description="where the events are posted: an http:// or https:// URL",
    )
    events: list[str] | None = Field(default=None, max_length=len(webhooks.EVENTS))


# ---- cycles ---------------------------------------------------------------------------------


@router.post(
    "/cycles/{period}/publish", summary="公示: publish a period's results", status_code=200
)
def publish(
    request: Request,
    svc: Svc,
    who: Admin,
    period: PeriodP,
    ruleset: RulesetQ = None,
    notice_days: Annotated[int | None, Query(ge=0, le=366, description="default 5")] = None,
) -> Response:
    """Scores the period now, keeps the results as a receipt and opens the notice period
    (`notice_until`, inclusive) during which appeals are filed."""
    p = parse_period(period, "path.period")
    loaded = ruleset_for(svc, ruleset, p)
    got = cycles.publish(svc.engine, loaded.compiled, p, _actor(svc, who, request), notice_days)
    return out(got)


@router.post("/cycles/{period}/approve", summary="审定: approve a period's results")
def approve(
    request: Request, svc: Svc, who: Admin, period: PeriodP, ruleset: RulesetQ = None
) -> Response:
    """409 while an appeal is open (or a year's quarters are not all approved); otherwise the
    results now become the approved receipt, and the period's facts are frozen."""
    p = parse_period(period, "path.period")
    loaded = ruleset_for(svc, ruleset, p)
    return out(cycles.approve(svc.engine, loaded.compiled, p, _actor(svc, who, request)))


@router.post("/cycles/{period}/reopen", summary="Reopen a published or approved cycle")
def reopen(
    request: Request,
    svc: Svc,
    who: Admin,
    period: PeriodP,
    body: ReasonIn,
    ruleset: RulesetQ = None,
) -> Response:
    """Back to open, with a reason; the receipts kept stay on record."""
    p = parse_period(period, "path.period")
    loaded = ruleset_for(svc, ruleset, p)
    actor = _actor(svc, who, request)
    return out(cycles.reopen(svc.engine, loaded.compiled, p, actor, body.reason))


@router.get("/cycles/{period}", summary="A cycle: state, history, appeals, receipts")
def status(svc: Svc, who: Anyone, period: PeriodP, ruleset: RulesetQ = None) -> Response:
    """Each transition with who, when and why; the appeals with their rulings; the receipts."""
    p = parse_period(period, "path.period")
    loaded = ruleset_for(svc, ruleset, p)
    return out(cycles.status(svc.engine, loaded.compiled.digest, p))


# ---- appeals --------------------------------------------------------------------------------


@router.post("/appeals", summary="申诉: file an appeal", status_code=201)
async def file_appeal(request: Request, svc: Svc, who: Anyone, body: AppealIn) -> Response:
    """By the subject's own recorder (a token scoped to its unit or an ancestor), or the lead
    department of the indicator named; while the results are published, until the end of the
    notice period (409 after it, with the date it ended)."""
    who.require("appeal:file")
    p = parse_period(body.period, "body.period")
    loaded = ruleset_for(svc, body.ruleset, p)
    got = await run_in_threadpool(
        cycles.file_appeal,
        svc.engine,
        loaded.compiled,
        p,
        _actor(svc, who, request),
        body.model_dump(),
    )
    return out(got, 201)


@router.get("/appeals", summary="Appeals, by state and subject")
def list_appeals(
    svc: Svc,
    who: Anyone,
    state: Annotated[Literal["open", "upheld", "rejected"] | None, Query()] = None,
    subject: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """Oldest first."""
    return out({"appeals": cycles.list_appeals(svc.engine, state, subject)})


@router.get("/appeals/{appeal_id}", summary="One appeal, with its ruling")
def get_appeal(svc: Svc, who: Anyone, appeal_id: IdP) -> Response:
    """The appeal and, once ruled, the decision, the facts it changed and their effect."""
    return out(cycles.get_appeal(svc.engine, appeal_id))


@router.post("/appeals/{appeal_id}/ruling", summary="裁定: rule on an appeal")
async def ruling(
    request: Request, svc: Svc, who: Anyone, appeal_id: IdP, body: RulingIn
) -> Response:
    """The committee (or an admin) upholds or rejects. An upheld appeal acts through facts
    (`{"supersedes": ID, "data": {...}}`, `{"retract": ID}`, or a new fact), recorded with the
    ruling as their evidence; the answer shows each affected subject's old and new final, rank
    and tier."""
    who.require("appeal:rule")
    got = await run_in_threadpool(
        cycles.rule,
        svc.engine,
        lambda digest: svc.registry.resolve(digest).compiled,
        appeal_id,
        _actor(svc, who, request),
        body.model_dump(),
    )
    return out(got)


# ---- webhooks -------------------------------------------------------------------------------


@router.post("/webhooks", summary="Subscribe a receiver to events (admin)", status_code=201)
def subscribe(request: Request, svc: Svc, who: Admin, body: SubscriptionIn) -> Response:
    """The answer holds the signing secret, once. Events: cycle.published, appeal.filed,
    appeal.ruled, cycle.approved, cycle.reopened (default: all)."""
    a = _actor(svc, who, request)
    got = webhooks.subscribe(
        svc.engine, body.url, body.events, a.by, who.role, cycles.recorder_for(a)
    )
    return out(got, 201)


@router.get("/webhooks", summary="The subscriptions (admin)")
def subscriptions(svc: Svc, who: Admin) -> Response:
    """Live subscriptions, without their secrets."""
    return out({"subscriptions": webhooks.listing(svc.engine)})


@router.delete("/webhooks/{sub_id}", summary="Delete a subscription (admin)")
def unsubscribe(request: Request, svc: Svc, who: Admin, sub_id: IdP) -> Response:
    """Nothing more is sent to it; its delivery log stays."""
    a = _actor(svc, who, request)
    return out(webhooks.unsubscribe(svc.engine, sub_id, a.by, who.role, cycles.recorder_for(a)))


@router.get("/webhooks/{sub_id}/deliveries", summary="A subscriber's delivery log (admin)")
def deliveries(svc: Svc, who: Admin, sub_id: IdP) -> Response:
    """Each event sent (or to send), its state and every attempt with the receiver's answer."""
    return out(webhooks.deliveries(svc.engine, sub_id))
