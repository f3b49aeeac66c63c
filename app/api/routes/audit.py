"""The audit trail: every write, who made it, in which request and what changed. Auditors and
admins only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.api.deps import Auditor, Svc, out
from app.api.schemas import ERRORS, AuditPageOut
from app.services import trail

router = APIRouter(prefix="/audit", tags=["audit"], responses=ERRORS)

EXAMPLE = {
    "entries": [
        {
            "id": 12,
            "at": "2026-12-01T09:30:02.120000+00:00",
            "actor": "南岳区征管系统",
            "role": "recorder",
            "request_id": "5f0c2a6d9b1e4f7a8c3d2e1f0a9b8c7d",
            "kind": "fact.retract",
            "target": "fact:f5",
            "change": {"retraction": 3, "seq": 5, "reason": "entered twice"},
            "hash": "9c1f…",
        }
    ],
    "next": 12,
}


def _utc(at: datetime | None) -> datetime | None:
    """A time without a zone is read as UTC."""
    if at is None:
        return None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


@router.get(
    "",
    summary="The audit trail, oldest first, filtered and paged",
    response_model=AuditPageOut,
    responses={200: {"content": {"application/json": {"example": EXAMPLE}}}},
)
def audit_log(
    svc: Svc,
    who: Auditor,
    actor: Annotated[str | None, Query(max_length=200, description="a token's name")] = None,
    kind: Annotated[
        str | None, Query(max_length=100, description="`fact.retract`, or `facts.*` for a family")
    ] = None,
    since: Annotated[datetime | None, Query(description="from this time (UTC if no zone)")] = None,
    until: Annotated[datetime | None, Query(description="before this time")] = None,
    cursor: Annotated[int, Query(ge=0, le=2**62, description="continue after (`next`)")] = 0,
    limit: Annotated[int, Query(ge=1, le=trail.MAX_PAGE)] = 100,
) -> Response:
    """Entries after `cursor` (the `next` of the page before), oldest first; `next` is null on
    the last page."""
    page = trail.log(
        svc.engine,
        actor=actor,
        kind=kind,
        since=_utc(since),
        until=_utc(until),
        after=cursor,
        limit=limit,
    )
    return out(page)
