"""The HTTP service: `create_app(settings)` builds it; `jixiao serve` runs it with uvicorn."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.routing import APIRoute

from app import web
from app.api import errors
from app.api.deps import Services
from app.api.guard import Guard
from app.api.requestid import RequestIds
from app.api.routes import (
    analysis,
    audit,
    cycles,
    facts,
    health,
    jobs,
    org,
    receipts,
    rulesets,
    scores,
    tokens,
)
from app.jobs.queue import dispatcher
from app.services.cache import ScoreCache
from app.services.registry import Registry
from app.settings import Settings
from app.store.db import make_engine

log = logging.getLogger("jixiao.api")

DESCRIPTION = """
Records facts as they happen and answers scores, rankings and explanations under the
rulesets in service (one per year folder of `rules/`).

Every request needs `Authorization: Bearer <token>` (`jixiao token create`), except
`/v1/health` and `/v1/version`, and in demo mode. Every error has one shape:
`{"code": ..., "message": ..., "details": [{"field": ..., "message": ...}]}`.
Score answers name the ruleset digest and the facts watermark they used, also in the
headers `X-Jixiao-Ruleset` and `X-Jixiao-Watermark`. See docs/api.md.
"""


# The operation ids a generated client names its methods by (routes that set their own keep it).
OPERATION_IDS = {
    "health": "get_health",
    "version": "get_version",
    "put_org": "put_org",
    "get_org": "get_org",
    "put_units": "put_units",
    "put_persons": "put_persons",
    "get_units": "list_units",
    "get_unit": "get_unit",
    "get_persons": "list_persons",
    "get_person": "get_person",
    "post_facts": "record_facts",
    "put_fact": "put_fact",
    "get_fact": "get_fact",
    "list_facts": "list_facts",
    "supersede": "supersede_fact",
    "retract": "retract_fact",
    "history": "get_fact_history",
    "list_rulesets": "list_rulesets",
    "diff": "diff_rulesets",
    "impact": "get_impact",
    "template": "get_fact_template",
    "org_template": "get_org_template",
    "get_ruleset": "get_ruleset",
    "check": "check_rules",
    "reload": "reload_rulesets",
    "all_scores": "list_scores",
    "subject_scores": "get_scores",
    "ranking": "get_ranking",
    "explanation": "get_explanation",
    "keep": "keep_receipt",
    "get_receipt": "get_receipt",
    "replay": "replay_receipt",
    "create": "create_token",
    "listing": "list_tokens",
    "revoke": "revoke_token",
    "submit_job": "submit_job",
    "get_job": "get_job",
    "get_job_results": "get_job_results",
}


def operation_id(route: APIRoute) -> str:
    """The operation id of a route: its entry in OPERATION_IDS, else its function's name."""
    return OPERATION_IDS.get(route.name, route.name)


def build_services(settings: Settings) -> Services:
    """The engine, the rulesets of the rules folder (loaded now) and an empty cache."""
    engine = make_engine(settings.database_url)
    registry = Registry(engine, settings.rules_dir, settings.user)
    for outcome in registry.reload():
        if outcome.status == "refused":
            log.error("ruleset %s refused:", outcome.folder)
            for d in outcome.diagnostics:
                log.error("  %s", d.headline())
    return Services(settings, engine, registry, ScoreCache(engine, keep=True), dispatcher())


def create_app(settings: Settings | None = None) -> FastAPI:
    """The FastAPI application for these settings (default: from the environment)."""
    settings = settings or Settings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        app.state.services.engine.dispose()

    app = FastAPI(
        title="Jixiao 绩效",
        version=health.VERSION,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served by app.web with local assets
        redoc_url=None,
        openapi_url="/openapi.json",
        generate_unique_id_function=operation_id,
    )
    app.state.services = build_services(settings)
    errors.install(app)
    app.add_middleware(Guard, services=app.state.services)
    routers = (
        health,
        org,
        facts,
        rulesets,
        scores,
        receipts,
        tokens,
        analysis,
        audit,
        cycles,
        jobs,
    )
    for module in routers:
        app.include_router(module.router, prefix="/v1")
    web.install(app)
    app.add_middleware(RequestIds)  # outermost: every response names its request id
    return app


def app_from_env() -> FastAPI:
    """The application configured from the environment (uvicorn's factory with workers)."""
    return create_app(Settings.from_env())
