"""The diff of scorecards: categories, indicators, components, final, floor, ranking, bands."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol, TypeVar

from dsl.audit.diff_model import Change, Detail, Path
from dsl.audit.diff_rules import expr_details, expr_text, num, rule_details, rule_text, same
from dsl.syntax import nodes as n

DEFAULT_FINAL = "(default) base + bonus - penalty - joint"


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


T = TypeVar("T", bound=_HasId)


def paired(old: Sequence[T], new: Sequence[T]) -> Iterator[tuple[str, T | None, T | None]]:
    """Ids of both sides in the new order, then those only in the old, with each side's node."""
    a = {x.id: x for x in old}
    b = {x.id: x for x in new}
    for ident in [*b, *(k for k in a if k not in b)]:
        yield ident, a.get(ident), b.get(ident)


def at(span: n.Span | None) -> str | None:
    """`file:line`, or None."""
    return None if span is None or span == n.NOWHERE else f"{span.path}:{span.line}"


def _final_text(e: n.Expr | None) -> str:
    return DEFAULT_FINAL if e is None else str(expr_text(e))


def _rank_keys(r: n.RankSpec | None) -> str | None:
    return None if r is None else ", ".join(f"{k.name.name} {k.order}" for k in r.keys)


def _keys_text(keys: tuple[n.RankKey, ...]) -> str:
    return ", ".join(f"{k.name.name} {k.order}" for k in keys)


class BaseDiffer:
    """Records changes; compares values, display names and presence."""

    changes: list[Change]

    def emit(self, change: Change) -> None:
        """Records one change."""
        self.changes.append(change)

    def value(
        self,
        what: str,
        path: Path,
        attr: str,
        old: Any,
        new: Any,
        text: Callable[[Any], str | None],
        spans: tuple[n.Span | None, n.Span | None],
        details: tuple[Detail, ...] = (),
        note: str | None = None,
    ) -> None:
        """A `changed` record when `old` and `new` differ in meaning."""
        if not same(old, new):
            old_text, new_text = text(old), text(new)
            self.emit(
                Change(
                    "changed",
                    what,
                    path,
                    attr,
                    old_text,
                    new_text,
                    at(spans[0]),
                    at(spans[1]),
                    details,
                    note,
                )
            )

    def title(self, what: str, path: Path, old: Any, new: Any) -> None:
        """A display name that changed while the id stayed."""
        if old.title != new.title:
            change = Change("renamed", what, path, "title", old.title, new.title)
            self.emit(_located(change, old.span, new.span))

    def presence(self, what: str, path: Path, old: Any, new: Any) -> bool:
        """An `added` or `removed` record; True when both sides have the thing."""
        if old is None and new is not None:
            self.emit(Change("added", what, path, new_at=at(new.span)))
        elif new is None and old is not None:
            self.emit(Change("removed", what, path, old_at=at(old.span)))
        return old is not None and new is not None

    def formula(
        self,
        what: str,
        path: Path,
        attr: str,
        old: n.Expr | None,
        new: n.Expr | None,
        text: Callable[[Any], str | None] = expr_text,
    ) -> None:
        """A changed expression, with the numbers that changed when the shape stayed."""
        if same(old, new):
            return
        details = expr_details(old, new) if old is not None and new is not None else None
        note = "the formula's structure changed" if details is None and old and new else None
        spans = (old.span if old else None, new.span if new else None)
        self.value(what, path, attr, old, new, text, spans, details or (), note)


def _located(change: Change, old: n.Span, new: n.Span) -> Change:
    from dataclasses import replace

    return replace(change, old_at=at(old), new_at=at(new))


