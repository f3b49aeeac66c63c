"""Dependencies of the routes: the service objects, the caller, and exact JSON bodies.

Routes name what they need by these `Annotated` aliases: `Svc` (engine, rulesets, cache),
`Reader`, `Recorder`, `FactReader`, `Auditor`, `Admin`, `Anyone` (the authenticated caller
with a role that may do that).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Coroutine, Mapping
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BeforeValidator

from app import exactjson
from app.api.guard import PRINCIPAL
from app.api.schemas import DAY, PERIOD
from app.errors import Unauthorized
from app.services import tokens, trail
from app.services.cache import Scored
from app.services.context import Services as Services
from app.services.context import parse_period as parse_period
from app.services.context import ruleset_for as ruleset_for
from app.services.stored import stored_after
from app.services.tokens import Principal


def get_services(request: Request) -> Services:
    """The application's services."""
    svc: Services = request.app.state.services
    return svc


Svc = Annotated[Services, Depends(get_services)]

bearer = HTTPBearer(auto_error=False, description="A token from `jixiao token create`.")


def get_principal(
    request: Request,
    svc: Svc,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller named by the bearer token (in demo mode: an admin without a token); the one
    `app.api.guard` found already when the request has a body."""
    if svc.settings.demo:
        trail.acting_as(svc.settings.user, tokens.DEMO.role)
        return tokens.DEMO
    known = request.scope.get(PRINCIPAL)
    if isinstance(known, Principal):
        trail.acting_as(known.name, known.role)
        return known
    if creds is None or creds.scheme.lower() != "bearer" or not creds.credentials:
        raise Unauthorized("a bearer token is needed (Authorization: Bearer jx_...)")
    got = tokens.authenticate(svc.engine, creds.credentials)
    if got is None:
        raise Unauthorized("the bearer token is not valid or was revoked")
    trail.acting_as(got.name, got.role)
    return got


def _role(capability: str) -> Callable[[Principal], Principal]:
    def check(who: Annotated[Principal, Depends(get_principal)]) -> Principal:
        who.require(capability)
        return who

    return check


Anyone = Annotated[Principal, Depends(_role("any"))]
Reader = Annotated[Principal, Depends(_role("scores"))]
Recorder = Annotated[Principal, Depends(_role("facts:write"))]
FactReader = Annotated[Principal, Depends(_role("facts:read"))]
Auditor = Annotated[Principal, Depends(_role("audit"))]
Admin = Annotated[Principal, Depends(_role("admin"))]


def scored(svc: Services, ruleset: str | None, period: str) -> Scored:
    """The (cached) evaluation a score request reads."""
    p = parse_period(period)
    return svc.cache.get(ruleset_for(svc, ruleset, p), p)


def provenance(s: Scored) -> dict[str, str]:
    """Headers naming the ruleset digest and the watermark of a response, and for approved
    results (审定) `X-Jixiao-State: approved` and the approved receipt."""
    head = {"X-Jixiao-Ruleset": s.digest, "X-Jixiao-Watermark": str(s.watermark)}
    if s.approved is not None:
        head["X-Jixiao-State"] = "approved"
        head["X-Jixiao-Receipt"] = str(s.approved["receipt"])
    return head


def out(payload: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """A JSON response whose decimals are written digit for digit."""
    return Response(
        exactjson.dumps(payload).encode(),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def exact_json(body: bytes) -> Any:
    """A JSON body, decimals exact; text that is not UTF-8 is malformed JSON at its byte."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        doc = body[: e.start].decode("utf-8")
        raise json.JSONDecodeError("not UTF-8 text", doc, len(doc)) from e
    try:
        return json.loads(text, parse_float=Decimal)
    except RecursionError as e:  # thousands of nested brackets: malformed for this service
        raise json.JSONDecodeError("nested too deeply", text, 0) from e


class ExactRequest(Request):
    """A request whose JSON body keeps decimal numbers exact (read as Decimal, not float)."""

    async def json(self) -> Any:
        """The body as JSON, numbers with a fraction or exponent as Decimal."""
        if not hasattr(self, "_json"):
            self._json = exact_json(await self.body())
        return self._json


class ExactRoute(APIRoute):
    """Routes that read their bodies with `ExactRequest`. A read (GET, HEAD) stores the
    evaluations it made for other processes once it has answered (`stored_after`)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The handler, given an `ExactRequest`."""
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            exact = ExactRequest(request.scope, request.receive)
            if request.method not in ("GET", "HEAD"):
                return await handler(exact)
            return await stored_after(lambda: handler(exact))

        return route


PERIOD_PATTERN = PERIOD
DAY_PATTERN = DAY


def _iso_day(value: Any) -> Any:
    """A date parameter is a YYYY-MM-DD text: `0` is not 1970-01-01."""
    if isinstance(value, str) and not re.fullmatch(DAY_PATTERN, value):
        raise ValueError("not a YYYY-MM-DD date")
    return value


Day = Annotated[date, BeforeValidator(_iso_day)]
PeriodQ = Annotated[
    str, Query(description="YYYY or YYYYQn", examples=["2025Q1"], pattern=PERIOD_PATTERN)
]
