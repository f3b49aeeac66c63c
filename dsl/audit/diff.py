"""Comparing two compiled rulesets by meaning: declarations matched by id, spans and comments aside.

Reformatting, comments, moving declarations between files and tests beside the rules change
nothing here. The ruleset's name and year identify the two sides and are not changes; a fact
type's `unscored` flag is lint metadata and is not a change either.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from dsl.audit.diff_cards import CardDiffer, paired
from dsl.audit.diff_model import Change, Detail, Path, RulesetDiff, SideInfo
from dsl.audit.diff_pools import PoolDiffer
from dsl.audit.diff_rules import amount_text, expr_text, num, table_details
from dsl.audit.rulesource import RuleSource
from dsl.syntax import nodes as n
from dsl.syntax.program import Program


class Differ(CardDiffer, PoolDiffer):
    """Walks two programs together and collects the changes in a deterministic order."""

    def __init__(self) -> None:
        self.changes: list[Change] = []

    # ---- declarations -----------------------------------------------------------------------
    def header(self, a: n.RulesetDecl | None, b: n.RulesetDecl | None) -> None:
        """Periods and rounding; the name and year identify the sides and are not compared."""
        if a is None or b is None:
            return
        path = (("ruleset", ""),)
        spans = (a.span, b.span)
        self.value("ruleset", path, "periods", a.periods, b.periods, ", ".join, spans)
        ra = (a.round_places, a.round_mode.name if a.round_mode else None)
        rb = (b.round_places, b.round_mode.name if b.round_mode else None)
        self.value("ruleset", path, "round", ra, rb, lambda r: f"{r[0]} {r[1]}", spans)

    def organisation(self, a: n.OrganisationDecl | None, b: n.OrganisationDecl | None) -> None:
        """Unit kinds and person attributes."""
        kinds_a, kinds_b = (a.kinds if a else ()), (b.kinds if b else ())
        for ident, x, y in paired(kinds_a, kinds_b):
            path = (("unit kind", ident),)
            if self.presence("unit kind", path, x, y):
                assert x is not None and y is not None
                self.title("unit kind", path, x, y)
        self.fields((("person attrs", ""),), a.attrs if a else (), b.attrs if b else ())
        pa = " | ".join(p.name for p in a.persons) if a and a.persons else None
        pb = " | ".join(p.name for p in b.persons) if b and b.persons else None
        spans = (a.span if a else None, b.span if b else None)
        self.value("organisation", (("organisation", ""),), "persons", pa, pb, _or_none, spans)

    def fields(self, path: Path, a: Sequence[n.FieldDecl], b: Sequence[n.FieldDecl]) -> None:
        """Fields of a fact type or of the person attributes."""
        for name, x, y in _by_name(a, b):
            here = (*path, ("field", name))
            if self.presence("field", here, x, y):
                assert x is not None and y is not None
                details = _enum_details(x.type, y.type)
                self.value(
                    "field", here, "type", x.type, y.type, _type_text, (x.span, y.span), details
                )

    def sequence(self, ident: str, a: n.SequenceDecl | None, b: n.SequenceDecl | None) -> None:
        """A peer group."""
        path = (("sequence", ident),)
        if not self.presence("sequence", path, a, b):
            return
        assert a is not None and b is not None
        self.title("sequence", path, a, b)
        spans = (a.span, b.span)
        ma, mb = _members(a), _members(b)
        self.value("sequence", path, "members", ma, mb, str, spans)
        self.value("sequence", path, "where", a.where, b.where, expr_text, spans)

    def fact(self, ident: str, a: n.FactDecl | None, b: n.FactDecl | None) -> None:
        """A fact type; its `unscored` flag is lint metadata and not compared."""
        path = (("fact type", ident),)
        if not self.presence("fact type", path, a, b):
            return
        assert a is not None and b is not None
        self.title("fact type", path, a, b)
        spans = (a.span, b.span)
        self.value("fact type", path, "kind", a.kind, b.kind, str, spans)
        self.value("fact type", path, "subjects", a.subjects, b.subjects, " | ".join, spans)
        self.fields(path, a.fields, b.fields)

    def item_table(self, ident: str, a: n.ItemTable | None, b: n.ItemTable | None) -> None:
        """A table of bonus and penalty items (加减分) and its caps."""
        path = (("items", ident),)
        if not self.presence("items", path, a, b):
            return
        assert a is not None and b is not None
        self.title("items", path, a, b)
        for item_id, x, y in paired(a.items, b.items):
            here = (*path, ("item", item_id))
            if self.presence("item", here, x, y):
                assert x is not None and y is not None
                self.item(here, x, y)
        caps_a = {c.kind: c for c in a.caps}
        caps_b = {c.kind: c for c in b.caps}
        for kind in ("bonus", "penalty"):
            ca, cb = caps_a.get(kind), caps_b.get(kind)
            spans = (ca.span if ca else None, cb.span if cb else None)
            here = (*path, ("cap", kind))
            va, vb = (ca.value if ca else None), (cb.value if cb else None)
            self.value("cap", here, "value", va, vb, num, spans)

    def item(self, path: Path, a: n.Item, b: n.Item) -> None:
        """One bonus or penalty item."""
        spans = (a.span, b.span)
        self.value("item", path, "kind", a.kind, b.kind, str, spans)
        self.value("item", path, "fact", a.fact, b.fact, _ref, spans)
        self.value("item", path, "where", a.where, b.where, expr_text, spans)
        tables = a.amount.table is not None and b.amount.table is not None
        details = table_details(a.amount.table, b.amount.table) if tables else ()  # type: ignore[arg-type]
        self.value("item", path, "amount", a.amount, b.amount, amount_text, spans, details)
        self.value("item", path, "once per", a.once_per, b.once_per, _ref, spans)

    def joint(self, ident: str, a: n.Joint | None, b: n.Joint | None) -> None:
        """Joint liability (连带责任): links, ratios and amounts, and the cap per period."""
        path = (("joint", ident),)
        if not self.presence("joint", path, a, b):
            return
        assert a is not None and b is not None
        self.title("joint", path, a, b)
        spans = (a.span, b.span)
        self.value("joint", path, "into", a.into, b.into, _ref, spans)
        for link_id, x, y in paired(a.links, b.links):
            here = (*path, ("link", link_id))
            if self.presence("link", here, x, y):
                assert x is not None and y is not None
                self.link(here, x, y)
        cap_spans = (a.cap.span if a.cap else None, b.cap.span if b.cap else None)
        self.value("joint", path, "cap", a.cap, b.cap, num, cap_spans)

    def link(self, path: Path, a: n.Link, b: n.Link) -> None:
        """One joint-liability link."""
        spans = (a.span, b.span)
        self.value("link", path, "source", _src(a), _src(b), str, spans)
        self.value("link", path, "target", a.target, b.target, _target_text, spans)
        self.value("link", path, "ratio", a.ratio, b.ratio, num, spans)
        self.value("link", path, "times", a.times, b.times, num, spans)
        self.value("link", path, "amount", a.amount, b.amount, num, spans)
        self.value("link", path, "once per", a.once_per, b.once_per, _ref, spans)


def _or_none(text: str | None) -> str:
    return "(none)" if text is None else text


def _ref(r: n.Ref | None) -> str | None:
    return None if r is None else r.name


def _members(s: n.SequenceDecl) -> str:
    if s.parts:
        return " | ".join(p.name for p in s.parts)
    text = f"{s.subject} " + ("in " if s.subject == "person" and s.kinds else "")
    text += " | ".join(k.name for k in s.kinds)
    text += " under " + " | ".join(k.name for k in s.under) if s.under else ""
    return text.rstrip()


def _target_text(e: n.Expr | None) -> str | None:
    return "(the same subject)" if e is None else expr_text(e)


def _src(x: n.Link) -> str:
    return f"{x.scorecard.name} {x.source_kind} {x.source.name}"


def _by_name(
    a: Sequence[n.FieldDecl], b: Sequence[n.FieldDecl]
) -> Iterator[tuple[str, n.FieldDecl | None, n.FieldDecl | None]]:
    da = {f.name: f for f in a}
    db = {f.name: f for f in b}
    for name in [*db, *(k for k in da if k not in db)]:
        yield name, da.get(name), db.get(name)


def _type_text(t: n.FieldType) -> str:
    body = " | ".join(v.id for v in t.values) if t.is_enum else str(t.name)
    if t.range is not None:
        r = t.range
        low = "" if r.low is None else f"{r.low} {'<=' if r.low_inclusive else '<'} "
        high = "" if r.high is None else f" {'<=' if r.high_inclusive else '<'} {r.high}"
        body += f" ({low}x{high})"
    return body + ("?" if t.optional else "")


def _enum_details(a: n.FieldType, b: n.FieldType) -> tuple[Detail, ...]:
    if not (a.is_enum and b.is_enum):
        return ()
    va = [v.id for v in a.values]
    vb = [v.id for v in b.values]
    added = tuple(Detail(v, None, v) for v in vb if v not in va)
    return added + tuple(Detail(v, v, None) for v in va if v not in vb)


def diff_programs(old: Program, new: Program) -> tuple[Change, ...]:
    """Every difference of meaning between two programs."""
    d = Differ()
    d.header(old.header, new.header)
    d.organisation(old.organisation, new.organisation)
    for ident in _ids(old.sequences, new.sequences):
        d.sequence(ident, old.sequences.get(ident), new.sequences.get(ident))
    for ident in _ids(old.facts, new.facts):
        d.fact(ident, old.facts.get(ident), new.facts.get(ident))
    for ident in _ids(old.item_tables, new.item_tables):
        d.item_table(ident, old.item_tables.get(ident), new.item_tables.get(ident))
    for ident in _ids(old.scorecards, new.scorecards):
        d.scorecard(ident, old.scorecards.get(ident), new.scorecards.get(ident))
    for ident in _ids(old.joints, new.joints):
        d.joint(ident, old.joints.get(ident), new.joints.get(ident))
    for ident in _ids(old.tables, new.tables):
        d.table(ident, old.tables.get(ident), new.tables.get(ident))
    for ident in _ids(old.pools, new.pools):
        d.pool(ident, old.pools.get(ident), new.pools.get(ident))
    return tuple(d.changes)


def _ids(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    return sorted(set(a) | set(b))


def diff_rulesets(old: RuleSource, new: RuleSource) -> RulesetDiff:
    """The differences between two loaded rulesets, with what identifies each side."""
    sides = [SideInfo(s.label, s.name, s.year, s.digest) for s in (old, new)]
    return RulesetDiff(sides[0], sides[1], diff_programs(old.program, new.program))
