"""The formatter's declarations other than scorecards, each block's children in source order.

Some statements (`year`, `periods`, `org`, ...) keep no span in the syntax tree; their
positions come from the parse tree as `Anchors`, so their comments stay beside them.
"""

from __future__ import annotations

from decimal import Decimal

from dsl.fmt.card import Anchors, StmtPrinter, anchor
from dsl.fmt.expr import commas, quote, titled
from dsl.fmt.layout import Child, Render, cat
from dsl.syntax import nodes as n


def _number(d: Decimal) -> str:
    return format(d, "f")


def _range(r: n.Range) -> str:
    if r.low is not None and r.high is not None:
        return f" in {_number(r.low)}..{_number(r.high)}"
    if r.low is not None:
        return f" {'>=' if r.low_inclusive else '>'} {_number(r.low)}"
    if r.high is not None:
        return f" {'<=' if r.high_inclusive else '<'} {_number(r.high)}"
    return ""


def _type(t: n.FieldType) -> str:
    if t.name is None:
        text = " | ".join(titled(v.id, v.title) for v in t.values)
    else:
        text = t.name + ("" if t.range is None else _range(t.range))
    return text + ("?" if t.optional else "")


class DeclPrinter(StmtPrinter):
    """Prints each kind of top-level declaration."""

    def decl(self, d: n.Decl, anchors: Anchors) -> list[str]:
        """The lines of one top-level declaration."""
        if isinstance(d, n.RulesetDecl):
            return self._ruleset(d, anchors)
        if isinstance(d, n.OrganisationDecl):
            return self._organisation(d, anchors)
        if isinstance(d, n.SequenceDecl):
            return self.line(0, lambda: self._sequence(d))
        if isinstance(d, n.FactDecl):
            return self._fact(d)
        if isinstance(d, n.Scorecard):
            return self.scorecard(d, anchors)
        if isinstance(d, n.ItemTable):
            return self._item_table(d)
        if isinstance(d, n.Joint):
            return self._joint(d, anchors)
        if isinstance(d, n.TableDecl):
            return self._table(d)
        if isinstance(d, n.PoolDecl):
            return self._pool(d, anchors)
        return self._test(d, anchors)

    # ---- header, organisation, sequences, facts ---------------------------------------------
    def _ruleset(self, d: n.RulesetDecl, anchors: Anchors) -> list[str]:
        kids: list[Child] = []
        if d.year is not None:
            kids.append(self.simple(anchor(anchors, "year_stmt"), f"year {d.year}"))
        if d.periods:
            text = "periods " + ", ".join(d.periods)
            kids.append(self.simple(anchor(anchors, "periods_stmt"), text))
        if d.round_places is not None and d.round_mode is not None:
            text = f"round {d.round_places} {d.round_mode.name}"
            kids.append(self.simple(anchor(anchors, "round_stmt"), text))
        return self.block(f"ruleset {quote(d.name)}", kids, d.span, 0)

    def _organisation(self, d: n.OrganisationDecl, anchors: Anchors) -> list[str]:
        kids: list[Child] = []
        kinds = [self.simple(k.span, titled(k.id, k.title)) for k in d.kinds]
        attrs = self._fields(d.attrs)
        unit_attrs = self._fields(d.unit_attrs)
        blocks = (
            ("unit_kinds", "unit kinds", kinds),
            ("unit_attrs", "unit attrs", unit_attrs),
            ("person_attrs", "person attrs", attrs),
        )
        for rule, head, members in blocks:
            spans = anchors.get(rule, [])
            if not spans and not members:
                continue
            # Several blocks of one kind merge into the first.
            first, last = (spans[0], spans[-1]) if spans else (n.NOWHERE, n.NOWHERE)
            span = n.Span(first.path, first.line, first.column, last.end_line, last.end_column)
            kids.append(Child(span, self.sub_block(head, members, span)))
        if d.persons:
            text = "persons " + " | ".join(p.name for p in d.persons)
            kids.append(self.simple(anchor(anchors, "org_persons"), text))
        return self.block("organisation", kids, d.span, 0)

    def _fields(self, fields: tuple[n.FieldDecl, ...]) -> list[Child]:
        seps = commas([f.name for f in fields])
        return [
            # Only a range ends in a number, after which a keyword could be misread.
            self.simple(
                f.span, f"{titled(f.name, f.title)}: {_type(f.type)}{sep if f.type.range else ''}"
            )
            for f, sep in zip(fields, seps, strict=True)
        ]

    def _sequence(self, d: n.SequenceDecl) -> list[str]:
        head = titled("sequence " + d.id, d.title)
        if d.parts:
            return [f"{head} = " + " | ".join(p.name for p in d.parts)]
        text = f"{head} = {d.subject}"
        if d.kinds:
            # A person sequence names the kinds of the persons' units: `person in county_dept`.
            text += (" in " if d.subject == "person" else " ") + " | ".join(k.name for k in d.kinds)
        if d.under:
            text += " under " + " | ".join(k.name for k in d.under)
        return cat([text], self.where(d.where, 0))

    def _fact(self, d: n.FactDecl) -> list[str]:
        kind = "period many" if d.kind == "period_many" else d.kind
        head = f"{titled('fact ' + d.id, d.title)} {kind} on {' | '.join(d.subjects)}"
        lines = self.block(head, self._fields(d.fields), d.span, 0)
        if d.unscored:
            lines[-1] += " unscored"
        if d.counts_in is not None:
            lines[-1] += " counts_in next open period"
        return lines

    # ---- items, joint liability, tests ------------------------------------------------------
    def _item_table(self, d: n.ItemTable) -> list[str]:
        kids = [self.fitted_child(i.span, self._item(i)) for i in d.items]
        kids.extend(self.simple(c.span, _cap_text(c)) for c in d.caps)
        return self.block(titled("items " + d.id, d.title), kids, d.span, 0)

    def _item(self, i: n.Item) -> Render:
        head = f"{i.kind} {i.id}: {i.fact.name}" if i.id != i.fact.name else f"{i.kind} {i.id}"
        once = "" if i.once_per is None else f" once per {i.once_per.name}"
        return lambda indent: cat(
            [head], self.where(i.where, indent), self.amount(i.amount, indent), [once]
        )

    def _joint(self, d: n.Joint, anchors: Anchors) -> list[str]:
        kids = [self.fitted_child(x.span, self._link(x)) for x in d.links]
        if d.cap is not None:
            text = f"cap {d.cap.text} per {d.cap_per}"
            kids.append(self.simple(anchor(anchors, "joint_cap"), text))
        head = f"{titled('joint ' + d.id, d.title)} into {d.into.name}"
        return self.block(head, kids, d.span, 0)

    def _link(self, x: n.Link) -> Render:
        if x.ratio is not None:
            tail = f" ratio {x.ratio.text}"
        elif x.times is not None:
            tail = f" times {x.times.text}"
        else:
            assert x.amount is not None
            tail = f" amount {x.amount.text}"
        if x.target is None:
            text = f"import {x.id}: deductions from {x.scorecard.name}{tail}"
            return lambda indent: [text]
        if x.once_per is not None:
            tail += f" once per {x.once_per.name}"
        head = f"link {x.id}: {x.scorecard.name} {x.source_kind} {x.source.name} -> "
        target = x.target
        return lambda indent: cat([head], self.expr(target, indent), [tail])

    # ---- tables and pools -------------------------------------------------------------------
    def _table(self, d: n.TableDecl) -> list[str]:
        head = f"{titled('table ' + d.id, d.title)} by {''.join(self.expr(d.key, 0))}"
        if d.population is not None:
            head += f" for {d.population.name}"
            if d.else_ is not None:
                head += f" else {d.else_.text}"
        rows = [self.simple(r.span, f"{titled(r.key, r.title)}: {r.value.text}") for r in d.rows]
        return self.block(head, rows, d.span, 0)

    def _pool(self, d: n.PoolDecl, anchors: Anchors) -> list[str]:
        within = "".join(self.expr(d.within, 0))
        head = f"{titled('pool ' + d.id, d.title)} for {d.card.name} {d.period} within {within}"
        kids: list[Child] = [self.fitted_child(x.span, self._show(x)) for x in d.shows]
        for rule, word, e in (
            ("pool_amount", "amount", d.amount),
            ("pool_weight", "weight", d.weight),
        ):
            kids.append(self.fitted_child(anchor(anchors, rule), self._stmt(word, e)))
        ties = ", ".join(f"{k.name.name} {k.order}" for k in d.ties)
        text = f"allocate {d.into.name} unit {d.unit.text} largest remainder"
        kids.append(
            self.simple(anchor(anchors, "pool_allocate"), text + (f" by {ties}" if ties else ""))
        )
        for r in d.rounds:
            kids.append(self.simple(r.span, f"round {r.result.name} {r.places} {r.mode.name}"))
        return self.block(head, kids, d.span, 0)

    def _show(self, x: n.PoolShow) -> Render:
        return lambda indent: cat([f"show {x.name} = "], self.expr(x.value, indent))

    def _stmt(self, word: str, e: n.Expr) -> Render:
        return lambda indent: cat([word + " "], self.expr(e, indent))

    def _test(self, d: n.TestDecl, anchors: Anchors) -> list[str]:
        kids: list[Child] = []
        if d.org is not None:
            kids.append(self.simple(anchor(anchors, "test_org"), f"org {quote(d.org.value)}"))
        if d.facts is not None:
            kids.append(self.simple(anchor(anchors, "test_facts"), f"facts {quote(d.facts.value)}"))
        if d.period is not None:
            kids.append(self.simple(anchor(anchors, "test_period"), f"period {d.period}"))
        kids.extend(self.simple(f.span, f"expect {quote(f.value)}") for f in d.expect_files)
        for e in d.expects:
            value = e.value.text if isinstance(e.value, n.Num) else e.value.name
            kids.append(self.simple(e.span, f"expect {e.subject}.{e.field} == {value}"))
        return self.block(titled("test " + d.id, d.title), kids, d.span, 0)


def _decl_render(printer: DeclPrinter, d: n.Decl, anchors: Anchors) -> Render:
    return lambda _indent: printer.decl(d, anchors)


def module_lines(printer: DeclPrinter, module: n.Module, anchors: list[Anchors]) -> list[str]:
    """Every line of a module: declarations with their comments, then the file's last comments."""
    pairs = zip(module.decls, anchors, strict=True)
    kids = [Child(d.span, _decl_render(printer, d, a)) for d, a in pairs]
    return printer.body(kids, 0, 0, top=True)


def _cap_text(c: n.Cap) -> str:
    """`cap bonus 5`, `cap praise 2 per year`."""
    what = c.item.name if c.kind == "item" and c.item is not None else c.kind
    per = " per year" if c.per == "year" else ""
    return f"cap {what} {c.value.text}{per}"
