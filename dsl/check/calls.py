"""The built-in functions: arity, where each may stand, argument types and result ranges."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from typing import Protocol

from dsl.check import below, peers
from dsl.check.context import Ctx
from dsl.check.enums import by_field, check_table
from dsl.check.intervals import INF, NONNEG, TOP, Interval
from dsl.check.scope import ANY, NUMBER, Scope, Ty, Val, field_interval, field_val
from dsl.syntax import nodes as n


class Exprs(Protocol):
    """What a built-in's check needs of the expression checker (`dsl.check.exprs.Exprs`)."""

    @property
    def ctx(self) -> Ctx:
        """Where findings go, and the program being checked."""

    def expect(self, v: Val, kind: str, span: n.Span, what: str) -> bool:
        """True if `v` has the kind; otherwise reports E201."""

    def check(self, e: n.Expr, sc: Scope) -> Val:
        """The type, range and inputs of an expression."""

    def name(self, e: n.Name, sc: Scope, want_fact: bool = False) -> Val:
        """A bare name: a fact field, a let or result, or a fact type."""

    def use_fact(self, fact: n.FactDecl, span: n.Span, sc: Scope) -> None:
        """Marks a fact used, and checks that it is recorded on this scope's subject."""


Handler = Callable[[Exprs, n.Call, Scope], Val]

# name -> (fewest, most arguments; None: any number)
ARITY: dict[str, tuple[int, int | None]] = {
    "value": (1, 1),
    "mean": (1, 1),
    "sum": (1, 2),
    "count": (1, 2),
    "distinct": (1, 1),
    "rank": (1, 1),
    "weighted_mean": (1, 1),
    "max": (1, None),
    "min": (1, None),
    "abs": (1, 1),
    "attr": (1, 1),
    "ancestor": (1, None),
    "peer_mean": (1, 1),
    "floor": (1, 1),
    "quota": (1, 1),
    "lead": (1, 1),
    "present": (1, 1),
    "missing": (1, 1),
    "peer_max": (1, 1),
    "peer_min": (1, 1),
    "share_of_best": (1, 1),
    "deviation": (2, 2),
    "trunc": (1, 1),
    "days": (2, 2),
    "any": (1, 2),
    "all": (1, 2),
    "descendant": (1, None),
}

# functions allowed only in some places, and the message when used elsewhere
_ONLY = {
    "rank": ("rule", "rank() ranks peers inside an indicator or component; here use `rank`"),
    "peer_mean": ("rule", "peer_mean() averages peers inside an indicator or component only"),
    "peer_max": ("rule", "peer_max() reads peers inside an indicator or component only"),
    "peer_min": ("rule", "peer_min() reads peers inside an indicator or component only"),
    "share_of_best": ("rule", "share_of_best() reads peers inside an indicator or component only"),
    "quota": ("band", "quota() counts heads inside tiers, grades or pools only"),
    "lead": ("target", "lead() names a link's target only"),
    "any": ("band", "any() reads the facts of descendants in vetoes and tier or grade conditions"),
    "all": ("band", "all() reads the facts of descendants in vetoes and tier or grade conditions"),
}


def call(ex: Exprs, e: n.Call, sc: Scope) -> Val:
    """Checks a call of a built-in function."""
    ctx = ex.ctx
    if e.func not in ARITY:
        ctx.report("E113", head_span(e), f"unknown function '{e.func}'" + _hint(e.func))
        return _args_only(ex, e, sc)
    low, high = ARITY[e.func]
    got = len(e.args)
    if got < low or (high is not None and got > high):
        want = str(low) if low == high else f"{low} to {high}" if high else f"at least {low}"
        plural = "" if want == "1" else "s"
        ctx.report("E210", e.span, f"{e.func}() takes {want} argument{plural}, got {got}")
        return _args_only(ex, e, sc)
    only = _ONLY.get(e.func)
    if only is not None and sc.where != only[0] and not (e.func == "quota" and sc.where == "pool"):
        ctx.report("E211", head_span(e), only[1])
        return Val(ANY)
    for a in e.args:
        if a.order is not None and e.func != "rank":
            ctx.report("E211", a.span, f"'{a.order}' applies to rank() only")
        if a.by is not None and e.func != "weighted_mean":
            ctx.report("E211", a.by.span, "'by' applies to weighted_mean() only")
    return _HANDLERS[e.func](ex, e, sc)


