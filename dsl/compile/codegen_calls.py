"""Built-in functions of the rule language and cross-scorecard references, as `ast` nodes."""

from __future__ import annotations

import ast
import copy
from decimal import Decimal
from typing import Protocol

from dsl.compile.pyast import CodegenError, Scope, Ty, call, const, inline_lets, lam, name, rt
from dsl.syntax import nodes as n
from dsl.syntax.program import Program


class ExprGen(Protocol):
    """What the built-ins need of the expression compiler (`dsl.compile.codegen.ExprGen`)."""

    @property
    def program(self) -> Program:
        """The program being compiled."""

    def expr(self, e: n.Expr, scope: Scope) -> tuple[ast.expr, Ty]:
        """An expression as `ast` and its static type."""

    def hoist(self, key: str, value: ast.expr) -> ast.expr:
        """A module-level constant for a value built once."""

    def decimal(self, d: Decimal) -> tuple[ast.expr, Ty]:
        """A decimal literal."""

    @staticmethod
    def join(*tys: Ty) -> Ty:
        """The common numeric type of several branches."""

    @staticmethod
    def coerce(e: ast.expr, ty: Ty, to: Ty) -> ast.expr:
        """Converts a decimal to a rational where the two meet."""


def _fact_field(g: ExprGen, arg: n.Expr) -> tuple[n.FactDecl, str, Ty]:
    """`F.x` as (fact type, field, type of the field)."""
    if isinstance(arg, n.Attr) and isinstance(arg.obj, n.Name):
        decl = g.program.facts.get(arg.obj.id)
        if decl is not None:
            for fd in decl.fields:
                if fd.name == arg.name.name:
                    numeric = not fd.type.is_enum and fd.type.name in ("number", "integer")
                    return decl, fd.name, "dec" if numeric else "str"
    raise CodegenError("expected FACT.field", arg.span)


def _fact(g: ExprGen, arg: n.Expr) -> n.FactDecl:
    if isinstance(arg, n.Name) and arg.id in g.program.facts:
        return g.program.facts[arg.id]
    raise CodegenError("expected a fact type", arg.span)


def _fact_lambda(g: ExprGen, decl: n.FactDecl, body: n.Expr, scope: Scope) -> tuple[ast.expr, Ty]:
    inner = Scope("fact", fact=decl, fact_var="f", parent=scope, parts=scope.parts)
    code, ty = g.expr(body, inner)
    return lam("f", code), ty


def gen_call(g: ExprGen, e: n.Call, scope: Scope) -> tuple[ast.expr, Ty]:
    """A call of a built-in function."""
    args = [a.value for a in e.args]
    c = scope.ctx()
    f = e.func
    if f == "value":
        decl, fld, ty = _fact_field(g, args[0])
        return call(rt("value"), c, const(decl.id), const(fld)), ty
    if f == "mean":
        if isinstance(args[0], n.Name) and args[0].id == "quarters":
            return call(rt("mean_of"), ast.Attribute(name("r"), "quarters", ast.Load())), "rat"
        decl, fld, _ = _fact_field(g, args[0])
        return call(rt("mean"), c, const(decl.id), const(fld)), "rat"
    if f == "distinct":
        decl, fld, _ = _fact_field(g, args[0])
        return call(rt("distinct"), c, const(decl.id), const(fld)), "dec"
    if f in ("any", "all") or (f == "count" and _is_below(args[0])):
        return _below(g, e, scope)
    if f == "count":
        decl = _fact(g, args[0])
        if len(args) > 1:
            pred, _ = _fact_lambda(g, decl, args[1], scope)
            return call(rt("count"), c, const(decl.id), pred), "dec"
        return call(rt("count"), c, const(decl.id)), "dec"
    if f == "sum":
        return _sum(g, args, scope)
    if f == "weighted_mean":
        return _weighted_mean(g, e, scope)
    if f == "rank":
        return _rank(g, e, scope)
    if f in ("max", "min"):
        if len(args) == 1:  # over a list: the quarterly finals
            seq, _ = g.expr(args[0], scope)
            return call(rt("extreme"), seq, const(f)), "dec"
        parts = [g.expr(a, scope) for a in args]
        ty = g.join(*(t for _, t in parts))
        fn = rt("nmax" if f == "max" else "nmin")
        return call(fn, *(g.coerce(x, t, ty) for x, t in parts)), ty
    if f == "abs":
        x, ty = g.expr(args[0], scope)
        return call(rt("nabs"), x), ty
    if f == "attr":
        attr = _name_arg(args[0])
        ty = _attr_type(g, attr)
        return call(ast.Attribute(c, "attr", ast.Load()), const(attr)), ty
    if f == "ancestor":
        kinds = [const(_name_arg(a)) for a in args]
        return call(ast.Attribute(c, "ancestor", ast.Load()), *kinds), "str"
    if f == "floor":
        x, _ = g.expr(args[0], scope)
        return call(rt("floor"), x), "int"
    if f == "peer_mean":
        return _peers(g, e, scope, "peer_mean"), "rat"
    if f == "quota":
        x, _ = g.expr(args[0], scope)
        view = "g" if scope.kind == "group" else "r"
        return call(ast.Attribute(name(view), "quota", ast.Load()), x), "int"
    if f == "lead":
        return _lead(g, args[0], scope)
    if f in ("peer_max", "peer_min", "share_of_best"):
        return _peers(g, e, scope, f), "rat"
    if f == "deviation":
        exprs = [g.expr(a, scope)[0] for a in args]
        return call(rt("deviation"), *exprs), "rat"
    if f == "trunc":
        x, _ = g.expr(args[0], scope)
        return call(rt("trunc"), x), "int"
    if f == "days":
        exprs = [g.expr(a, scope)[0] for a in args]
        return call(rt("days"), *exprs), "int"
    if f in ("present", "missing"):
        x, _ = g.expr(args[0], scope)
        thunk = ast.Lambda(ast.arguments([], [], None, [], [], None, []), x)
        return call(rt("present" if f == "present" else "absent"), thunk), "bool"
    raise CodegenError(f"unknown function '{f}'", e.span)


