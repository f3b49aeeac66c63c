"""Dependencies of the routes: the service objects, the caller, and exact JSON bodies.

Routes name what they need by these `Annotated` aliases: `Svc` (engine, rulesets, cache),
`Reader`, `Recorder`, `FactReader`, `Auditor`, `Admin`, `Anyone` (the authenticated caller
with a role that may do that).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine

from app import exactjson
from app.errors import NotFound, Unauthorized
from app.services import tokens
from app.services.cache import ScoreCache, Scored
from app.services.registry import LoadedRuleset, Registry
from app.services.tokens import Principal
from app.settings import Settings
from dsl.facts.periods import Period


@dataclass
class Services:
    """What every request may use: settings, engine, the rulesets in service, the cache."""

    settings: Settings
    engine: Engine
    registry: Registry
    cache: ScoreCache


def get_services(request: Request) -> Services:
    """The application's services."""
    svc: Services = request.app.state.services
    return svc


Svc = Annotated[Services, Depends(get_services)]

bearer = HTTPBearer(auto_error=False, description="A token from `jixiao token create`.")


def get_principal(
    svc: Svc, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Principal:
    """The caller named by the bearer token (in demo mode: an admin without a token)."""
    if svc.settings.demo:
        return tokens.DEMO
    if creds is None or creds.scheme.lower() != "bearer" or not creds.credentials:
        raise Unauthorized("a bearer token is needed (Authorization: Bearer jx_...)")
    got = tokens.authenticate(svc.engine, creds.credentials)
    if got is None:
        raise Unauthorized("the bearer token is not valid or was revoked")
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


def parse_period(text: str, field: str = "query.period") -> Period:
    """A period from a parameter; Invalid naming the field otherwise."""
    from app.errors import Invalid

    try:
        return Period.parse(text)
    except ValueError as e:
        err = Invalid(str(e))
        err.details = [{"field": field, "message": str(e)}]
        raise err from e


def ruleset_for(svc: Services, ruleset: str | None, period: Period) -> LoadedRuleset:
    """The ruleset named (year or digest), else the one serving the period's year."""
    if ruleset is None:
        loaded = svc.registry.for_year(period.year)
        if loaded is None:
            raise NotFound(f"no ruleset in service for {period.year}; name one with ?ruleset=")
    else:
        loaded = svc.registry.resolve(ruleset)
    header = loaded.compiled.program.header
    if header is not None and period.kind not in header.periods:
        raise NotFound(f"ruleset {loaded.compiled.digest[:12]} does not score {period.kind}s")
    return loaded


def scored(svc: Services, ruleset: str | None, period: str) -> Scored:
    """The (cached) evaluation a score request reads."""
    p = parse_period(period)
    return svc.cache.get(ruleset_for(svc, ruleset, p), p)


def provenance(s: Scored) -> dict[str, str]:
    """Headers naming the ruleset digest and the watermark of a response."""
    return {"X-Jixiao-Ruleset": s.digest, "X-Jixiao-Watermark": str(s.watermark)}


def out(payload: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """A JSON response whose decimals are written digit for digit."""
    return Response(
        exactjson.dumps(payload).encode(),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


class ExactRequest(Request):
    """A request whose JSON body keeps decimal numbers exact (read as Decimal, not float)."""

    async def json(self) -> Any:
        """The body as JSON, numbers with a fraction or exponent as Decimal."""
        if not hasattr(self, "_json"):
            self._json = json.loads(await self.body(), parse_float=Decimal)
        return self._json


class ExactRoute(APIRoute):
    """Routes that read their bodies with `ExactRequest`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The handler, given an `ExactRequest`."""
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            return await handler(ExactRequest(request.scope, request.receive))

        return route
