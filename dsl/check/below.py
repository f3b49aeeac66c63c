"""Facts of the units below a subject: `any(descendant(county_dept).major_violation)`, `all(...)`,
`count(...)`, and the vetoes, direct bands and per-result rounding that read or declare them."""

from __future__ import annotations

from collections import Counter
from typing import Protocol

from dsl.check.context import Ctx, head
from dsl.check.intervals import NONNEG
from dsl.check.scope import ANY, BOOL, NUMBER, Scope, Val
from dsl.syntax import nodes as n


class Exprs(Protocol):
    """What these checks need of the expression checker (`dsl.check.exprs.Exprs`)."""

    @property
    def ctx(self) -> Ctx:
        """Where findings go, and the program being checked."""

    def expect(self, v: Val, kind: str, span: n.Span, what: str) -> bool:
        """True if `v` has the kind; otherwise reports E201."""

    def check(self, e: n.Expr, sc: Scope) -> Val:
        """The type, range and inputs of an expression."""

    def use_fact(self, fact: n.FactDecl, span: n.Span, sc: Scope) -> None:
        """Marks a fact used, and checks that it is recorded on this scope's subject."""


def is_below(e: n.Expr) -> bool:
    """Whether an expression is `descendant(KIND | ...).FACT`."""
    return isinstance(e, n.Attr) and isinstance(e.obj, n.Call) and e.obj.func == "descendant"


def kinds_and_fact(
    ex: Exprs, kinds: tuple[n.Ref, ...], fact: n.Ref, sc: Scope, span: n.Span
) -> n.FactDecl | None:
    """Checks `descendant(KINDS).FACT` where it stands: on units, read in bands and vetoes."""
    ctx = ex.ctx
    org = ctx.prog.organisation
    known = [k.id for k in org.kinds] if org is not None else []
    for k in kinds:
        if k.name not in known:
            ctx.unknown("E110", k, "unit kind", known)
    if sc.where != "band":
        msg = "the facts of descendants are read in vetoes and in tier or grade conditions only"
        ctx.report("E211", span, msg)
    if sc.subject == "person":
        msg = "descendant() reads the units below a unit; the subjects scored here are persons"
        ctx.report("E208", span, msg)
    decl = ctx.prog.facts.get(fact.name)
    if decl is None:
        ctx.unknown("E103", fact, "fact type", ctx.prog.facts)
        return None
    ctx.use_fact(decl.id, fact.span)
    if "unit" not in decl.subjects:
        msg = f"fact type '{decl.id}' is recorded on persons, not on the units below"
        ctx.report("E208", fact.span, msg)
    return decl


def quantified(ex: Exprs, e: n.Call, sc: Scope) -> Val:
    """`any(descendant(K).F [, cond])`, `all(...)`: over the descendants' facts."""
    got = over_below(ex, e, sc)
    assert got is not None  # any() and all() take nothing else
    return got


def over_below(ex: Exprs, e: n.Call, sc: Scope) -> Val | None:
    """`any(descendant(K).F [, cond])`, `all(...)`, `count(...)` over the descendants' facts;
    None when the first argument is not `descendant(...)` (an ordinary `count(F)`)."""
    first = e.args[0].value
    if not is_below(first):
        if e.func == "count":
            return None
        msg = f"{e.func}() takes descendant(KIND).FACT, such as descendant(county_dept).violation"
        ex.ctx.report("E201", first.span, msg)
        return Val(BOOL)
    assert isinstance(first, n.Attr) and isinstance(first.obj, n.Call)
    kinds = tuple(_kind_ref(a.value) for a in first.obj.args)
    decl = kinds_and_fact(ex, kinds, first.name, sc, first.span)
    if len(e.args) > 1 and decl is not None:
        cond = ex.check(e.args[1].value, sc.inner(decl))
        ex.expect(cond, "bool", e.args[1].value.span, f"{e.func}()")
    key = f"below:{decl.id if decl else '?'}"
    if e.func == "count":
        return Val(NUMBER, NONNEG, Counter({key: 1}))
    return Val(BOOL, inputs=Counter({key: 1}))


def _kind_ref(e: n.Expr) -> n.Ref:
    if isinstance(e, n.Name):
        return n.Ref(e.id, e.span)
    return n.Ref("?", e.span)


def descendant_alone(ex: Exprs, e: n.Call, sc: Scope) -> Val:
    """`descendant(...)` outside any()/all()/count()."""
    msg = "descendant(KIND).FACT is read inside any(), all() or count()"
    ex.ctx.report("E211", head(e.span, len(e.func)), msg)
    return Val(ANY)


def veto(ex: Exprs, v: n.Veto, sc: Scope) -> None:
    """The fact, descendants or condition of a veto."""
    ctx = ex.ctx
    if v.when is not None:
        ex.expect(ex.check(v.when, sc), "bool", v.when.span, "'veto when'")
        return
    assert v.fact is not None
    if v.quant is not None:
        kinds_and_fact(ex, v.below, v.fact, sc, v.span)
        return
    fact = ctx.prog.facts.get(v.fact.name)
    if fact is None:
        ctx.unknown("E103", v.fact, "fact type", ctx.prog.facts)
    else:
        ex.use_fact(fact, v.fact.span, sc)


ROUNDABLE = ("final", "base", "bonus", "penalty", "joint")


MODES = ("half_up", "half_even", "down", "up", "ceiling", "floor")


def rounds(ctx: Ctx, card: n.Scorecard, modes: tuple[str, ...] = MODES) -> None:
    """`round RESULT P MODE`: a result of the scorecard, a mode, at most the published places."""
    parts = [c.id for c in card.categories] + [c.id for c in card.components]
    parts += [i.id for c in card.categories for i in c.indicators]
    round_names(ctx, card.id, card.rounds, [*ROUNDABLE, *parts], modes)


def round_names(
    ctx: Ctx,
    owner: str,
    given: tuple[n.RoundResult, ...],
    known: list[str],
    modes: tuple[str, ...] = MODES,
) -> None:
    """Each `round NAME P MODE` of a scorecard or pool: a known name, a mode, few places."""
    header = ctx.prog.header
    places = header.round_places if header is not None else None
    seen: set[str] = set()
    for r in given:
        if r.result.name in seen:
            ctx.report("E102", r.result.span, f"`round {r.result.name}` is given twice")
        seen.add(r.result.name)
        if r.result.name not in known:
            ctx.unknown("E101", r.result, "result", known, owner)
        if r.mode.name not in modes:
            ctx.unknown("E114", r.mode, "rounding mode", modes)
        if places is not None and r.places > places:
            msg = (
                f"`round {r.result.name} {r.places}` keeps more places than the ruleset"
                f" publishes ({places})"
            )
            ctx.report("E320", r.span, msg, "published values are rounded to the header's places")
