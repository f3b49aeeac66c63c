"""The organisation: put it whole, or its units or persons in bulk; read it as of a date.

A change after the first organisation takes effect from a date (`?from=YYYY-MM-DD`); the
history is kept (docs/operations.md, "Organisation and its history").
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from sqlalchemy.orm import Session

from app.api.deps import Admin, Anyone, Day, ExactRoute, Services, Svc, out
from app.api.schemas import ERRORS, ORG_EXAMPLE, OrgIn, PersonIn, UnitIn
from app.api.schemas_out import OrgImportedOut, OrgOut, PersonOut, UnitOut
from app.errors import Conflict, Invalid, NotFound
from app.services.org import import_org, org_at
from dsl.facts.records import Org

router = APIRouter(prefix="/org", tags=["organisation"], route_class=ExactRoute, responses=ERRORS)

FromQ = Annotated[
    Day | None,
    Query(alias="from", description="the date a change takes effect (needed after the first)"),
]
AtQ = Annotated[Day | None, Query(description="the organisation in force on this date")]
IMPORTED = {"revision": 2, "units": 1, "persons": 0, "closed": 0}


def _org_json(org: Org) -> dict[str, Any]:
    return {
        "units": [
            {"id": u.id, "name": u.name, "kind": u.kind, "parent": u.parent, "attrs": u.attrs}
            for _, u in sorted(org.units.items())
        ],
        "persons": [
            {"id": p.id, "name": p.name, "unit": p.unit, "attrs": p.attrs}
            for _, p in sorted(org.persons.items())
        ],
    }


def _current(svc: Services, at: date | None) -> Org:
    with Session(svc.engine) as session:
        org, _ = org_at(session, at or date.max)
    return org


def _import(svc: Services, raw: dict[str, Any], valid_from: date | None, by: str) -> Response:
    index = {("units", u.get("id")): i for i, u in enumerate(raw["units"])}
    index |= {("persons", p.get("id")): i for i, p in enumerate(raw["persons"])}
    try:
        got = import_org(svc.engine, raw, "api", by, valid_from)
    except Invalid as e:
        if not e.problems:  # a change without the date it takes effect: it conflicts
            clash = Conflict(str(e))
            clash.details = [{"field": "query.from", "message": str(e)}]
            raise clash from e
        else:
            e.details = [_detail(p.ident, p.field, p.message, index) for p in e.problems]
        raise
    body = {"revision": got.revision, "units": got.units, "persons": got.persons}
    return out({**body, "closed": got.closed})


def _detail(
    ident: str, fld: str, message: str, index: dict[tuple[str, Any], int]
) -> dict[str, Any]:
    if ident.startswith(("units[", "persons[")):
        return {"field": f"body.{ident}.{fld}", "message": message}
    for part in ("units", "persons"):
        if (part, ident) in index:
            return {"field": f"body.{part}[{index[part, ident]}].{fld}", "message": message}
    return {"field": f"body.{fld}", "message": message, "id": ident}


def _by(svc: Services, who: Any) -> str:
    return str(who.name) if who.token_id is not None else svc.settings.user


@router.put(
    "",
    summary="Put the whole organisation (《衡阳市税务局绩效考评办法（2024、2025年度）》 §1.1)",
    response_model=OrgImportedOut,
    responses={200: {"content": {"application/json": {"example": IMPORTED}}}},
)
def put_org(svc: Svc, who: Admin, org: OrgIn, valid_from: FromQ = None) -> Response:
    """Records what changed as one revision (nothing changed: `revision` null). Units and
    persons left out are closed from that date."""
    return _import(svc, org.model_dump(), valid_from, _by(svc, who))


@router.get(
    "",
    summary="The organisation in force on a date (default: now)",
    response_model=OrgOut,
    responses={200: {"content": {"application/json": {"example": ORG_EXAMPLE}}}},
)
def get_org(svc: Svc, who: Anyone, at: AtQ = None) -> Response:
    """Units and persons in force."""
    return out(_org_json(_current(svc, at)))


@router.put(
    "/units",
    summary="Put units in bulk (added or changed; others kept)",
    response_model=OrgImportedOut,
)
def put_units(svc: Svc, who: Admin, units: list[UnitIn], valid_from: FromQ = None) -> Response:
    """Adds or changes these units; the rest of the organisation stays as it is."""
    raw = _org_json(_current(svc, valid_from))
    mine = {u.id: u.model_dump() for u in units}
    raw["units"] = [u for u in raw["units"] if u["id"] not in mine] + list(mine.values())
    return _import(svc, raw, valid_from, _by(svc, who))


@router.put(
    "/persons",
    summary="Put persons in bulk (added or changed; others kept)",
    response_model=OrgImportedOut,
)
def put_persons(
    svc: Svc, who: Admin, persons: list[PersonIn], valid_from: FromQ = None
) -> Response:
    """Adds or changes these persons; the rest of the organisation stays as it is."""
    raw = _org_json(_current(svc, valid_from))
    mine = {p.id: p.model_dump() for p in persons}
    raw["persons"] = [p for p in raw["persons"] if p["id"] not in mine] + list(mine.values())
    return _import(svc, raw, valid_from, _by(svc, who))


@router.get("/units", summary="Every unit in force", response_model=list[UnitOut])
def get_units(svc: Svc, who: Anyone, at: AtQ = None) -> Response:
    """The units, by id."""
    return out(_org_json(_current(svc, at))["units"])


@router.get("/units/{unit_id}", summary="One unit", response_model=UnitOut)
def get_unit(svc: Svc, who: Anyone, unit_id: Annotated[str, Path()], at: AtQ = None) -> Response:
    """A unit in force (404: none with that id)."""
    u = _current(svc, at).units.get(unit_id)
    if u is None:
        raise NotFound(f"no unit '{unit_id}'")
    return out({"id": u.id, "name": u.name, "kind": u.kind, "parent": u.parent, "attrs": u.attrs})


@router.get("/persons", summary="Every person in force", response_model=list[PersonOut])
def get_persons(svc: Svc, who: Anyone, at: AtQ = None) -> Response:
    """The persons, by id."""
    return out(_org_json(_current(svc, at))["persons"])


@router.get("/persons/{person_id}", summary="One person", response_model=PersonOut)
def get_person(
    svc: Svc, who: Anyone, person_id: Annotated[str, Path()], at: AtQ = None
) -> Response:
    """A person in force (404: none with that id)."""
    p = _current(svc, at).persons.get(person_id)
    if p is None:
        raise NotFound(f"no person '{person_id}'")
    return out({"id": p.id, "name": p.name, "unit": p.unit, "attrs": p.attrs})
