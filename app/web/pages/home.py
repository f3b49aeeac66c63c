"""The home page, signing in and out, and the API documentation pages (assets served here)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from app.services import websessions
from app.services.registry import LoadedRuleset
from app.web import analysis_view, cycle_view, labels, scores_view
from app.web.deps import (
    SESSION_COOKIE,
    Anyone,
    Svc,
    WebRoute,
    checked_form,
    optional_viewer,
    render,
    templates,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)


def _sequences(r: LoadedRuleset) -> list[dict[str, Any]]:
    """Each scorecard's sequence with the periods it has results for."""
    c = r.compiled
    out = []
    for card in c.scorecards.values():
        decl = c.program.sequences.get(card.sequence.id)
        kinds = set(card.periods) | ({"year"} if card.annual is not None else set())
        periods = [
            p for p in scores_view.periods_of(r) if ("quarter" if "Q" in p else "year") in kinds
        ]
        out.append(
            {
                "id": card.sequence.id,
                "card": card.title or card.id,
                "title": (decl.title if decl else None) or card.sequence.id,
                "periods": periods,
            }
        )
    return out


@router.get("/")
def home(request: Request, svc: Svc, viewer: Anyone) -> Response:
    """The rulesets in service with their sequences and periods, and where to go."""
    loaded = list(reversed(svc.registry.in_service()))
    started = cycle_view.states(svc, [r.compiled.digest for r in loaded])
    rulesets = [
        {
            **r.summary(),
            "periods": scores_view.periods_of(r),
            "sequences": _sequences(r),
            # each period's cycle state (未公示 until one is started)
            "cycles": {
                p: started.get((r.compiled.digest, p), "open") for p in scores_view.periods_of(r)
            },
        }
        for r in loaded
    ]
    return render(
        request,
        viewer,
        "home.html",
        rulesets=rulesets,
        watermark=svc.cache.watermark(),
        latest=_latest_warnings(svc) if viewer.can("scores") else None,
    )


WARNINGS_SHOWN = 8


def _latest_warnings(svc: Svc) -> dict[str, Any] | None:
    """The warnings of the newest quarter with facts, as of today while it is open (else its
    last day): the most severe first, as the analysis service orders them."""
    q = analysis_view.latest_quarter(svc)
    if q is None:
        return None
    day = analysis_view.day_in(q, date.today())
    view = analysis_view.warnings_view(analysis_view.source(svc), q, day, None)
    doc = view["doc"]
    return {
        "period": str(q),
        "period_label": labels.period(str(q)),
        "as_of": doc["as_of"],
        "counts": doc["counts"],
        "severities": view["severities"],
        "shown": doc["warnings"][:WARNINGS_SHOWN],
        "total": len(doc["warnings"]) + doc["more"],
    }


def _safe_next(target: str) -> str:
    """Only a path of this site (never another host) to return to after signing in."""
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@router.get("/login")
def login_page(request: Request, next: Annotated[str, Query(max_length=2000)] = "/") -> Response:
    """The sign-in form (already signed in, or demo: straight on)."""
    viewer = optional_viewer(request)
    if viewer is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(request, None, "login.html", next=_safe_next(next), error=None)


@router.post("/login")
async def login(request: Request, svc: Svc) -> Response:
    """Exchanges an API token for a session cookie."""
    form = await checked_form(request)
    target = _safe_next(form.get("next", "/"))
    secret = websessions.sign_in(svc.engine, form.get("token", ""))
    if secret is None:
        return render(
            request,
            None,
            "login.html",
            401,
            next=target,
            error="令牌无效或已被吊销，请核对后重试。",
        )
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=int(websessions.LIFETIME.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/logout")
async def logout(request: Request, svc: Svc) -> Response:
    """Ends the session and forgets the cookie."""
    await checked_form(request)
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        websessions.sign_out(svc.engine, secret)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/docs")
def swagger(request: Request) -> HTMLResponse:
    """Swagger UI on the OpenAPI document, every asset from this server."""
    return templates.TemplateResponse(request, "swagger.html", {})


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    """ReDoc on the OpenAPI document, every asset from this server."""
    return templates.TemplateResponse(request, "redoc.html", {})