class CardDiffer(BaseDiffer):
    """Compares scorecards."""

    def scorecard(self, ident: str, a: n.Scorecard | None, b: n.Scorecard | None) -> None:
        """Every part of a scorecard that can change its results."""
        path = (("scorecard", ident),)
        if not self.presence("scorecard", path, a, b):
            return
        assert a is not None and b is not None
        self.title("scorecard", path, a, b)
        spans = (a.span, b.span)
        self.value("scorecard", path, "sequence", a.sequence.name, b.sequence.name, str, spans)
        self.value("scorecard", path, "periods", a.periods, b.periods, ", ".join, spans)
        self.formula("scorecard", path, "annual", a.annual, b.annual)
        self.categories(path, a, b)
        for comp_id, x, y in paired(a.components, b.components):
            here = (*path, ("component", comp_id))
            if self.presence("component", here, x, y):
                assert x is not None and y is not None
                self.title("component", here, x, y)
                self.part("component", here, x, y)
                self.rule("component", here, (x.lets, x.rule), (y.lets, y.rule))
        items = (a.items.name if a.items else None, b.items.name if b.items else None)
        self.value("scorecard", path, "items", items[0], items[1], str, spans)
        self.formula("scorecard", path, "final", a.final, b.final, _final_text)
        floors = (a.floor.span if a.floor else None, b.floor.span if b.floor else None)
        self.value("scorecard", path, "floor", a.floor, b.floor, num, floors)
        self.rank(path, a.rank, b.rank)
        vetoes = [_veto_text(v) for v in a.vetoes], [_veto_text(v) for v in b.vetoes]
        direct = [_direct_text(d) for d in a.direct], [_direct_text(d) for d in b.direct]
        rounds = [_round_text(r) for r in a.rounds], [_round_text(r) for r in b.rounds]
        for what, (old, new) in (("veto", vetoes), ("direct", direct), ("round", rounds)):
            for v in new:
                if v not in old:
                    self.emit(Change("added", what, (*path, (what, v)), new_at=at(b.span)))
            for v in old:
                if v not in new:
                    self.emit(Change("removed", what, (*path, (what, v)), old_at=at(a.span)))
        self.bands(path, "tiers", a.tiers, b.tiers)
        self.bands(path, "grades", a.grades, b.grades)

    def categories(self, path: Path, a: n.Scorecard, b: n.Scorecard) -> None:
        """Categories and their indicators; an indicator that moved says so."""
        where_a = {i.id: (c.id, i) for c in a.categories for i in c.indicators}
        where_b = {i.id: (c.id, i) for c in b.categories for i in c.indicators}
        for cat_id, x, y in paired(a.categories, b.categories):
            here = (*path, ("category", cat_id))
            if self.presence("category", here, x, y):
                assert x is not None and y is not None
                self.title("category", here, x, y)
                self.part("category", here, x, y)
            for ind_id, _, new in paired(x.indicators if x else (), y.indicators if y else ()):
                spot = (*here, ("indicator", ind_id))
                old = where_a.get(ind_id)
                moved = where_b.get(ind_id)
                if new is None and moved is not None:
                    continue  # reported where it is now
                if old is not None and new is not None and old[0] != cat_id:
                    change = Change("changed", "indicator", spot, "category", old[0], cat_id)
                    self.emit(_located(change, old[1].span, new.span))
                if self.presence("indicator", spot, old[1] if old else None, new):
                    assert old is not None and new is not None
                    self.indicator(spot, old[1], new)

    def part(self, what: str, path: Path, a: n.Category | n.Component, b: Any) -> None:
        """Weight and maximum of a category or component."""
        spans = (a.weight.span, b.weight.span)
        self.value(what, path, "weight", a.weight, b.weight, num, spans)
        self.value(what, path, "max", a.max, b.max, num, (a.max.span, b.max.span))

    def indicator(self, path: Path, a: n.Indicator, b: n.Indicator) -> None:
        """Points, lead department and scoring rule of one indicator."""
        self.title("indicator", path, a, b)
        self.value("indicator", path, "points", a.points, b.points, num, (a.span, b.span))
        lead = (a.lead.name if a.lead else None, b.lead.name if b.lead else None)
        self.value("indicator", path, "lead", lead[0], lead[1], str, (a.span, b.span))
        self.formula("indicator", path, "applies when", a.applies, b.applies)
        self.rule("indicator", path, (a.lets, a.rule), (b.lets, b.rule))

    def rule(
        self,
        what: str,
        path: Path,
        a: tuple[tuple[n.Let, ...], n.Rule],
        b: tuple[tuple[n.Let, ...], n.Rule],
    ) -> None:
        """A scoring rule (its `let` lines included), with the numbers that changed."""
        if same(a, b):
            return
        details = rule_details(a, b)
        note = "the rule's structure changed" if details is None else None
        spans = (_first_change(a, b), _first_change(b, a))
        self.value(what, path, "rule", a, b, lambda r: rule_text(*r), spans, details or (), note)

    def rank(self, path: Path, a: n.RankSpec | None, b: n.RankSpec | None) -> None:
        """The ranking: its period, its group, its first key and the tie-breakers after it."""
        spans = (a.span if a else None, b.span if b else None)
        here = (*path, ("rank", ""))
        if a is None or b is None:
            self.value("rank", here, "keys", a, b, _rank_keys, spans)
            return
        self.value("rank", here, "period", a.period, b.period, str, spans)
        self.formula("rank", here, "within", a.within, b.within)
        attr = "tie-breakers" if same(a.keys[:1], b.keys[:1]) else "keys"
        self.value("rank", here, attr, a.keys, b.keys, _keys_text, spans)

    def bands(self, path: Path, what: str, a: n.Bands | None, b: n.Bands | None) -> None:
        """Tiers or grades: each band's rule, added or removed bands, their order, rounding."""
        here = (*path, (what, ""))
        if not self.presence(what, here, a, b):
            return
        assert a is not None and b is not None
        spans = (a.span, b.span)
        self.value(what, here, "period", a.period, b.period, str, spans)
        self.value(what, here, "round", a.round_mode.name, b.round_mode.name, str, spans)
        kind = "tier" if what == "tiers" else "grade"
        for band_id, x, y in paired(a.bands, b.bands):
            spot = (*path, (kind, band_id))
            if self.presence(kind, spot, x, y):
                assert x is not None and y is not None
                self.formula(kind, spot, "rule", x.cond, y.cond, _cond_text)
        order_a = [x.id for x in a.bands if x.id in {y.id for y in b.bands}]
        order_b = [y.id for y in b.bands if y.id in {x.id for x in a.bands}]
        if order_a != order_b:
            change = Change("changed", what, here, "order", ", ".join(order_a), ", ".join(order_b))
            self.emit(_located(change, a.span, b.span))


def _cond_text(e: n.Expr | None) -> str:
    return "otherwise" if e is None else str(expr_text(e))


def _direct_text(d: n.DirectBand) -> str:
    return f"{d.band_kind} {d.band.name} when {expr_text(d.cond)}"


def _round_text(r: n.RoundResult) -> str:
    return f"{r.result.name} {r.places} {r.mode.name}"


def _veto_text(v: n.Veto) -> str:
    if v.when is not None:
        return f"when {expr_text(v.when)} {v.band_kind} {v.band.name}"
    assert v.fact is not None
    what = v.fact.name
    if v.quant is not None:
        what = f"{v.quant} descendant({' | '.join(k.name for k in v.below)}).{what}"
    return f"{what} {v.band_kind} {v.band.name}"


def _first_change(
    a: tuple[tuple[n.Let, ...], n.Rule], b: tuple[tuple[n.Let, ...], n.Rule]
) -> n.Span:
    """Where the first statement of `a` that `b` does not have in the same place is."""
    lets_a, lets_b = a[0], b[0]
    for i, let in enumerate(lets_a):
        if i >= len(lets_b) or not same(let, lets_b[i]):
            return let.span
    return a[1].span
