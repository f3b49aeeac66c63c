"""Tokens: create (the secret is shown once), list, revoke. Admins only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from app.api.deps import Admin, ExactRoute, Svc, out
from app.api.schemas import ERRORS, TokenIn
from app.api.schemas_out import TokenCreatedOut, TokenListOut, TokenOut
from app.errors import Forbidden
from app.services import tokens

router = APIRouter(prefix="/tokens", tags=["tokens"], route_class=ExactRoute, responses=ERRORS)
TOKEN = {"id": 4, "name": "南岳区征管系统", "role": "recorder", "token": "jx_…"}


@router.post(
    "",
    summary="Create a token (its secret is in this answer only)",
    response_model=TokenCreatedOut,
    status_code=201,
    responses={201: {"content": {"application/json": {"example": TOKEN}}}},
)
def create(svc: Svc, who: Admin, body: TokenIn) -> Response:
    """Stores the sha256 of a new secret with the role and scope; returns the secret once. In
    demo mode no token is made (403): every demo request acts as an admin, and a token made
    there would be a real one outside demo mode."""
    if svc.settings.demo:
        raise Forbidden("demo mode creates no tokens; run `jixiao serve` without --demo")
    by = who.name
    tid, secret = tokens.create(svc.engine, body.role, body.name, by, body.fact_types, body.units)
    return out({"id": tid, "name": body.name, "role": body.role, "token": secret}, 201)


@router.get("", summary="Every token (without secrets)", response_model=TokenListOut)
def listing(svc: Svc, who: Admin) -> Response:
    """Tokens by id, revoked ones included."""
    return out({"tokens": tokens.listing(svc.engine)})


@router.delete("/{token_id}", summary="Revoke a token", response_model=TokenOut)
def revoke(svc: Svc, who: Admin, token_id: Annotated[int, Path(ge=1, le=2**31 - 1)]) -> Response:
    """The token stops working at once."""
    return out(tokens.revoke(svc.engine, token_id, who.name))