def _args_only(ex: Exprs, e: n.Call, sc: Scope) -> Val:
    """Checks the arguments of a call that cannot be checked as a whole."""
    inner = sc
    for i, a in enumerate(e.args):
        v = ex.check(a.value, inner)
        if i == 0 and v.ty.kind == "facts" and v.ty.fact is not None:
            inner = sc.inner(v.ty.fact)  # later arguments read each fact's fields
    return Val(ANY)


def head_span(e: n.Call) -> n.Span:
    """The span of a call's function name."""
    s = e.span
    return n.Span(s.path, s.line, s.column, s.line, s.column + len(e.func))


def _hint(name: str) -> str:
    from dsl.syntax.errors import did_you_mean

    return did_you_mean(name, ARITY)


def _column(ex: Exprs, arg: n.Arg, sc: Scope, func: str) -> tuple[n.FactDecl, n.FieldDecl] | None:
    v = ex.check(arg.value, sc)
    if v.ty.kind == "column" and v.ty.fact is not None and v.ty.field is not None:
        return v.ty.fact, v.ty.field
    if v.ty.kind != "any":
        msg = f"{func}() needs a fact field such as 'rating.value', found {v.ty.show()}"
        ex.ctx.report("E201", arg.value.span, msg)
    return None


def _kind_ok(ex: Exprs, fact: n.FactDecl, span: n.Span, func: str) -> None:
    if func == "value" and fact.kind != "period":
        kind = "dated" if fact.kind == "dated" else "`period many`"
        use = "count(), sum() or distinct()" if fact.kind == "dated" else "mean()"
        msg = f"value() needs one value per period, but '{fact.id}' is {kind} (use {use})"
        ex.ctx.report("E209", span, msg)
    elif fact.kind == "dated" and func in ("mean", "weighted_mean"):
        msg = f"{func}() averages period values, but '{fact.id}' is dated (use sum() or count())"
        ex.ctx.report("E209", span, msg)


def _numeric(ex: Exprs, fd: n.FieldDecl, span: n.Span, func: str) -> bool:
    if fd.type.name == "number":
        return True
    ex.ctx.report("E201", span, f"{func}() needs a number field, '{fd.name}' is not one")
    return False


def _value(ex: Exprs, e: n.Call, sc: Scope) -> Val:
    col = _column(ex, e.args[0], sc, "value")
    if col is None:
        return Val(ANY)
    _kind_ok(ex, col[0], e.args[0].value.span, "value")
    return field_val(col[1], col[0], f"{col[0].id}.{col[1].name}")


def _mean(ex: Exprs, e: n.Call, sc: Scope) -> Val:
    arg = e.args[0].value
    if isinstance(arg, n.Name) and sc.env.get(arg.id, Val(ANY)).ty.kind == "list":
        return Val(NUMBER, TOP, Counter(sc.env[arg.id].inputs))
    col = _column(ex, e.args[0], sc, e.func)
    if col is None or not _numeric(ex, col[1], arg.span, e.func):
        return Val(ANY)
    _kind_ok(ex, col[0], arg.span, e.func)
    return Val(NUMBER, field_interval(col[1]), Counter({f"{col[0].id}.{col[1].name}": 1}))


def _weighted_mean(ex: Exprs, e: n.Call, sc: Scope) -> Val:
    arg = e.args[0]
    col = _column(ex, arg, sc, e.func)
    if arg.by is None:
        ex.ctx.report("E211", arg.span, "weighted_mean() needs `by FIELD { group: weight }`")
    if col is None:
        return Val(ANY)
    fact, fd = col
    if arg.by is not None:
        group = by_field(ex.ctx, fact, arg.by.field)
        if group is not None:
            check_table(ex.ctx, arg.by.table, group, arg.by.field.span)
    if not _numeric(ex, fd, arg.value.span, e.func):
        return Val(ANY)
    _kind_ok(ex, fact, arg.value.span, e.func)
    return Val(NUMBER, field_interval(fd), Counter({f"{fact.id}.{fd.name}": 1}))


def _facts(ex: Exprs, arg: n.Arg, sc: Scope, func: str) -> n.FactDecl | None:
    v = ex.name(arg.value, sc, want_fact=True) if isinstance(arg.value, n.Name) else None
    if v is not None and v.ty.kind == "facts":
        return v.ty.fact
    if v is None or v.ty.kind != "any":
        found = "something else" if v is None else v.ty.show()
        ex.ctx.report("E201", arg.value.span, f"{func}() needs a fact type, found {found}")
    return None


