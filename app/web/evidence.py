"""The facts an explanation cites, as people read them: type and values by their titles,
the date or period, and the evidence document number."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.store.models import Fact
from app.web import labels
from dsl.compile.ir import CompiledRuleset
from dsl.facts.records import Org


@dataclass(frozen=True)
class FactView:
    """One fact, shown."""

    id: str
    type: str
    title: str
    when: str
    fields: tuple[tuple[str, str], ...]
    evidence: str | None
    recorded_by: str


def _value(
    compiled: CompiledRuleset, ftype: str, name: str, value: Any, names: Mapping[str, str]
) -> str:
    decl = compiled.schema.types.get(ftype)
    field = next((f for f in decl.fields if f.name == name), None) if decl else None
    if field is not None and field.type.values:
        for v in field.type.values:
            if v.id == value:
                return v.title or v.id
    if field is not None and field.type.name in ("person", "unit"):
        return names.get(str(value), str(value))
    return str(value)


def names_of(org: Org) -> dict[str, str]:
    """Every unit's and person's name by id."""
    out = {u.id: u.name for u in org.units.values()}
    out.update({p.id: p.name for p in org.persons.values()})
    return out


def facts_by_id(
    engine: Engine,
    compiled: CompiledRuleset,
    ids: Collection[str],
    names: Mapping[str, str],
) -> Mapping[str, FactView]:
    """The recorded facts with these ids, shown with the ruleset's titles and the names of
    the units and persons they name (`names_of` the organisation)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    out: dict[str, FactView] = {}
    with Session(engine) as session:
        for start in range(0, len(wanted), 500):
            rows = session.scalars(
                select(Fact).where(Fact.client_id.in_(wanted[start : start + 500]))
            ).all()
            for f in rows:
                decl = compiled.schema.types.get(f.type)
                when = f.date.isoformat() if f.date is not None else labels.period(f.period or "")
                fields = tuple(
                    (labels.field(k), _value(compiled, f.type, k, v, names))
                    for k, v in (f.data or {}).items()
                )
                title = (decl.title if decl else None) or f.type
                out[f.client_id] = FactView(
                    f.client_id, f.type, title, when, fields, f.evidence, f.recorded_by
                )
    return out
