"""Health and version: no token needed."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from sqlalchemy import text

from app.api.deps import Svc, out
from app.api.schemas_out import HealthOut, VersionOut

router = APIRouter(tags=["health"])
VERSION = "0.1.0"


@router.get(
    "/health",
    summary="Is the service up, can it reach its database",
    response_model=HealthOut,
    responses={200: {"content": {"application/json": {"example": {"status": "ok"}}}}},
)
def health(svc: Svc) -> Response:
    """`ok` when the database answers and at least one ruleset is in service."""
    with svc.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    years = [r.compiled.year for r in svc.registry.in_service()]
    body: dict[str, Any] = {"status": "ok" if years else "no rulesets", "rulesets": years}
    body["demo"] = svc.settings.demo
    return out(body)


@router.get(
    "/version",
    summary="The service's version and the rulesets it serves",
    response_model=VersionOut,
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": {
                        "version": VERSION,
                        "api": "v1",
                        "rulesets": [{"year": 2025, "digest": "3f2a…", "commit": None}],
                    }
                }
            }
        }
    },
)
def version(svc: Svc) -> Response:
    """Version of the service and the ruleset of each year."""
    rulesets = [
        {"year": r.compiled.year, "digest": r.compiled.digest, "commit": r.commit}
        for r in svc.registry.in_service()
    ]
    return out({"version": VERSION, "api": "v1", "rulesets": rulesets})
