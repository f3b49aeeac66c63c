"""Narrowing: inside `if v >= 100 then a else b`, v is at least 100 in a and below it in b."""

from __future__ import annotations

from fractions import Fraction

from dsl.check.intervals import INF
from dsl.check.scope import Scope
from dsl.syntax import nodes as n

ORDER = {"<", "<=", ">", ">="}
_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}


def narrow(cond: n.Expr, sc: Scope, holds: bool) -> Scope | None:
    """The scope where `cond` is `holds`; None if that cannot happen."""
    if isinstance(cond, n.Binary) and cond.op == ("and" if holds else "or"):
        left = narrow(cond.left, sc, holds)
        return None if left is None else narrow(cond.right, left, holds)
    if not isinstance(cond, n.Binary) or cond.op not in ORDER:
        return sc
    op: str = cond.op
    name, num = cond.left, cond.right
    if isinstance(num, n.Name) and isinstance(name, n.Num):
        op, name, num = _FLIP[op], num, name
    if not (isinstance(name, n.Name) and isinstance(num, n.Num) and name.id in sc.env):
        return sc
    if not holds:
        op = {"<": ">=", "<=": ">", ">": "<=", ">=": "<"}[op]
    c = Fraction(num.value)
    # Integer-free reals: a strict bound is kept closed (a hull), which is sound.
    iv = sc.env[name.id].iv.clip(c, INF) if op in (">", ">=") else sc.env[name.id].iv.clip(-INF, c)
    return None if iv is None else sc.narrowed(name.id, iv)
