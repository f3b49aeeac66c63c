"""The pieces generated code is built from: static types, scopes, and small `ast` builders.

Shared by the expression compiler (`codegen`), the built-ins (`codegen_calls`) and the
compiler of whole rules (`compiler`, `genmodule`).
"""

from __future__ import annotations

import ast
import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

from dsl.syntax import nodes as n

Ty = Literal["int", "dec", "rat", "str", "bool", "any"]
ScopeKind = Literal["rule", "fact", "result", "subject", "group"]
NUMERIC = ("int", "dec", "rat")
RESULT_NAMES = ("base", "bonus", "penalty", "joint", "final", "raw", "rank", "n")


class CodegenError(Exception):
    """A construct the compiler cannot translate (the checker should have reported it)."""

    def __init__(self, message: str, span: n.Span) -> None:
        super().__init__(message)
        self.span = span


@dataclass
class Scope:
    """What bare names mean where an expression is compiled."""

    kind: ScopeKind
    fact: n.FactDecl | None = None
    fact_var: str = "f"
    lets: dict[str, tuple[str, Ty]] = field(default_factory=dict)
    let_exprs: dict[str, n.Expr] = field(default_factory=dict)
    parent: Scope | None = None
    parts: frozenset[str] = frozenset()
    shows: frozenset[str] = frozenset()  # a pool's shown values, in group expressions

    def ctx(self) -> ast.expr:
        """The subject context: `c` in rules, `r.c` in result expressions, `g` for a group."""
        if self.kind == "result":
            return ast.Attribute(ast.Name("r", ast.Load()), "c", ast.Load())
        if self.kind == "group":
            return ast.Name("g", ast.Load())
        return ast.Name("c", ast.Load())

    def is_field(self, ident: str) -> bool:
        """Whether a bare name is a field of a fact read here (inside `sum(F, ...)`, say)."""
        s: Scope | None = self
        while s is not None:
            if s.fact is not None and any(fd.name == ident for fd in s.fact.fields):
                return True
            s = s.parent
        return False

    def let(self, name: str) -> tuple[str, Ty] | None:
        """A let binding visible here."""
        s: Scope | None = self
        while s is not None:
            if name in s.lets:
                return s.lets[name]
            s = s.parent
        return None


def inline_lets(e: n.Expr, lets: dict[str, n.Expr]) -> n.Expr:
    """`e` with every let name replaced by its (already inlined) definition."""
    if not lets:
        return e

    def walk(x: Any) -> Any:
        if isinstance(x, n.Name) and x.id in lets:
            return lets[x.id]
        if isinstance(x, tuple):
            return tuple(walk(y) for y in x)
        if dataclasses.is_dataclass(x) and not isinstance(x, type | n.Span):
            changes = {f.name: walk(getattr(x, f.name)) for f in dataclasses.fields(x)}
            return dataclasses.replace(x, **changes)
        return x

    return walk(e)  # type: ignore[no-any-return]


def at(node: ast.AST, span: n.Span) -> ast.AST:
    """Stamps a generated node (and its unstamped children) with a rule-file position."""
    line = max(span.line, 1)
    for sub in ast.walk(node):
        if "lineno" in sub._attributes and not hasattr(sub, "lineno"):
            sub.lineno = line  # type: ignore[attr-defined]
            sub.col_offset = 0  # type: ignore[attr-defined]
            sub.end_lineno = max(span.end_line, line)  # type: ignore[attr-defined]
            sub.end_col_offset = 0  # type: ignore[attr-defined]
    return node


def field_read(fact: ast.expr, field_name: str, optional: bool) -> ast.expr:
    """`f.data["x"]` for a required field (validated present), `rt.opt(f, "x")` otherwise
    (Missing when the fact lacks it)."""
    if optional:
        return ast.Call(rt("opt"), [fact, const(field_name)], [])
    data = ast.Attribute(fact, "data", ast.Load())
    return ast.Subscript(data, const(field_name), ast.Load())


def rt(name: str) -> ast.expr:
    """`rt.<name>`."""
    return ast.Attribute(ast.Name("rt", ast.Load()), name, ast.Load())


def call(fn: ast.expr, *args: ast.expr) -> ast.expr:
    """`fn(*args)`."""
    return ast.Call(fn, list(args), [])


def const(v: str | int | bool | None) -> ast.expr:
    """A literal."""
    return ast.Constant(v)


def name(ident: str) -> ast.expr:
    """A variable read."""
    return ast.Name(ident, ast.Load())


def lam(arg: str, body: ast.expr) -> ast.expr:
    """`lambda arg: body`."""
    args = ast.arguments([], [ast.arg(arg)], None, [], [], None, [])
    return ast.Lambda(args, body)
