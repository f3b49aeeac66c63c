"""Name resolution, typing and range analysis of expressions."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from decimal import Decimal

from dsl.check import calls
from dsl.check.bands import band_val, table_val
from dsl.check.context import Ctx, head
from dsl.check.enums import check_keys, members
from dsl.check.intervals import Interval
from dsl.check.narrow import ORDER as _ORDER
from dsl.check.narrow import narrow
from dsl.check.scope import ANY, BOOL, NUMBER, Scope, Ty, Val, field_val
from dsl.syntax import nodes as n
from dsl.syntax.errors import did_you_mean

_ARITH = {"+", "-", "*", "/"}


def card_subject(ctx: Ctx, card: n.Scorecard) -> str | None:
    """Whether a scorecard scores units or persons (None if its sequence is unknown)."""
    seq = ctx.prog.sequences.get(card.sequence.name)
    return None if seq is None else seq.subject


class Exprs:
    """Checks expressions within a scope; every finding goes to the context."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx

    def expect(self, v: Val, kind: str, span: n.Span, what: str) -> bool:
        """True if `v` has the kind; otherwise reports E201 (unknown types pass silently)."""
        if v.ty.kind in (kind, "any"):
            return v.ty.kind == kind
        self.ctx.report("E201", span, f"{what} needs {_article(kind)}, found {v.ty.show()}")
        return False

    def check(self, e: n.Expr, sc: Scope) -> Val:
        """The type, range and inputs of an expression; reports what is wrong inside it."""
        if isinstance(e, n.Num):
            return Val(NUMBER, Interval.point(e.value))
        if isinstance(e, n.Str):
            return Val(Ty("text"))
        if isinstance(e, n.Name):
            return self.name(e, sc)
        if isinstance(e, n.Call):
            return calls.call(self, e, sc)
        if isinstance(e, n.Attr):
            return self.attr(e, sc)
        if isinstance(e, n.Index):
            return self.index(e, sc)
        if isinstance(e, n.Unary):
            return self.unary(e, sc)
        if isinstance(e, n.Binary):
            return self.binary(e, sc)
        if isinstance(e, n.If):
            return self.if_(e, sc)
        return self.match(e, sc)

    # ---- names -------------------------------------------------------------------------------
    def resolves(self, name: str, sc: Scope) -> bool:
        """Whether a bare name means something here (without reporting)."""
        fact = sc.fact or sc.link_fact
        if fact is not None and any(f.name == name for f in fact.fields):
            return True
        prog = self.ctx.prog
        return name in sc.env or name in prog.facts or name in prog.tables

    def name(self, e: n.Name, sc: Scope, want_fact: bool = False) -> Val:
        """A bare name: a fact field, a let or result, or a fact type (as a collection)."""
        fact = sc.fact or sc.link_fact
        if fact is not None:
            fd = next((f for f in fact.fields if f.name == e.id), None)
            if fd is not None:
                return field_val(fd, fact, f"{fact.id}.{fd.name}")
        if e.id in sc.env:
            return sc.env[e.id]
        decl = self.ctx.prog.facts.get(e.id)
        if decl is not None:
            self.use_fact(decl, e.span, sc)
            return Val(Ty("facts", decl), inputs=Counter({decl.id: 1}))
        if want_fact:
            self.ctx.unknown("E103", e, "fact type", self.ctx.prog.facts)
            return Val(ANY)
        table = self.ctx.prog.tables.get(e.id)
        if table is not None:
            return table_val(self.ctx, table)
        known = [*sc.env, *self.ctx.prog.tables]
        if fact is not None:
            known.extend(f.name for f in fact.fields)
            self.ctx.unknown("E107", e, "field", known, fact.id)
        else:
            self.ctx.unknown("E101", e, "name", known)
        return Val(ANY)

    def use_fact(self, fact: n.FactDecl, span: n.Span, sc: Scope) -> None:
        """Marks a fact used, and checks that it is recorded on this scope's subject."""
        self.ctx.use_fact(fact.id, span)
        if sc.subject is not None and sc.subject not in fact.subjects:
            on = " | ".join(fact.subjects)
            self.ctx.report(
                "E208",
                span,
                f"fact type '{fact.id}' is recorded on {on}, not on the {sc.subject} scored here",
            )

    def attr(self, e: n.Attr, sc: Scope) -> Val:
        """`F.field` (a column of facts) or `S[subject].result`."""
        if isinstance(e.obj, n.Name):
            obj = self.name(e.obj, sc, want_fact=True)
        else:
            obj = self.check(e.obj, sc)
        kind, fact = obj.ty.kind, obj.ty.fact
        if kind == "facts" and fact is not None:
            fd = next((f for f in fact.fields if f.name == e.name.name), None)
            if fd is None:
                known = [f.name for f in fact.fields]
                self.ctx.unknown("E107", e.name, "field", known, fact.id)
                return Val(ANY)
            col = field_val(fd, fact, f"{fact.id}.{fd.name}")
            return replace(col, ty=Ty("column", fact, fd))
        if kind == "row" and obj.ty.card is not None:
            card = self.ctx.prog.scorecards[obj.ty.card]
            if e.name.name in ("tier", "grade"):
                return band_val(self.ctx, card, e.name.name, e.name.span)
            known = result_names(card)
            if e.name.name not in known:
                self.ctx.unknown("E101", e.name, "result", known, card.id)
                return Val(ANY)
            return Val(NUMBER, inputs=Counter({f"{card.id}.{e.name.name}": 1}))
        if kind != "any":
            self.ctx.report(
                "E201", e.name.span, f"'.{e.name.name}' needs a fact type, found {obj.ty.show()}"
            )
        return Val(ANY)

    def index(self, e: n.Index, sc: Scope) -> Val:
        """`S[subject]`: scorecard S's result for a subject (a cross-scorecard reference)."""
        subject = self.check(e.index, sc)
        if not isinstance(e.obj, n.Name) or e.obj.id not in self.ctx.prog.scorecards:
            if isinstance(e.obj, n.Name):
                self.ctx.unknown("E104", e.obj, "scorecard", self.ctx.prog.scorecards)
            else:
                self.ctx.report("E201", e.obj.span, "only a scorecard can be indexed")
            return Val(ANY)
        card = self.ctx.prog.scorecards[e.obj.id]
        if sc.card is not None:
            self.ctx.depend(sc.card.id, card.id, e.obj.span)
        want = card_subject(self.ctx, card)
        kind = subject.ty.kind
        if kind in ("unit", "person") and want is not None and kind != want:
            msg = f"scorecard '{card.id}' scores {want}s, not the {kind} given here"
            self.ctx.report("E208", e.index.span, msg)
        elif kind not in ("unit", "person", "any"):
            self.ctx.report("E201", e.index.span, f"a subject is needed, found {subject.ty.show()}")
        return Val(Ty("row", card=card.id), inputs=subject.inputs)

    # ---- operators ---------------------------------------------------------------------------
    def unary(self, e: n.Unary, sc: Scope) -> Val:
        """`-x` or `not x`."""
        v = self.check(e.operand, sc)
        if e.op == "-":
            ok = self.expect(v, "number", e.operand.span, "'-'")
            return Val(NUMBER, -v.iv, v.inputs) if ok else Val(ANY)
        self.expect(v, "bool", e.operand.span, "'not'")
        return Val(BOOL, inputs=v.inputs)

    def binary(self, e: n.Binary, sc: Scope) -> Val:
        """Arithmetic, comparisons and logic."""
        if e.op in ("==", "!="):
            enum_cmp = self.enum_compare(e, sc)
            if enum_cmp is not None:
                return enum_cmp
        left, right = self.check(e.left, sc), self.check(e.right, sc)
        inputs = left.inputs + right.inputs
        if e.op in ("and", "or"):
            self.expect(left, "bool", e.left.span, f"'{e.op}'")
            self.expect(right, "bool", e.right.span, f"'{e.op}'")
            return Val(BOOL, inputs=inputs)
        if e.op in _ARITH:
            ok = self.expect(left, "number", e.left.span, f"'{e.op}'")
            ok = self.expect(right, "number", e.right.span, f"'{e.op}'") and ok
            if not ok:
                return Val(ANY)
            ops = {"+": Interval.__add__, "-": Interval.__sub__, "*": Interval.__mul__}
            iv = ops[e.op](left.iv, right.iv) if e.op in ops else left.iv / right.iv
            return Val(NUMBER, iv, inputs)
        if e.op in _ORDER:
            self.expect(left, "number", e.left.span, f"'{e.op}'")
            self.expect(right, "number", e.right.span, f"'{e.op}'")
        elif "any" not in (left.ty.kind, right.ty.kind) and left.ty.kind != right.ty.kind:
            msg = f"cannot compare {left.ty.show()} with {right.ty.show()}"
            self.ctx.report("E201", e.span, msg)
        self.literal_in_range(left, e.right)
        self.literal_in_range(right, e.left)
        return Val(BOOL, inputs=inputs)

    def enum_compare(self, e: n.Binary, sc: Scope) -> Val | None:
        """`field == value`: the bare name on one side is a value of the other side's enum."""
        for side, other in ((e.left, e.right), (e.right, e.left)):
            if isinstance(other, n.Name) and not self.resolves(other.id, sc):
                v = self.check(side, sc)
                if v.ty.kind == "enum" and v.ty.field is not None:
                    values = members(v.ty.field)
                    if other.id not in values:
                        fd = v.ty.field
                        self.ctx.report(
                            "E202",
                            other.span,
                            f"'{other.id}' is not a value of '{fd.name}'"
                            + did_you_mean(other.id, values),
                            f"'{fd.name}' is one of: {', '.join(values)}",
                        )
                    return Val(BOOL, inputs=v.inputs)
                if v.ty.kind == "any":
                    return Val(BOOL)
                self.check(other, sc)
                return Val(BOOL, inputs=v.inputs)
        return None

    def literal_in_range(self, v: Val, lit: n.Expr) -> None:
        """A number compared with a field must lie in the field's declared range."""
        r = v.source.type.range if v.source is not None else None
        if r is None or not isinstance(lit, n.Num) or v.source is None:
            return
        x = lit.value
        below = r.low is not None and (x < r.low or (x == r.low and not r.low_inclusive))
        above = r.high is not None and (x > r.high or (x == r.high and not r.high_inclusive))
        if below or above:
            name = v.source.name
            msg = f"{lit.text} is outside the range of '{name}' ({_range_text(r)})"
            self.ctx.report("E207", lit.span, msg)

    def if_(self, e: n.If, sc: Scope) -> Val:
        """`if c then a else b`, narrowing lets compared with constants in each branch."""
        cond = self.check(e.cond, sc)
        self.expect(cond, "bool", e.cond.span, "'if'")
        then_sc, else_sc = narrow(e.cond, sc, True), narrow(e.cond, sc, False)
        a = self.check(e.then, then_sc or sc)
        b = self.check(e.else_, else_sc or sc)
        inputs = cond.inputs + (a.inputs | b.inputs)
        if "any" in (a.ty.kind, b.ty.kind):
            return Val(ANY)
        if a.ty.kind != b.ty.kind:
            self.ctx.report("E201", e.span, f"'then' gives {a.ty.show()}, 'else' {b.ty.show()}")
            return Val(ANY)
        reachable = [v.iv for v, s in ((a, then_sc), (b, else_sc)) if s is not None]
        iv = reachable[0].hull(reachable[-1]) if reachable else a.iv.hull(b.iv)
        return Val(a.ty, iv, inputs)

    def match(self, e: n.Match, sc: Scope) -> Val:
        """`match e { value: result, ... }` over an enum, or over the parts of a union."""
        keys = [(arm.key, arm.span) for arm in e.arms if arm.key != "else"]
        has_else = len(keys) < len(e.arms)
        union = None if e.steps else self.union(e.subject, sc)
        if e.steps:
            subject = self.check(e.subject, sc)
            self.expect(subject, "number", e.subject.span, "'steps'")
            self._steps(e)
        elif union is not None:
            subject = Val(Ty("enum"))
            parts = [p.name for p in union.parts]
            check_part_keys(self.ctx, keys, union, parts, head(e.span, 5), has_else)
        else:
            subject = self.check(e.subject, sc)
            if subject.ty.kind == "enum" and subject.ty.field is not None:
                codes = ("E204", "E203")
                check_keys(self.ctx, keys, subject.ty.field, head(e.span, 5), codes, has_else)
            else:
                self.expect(subject, "enum", e.subject.span, "'match'")
        vals = [self.check(arm.value, sc) for arm in e.arms]
        if any(v.ty.kind == "any" for v in vals):
            return Val(ANY)
        inputs = Counter(subject.inputs)
        for v in vals:
            inputs |= v.inputs
            if v.ty.kind != vals[0].ty.kind:
                self.ctx.report("E201", v_span(e, v, vals), "match arms give different types")
                return Val(ANY)
        iv = vals[0].iv
        for v in vals[1:]:
            iv = iv.hull(v.iv)
        return Val(vals[0].ty, iv, inputs)

    def _steps(self, e: n.Match) -> None:
        """A step table ends with `else`, which only the last arm is (E316); no step may be
        shadowed by an earlier one that holds wherever it would (W304)."""
        last = e.arms[-1]
        if last.key != "else":
            msg = "a `steps` table needs an `else:` step last, for a value no step takes"
            self.ctx.report("E316", head(e.span, 5), msg)
        for i, arm in enumerate(e.arms):
            if arm.key == "else" and i != len(e.arms) - 1:
                self.ctx.report("E316", arm.span, "`else:` is the last step; these come after it")
            if arm.bound is None:
                continue
            for before in e.arms[:i]:
                if before.bound is not None and _covers(before, arm):
                    msg = (
                        f"step `{arm.key} {arm.bound.text}` is never taken: every value it takes"
                        f" is taken first by `{before.key} {before.bound.text}`"
                    )
                    self.ctx.report("W304", arm.span, msg)
                    break

    def union(self, e: n.Expr, sc: Scope) -> n.SequenceDecl | None:
        """A bare name of a union sequence of this scope's subjects: `match staff { ... }`."""
        if not isinstance(e, n.Name) or self.resolves(e.id, sc):
            return None
        seq = self.ctx.prog.sequences.get(e.id)
        if seq is None or not seq.parts:
            return None
        if sc.subject is not None and seq.subject != sc.subject:
            msg = f"sequence '{seq.id}' holds {seq.subject}s, not the {sc.subject} scored here"
            self.ctx.report("E208", e.span, msg)
        self.ctx.used_sequences.add(seq.id)
        return seq


