"""Functions over peers and exact steps: `peer_mean(x)`, `floor(x)`, `ancestor(k | k)`."""

from __future__ import annotations

import math
from collections import Counter
from fractions import Fraction
from typing import Protocol

from dsl.check.context import Ctx
from dsl.check.intervals import INF, Interval
from dsl.check.scope import ANY, NUMBER, Scope, Ty, Val
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


def peer_mean(ex: Exprs, e: n.Call, sc: Scope) -> Val:
    """The exact mean of a value over the peers that have it: within the value's own range."""
    v = ex.check(e.args[0].value, sc)
    if not ex.expect(v, "number", e.args[0].value.span, "peer_mean()"):
        return Val(ANY)
    # A separate input: the mean is not the subject's own value, so ranges stay sound.
    return Val(NUMBER, v.iv, Counter({f"peer_mean@{e.span}": 1}))


def peer_extreme(ex: Exprs, e: n.Call, sc: Scope) -> Val:
    """`peer_max(x)` / `peer_min(x)`: the best (least) value among the peers that have one."""
    v = ex.check(e.args[0].value, sc)
    if not ex.expect(v, "number", e.args[0].value.span, f"{e.func}()"):
        return Val(ANY)
    return Val(NUMBER, v.iv, Counter({f"{e.func}@{e.span}": 1}))


def share_of_best(ex: Exprs, e: n.Call, sc: Scope) -> Val:
    """x / the largest x among the peers: within 0..1 when x cannot be negative."""
    v = ex.check(e.args[0].value, sc)
    if not ex.expect(v, "number", e.args[0].value.span, "share_of_best()"):
        return Val(ANY)
    iv = Interval(Fraction(0), Fraction(1)) if v.iv.lo >= 0 else Interval(-INF, INF)
    return Val(NUMBER, iv, Counter({f"share_of_best@{e.span}": 1}))


def deviation(ex: Exprs, e: n.Call, sc: Scope) -> Val:
    """`deviation(x, ref)`: (x − ref) / |ref|, the relative deviation from a reference."""
    vals = [ex.check(a.value, sc) for a in e.args]
    for a, v in zip(e.args, vals, strict=True):
        ex.expect(v, "number", a.value.span, "deviation()")
    inputs: Counter[str] = Counter()
    for v in vals:
        inputs.update(v.inputs)
    return Val(NUMBER, Interval(-INF, INF), inputs)


def trunc(ex: Exprs, e: n.Call, sc: Scope) -> Val:
    """The whole part of a number, toward zero: full steps of a deviation either way."""
    v = ex.check(e.args[0].value, sc)
    if not ex.expect(v, "number", e.args[0].value.span, "trunc()"):
        return Val(ANY)
    return Val(NUMBER, Interval(_trunc(v.iv.lo), _trunc(v.iv.hi)), v.inputs)


def _trunc(b: Fraction | float) -> Fraction | float:
    return b if b in (INF, -INF) else Fraction(math.trunc(b))


def days(ex: Exprs, e: n.Call, sc: Scope) -> Val:
    """`days(from, to)`: the whole days from one date field of a fact to another."""
    inputs: Counter[str] = Counter()
    for a in e.args:
        v = ex.check(a.value, sc)
        inputs.update(v.inputs)
        if v.ty.kind == "any":
            continue
        if v.source is None or v.source.type.name != "date":
            shown = v.ty.show()
            msg = f"days() takes date fields of a fact, such as `days(due, filed)`, found {shown}"
            ex.ctx.report("E201", a.value.span, msg)
    return Val(NUMBER, Interval(-INF, INF), inputs)


def floor(ex: Exprs, e: n.Call, sc: Scope) -> Val:
    """The greatest integer not above a number."""
    v = ex.check(e.args[0].value, sc)
    if not ex.expect(v, "number", e.args[0].value.span, "floor()"):
        return Val(ANY)
    return Val(NUMBER, Interval(_floor(v.iv.lo), _floor(v.iv.hi)), v.inputs)


def _floor(b: Fraction | float) -> Fraction | float:
    return b if b in (INF, -INF) else Fraction(math.floor(b))


def ancestor(ex: Exprs, e: n.Call, sc: Scope) -> Val:
    """`ancestor(KIND | KIND ...)`: the nearest unit of any of the kinds."""
    org = ex.ctx.prog.organisation
    kinds = [k.id for k in org.kinds] if org is not None else []
    seen: set[str] = set()
    for a in e.args:
        arg = a.value
        if not isinstance(arg, n.Name):
            ex.ctx.report("E201", arg.span, "ancestor() takes the names of unit kinds")
        elif arg.id not in kinds:
            ex.ctx.unknown("E110", arg, "unit kind", kinds)
        elif arg.id in seen:
            ex.ctx.report("E102", arg.span, f"unit kind '{arg.id}' named twice")
        else:
            seen.add(arg.id)
    return Val(Ty("unit"))
