"""The values a column offers in its drop-down list, and the texts an import accepts for them.

An enum shows its Chinese titles and accepts a title or an id (省级 or provincial). A subject
shows its name, or `name（id）` where several subjects share the name, and accepts the id, a
name only one subject has, or `name（id）`. An indicator shows `K4 减税降费落实` and accepts the
id, that label, or a title only one indicator has.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from dsl.facts.records import Org
from dsl.syntax import nodes as n


@dataclass(frozen=True)
class Choices:
    """Labels for a drop-down, and the accepted texts with the id each stands for."""

    labels: tuple[str, ...]
    lookup: Mapping[str, str]
    shared: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def resolve(self, text: str) -> str | None:
        """The id a text stands for, or None (unknown, or a name several subjects share)."""
        return self.lookup.get(text.strip())


def enum_choices(values: Iterable[n.EnumValue | n.UnitKind]) -> Choices:
    """An enum's (or the unit kinds') titles, its ids where it has none."""
    vals = list(values)
    lookup = {v.title: v.id for v in vals if v.title}
    lookup.update({v.id: v.id for v in vals})
    return Choices(tuple(v.title or v.id for v in vals), lookup)


def subject_choices(org: Org, kinds: Iterable[str]) -> Choices:
    """The units and/or persons of an organisation, by name."""
    named: list[tuple[str, str]] = []
    if "unit" in kinds:
        named += [(u.id, u.name) for u in sorted(org.units.values(), key=lambda u: u.id)]
    if "person" in kinds:
        named += [(p.id, p.name) for p in sorted(org.persons.values(), key=lambda p: p.id)]
    return named_choices(named)


def named_choices(named: list[tuple[str, str]]) -> Choices:
    """Choices over (id, name) pairs: the name alone where it is unique and no other's id."""
    ids = {i for i, _ in named}
    holders: dict[str, list[str]] = {}
    for ident, name in named:
        holders.setdefault(name, []).append(ident)
    labels: list[str] = []
    lookup: dict[str, str] = {}
    for ident, name in named:
        unique = len(holders[name]) == 1 and (name not in ids or name == ident)
        label = name if unique else f"{name}（{ident}）"
        labels.append(label)
        lookup[f"{name}（{ident}）"] = ident
        lookup[f"{name} ({ident})"] = ident
        lookup[f"{name}({ident})"] = ident
        if unique:
            lookup[name] = ident
    lookup.update({i: i for i in ids})
    shared = {k: tuple(v) for k, v in holders.items() if len(v) > 1 and k not in ids}
    return Choices(tuple(labels), lookup, shared)


def indicator_choices(titles: Mapping[str, str | None]) -> Choices:
    """Indicators as `K4 减税降费落实`, accepted by id, by that label or by a unique title."""
    holders: dict[str, list[str]] = {}
    for ident, title in titles.items():
        if title:
            holders.setdefault(title, []).append(ident)
    labels: list[str] = []
    lookup: dict[str, str] = {}
    for ident, title in sorted(titles.items()):
        label = f"{ident} {title}" if title else ident
        labels.append(label)
        lookup[label] = ident
        if title and len(holders[title]) == 1:
            lookup[title] = ident
    lookup.update({i: i for i in titles})
    shared = {k: tuple(v) for k, v in holders.items() if len(v) > 1}
    return Choices(tuple(labels), lookup, shared)


QUARTER_TITLES = ("第一季度", "第二季度", "第三季度", "第四季度")


def period_choices(year: int, kinds: Iterable[str]) -> Choices:
    """The periods of a year a ruleset scores: `2025Q1` … `2025Q4`, `2025`."""
    labels: list[str] = []
    if "quarter" in kinds:
        labels += [f"{year}Q{q}" for q in range(1, 5)]
    if "year" in kinds:
        labels.append(str(year))
    return Choices(tuple(labels), {label: label for label in labels})
