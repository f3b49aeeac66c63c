"""Signs of dependence: whether an expression can only rise (+1), only fall (-1), does not
depend (0) on an input, or whether that cannot be told from its form (None).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from dsl.check.intervals import Interval
from dsl.syntax import nodes as n

Sign = int | None
# the sign of an atom (a name, a call, a result) in the input being studied
AtomSign = Callable[[n.Expr], Sign]
# the interval of an expression that does not depend on that input
Bounds = Callable[[n.Expr], Interval | None]


def combine(signs: Iterable[Sign]) -> Sign:
    """The sign of a sum of terms with these signs."""
    out: Sign = 0
    for s in signs:
        if s is None or (out and s and out != s):
            return None
        out = out or s
    return out


def times(a: Sign, b: Sign) -> Sign:
    """The sign of a composition: `a` of `b`."""
    if a == 0 or b == 0:
        return 0
    if a is None or b is None:
        return None
    return a * b


def _scale(s: Sign, factor: Interval | None) -> Sign:
    if s == 0:
        return 0
    if factor is None or s is None:
        return None
    if factor.lo >= 0:
        return s
    if factor.hi <= 0:
        return -s
    return None


def sign(e: n.Expr, atom: AtomSign, bounds: Bounds) -> Sign:
    """The sign of `e` in the input, from the signs of its atoms."""
    if isinstance(e, n.Num | n.Str):
        return 0
    if isinstance(e, n.Unary):
        inner = sign(e.operand, atom, bounds)
        return -inner if e.op == "-" and inner is not None else (0 if inner == 0 else None)
    if isinstance(e, n.Binary):
        return _binary(e, atom, bounds)
    if isinstance(e, n.Call) and e.func in ("max", "min"):
        return combine(sign(a.value, atom, bounds) for a in e.args)
    if isinstance(e, n.If | n.Match):
        # A choice that the input does not move picks the same branch whatever the input: the
        # result moves as every branch does (each subject meets one, fixed, branch).
        chooser, branches = (
            (e.cond, [e.then, e.else_])
            if isinstance(e, n.If)
            else (e.subject, [a.value for a in e.arms])
        )
        if sign(chooser, atom, bounds) != 0:
            return 0 if all(sign(p, atom, bounds) == 0 for p in [chooser, *branches]) else None
        return combine(sign(b, atom, bounds) for b in branches)
    return atom(e)


def _binary(e: n.Binary, atom: AtomSign, bounds: Bounds) -> Sign:
    left, right = sign(e.left, atom, bounds), sign(e.right, atom, bounds)
    if e.op == "+":
        return combine([left, right])
    if e.op == "-":
        return combine([left, -right if right is not None else None])
    if e.op == "*":
        if right == 0:
            return _scale(left, bounds(e.right))
        if left == 0:
            return _scale(right, bounds(e.left))
        return None
    if e.op == "/" and right == 0:
        b = bounds(e.right)
        if b is not None and (b.lo > 0 or b.hi < 0):
            return _scale(left, b)
        return None if left != 0 else 0
    return 0 if left == 0 and right == 0 else None
