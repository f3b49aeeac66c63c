"""The web pages for the people in the cycle: server-rendered Chinese pages on the same app
and the same services as the API, their assets (ECharts, Swagger UI, ReDoc) served from here.

`install(app)` adds the pages, `/static` and the API documentation pages `/docs` and `/redoc`.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from app.web.deps import HERE
from app.web.pages import analysis, audit, cycle, home, rulesets, scores
from app.web.security import PageHeaders


def install(app: FastAPI) -> None:
    """Adds the web pages and their static assets to the application."""
    app.add_middleware(PageHeaders)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    for module in (home, scores, analysis, rulesets, audit, cycle):
        app.include_router(module.router)
