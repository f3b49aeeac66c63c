"""Applying one change of a diff on its own: the old program with one piece of the new one.

Changes are grouped into steps by the node that carries them (an indicator, a cap, a link, a
scorecard's floor, its tiers, a category's indicator list...). A hybrid program is the old
program with one step taken; scoring it tells what that step alone does. Fact types of both
sides are declared in every hybrid, so facts that either side scores can be read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from dsl.audit.diff_model import Change
from dsl.syntax import nodes as n
from dsl.syntax.program import Program

Key = tuple[str, ...]

_CARD_FIELDS = {
    "sequence": "sequence",
    "periods": "periods",
    "annual": "annual",
    "items": "items",
    "final": "final",
    "floor": "floor",
    "rank": "rank",
    "veto": "vetoes",
    "direct": "direct",
    "round": "rounds",
    "tiers": "tiers",
    "tier": "tiers",
    "grades": "grades",
    "grade": "grades",
}


@dataclass(frozen=True)
class Step:
    """Changes that one node carries, applied together (numbers index the diff, from 1)."""

    key: Key
    changes: tuple[int, ...]

    @property
    def id(self) -> str:
        """A stable name: `scorecard:county:indicator:K2`."""
        return ":".join(self.key)

    @property
    def label(self) -> str:
        """The step in words: `county indicator K2`, `unit_items cap bonus`."""
        return " ".join(self.key[1:]).replace(":", " ")


def step_key(c: Change) -> Key | None:
    """The node a change belongs to; None when it cannot change a score or be isolated."""
    if c.op == "renamed":
        return None
    (kind, ident), rest = c.path[0], c.path[1:]
    if kind == "ruleset":
        return ("ruleset", "header")
    if kind == "sequence":
        return ("sequence", ident)
    if kind in ("items", "joint") and not rest:
        return (kind, ident) if c.attr is None else (kind, ident, c.attr)
    if kind == "joint":
        link = rest[0][1]
        return ("joint", ident, "links") if c.attr is None else ("joint", ident, "link", link)
    if kind == "items":
        return ("items", ident, *rest[0])
    if kind == "scorecard":
        return _card_key(c, ident, rest)
    return None  # unit kinds, person attributes, fact types: no step of their own


def _card_key(c: Change, card: str, rest: tuple[tuple[str, str], ...]) -> Key | None:
    if not rest:
        if c.attr is None:
            return ("scorecard", card)
        return ("scorecard", card, _CARD_FIELDS[c.attr]) if c.attr in _CARD_FIELDS else None
    kind, ident = rest[0]
    if kind == "category":
        if len(rest) > 1:
            members = c.attr in (None, "category")
            return ("scorecard", card, "indicators" if members else f"indicator:{rest[1][1]}")
        return ("scorecard", card, "categories" if c.attr is None else f"category:{ident}")
    if kind == "component":
        return ("scorecard", card, "components" if c.attr is None else f"component:{ident}")
    return ("scorecard", card, _CARD_FIELDS[kind]) if kind in _CARD_FIELDS else None


def plan(changes: Sequence[Change]) -> tuple[list[Step], list[int]]:
    """Steps in the order of their first change, and the numbers of changes in no step."""
    grouped: dict[Key, list[int]] = {}
    loose: list[int] = []
    for i, c in enumerate(changes, 1):
        key = step_key(c)
        if key is None:
            loose.append(i)
        else:
            grouped.setdefault(key, []).append(i)
    return [Step(k, tuple(v)) for k, v in grouped.items()], loose


# ---- building a hybrid ---------------------------------------------------------------------


def _merge(old: Sequence[Any], new: Sequence[Any], ident: str | None) -> tuple[Any, ...]:
    """`old` with the element `ident` taken from `new` (or every membership change if None)."""
    by_new = {x.id: x for x in new}
    if ident is None:
        by_old = {x.id: x for x in old}
        return tuple(by_old.get(x.id, x) for x in new)
    if ident not in by_new:
        return tuple(x for x in old if x.id != ident)
    if all(x.id != ident for x in old):
        return (*old, by_new[ident])
    return tuple(by_new[ident] if x.id == ident else x for x in old)


def _card(a: n.Scorecard, b: n.Scorecard, what: str) -> n.Scorecard:
    if what in _CARD_FIELDS.values():
        return replace(a, **{what: getattr(b, what)})
    kind, _, ident = what.partition(":")
    if kind == "categories":
        return replace(a, categories=_merge(a.categories, b.categories, None))
    if kind == "components":
        return replace(a, components=_merge(a.components, b.components, None))
    if kind == "component":
        return replace(a, components=_merge(a.components, b.components, ident))
    if kind == "category":
        new = {c.id: c for c in b.categories}[ident]
        cats = tuple(
            replace(c, weight=new.weight, max=new.max) if c.id == ident else c for c in a.categories
        )
        return replace(a, categories=cats)
    old_inds = {i.id: i for c in a.categories for i in c.indicators}
    new_inds = {i.id: i for c in b.categories for i in c.indicators}
    if kind == "indicator":
        return replace(a, categories=tuple(_swap(c, new_inds[ident]) for c in a.categories))
    by_new = {c.id: c for c in b.categories}
    cats = tuple(
        replace(c, indicators=tuple(old_inds.get(i.id, i) for i in by_new[c.id].indicators))
        if c.id in by_new
        else c
        for c in a.categories
    )
    return replace(a, categories=cats)


def _swap(cat: n.Category, ind: n.Indicator) -> n.Category:
    inds = tuple(ind if i.id == ind.id else i for i in cat.indicators)
    return replace(cat, indicators=inds)


def _apply(old: Program, new: Program, key: Key) -> dict[str, Any]:
    parts: dict[str, Any] = {
        "sequences": dict(old.sequences),
        "item_tables": dict(old.item_tables),
        "scorecards": dict(old.scorecards),
        "joints": dict(old.joints),
        "header": old.header,
    }
    kind, ident, *rest = key
    if kind == "ruleset":
        if old.header and new.header:
            parts["header"] = replace(
                old.header,
                periods=new.header.periods,
                round_places=new.header.round_places,
                round_mode=new.header.round_mode,
            )
        return parts
    store: dict[str, Any] = parts[_STORES[kind]]
    src: dict[str, Any] = getattr(new, _STORES[kind])
    a, b = store.get(ident), src.get(ident)
    if not rest or a is None or b is None:
        if b is None:
            store.pop(ident, None)
        else:
            store[ident] = b
    elif kind == "scorecard":
        store[ident] = _card(a, b, rest[0])
    elif kind == "items":
        store[ident] = _items(a, b, rest)
    else:
        store[ident] = _joint(a, b, rest)
    return parts


_STORES = {
    "sequence": "sequences",
    "items": "item_tables",
    "scorecard": "scorecards",
    "joint": "joints",
}


def _items(a: n.ItemTable, b: n.ItemTable, rest: list[str]) -> n.ItemTable:
    if rest[0] == "cap":
        return replace(a, caps=_merge_caps(a.caps, b.caps, rest[1]))
    return replace(a, items=_merge(a.items, b.items, rest[1]))


def _merge_caps(a: tuple[n.Cap, ...], b: tuple[n.Cap, ...], kind: str) -> tuple[n.Cap, ...]:
    kept = tuple(c for c in a if c.kind != kind)
    return kept + tuple(c for c in b if c.kind == kind)


def _joint(a: n.Joint, b: n.Joint, rest: list[str]) -> n.Joint:
    if rest[0] in ("cap", "into"):
        return replace(a, **{rest[0]: getattr(b, rest[0])})
    if rest[0] == "links":
        return replace(a, links=_merge(a.links, b.links, None))
    return replace(a, links=_merge(a.links, b.links, rest[1]))


def hybrid(old: Program, new: Program, step: Step) -> Program:
    """The old program with one step of the new one taken."""
    parts = _apply(old, new, step.key)
    facts = {**new.facts, **old.facts}
    decls: list[n.Decl] = []
    if parts["header"] is not None:
        decls.append(parts["header"])
    if old.organisation is not None:
        decls.append(old.organisation)
    decls += [*parts["sequences"].values(), *facts.values(), *parts["item_tables"].values()]
    decls += [*parts["scorecards"].values(), *parts["joints"].values()]
    return Program.from_modules([n.Module("<hybrid>", tuple(decls))])