def _is_below(e: n.Expr) -> bool:
    return isinstance(e, n.Attr) and isinstance(e.obj, n.Call) and e.obj.func == "descendant"


def _below(g: ExprGen, e: n.Call, scope: Scope) -> tuple[ast.expr, Ty]:
    """`any(descendant(K).F [, cond])`, `all(...)`, `count(...)`: over the facts of the units
    of kinds K below the subject (`c.below`)."""
    first = e.args[0].value
    if not (isinstance(first, n.Attr) and isinstance(first.obj, n.Call)):
        raise CodegenError("expected descendant(KIND).FACT", first.span)
    kinds = ast.Tuple([const(_name_arg(a.value)) for a in first.obj.args], ast.Load())
    decl = _fact(g, n.Name(first.name.name, first.name.span))
    pred: ast.expr = const(None)
    if len(e.args) > 1:
        pred, _ = _fact_lambda(g, decl, e.args[1].value, scope)
    text = f"{e.func} descendant({' | '.join(_name_arg(a.value) for a in first.obj.args)})"
    fn = ast.Attribute(scope.ctx(), "below", ast.Load())
    got = call(fn, const(e.func), kinds, const(decl.id), pred, const(f"{text}.{decl.id}"))
    return got, "dec" if e.func == "count" else "bool"


def _name_arg(arg: n.Expr) -> str:
    if isinstance(arg, n.Name):
        return arg.id
    raise CodegenError("expected a name", arg.span)


def _attr_type(g: ExprGen, attr: str) -> Ty:
    org = g.program.organisation
    if org is not None:
        for fd in (*org.attrs, *org.unit_attrs):
            if fd.name == attr:
                numeric = not fd.type.is_enum and fd.type.name in ("number", "integer")
                return "dec" if numeric else "str"
    return "dec"


def _sum(g: ExprGen, args: list[n.Expr], scope: Scope) -> tuple[ast.expr, Ty]:
    c = scope.ctx()
    if len(args) == 1:
        decl, fld, _ = _fact_field(g, args[0])
        return call(rt("sum_field"), c, const(decl.id), const(fld)), "dec"
    decl = _fact(g, args[0])
    inner = Scope("fact", fact=decl, fact_var="f", parent=scope, parts=scope.parts)
    body, ty = g.expr(args[1], inner)
    facts = call(ast.Attribute(c, "each", ast.Load()), const(decl.id))
    rat = ty == "rat"
    start = rt("QZERO" if rat else "ZERO")
    if any(fd.type.optional for fd in decl.fields):
        # A fact lacking an optional field the expression reads is left out of the sum.
        total = call(rt("sum_each"), facts, lam("f", body), start)
        return total, "rat" if rat else "dec"
    term = _data_term(body)
    if term is not None:
        # The term reads the fact's data alone: computed once per distinct data (facts that
        # say the same share one dict), times how many facts share it.
        return call(rt("sum_data"), facts, lam("d", term), start), "rat" if rat else "dec"
    loop = ast.comprehension(ast.Name("f", ast.Store()), facts, [], 0)
    total = call(rt("fsum"), ast.GeneratorExp(body, [loop]), start)
    return total, "rat" if rat else "dec"


