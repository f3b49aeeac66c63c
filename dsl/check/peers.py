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
