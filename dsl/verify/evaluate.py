"""Exact evaluation of a rule expression whose reads (calls, fields, results) are given values."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

from dsl.fmt.expr import format_expr
from dsl.syntax import nodes as n

Value = Fraction | bool | None


def evaluate(e: n.Expr, env: Mapping[str, Fraction], lets: Mapping[str, n.Expr]) -> Fraction | None:
    """The number an expression gives; None if it is missing or not a number."""
    v = _eval(e, env, lets)
    return v if isinstance(v, Fraction) else None


def _eval(e: n.Expr, env: Mapping[str, Fraction], lets: Mapping[str, n.Expr]) -> Value:
    if isinstance(e, n.Num):
        return Fraction(e.value)
    if isinstance(e, n.Name) and e.id in lets:
        return _eval(lets[e.id], env, lets)
    if isinstance(e, n.Unary):
        v = _eval(e.operand, env, lets)
        if e.op == "not":
            return None if v is None else not v
        return -v if isinstance(v, Fraction) else None
    if isinstance(e, n.Binary):
        return _binary(e, env, lets)
    if isinstance(e, n.If):
        c = _eval(e.cond, env, lets)
        return None if c is None else _eval(e.then if c else e.else_, env, lets)
    if isinstance(e, n.Call) and e.func in ("max", "min", "abs"):
        args = [_eval(a.value, env, lets) for a in e.args]
        nums = [a for a in args if isinstance(a, Fraction)]
        if len(nums) != len(args) or not nums:
            return None
        return abs(nums[0]) if e.func == "abs" else (max(nums) if e.func == "max" else min(nums))
    return env.get(format_expr(e))


def _binary(e: n.Binary, env: Mapping[str, Fraction], lets: Mapping[str, n.Expr]) -> Value:
    a, b = _eval(e.left, env, lets), _eval(e.right, env, lets)
    if a is None or b is None:
        return None
    if e.op in ("and", "or"):
        return (bool(a) and bool(b)) if e.op == "and" else (bool(a) or bool(b))
    if not isinstance(a, Fraction) or not isinstance(b, Fraction):
        return (a == b) if e.op == "==" else (a != b) if e.op == "!=" else None
    if e.op == "+":
        return a + b
    if e.op == "-":
        return a - b
    if e.op == "*":
        return a * b
    if e.op == "/":
        return a / b if b != 0 else None
    compare = {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b, "!=": a != b}
    return compare.get(e.op)