def _data_term(body: ast.expr) -> ast.expr | None:
    """`body` with `f.data` read as `d`, when it reads nothing of the fact but its data and
    nothing else but constants and the runtime; else None."""
    for node in ast.walk(body):
        if isinstance(node, ast.Lambda | ast.comprehension | ast.NamedExpr):
            return None
        if isinstance(node, ast.Name) and node.id not in ("rt", "f") and node.id[:2] != "_k":
            return None
    parents = {
        id(child): parent for parent in ast.walk(body) for child in ast.iter_child_nodes(parent)
    }
    for node in ast.walk(body):
        if isinstance(node, ast.Name) and node.id == "f":
            up = parents.get(id(node))
            if not (isinstance(up, ast.Attribute) and up.attr == "data"):
                return None

    class _Data(ast.NodeTransformer):
        def visit_Attribute(self, node: ast.Attribute) -> ast.expr:
            if isinstance(node.value, ast.Name) and node.value.id == "f" and node.attr == "data":
                return name("d")
            self.generic_visit(node)
            return node

    return _Data().visit(copy.deepcopy(body))  # type: ignore[no-any-return]


def _weighted_mean(g: ExprGen, e: n.Call, scope: Scope) -> tuple[ast.expr, Ty]:
    arg = e.args[0]
    decl, fld, _ = _fact_field(g, arg.value)
    if arg.by is None:
        raise CodegenError("weighted_mean needs `by FIELD { group: weight, ... }`", e.span)
    keys: list[ast.expr | None] = [const(t.key) for t in arg.by.table.entries]
    vals = [g.decimal(t.value.value)[0] for t in arg.by.table.entries]
    weights = g.hoist(f"W:{id(arg)}", ast.Dict(keys, vals))
    return (
        call(
            rt("weighted_mean"),
            scope.ctx(),
            const(decl.id),
            const(fld),
            const(arg.by.field.name),
            weights,
        ),
        "rat",
    )


def _rank(g: ExprGen, e: n.Call, scope: Scope) -> tuple[ast.expr, Ty]:
    desc = e.args[0].order != "asc"
    return _peers(g, e, scope, "rank_of", const(desc)), "int"


def _peers(g: ExprGen, e: n.Call, scope: Scope, method: str, *extra: ast.expr) -> ast.expr:
    """`c.METHOD(key, lambda c: value, ...)`: a value computed over the subject's peers."""
    inner = Scope("rule", parts=scope.parts)
    # The peers' values are computed in their own contexts: lets are inlined, not shared.
    lets: dict[str, n.Expr] = {}
    s: Scope | None = scope
    while s is not None:
        lets = {**s.let_exprs, **lets}
        s = s.parent
    code, _ = g.expr(inline_lets(e.args[0].value, lets), inner)
    key = f"{e.span.path}:{e.span.line}:{e.span.column}"
    fn = ast.Attribute(scope.ctx(), method, ast.Load())
    return call(fn, const(key), lam("c", code), *extra)


def _lead(g: ExprGen, arg: n.Expr, scope: Scope) -> tuple[ast.expr, Ty]:
    leads = {ind.id: ind.lead.name for _, _, ind in g.program.indicators() if ind.lead is not None}
    if (
        isinstance(arg, n.Name)
        and scope.fact is not None
        and any(fd.name == arg.id for fd in scope.fact.fields)
    ):
        keys: list[ast.expr | None] = [const(k) for k in sorted(leads)]
        table = g.hoist("LEADS", ast.Dict(keys, [const(leads[k]) for k in sorted(leads)]))
        return call(
            rt("lead_of"), table, call(rt("field"), name(scope.fact_var), const(arg.id))
        ), "str"
    if isinstance(arg, n.Name) and arg.id in leads:
        return const(leads[arg.id]), "str"
    raise CodegenError("lead() takes an indicator id or a field naming an indicator", arg.span)


def gen_attr(g: ExprGen, e: n.Attr, scope: Scope) -> tuple[ast.expr, Ty]:
    """`S[subject].final`: another scorecard's published result for a subject."""
    if isinstance(e.obj, n.Index) and isinstance(e.obj.obj, n.Name):
        target, _ = g.expr(e.obj.index, scope)
        if e.name.name in ("tier", "grade"):
            fn = ast.Attribute(scope.ctx(), "band_of", ast.Load())
            return call(fn, const(e.obj.obj.id), target, const(e.name.name)), "str"
        fn = ast.Attribute(scope.ctx(), "ref", ast.Load())
        return call(fn, const(e.obj.obj.id), target, const(e.name.name)), "dec"
    raise CodegenError("expected SCORECARD[subject].result", e.span)
