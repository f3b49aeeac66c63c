"""The organisation in the database: importing revisions, and reading it as of a date.

A person who moves unit keeps one history: each revision adds a version valid from its date.
The organisation used to score a period is the one in force on the period's last day (see
docs/operations.md, "Which unit a person is scored in").
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from app import exactjson
from app.db import transaction
from app.errors import Invalid
from app.models import OrgRevision, PersonVersion, UnitVersion
from app.models import Person as PersonRow
from app.models import Unit as UnitRow
from dsl.facts import InputError, Org, Person, Unit, org_from_json
from dsl.periods import Period

V = TypeVar("V", UnitVersion, PersonVersion)
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
    if period.quarter is None:
        return date(period.year, 12, 31)
    month = period.quarter * 3
    nxt = date(period.year + (month == 12), month % 12 + 1, 1)
    return date.fromordinal(nxt.toordinal() - 1)


def org_digest(org: Org) -> str:
    """sha256 of the organisation's canonical JSON."""
    form = {
        "units": [[u.id, u.name, u.kind, u.parent] for _, u in sorted(org.units.items())],
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
    last = select(func.max(OrgRevision.id))
    if cutoff is not None:
        last = last.where(OrgRevision.id <= cutoff)
    newest = session.execute(last).scalar_one_or_none()
    if newest is None:
        return Org({}, {}), None
    revs: dict[int, date] = {
        r: d
        for r, d in session.execute(
            select(OrgRevision.id, OrgRevision.valid_from).where(
                OrgRevision.id <= newest, OrgRevision.valid_from <= when
            )
        ).all()
    }
    uvs = _latest(
        session.scalars(select(UnitVersion).where(UnitVersion.revision_id.in_(revs))),
        revs,
        lambda v: v.unit_id,
    )
    pvs = _latest(
        session.scalars(select(PersonVersion).where(PersonVersion.revision_id.in_(revs))),
        revs,
        lambda v: v.person_id,
    )
    units = {
        k: Unit(v.unit_id, v.name, v.kind, v.parent_id)
        for k, v in uvs.items()
        if closed or v.active
    }
    persons = {
        k: Person(v.person_id, v.name, v.unit_id, dict(v.attributes))
        for k, v in pvs.items()
        if closed or v.active
    }
    return Org(units, persons), newest


def _latest(rows: Iterable[V], revs: dict[int, date], key: Callable[[V], str]) -> dict[str, V]:
    """Each entity's version with the latest `valid_from` (then the latest revision)."""
    best: dict[str, tuple[tuple[date, int], V]] = {}
    for v in rows:
        rev: int = v.revision_id
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
        return OrgImport(rev.id, len(unit_rows), len(person_rows), closed)


def _unit_changes(old: Org, active: Org, new: Org) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for u in sorted(new.units.values(), key=lambda u: u.id):
        if active.units.get(u.id) != u:
            rows.append(
                dict(unit_id=u.id, name=u.name, kind=u.kind, parent_id=u.parent, active=True)
            )
    for uid in sorted(set(active.units) - set(new.units)):
        u = old.units[uid]
        rows.append(dict(unit_id=u.id, name=u.name, kind=u.kind, parent_id=u.parent, active=False))
    return rows


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
