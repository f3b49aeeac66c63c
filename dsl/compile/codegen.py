"""Expressions of the rule language as stdlib `ast` nodes that carry rule-file positions.

Each expression gets a static numeric type: `int`, `dec` (exact as a Decimal), `rat` (needs a
Fraction), `str`, `bool`. Decimals meet rationals only through `rt.Q`, so sums and products of
decimals stay cheap and divisions are exact.
"""

from __future__ import annotations

import ast
from decimal import Decimal

from dsl.compile.codegen_calls import gen_attr, gen_call
from dsl.compile.pyast import (
    RESULT_NAMES,
    CodegenError,
    Scope,
    Ty,
    at,
    call,
    const,
    field_read,
    name,
    rt,
)
from dsl.syntax import nodes as n
from dsl.syntax.program import Program

QUARTER_NAMES = ("q1", "q2", "q3", "q4")


class ExprGen:
    """Compiles expressions; literals are hoisted into module constants."""

    def __init__(self, program: Program, consts: dict[str, tuple[str, ast.expr]]) -> None:
        self.program = program
        self.consts = consts
        self._n = 0

    def fresh(self, prefix: str) -> str:
        """A new unique Python name."""
        self._n += 1
        return f"_{prefix}{self._n}"

    def hoist(self, key: str, value: ast.expr) -> ast.expr:
        """A module-level constant for a value built once."""
        if key not in self.consts:
            self.consts[key] = (f"_k{len(self.consts)}", value)
        return name(self.consts[key][0])

    def decimal(self, d: Decimal) -> tuple[ast.expr, Ty]:
        """A decimal literal: an int when whole, else a hoisted Decimal."""
        if d == d.to_integral_value() and abs(d) < 10**15:
            return const(int(d)), "int"
        return self.hoist(f"D:{d}", call(rt("D"), const(str(d)))), "dec"

    # ---- type helpers -----------------------------------------------------------------------
    @staticmethod
    def join(*tys: Ty) -> Ty:
        """The common numeric type of several branches."""
        if "rat" in tys:
            return "rat"
        if "dec" in tys:
            return "dec"
        if all(t == "int" for t in tys):
            return "int"
        if all(t == tys[0] for t in tys):
            return tys[0]
        return "any"

    @staticmethod
    def coerce(e: ast.expr, ty: Ty, to: Ty) -> ast.expr:
        """Converts a decimal to a rational where the two meet."""
        if to == "rat" and ty == "dec":
            return call(rt("Q"), e)
        return e

    # ---- expressions ------------------------------------------------------------------------
    def expr(self, e: n.Expr, scope: Scope) -> tuple[ast.expr, Ty]:
        """The Python expression and static type of a rule expression."""
        node, ty = self._expr(e, scope)
        at(node, e.span)
        return node, ty

    def _expr(self, e: n.Expr, scope: Scope) -> tuple[ast.expr, Ty]:
        if isinstance(e, n.Num):
            return self.decimal(e.value)
        if isinstance(e, n.Str):
            return const(e.value), "str"
        if isinstance(e, n.Name):
            return self.name(e, scope)
        if isinstance(e, n.Unary):
            inner, ty = self.expr(e.operand, scope)
            if e.op == "not":
                return ast.UnaryOp(ast.Not(), inner), "bool"
            return ast.UnaryOp(ast.USub(), inner), ty
        if isinstance(e, n.Binary):
            return self.binary(e, scope)
        if isinstance(e, n.If):
            c, _ = self.expr(e.cond, scope)
            a, ta = self.expr(e.then, scope)
            b, tb = self.expr(e.else_, scope)
            ty = self.join(ta, tb)
            return ast.IfExp(c, self.coerce(a, ta, ty), self.coerce(b, tb, ty)), ty
        if isinstance(e, n.Match):
            return self.match(e, scope)
        if isinstance(e, n.Call):
            return gen_call(self, e, scope)
        if isinstance(e, n.Attr):
            return gen_attr(self, e, scope)
        raise CodegenError(f"cannot compile {type(e).__name__} here", e.span)

    def name(self, e: n.Name, scope: Scope) -> tuple[ast.expr, Ty]:
        """A bare name: a let, a fact field, an enum value, or a result."""
        bound = scope.let(e.id)
        if bound is not None:
            return name(bound[0]), bound[1]
        fact_scope: Scope | None = scope
        while fact_scope is not None and fact_scope.kind != "fact":
            fact_scope = fact_scope.parent
        if fact_scope is not None and fact_scope.fact is not None:
            for fd in fact_scope.fact.fields:
                if fd.name == e.id:
                    numeric = not fd.type.is_enum and fd.type.name in ("number", "integer")
                    ty: Ty = "dec" if numeric else "str"
                    return field_read(name(fact_scope.fact_var), e.id, fd.type.optional), ty
            for fd in fact_scope.fact.fields:
                if fd.type.is_enum and any(v.id == e.id for v in fd.type.values):
                    return const(e.id), "str"
        if scope.kind == "group" and e.id in ("group", "n"):
            return ast.Attribute(name("g"), e.id, ast.Load()), "str" if e.id == "group" else "int"
        if scope.kind == "group" and e.id in scope.shows:
            return call(ast.Attribute(name("g"), "show", ast.Load()), const(e.id)), "any"
        if e.id in self.program.tables and not scope.is_field(e.id):
            # A table's value for the subject: `post_coefficient` is 1.20 for a director.
            return call(ast.Attribute(scope.ctx(), "table", ast.Load()), const(e.id)), "dec"
        if scope.kind == "result" and e.id in ("tier", "grade"):
            return ast.Attribute(name("r"), e.id, ast.Load()), "str"
        if scope.kind == "result":
            if e.id in RESULT_NAMES:
                value = ast.Attribute(name("r"), e.id, ast.Load())
                if e.id in ("rank", "n"):
                    return call(rt("ranked"), value), "int"
                return call(rt("Q"), value), "rat"
            if e.id == "quarters":
                return ast.Attribute(name("r"), "quarters", ast.Load()), "any"
            if e.id in scope.parts:
                # A part's score may be stored as a Decimal: typed rat, so made one.
                part = call(ast.Attribute(name("r"), "part", ast.Load()), const(e.id))
                return call(rt("Q"), part), "rat"
            if e.id in QUARTER_NAMES:
                # `q3`: the published final of the year's third quarter (in `annual`)
                k = const(int(e.id[1]))
                return call(ast.Attribute(name("r"), "quarter", ast.Load()), k), "dec"
        # An enum value compared with a field read in this scope.
        return const(e.id), "str"

    def union(self, e: n.Expr, scope: Scope) -> str | None:
        """The id of the union sequence a bare name means here, if it means one."""
        if not isinstance(e, n.Name) or scope.let(e.id) is not None:
            return None
        fact = scope.fact
        if fact is not None and any(fd.name == e.id for fd in fact.fields):
            return None
        seq = self.program.sequences.get(e.id)
        return seq.id if seq is not None and seq.parts else None

    def binary(self, e: n.Binary, scope: Scope) -> tuple[ast.expr, Ty]:
        """Arithmetic with exact types; comparisons and logic."""
        left, tl = self.expr(e.left, scope)
        right, tr = self.expr(e.right, scope)
        op = e.op
        if op in ("and", "or"):
            return ast.BoolOp(ast.And() if op == "and" else ast.Or(), [left, right]), "bool"
        if op in ("<", "<=", ">", ">=", "==", "!="):
            ops: dict[str, ast.cmpop] = {
                "<": ast.Lt(),
                "<=": ast.LtE(),
                ">": ast.Gt(),
                ">=": ast.GtE(),
                "==": ast.Eq(),
                "!=": ast.NotEq(),
            }
            return ast.Compare(left, [ops[op]], [right]), "bool"
        if op == "/":
            return call(rt("div"), left, right), "rat"
        ty = self.join(tl, tr)
        if ty == "rat" and op in ("+", "-"):
            # rationals: a zero added or taken away costs no operation (`rt.radd`)
            fn = rt("radd" if op == "+" else "rsub")
            return call(fn, self.coerce(left, tl, ty), self.coerce(right, tr, ty)), ty
        pyop: ast.operator = {"+": ast.Add(), "-": ast.Sub(), "*": ast.Mult()}[op]
        return ast.BinOp(self.coerce(left, tl, ty), pyop, self.coerce(right, tr, ty)), ty

    def steps(self, e: n.Match, scope: Scope) -> tuple[ast.expr, Ty]:
        """`steps v { >= 100: 30, ..., else: 10 }`: a chain of comparisons of v, read once."""
        subject, _ = self.expr(e.subject, scope)
        arms = [(a, *self.expr(a.value, scope)) for a in e.arms]
        ty = self.join(*(t for _, _, t in arms))
        tmp = self.fresh("s")
        # The checker proved the last arm is `else`.
        chain: ast.expr = self.coerce(arms[-1][1], arms[-1][2], ty)
        ops: dict[str, ast.cmpop] = {
            "==": ast.Eq(),
            "!=": ast.NotEq(),
            "<": ast.Lt(),
            "<=": ast.LtE(),
            ">": ast.Gt(),
            ">=": ast.GtE(),
        }
        for arm, v, t in reversed(arms[:-1]):
            assert arm.bound is not None
            bound, _ = self.decimal(arm.bound.value)
            test = ast.Compare(name(tmp), [ops[arm.key]], [bound])
            chain = ast.IfExp(test, self.coerce(v, t, ty), chain)
        bind = ast.NamedExpr(ast.Name(tmp, ast.Store()), subject)
        return ast.Subscript(ast.Tuple([bind, chain], ast.Load()), const(1), ast.Load()), ty

    def match(self, e: n.Match, scope: Scope) -> tuple[ast.expr, Ty]:
        """A lookup: a hoisted table when every arm is a literal, else a conditional chain."""
        if e.steps:
            return self.steps(e, scope)
        union = self.union(e.subject, scope)
        if union is not None:
            # `match staff { county_staff: ... }`: the part of the union holding the subject.
            subject = call(ast.Attribute(scope.ctx(), "part_of", ast.Load()), const(union))
        else:
            subject, _ = self.expr(e.subject, scope)
        arms = [(a.key, *self.expr(a.value, scope)) for a in e.arms]
        ty = self.join(*(t for _, _, t in arms))
        if all(isinstance(a.value, n.Num) for a in e.arms):
            plain = [(k, v, t) for k, v, t in arms if k != "else"]
            keys: list[ast.expr | None] = [const(k) for k, _, _ in plain]
            vals = [self.coerce(v, t, ty) for _, v, t in plain]
            table = self.hoist(f"M:{id(e)}", ast.Dict(keys, vals))
            fallback = [self.coerce(v, t, ty) for k, v, t in arms if k == "else"]
            if fallback:
                get = ast.Attribute(table, "get", ast.Load())
                return ast.Call(get, [subject, fallback[0]], []), ty
            # The checker proved the arms cover the enum: a plain subscript.
            return ast.Subscript(table, subject, ast.Load()), ty
        tmp = self.fresh("m")
        default: ast.expr = call(rt("lookup"), ast.Dict([], []), name(tmp))
        for k, v, t in reversed(arms):
            if k == "else":
                default = self.coerce(v, t, ty)
        chain = default
        for k, v, t in reversed([a for a in arms if a[0] != "else"]):
            test = ast.Compare(name(tmp), [ast.Eq()], [const(k)])
            chain = ast.IfExp(test, self.coerce(v, t, ty), chain)
        bind = ast.NamedExpr(ast.Name(tmp, ast.Store()), subject)
        return ast.Subscript(ast.Tuple([bind, chain], ast.Load()), const(1), ast.Load()), ty
