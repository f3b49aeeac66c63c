"""Compiling tables (keyed by a value of the subject) and pools (amounts shared by weight)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from dsl.compile.genmodule import FileModule
from dsl.compile.ir import CPool, CTable
from dsl.compile.pyast import Scope
from dsl.syntax import nodes as n


class _Compiler(Protocol):
    """What these need of the compiler (`dsl.compile.compiler`): the module of a rule file."""

    def file(self, span: n.Span) -> FileModule:
        """The generated module of the file a span is in."""


Namespaces = dict[str, dict[str, Any]]


def compile_table(comp: _Compiler, t: n.TableDecl) -> Callable[[Namespaces], CTable]:
    """A table: its key as a function of the subject's context, its rows as decimals."""
    fm = comp.file(t.span)
    key = fm.expr_fn("_tkey", "c", t.key, Scope("rule"))
    rows = {r.key: r.value.value for r in t.rows}
    attr = None
    if isinstance(t.key, n.Call) and t.key.func == "attr" and t.key.args:
        arg = t.key.args[0].value
        attr = arg.id if isinstance(arg, n.Name) else None
    return lambda nss: CTable(
        t.id,
        t.title,
        nss[t.span.path][key],
        rows,
        t.population.name if t.population else None,
        t.else_.value if t.else_ else None,
        attr,
        t.span,
    )


def compile_pool(comp: _Compiler, p: n.PoolDecl) -> Callable[[Namespaces], CPool]:
    """A pool: group expressions see `group`, `n` and earlier shows; the weight a member."""
    fm = comp.file(p.span)
    within = fm.expr_fn("_pwithin", "c", p.within, Scope("subject"))
    shows = []
    for i, show in enumerate(p.shows):
        earlier = frozenset(s.name for s in p.shows[:i])
        shows.append(
            (show.name, fm.expr_fn("_pshow", "g", show.value, Scope("group", shows=earlier)))
        )
    every = frozenset(s.name for s in p.shows)
    amount = fm.expr_fn("_pamount", "g", p.amount, Scope("group", shows=every))
    weight = fm.expr_fn("_pweight", "r", p.weight, Scope("result"))
    ties = tuple((k.name.name, k.order == "desc") for k in p.ties)
    counts = frozenset(s.name for s in p.shows if _is_count(s.value))

    def make(nss: Namespaces) -> CPool:
        ns = nss[p.span.path]
        return CPool(
            p.id,
            p.title,
            p.card.name,
            p.period,
            ns[within],
            tuple((name, ns[fn]) for name, fn in shows),
            ns[amount],
            ns[weight],
            p.into.name,
            p.unit.value,
            ties,
            p.span,
            counts,
            {r.result.name: (r.places, r.mode.name) for r in p.rounds},
        )

    return make


def _is_count(e: n.Expr) -> bool:
    """A head count: `quota(...)` or `n`; other numbers are amounts, published with decimals."""
    return (isinstance(e, n.Call) and e.func == "quota") or (isinstance(e, n.Name) and e.id == "n")