def check_part_keys(
    ctx: Ctx,
    keys: list[tuple[str, n.Span]],
    union: n.SequenceDecl,
    parts: list[str],
    span: n.Span,
    has_else: bool,
) -> None:
    """Arms of a match over a union: each a part (E204), every part covered (E203)."""
    for key, at in keys:
        if key not in parts:
            msg = f"'{key}' is not a part of '{union.id}'" + did_you_mean(key, parts)
            ctx.report("E204", at, msg, f"'{union.id}' is {' | '.join(parts)}")
    left = [p for p in parts if p not in {k for k, _ in keys}]
    if left and not has_else:
        ctx.report("E203", span, f"match over '{union.id}' does not cover {', '.join(left)}")


def v_span(e: n.Match, v: Val, vals: list[Val]) -> n.Span:
    """The span of the arm whose value is `v`."""
    return e.arms[vals.index(v)].span


def result_names(card: n.Scorecard) -> list[str]:
    """Results of a scorecard that other expressions may read."""
    ids = [c.id for c in card.categories] + [c.id for c in card.components]
    ids += [i.id for c in card.categories for i in c.indicators]
    return ["final", "base", "bonus", "penalty", "joint", "rank", *ids]


def _article(kind: str) -> str:
    return {"enum": "an enum value", "unit": "a unit"}.get(kind, f"a {kind}")


def _range_text(r: n.Range) -> str:
    if r.low is not None and r.high is not None:
        return f"{r.low}..{r.high}"
    if r.low is not None:
        return f"{'>=' if r.low_inclusive else '>'} {r.low}"
    return f"{'<=' if r.high_inclusive else '<'} {r.high}"


def _covers(a: n.MatchArm, b: n.MatchArm) -> bool:
    """Whether every number for which step `b` holds also satisfies the earlier step `a`."""
    assert a.bound is not None and b.bound is not None
    x, y = a.bound.value, b.bound.value
    lower = {">=": True, ">": True}
    upper = {"<=": True, "<": True}
    if b.key == "==":
        return _holds(a.key, y, x)
    if a.key in lower and b.key in lower:
        # b: v > y or v >= y; a: v >= x or v > x
        return y > x or (y == x and (a.key == ">=" or b.key == ">"))
    if a.key in upper and b.key in upper:
        return y < x or (y == x and (a.key == "<=" or b.key == "<"))
    return False


def _holds(op: str, v: Decimal, bound: Decimal) -> bool:
    return {
        "==": v == bound,
        "!=": v != bound,
        ">=": v >= bound,
        ">": v > bound,
        "<=": v <= bound,
        "<": v < bound,
    }[op]