def _sum_of(each: Interval) -> Interval:
    """The range of a sum of any number (0 or more) of values in `each`."""
    lo = Fraction(0) if each.lo >= 0 else -INF
    hi = Fraction(0) if each.hi <= 0 else INF
    return Interval(lo, hi)


def _sum(ex: Exprs, e: n.Call, sc: Scope) -> Val:
    first = e.args[0].value
    if isinstance(first, n.Attr):
        col = _column(ex, e.args[0], sc, "sum")
        if len(e.args) > 1:
            ex.ctx.report("E210", e.span, "sum(F.x) takes 1 argument; or write sum(F, expr)")
        if col is None or not _numeric(ex, col[1], first.span, "sum"):
            return Val(ANY)
        return Val(NUMBER, _sum_of(field_interval(col[1])), Counter({col[0].id: 1}))
    fact = _facts(ex, e.args[0], sc, "sum")
    if len(e.args) < 2:
        ex.ctx.report("E210", e.span, "sum() takes a fact type and an expression: sum(F, expr)")
        return Val(ANY)
    if fact is None:
        return Val(ANY)
    each = ex.check(e.args[1].value, sc.inner(fact))
    if not ex.expect(each, "number", e.args[1].value.span, "sum()"):
        return Val(ANY)
    return Val(NUMBER, _sum_of(each.iv), Counter({fact.id: 1}))


def _count(ex: Exprs, e: n.Call, sc: Scope) -> Val:
    over = below.over_below(ex, e, sc)  # count(descendant(KIND).FACT)
    if over is not None:
        return over
    fact = _facts(ex, e.args[0], sc, "count")
    if fact is None:
        return Val(ANY)
    if len(e.args) > 1:
        cond = ex.check(e.args[1].value, sc.inner(fact))
        ex.expect(cond, "bool", e.args[1].value.span, "count()")
    iv = NONNEG if fact.kind != "period" else Interval(Fraction(0), Fraction(1))
    return Val(NUMBER, iv, Counter({fact.id: 1}))


def _distinct(ex: Exprs, e: n.Call, sc: Scope) -> Val:
    col = _column(ex, e.args[0], sc, "distinct")
    if col is None:
        return Val(ANY)
    fd = col[1]
    hi = Fraction(len(fd.type.values)) if fd.type.is_enum else INF
    return Val(NUMBER, Interval(Fraction(0), hi), Counter({f"{col[0].id}.{fd.name}": 1}))


def _rank(ex: Exprs, e: n.Call, sc: Scope) -> Val:
    v = ex.check(e.args[0].value, sc)
    if not ex.expect(v, "number", e.args[0].value.span, "rank()"):
        return Val(ANY)
    return Val(NUMBER, Interval(Fraction(1), INF), Counter({f"rank@{e.span}": 1}))


def _extreme(ex: Exprs, e: n.Call, sc: Scope) -> Val:
    vals = [ex.check(a.value, sc) for a in e.args]
    if len(vals) == 1:
        if ex.expect(vals[0], "list", e.args[0].value.span, f"{e.func}() of one argument"):
            return Val(NUMBER, TOP, vals[0].inputs)
        return Val(ANY)
    oks = [
        ex.expect(v, "number", a.value.span, f"{e.func}()")
        for v, a in zip(vals, e.args, strict=True)
    ]
    if not all(oks):
        return Val(ANY)
    iv, inputs = vals[0].iv, Counter(vals[0].inputs)
    for v in vals[1:]:
        iv = iv.maximum(v.iv) if e.func == "max" else iv.minimum(v.iv)
        inputs += v.inputs
    return Val(NUMBER, iv, inputs)


def _abs(ex: Exprs, e: n.Call, sc: Scope) -> Val:
    v = ex.check(e.args[0].value, sc)
    if not ex.expect(v, "number", e.args[0].value.span, "abs()"):
        return Val(ANY)
    return Val(NUMBER, v.iv.maximum(-v.iv).maximum(Interval.point(Decimal(0))), v.inputs)


