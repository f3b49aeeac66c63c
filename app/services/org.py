"""The organisation in the database: importing revisions, and reading it as of a date.

A person who moves unit keeps one history: each revision adds a version valid from its date.
The organisation used to score a period is the one in force on the period's last day (see
docs/operations.md, "Which unit a person is scored in").
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, Row, func, select
from sqlalchemy.orm import Session

from app import exactjson
from app.errors import Invalid
from app.services import trail
from app.store.db import transaction
from app.store.models import OrgRevision, PersonVersion, UnitVersion
from app.store.models import Person as PersonRow
from app.store.models import Unit as UnitRow
from dsl.facts.periods import Period
from dsl.facts.records import InputError, Org, Person, Unit, org_from_json

CHANGED_LIST = 200  # ids of changed units (persons) an audit entry lists
BEGINNING = date(1, 1, 1)  # the first revision is in force since always, unless told otherwise


@dataclass(frozen=True)
class OrgImport:
    """What an organisation import recorded (`revision` None: nothing had changed)."""

    revision: int | None
    units: int
    persons: int
    closed: int


def period_end(period: Period) -> date:
    """The last day of a quarter or a year."""
    return period.last_day()


def org_digest(org: Org) -> str:
    """sha256 of the organisation's canonical JSON."""
    form = {
        # a unit's attributes only where it has some: organisations without keep their digests
        "units": [
            [u.id, u.name, u.kind, u.parent, *([u.attrs] if u.attrs else [])]
            for _, u in sorted(org.units.items())
        ],
        "persons": [[p.id, p.name, p.unit, p.attrs] for _, p in sorted(org.persons.items())],
    }
    return hashlib.sha256(exactjson.canonical(form).encode()).hexdigest()


def org_at(
    session: Session, when: date, cutoff: int | None = None, *, closed: bool = False
) -> tuple[Org, int | None]:
    """The organisation in force on `when`, from revisions up to `cutoff` (all by default).

    Returns it with the newest revision id it was read from (the cutoff to give a receipt).
    `closed` keeps closed units and departed persons, as last recorded (to validate facts
    about the past).
    """
    [org], newest = orgs_at(session, [when], cutoff, closed=closed)
    return org, newest


def orgs_at(
    session: Session, whens: Sequence[date], cutoff: int | None = None, *, closed: bool = False
) -> tuple[list[Org], int | None]:
    """`org_at` for several dates, reading the versions once; dates under the same revisions
    share one `Org`."""
    last = select(func.max(OrgRevision.id))
    if cutoff is not None:
        last = last.where(OrgRevision.id <= cutoff)
    newest = session.execute(last).scalar_one_or_none()
    if newest is None or not whens:
        return [Org({}, {}) for _ in whens], newest
    revs: dict[int, date] = {
        r: d
        for r, d in session.execute(
            select(OrgRevision.id, OrgRevision.valid_from).where(
                OrgRevision.id <= newest, OrgRevision.valid_from <= max(whens)
            )
        ).all()
    }
    # Rows, not ORM objects: a province has thousands of versions and nothing changes them.
    uvs = _versions(session, UnitVersion, revs)
    pvs = _versions(session, PersonVersion, revs)
    built: dict[frozenset[int], Org] = {}
    out = []
    for when in whens:
        in_force = {r: d for r, d in revs.items() if d <= when}
        key = frozenset(in_force)
        if key not in built:
            built[key] = _org(uvs, pvs, in_force, closed)
        out.append(built[key])
    return out, newest


def _versions(
    session: Session, model: type[UnitVersion | PersonVersion], revs: Iterable[int]
) -> list[Row[Any]]:
    table = model.__table__
    return list(session.execute(select(table).where(table.c.revision_id.in_(revs))).all())


def _org(uvs: list[Row[Any]], pvs: list[Row[Any]], revs: dict[int, date], closed: bool) -> Org:
    """The organisation the versions of revisions `revs` make."""
    units = {
        k: Unit(v.unit_id, v.name, v.kind, v.parent_id, dict(v.attributes or {}))
        for k, v in _latest(uvs, revs, lambda v: v.unit_id).items()
        if closed or v.active
    }
    persons = {
        k: Person(v.person_id, v.name, v.unit_id, dict(v.attributes))
        for k, v in _latest(pvs, revs, lambda v: v.person_id).items()
        if closed or v.active
    }
    return Org(units, persons)


