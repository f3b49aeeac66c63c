"""The audit trail: every write, who made it, in which request and what changed. Auditors and
admins only."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.api.deps import Auditor, Svc, out
from app.api.schemas import ERRORS, AuditPageOut
from app.errors import Invalid
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


# ISO 8601: a day, or a day and a time (to the minute, second or microsecond), with an
# optional zone (`Z` or ±hh:mm); numbers (Unix times) are not times here.
TIME_PATTERN = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?(Z|[+-]\d{2}:\d{2})?$"


def _utc(field: str, text: str | None) -> datetime | None:
    """An ISO 8601 time; one without a zone is read as UTC."""
    if text is None:
        return None
    try:
        at = datetime.fromisoformat(text)
    except ValueError as e:
        err = Invalid(f"not a time (ISO 8601, e.g. 2025-03-31T08:00:00): {text!r}")
        err.details = [{"field": f"query.{field}", "message": str(err)}]
        raise err from e
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
    since: Annotated[
        str | None,
        Query(description="from this time, ISO 8601 (UTC if no zone)", pattern=TIME_PATTERN),
    ] = None,
    until: Annotated[
        str | None, Query(description="before this time, ISO 8601", pattern=TIME_PATTERN)
    ] = None,
    cursor: Annotated[int, Query(ge=0, le=2**62, description="continue after (`next`)")] = 0,
    limit: Annotated[int, Query(ge=1, le=trail.MAX_PAGE)] = 100,
) -> Response:
    """Entries after `cursor` (the `next` of the page before), oldest first; `next` is null on
    the last page."""
    page = trail.log(
        svc.engine,
        actor=actor,
        kind=kind,
        since=_utc("since", since),
        until=_utc("until", until),
        after=cursor,
        limit=limit,
    )
    return out(page)