def _attr(ex: Exprs, e: n.Call, sc: Scope) -> Val:
    arg = e.args[0].value
    if not isinstance(arg, n.Name):
        ex.ctx.report("E201", arg.span, "attr() takes the name of an attribute")
        return Val(ANY)
    org = ex.ctx.prog.organisation
    if sc.subject == "unit":
        attrs = org.unit_attrs if org is not None else ()
        what = "unit attribute"
    else:
        attrs = org.attrs if org is not None else ()
        what = "person attribute"
    fd = next((a for a in attrs if a.name == arg.id), None)
    if fd is None:
        ex.ctx.unknown("E111", arg, what, [a.name for a in attrs])
        return Val(ANY)
    return field_val(fd, None, f"attr.{fd.name}")


def _quota(ex: Exprs, e: n.Call, sc: Scope) -> Val:
    arg = e.args[0].value
    v = ex.check(arg, sc)
    if not ex.expect(v, "number", arg.span, "quota()"):
        return Val(NUMBER, NONNEG)
    if isinstance(arg, n.Num) and not 0 <= arg.value <= 1:
        shown = arg.text if arg.text.endswith("%") else f"{arg.text} (that is {arg.value:%})"
        ex.ctx.report("E307", arg.span, f"quota {shown} is outside 0%..100%")
    elif not isinstance(arg, n.Num) and (v.iv.lo < 0 or v.iv.hi > 1):
        ex.ctx.report("E307", arg.span, "a quota share must lie in 0%..100%")
    return Val(NUMBER, NONNEG)


def _lead(ex: Exprs, e: n.Call, sc: Scope) -> Val:
    arg = e.args[0].value
    if not isinstance(arg, n.Name):
        ex.ctx.report("E201", arg.span, "lead() takes an indicator id or an indicator field")
        return Val(Ty("unit"))
    fields = sc.link_fact.fields if sc.link_fact is not None else ()
    fd = next((f for f in fields if f.name == arg.id), None)
    if fd is not None:
        if fd.type.name != "indicator":
            ex.ctx.report("E201", arg.span, f"field '{fd.name}' does not hold an indicator")
        return Val(Ty("unit"))
    ind = ex.ctx.prog.indicator(arg.id)
    if ind is None:
        known = [i.id for _, _, i in ex.ctx.prog.indicators()]
        known += [f.name for f in fields if f.type.name == "indicator"]
        ex.ctx.unknown("E108", arg, "indicator", known)
    elif ind.lead is None:
        ex.ctx.report("E311", arg.span, f"indicator '{ind.id}' has no lead department")
    return Val(Ty("unit"))


def _presence(ex: Exprs, e: n.Call, sc: Scope) -> Val:
    """`present(x)` / `missing(x)`: whether a value exists, as a condition (never missing)."""
    arg = e.args[0].value
    if isinstance(arg, n.Name) and arg.id in sc.env and sc.where == "rule":
        # Lets are evaluated first: a missing let makes the whole indicator missing before
        # the rule could test it, so the test would always find it present.
        msg = (
            f"{e.func}() of the let '{arg.id}' always finds it present (a missing let makes"
            f" the indicator missing first); test the expression itself: {e.func}(value(...))"
        )
        ex.ctx.report("E211", arg.span, msg)
        return Val(Ty("bool"))
    v = ex.check(arg, sc)
    if v.ty.kind in ("facts", "column"):
        msg = f"{e.func}() tests a value such as value(f.x), not {v.ty.show()}"
        ex.ctx.report("E201", arg.span, msg)
    return Val(Ty("bool"), inputs=v.inputs)


_HANDLERS: dict[str, Handler] = {
    "value": _value,
    "mean": _mean,
    "weighted_mean": _weighted_mean,
    "sum": _sum,
    "count": _count,
    "distinct": _distinct,
    "rank": _rank,
    "max": _extreme,
    "min": _extreme,
    "abs": _abs,
    "attr": _attr,
    "ancestor": peers.ancestor,
    "peer_mean": peers.peer_mean,
    "floor": peers.floor,
    "quota": _quota,
    "lead": _lead,
    "present": _presence,
    "missing": _presence,
    "peer_max": peers.peer_extreme,
    "peer_min": peers.peer_extreme,
    "share_of_best": peers.share_of_best,
    "deviation": peers.deviation,
    "trunc": peers.trunc,
    "days": peers.days,
    "any": below.quantified,
    "all": below.quantified,
    "descendant": below.descendant_alone,
}