def _latest(
    rows: Iterable[Row[Any]], revs: dict[int, date], key: Callable[[Row[Any]], str]
) -> dict[str, Row[Any]]:
    """Each entity's version with the latest `valid_from` (then the latest revision), among
    the versions of revisions `revs`."""
    best: dict[str, tuple[tuple[date, int], Row[Any]]] = {}
    for v in rows:
        rev: int = v.revision_id
        if rev not in revs:
            continue
        rank = (revs[rev], rev)
        k = key(v)
        got = best.get(k)
        if got is None or rank > got[0]:
            best[k] = (rank, v)
    return {k: v for k, (_, v) in best.items()}


def import_org(
    engine: Engine, raw: Any, source: str, by: str, valid_from: date | None = None
) -> OrgImport:
    """Records what changed in the organisation as one revision; no change records nothing.

    The first import is in force since always unless `valid_from` is given; later changes
    need a `valid_from`. Units and persons missing from `raw` are recorded as closed.
    """
    try:
        new = org_from_json(raw, source)
    except InputError as e:
        raise Invalid("the organisation is not valid", e.problems) from e
    with transaction(engine) as session:
        has_any = session.execute(select(func.count(OrgRevision.id))).scalar_one() > 0
        when = valid_from or (BEGINNING if not has_any else date.max)
        old, _ = org_at(session, when, closed=True)
        old_active, _ = org_at(session, when)
        unit_rows = _unit_changes(old, old_active, new)
        person_rows = _person_changes(old, old_active, new)
        if not unit_rows and not person_rows:
            return OrgImport(None, 0, 0, 0)
        if valid_from is None and has_any:
            raise Invalid(
                "the organisation has changed since it was recorded: give the date the change "
                "takes effect (--from YYYY-MM-DD)"
            )
        rev = OrgRevision(
            valid_from=valid_from or BEGINNING,
            digest=org_digest(new),
            source=source[:1000],
            recorded_by=by,
            recorded_at=datetime.now(UTC),
        )
        session.add(rev)
        known_units = set(session.scalars(select(UnitRow.id)))
        known_persons = set(session.scalars(select(PersonRow.id)))
        session.add_all(
            UnitRow(id=u) for u in sorted({r["unit_id"] for r in unit_rows}) if u not in known_units
        )
        session.add_all(
            PersonRow(id=p)
            for p in sorted({r["person_id"] for r in person_rows})
            if p not in known_persons
        )
        session.flush()
        session.add_all(UnitVersion(revision_id=rev.id, **r) for r in unit_rows)
        session.add_all(PersonVersion(revision_id=rev.id, **r) for r in person_rows)
        closed = sum(not r["active"] for r in [*unit_rows, *person_rows])
        change: dict[str, object] = {
            "revision": rev.id,
            "valid_from": rev.valid_from.isoformat(),
            "digest": rev.digest,
            "source": rev.source,
            "units": sorted(r["unit_id"] for r in unit_rows)[:CHANGED_LIST],
            "persons": sorted(r["person_id"] for r in person_rows)[:CHANGED_LIST],
            "unit_versions": len(unit_rows),
            "person_versions": len(person_rows),
            "closed": closed,
        }
        trail.note(session, "org.import", f"org:revision:{rev.id}", change, by)
        return OrgImport(rev.id, len(unit_rows), len(person_rows), closed)


def _unit_changes(old: Org, active: Org, new: Org) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for u in sorted(new.units.values(), key=lambda u: u.id):
        was = active.units.get(u.id)
        # `Unit` equality leaves the attributes out: they are compared as their exact JSON
        if was is None or was != u or _attrs_form(was.attrs) != _attrs_form(u.attrs):
            rows.append(_unit_row(u, True))
    for uid in sorted(set(active.units) - set(new.units)):
        rows.append(_unit_row(old.units[uid], False))
    return rows


def _unit_row(u: Unit, active: bool) -> dict[str, Any]:
    return dict(
        unit_id=u.id,
        name=u.name,
        kind=u.kind,
        parent_id=u.parent,
        active=active,
        attributes=u.attrs,
    )


def _attrs_form(attrs: dict[str, Any]) -> str:
    return exactjson.canonical(attrs)


def _person_changes(old: Org, active: Org, new: Org) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for p in sorted(new.persons.values(), key=lambda p: p.id):
        was = active.persons.get(p.id)
        if was is None or _person_form(was) != _person_form(p):
            rows.append(
                dict(person_id=p.id, name=p.name, unit_id=p.unit, attributes=p.attrs, active=True)
            )
    for pid in sorted(set(active.persons) - set(new.persons)):
        p = old.persons[pid]
        rows.append(
            dict(person_id=p.id, name=p.name, unit_id=p.unit, attributes=p.attrs, active=False)
        )
    return rows


def _person_form(p: Person) -> str:
    return exactjson.canonical([p.name, p.unit, p.attrs])
